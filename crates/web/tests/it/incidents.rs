//! Running an incident through the API, and listing incidents.

use axum::http::{Method, StatusCode};
use jiff::SignedDuration;
use serde_json::{json, Value};

use crate::helpers::Api;
use warroom_store::on_both_backends;

on_both_backends!(setup = crate::helpers::Api::new;
    an_incident_from_declaration_to_close,
    list_filters_and_paginates,
    playbook_catalog_is_served,
    health_probes_need_no_token,
);

async fn an_incident_from_declaration_to_close(api: Api) {
    let r = api
        .post(
            "/api/v1/incidents",
            json!({
                "title": "Database connection failures",
                "severity": "sev-1",
                "services": ["api"],
                "category": "database",
                "customer_facing": true,
                "roles": {"Incident Commander": "alice"}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(id, "INC-2026-0001");
    assert_eq!(r.headers["location"], format!("/api/v1/incidents/{id}"));
    assert_eq!(r.body["severity"], "SEV-1");
    assert_eq!(r.body["category"], "Database");
    assert_eq!(r.body["status"], "triggered");
    assert_eq!(r.body["checklist"].as_array().unwrap().len(), 7);
    let base = format!("/api/v1/incidents/{id}");

    api.clock.advance(SignedDuration::from_mins(2));
    let r = api.post(&format!("{base}/acknowledge"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["acknowledged_at"], "2026-11-25T14:02:00Z");
    // A second acknowledgement is a conflict that explains itself.
    let r = api.post(&format!("{base}/acknowledge"), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already acknowledged"));

    let r = api
        .post(
            &format!("{base}/status"),
            json!({"status": "investigating", "message": "on it"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = api
        .post(
            &format!("{base}/severity"),
            json!({"severity": "SEV-0", "reason": "all users"}),
        )
        .await;
    assert_eq!(r.body["severity"], "SEV-0");
    let r = api
        .call(
            Method::PATCH,
            &base,
            json!({"summary": "pool exhausted", "users_affected": 5000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["users_affected"], 5000);
    let r = api
        .call(
            Method::PUT,
            &format!("{base}/roles/Incident%20Commander"),
            json!({"assignee": "bob"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["roles"][0]["assignee"], "bob");
    let r = api
        .call(
            Method::PUT,
            &format!("{base}/checklist/detection/1"),
            json!({"done": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["checklist"][0]["done"], 1);
    assert_eq!(r.body["checklist"][0]["items"][0]["done_by"], "alice");
    let r = api
        .post(
            &format!("{base}/notes"),
            json!({"text": "restarted pgbouncer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["kind"], "note");
    assert_eq!(r.body["text"], "restarted pgbouncer");
    api.clock.advance(SignedDuration::from_mins(30));
    let r = api
        .post(&format!("{base}/resolve"), json!({"message": "fixed"}))
        .await;
    assert_eq!(r.body["status"], "resolved");
    assert_eq!(r.body["resolved_at"], "2026-11-25T14:32:00Z");
    let r = api.post(&format!("{base}/reopen"), json!({})).await;
    assert_eq!(r.body["status"], "investigating");
    let r = api.post(&format!("{base}/resolve"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api.post(&format!("{base}/close"), json!({})).await;
    assert_eq!(r.body["status"], "closed");
    // Closed is final.
    let r = api.post(&format!("{base}/reopen"), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    let r = api.get(&format!("{base}/timeline")).await;
    let events = r.body["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "declared",
            "role_assigned",
            "status_changed",
            "status_changed",
            "severity_changed",
            "field_changed",
            "field_changed",
            "role_handed_off",
            "checklist_item",
            "note",
            "status_changed",
            "status_changed",
            "status_changed",
            "status_changed"
        ]
    );
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=14).collect::<Vec<_>>());
    assert!(events.iter().all(|e| e["actor"] == "alice"));
    assert_eq!(events[3]["message"], "on it");
    let r = api.get(&format!("{base}/timeline?after=12")).await;
    assert_eq!(r.body["events"].as_array().unwrap().len(), 2);
}

async fn list_filters_and_paginates(api: Api) {
    let a = api.declare("Database down", "SEV-0").await;
    api.clock.advance(SignedDuration::from_mins(1));
    let b = api.declare("Slow checkout", "SEV-2").await;
    api.clock.advance(SignedDuration::from_mins(1));
    let c = api.declare("Logo misaligned", "SEV-3").await;
    api.post(&format!("/api/v1/incidents/{c}/resolve"), json!({}))
        .await;
    let ids = |r: crate::helpers::Reply| -> Vec<Value> {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].clone())
            .collect()
    };
    assert_eq!(
        ids(api.get("/api/v1/incidents").await),
        [json!(c), json!(b), json!(a)]
    );
    assert_eq!(
        ids(api.get("/api/v1/incidents?status=open").await),
        [json!(b), json!(a)]
    );
    assert_eq!(
        ids(api.get("/api/v1/incidents?status=resolved,closed").await),
        [json!(c)]
    );
    assert_eq!(
        ids(api.get("/api/v1/incidents?severity=sev-0,SEV-3").await),
        [json!(c), json!(a)]
    );
    assert_eq!(
        ids(api.get("/api/v1/incidents?service=API&q=slow").await),
        [json!(b)]
    );
    assert_eq!(
        ids(api
            .get("/api/v1/incidents?from=2026-11-25T14:01:00Z&until=2026-11-25T14:02:00Z")
            .await),
        [json!(b)]
    );
    let first = api.get("/api/v1/incidents?limit=2").await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(ids(first), [json!(c), json!(b)]);
    let rest = api
        .get(&format!(
            "/api/v1/incidents?limit=2&cursor={}",
            urlencode(&cursor)
        ))
        .await;
    assert!(rest.body["next_cursor"].is_null());
    assert_eq!(ids(rest), [json!(a)]);
    for (query, field) in [
        ("status=broken", "status"),
        ("severity=SEV-9", "severity"),
        ("service=nope", "service"),
        ("category=nope", "category"),
        ("from=yesterday", "from"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("cursor=garbage", "cursor"),
        ("colour=red", "colour"),
    ] {
        let r = api.get(&format!("/api/v1/incidents?{query}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
        assert_eq!(r.field(), field, "{query}: {}", r.body);
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn playbook_catalog_is_served(api: Api) {
    let r = api.get("/api/v1/severities").await;
    assert_eq!(r.body.as_array().unwrap().len(), 4);
    assert_eq!(r.body[0]["name"], "SEV-0");
    assert_eq!(r.body[0]["rank"], 0);
    assert_eq!(r.body[1]["response_target_secs"], 900);
    let r = api.get("/api/v1/categories").await;
    assert_eq!(r.body.as_array().unwrap().len(), 6);
    let r = api.get("/api/v1/roles").await;
    assert_eq!(r.body.as_array().unwrap().len(), 5);
    let r = api.get("/api/v1/services").await;
    assert!(r.body.as_array().unwrap().iter().any(|s| s["id"] == "api"));
    let r = api.get("/api/v1/phases").await;
    assert_eq!(r.body.as_array().unwrap().len(), 7);
    let r = api.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));
    assert!(r.body["paths"]["/api/v1/incidents/{id}/acknowledge"]["post"].is_object());
}

async fn health_probes_need_no_token(api: Api) {
    let r = api.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ready");
}
