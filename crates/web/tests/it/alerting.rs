//! The alert endpoints and the alert management API through the router.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::Api;
use warroom_store::on_both_backends;

on_both_backends!(setup = crate::helpers::Api::new;
    pagerduty_enqueue_answers_like_pagerduty,
    silences_and_maintenance_suppress_with_their_id,
    only_admins_manage_integrations,
);

mod rate_limit {
    #[tokio::test]
    async fn sqlite() {
        let db = warroom_store::testing::sqlite().await;
        let limit = warroom_web::ingest::limit::IngestLimiter::new(1, 2);
        super::a_fast_sender_gets_429_with_retry_after(
            crate::helpers::Api::with_limit(db.store.clone(), limit).await,
        )
        .await;
    }
}

async fn a_fast_sender_gets_429_with_retry_after(api: Api) {
    let key = integration(&api, "pagerduty").await;
    for _ in 0..2 {
        let r = api
            .send(
                Method::POST,
                "/v2/enqueue",
                None,
                Some(&event(&key, "trigger", None)),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
    }
    let r = api
        .send(
            Method::POST,
            "/v2/enqueue",
            None,
            Some(&event(&key, "trigger", None)),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.body["status"], "throttle event");
    assert!(
        r.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
}

async fn integration(api: &Api, kind: &str) -> String {
    let admin = api.admin.clone();
    let r = api
        .send(
            Method::POST,
            "/api/v1/integrations",
            Some(&admin),
            Some(&json!({"service": "api", "name": format!("{kind}-1"), "kind": kind}).to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(!r.body["endpoints"].as_array().unwrap().is_empty());
    r.body["key"].as_str().unwrap().to_owned()
}

fn event(key: &str, action: &str, dedup: Option<&str>) -> String {
    let mut e = json!({
        "routing_key": key,
        "event_action": action,
        "payload": {"summary": "Disk full on db-1", "source": "db-1", "severity": "critical"}
    });
    if let Some(d) = dedup {
        e["dedup_key"] = json!(d);
    }
    e.to_string()
}

async fn pagerduty_enqueue_answers_like_pagerduty(api: Api) {
    let key = integration(&api, "pagerduty").await;
    let r = api
        .send(
            Method::POST,
            "/v2/enqueue",
            None,
            Some(&event(&key, "trigger", None)),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["status"], "success");
    assert_eq!(r.body["message"], "Event processed");
    assert_eq!(r.body["dedup_key"].as_str().unwrap().len(), 32);
    let r = api
        .send(
            Method::POST,
            "/v2/enqueue",
            None,
            Some(&event(&key, "trigger", Some("disk-1"))),
        )
        .await;
    assert_eq!(r.body["dedup_key"], "disk-1");
    let r = api
        .send(
            Method::POST,
            "/v2/enqueue",
            None,
            Some(&event("0123456789abcdef0123456789abcdef", "trigger", None)),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["status"], "invalid event");
    assert!(r.body["errors"][0]
        .as_str()
        .unwrap()
        .contains("routing_key"));
    let r = api
        .send(
            Method::POST,
            "/v2/enqueue",
            None,
            Some("{\"event_action\":1}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["message"], "Event object is invalid");

    let alerts = api.get("/api/v1/alerts").await;
    assert_eq!(alerts.body.as_array().unwrap().len(), 2, "{}", alerts.body);
    let r = api
        .send(
            Method::POST,
            "/v2/enqueue",
            None,
            Some(&event(&key, "resolve", Some("disk-1"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let resolved = api.get("/api/v1/alerts?status=resolved").await;
    assert_eq!(resolved.body[0]["dedup_key"], "disk-1");
}

async fn silences_and_maintenance_suppress_with_their_id(api: Api) {
    let key = integration(&api, "alertmanager").await;
    let r = api
        .post(
            "/api/v1/silences",
            json!({"matchers": "alertname=\"DiskFull\"", "duration": "2h", "comment": "disk migration"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let silence_id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["state"], "active");
    assert_eq!(r.body["created_by"], "alice");
    let webhook = |name: &str| {
        json!({"version": "4", "groupKey": "{}:{}", "status": "firing", "receiver": "warroom",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
            "alerts": [{"status": "firing", "labels": {"alertname": name}, "annotations": {},
                "startsAt": "2026-11-25T13:59:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom", "fingerprint": format!("{name:0>16}")}]})
        .to_string()
    };
    let path = format!("/integrations/alertmanager/{key}");
    let r = api
        .send(Method::POST, &path, None, Some(&webhook("DiskFull")))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["alerts"][0]["outcome"], "suppressed");
    let suppressed = api.get("/api/v1/alerts?status=suppressed").await;
    assert_eq!(
        suppressed.body[0]["suppressed_by"],
        format!("silence:{silence_id}")
    );

    let r = api
        .post(
            "/api/v1/maintenance",
            json!({"services": ["API"], "duration": "1h", "description": "upgrade"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mw = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["services"], json!(["api"]));
    let r = api
        .send(Method::POST, &path, None, Some(&webhook("CpuHot")))
        .await;
    assert_eq!(r.body["alerts"][0]["outcome"], "suppressed");
    let suppressed = api.get("/api/v1/alerts?status=suppressed").await;
    assert_eq!(
        suppressed.body[0]["suppressed_by"],
        format!("maintenance:{mw}")
    );
    assert_eq!(
        api.get("/api/v1/maintenance")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Expire both: new alerts page again.
    let r = api
        .call(
            Method::DELETE,
            &format!("/api/v1/silences/{silence_id}"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["state"], "expired");
    let r = api
        .call(
            Method::DELETE,
            &format!("/api/v1/maintenance/{mw}"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api
        .call(
            Method::DELETE,
            &format!("/api/v1/silences/{silence_id}"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = api
        .send(Method::POST, &path, None, Some(&webhook("MemHigh")))
        .await;
    assert_eq!(r.body["alerts"][0]["outcome"], "created");
    assert!(api
        .get("/api/v1/silences")
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        api.get("/api/v1/silences?all=true")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );

    for (body, field) in [
        (
            json!({"matchers": "alertname=", "duration": "1h", "comment": "x"}),
            "",
        ),
        (
            json!({"matchers": "a=~\"(\"", "duration": "1h", "comment": "x"}),
            "matchers",
        ),
        (
            json!({"matchers": "a=\"\"", "duration": "1h", "comment": "x"}),
            "",
        ),
        (
            json!({"matchers": "a=\"b\"", "duration": "soon", "comment": "x"}),
            "duration",
        ),
        (json!({"matchers": "a=\"b\"", "comment": "x"}), "ends_at"),
        (
            json!({"matchers": "a=\"b\"", "duration": "1h", "comment": " "}),
            "comment",
        ),
    ] {
        let r = api.post("/api/v1/silences", body.clone()).await;
        assert!(r.status.is_client_error(), "{body}: {}", r.body);
        if !field.is_empty() {
            assert_eq!(r.field(), field, "{body}: {}", r.body);
        }
    }
    let viewer = api.viewer.clone();
    let r = api
        .send(
            Method::POST,
            "/api/v1/silences",
            Some(&viewer),
            Some(&json!({"matchers": "a=\"b\"", "duration": "1h", "comment": "x"}).to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn only_admins_manage_integrations(api: Api) {
    let responder = api.responder.clone();
    let body = json!({"service": "api", "name": "x", "kind": "grafana"}).to_string();
    let r = api
        .send(
            Method::POST,
            "/api/v1/integrations",
            Some(&responder),
            Some(&body),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let admin = api.admin.clone();
    for (body, field) in [
        (
            json!({"service": "nope", "name": "x", "kind": "grafana"}),
            "service",
        ),
        (
            json!({"service": "api", "name": "x", "kind": "nagios"}),
            "kind",
        ),
        (
            json!({"service": "api", "name": "bad name", "kind": "grafana"}),
            "name",
        ),
    ] {
        let r = api
            .send(
                Method::POST,
                "/api/v1/integrations",
                Some(&admin),
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(r.field(), field);
    }
    let old_key = integration(&api, "grafana").await;
    // An empty body to the Grafana endpoint: 400 when the key is live (it
    // gets to the payload check), 404 when it is not.
    let status_for = |key: String| {
        let api = &api;
        async move {
            api.send(
                Method::POST,
                &format!("/integrations/grafana/{key}"),
                None,
                Some("{}"),
            )
            .await
            .status
        }
    };
    // A key in use is remembered for a while; rotating and revoking must
    // still end it at once.
    assert_eq!(
        status_for(old_key.clone()).await,
        StatusCode::BAD_REQUEST,
        "a live key works"
    );
    let list = api.get("/api/v1/integrations").await;
    let id = list.body[0]["id"].as_str().unwrap().to_owned();
    let r = api
        .send(
            Method::POST,
            &format!("/api/v1/integrations/{id}/rotate"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let key = r.body["key"].as_str().unwrap().to_owned();
    assert_ne!(key, old_key);
    assert_eq!(
        status_for(old_key).await,
        StatusCode::NOT_FOUND,
        "a rotated-out key stops working"
    );
    assert!(
        !list.body.to_string().contains(&key),
        "keys are never listed"
    );
    assert_eq!(
        status_for(key.clone()).await,
        StatusCode::BAD_REQUEST,
        "the new key works"
    );
    let r = api
        .send(
            Method::DELETE,
            &format!("/api/v1/integrations/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        status_for(key).await,
        StatusCode::NOT_FOUND,
        "a revoked key stops working"
    );
}
