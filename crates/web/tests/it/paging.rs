//! Paging through the API: escalation state, messages, manual escalation and
//! reassignment, and one-click acknowledge links.

use axum::http::{Method, StatusCode};
use jiff::SignedDuration;
use serde_json::{json, Value};
use warroom_engine::paging::AckClaim;

use crate::helpers::{Api, NowForTests};
use warroom_store::on_both_backends;

on_both_backends!(setup = crate::helpers::oncall_api;
    paging_escalate_and_reassign,
    acknowledge_links,
);

on_both_backends!(setup = crate::helpers::Api::new;
    an_incident_without_a_policy_is_never_paged,
    openapi_documents_oncall_and_paging,
);

fn users_paged(messages: &Value) -> Vec<&str> {
    messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"].as_str().unwrap())
        .collect()
}

async fn paging_escalate_and_reassign(api: Api) {
    let id = api.declare("Database down", "SEV-1").await;
    let base = format!("/api/v1/incidents/{id}");

    // Declaring started the default policy; its first step is due now.
    let r = api.get(&format!("{base}/escalation")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["policy"], "default");
    assert_eq!(r.body["state"], "active");
    assert_eq!(r.body["generation"], 1);
    assert_eq!(r.body["position"], -1);
    assert_eq!(
        r.body["pending_jobs"][0],
        json!({"kind": "step", "position": 0, "run_at": "2026-11-25T14:00:00Z"})
    );
    let r = api.get(&format!("{base}/messages")).await;
    assert_eq!(r.body, json!({"messages": []}));

    let now = api.clock.now_for_tests();
    assert!(api.engine.run_paging(now).await >= 1);
    let r = api
        .send(
            Method::GET,
            &format!("{base}/messages"),
            Some(&api.viewer),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // alice is on call on `primary` this week.
    assert_eq!(users_paged(&r.body), ["alice"], "{}", r.body);
    let page = &r.body["messages"][0];
    assert_eq!(page["purpose"], "page");
    assert_eq!(page["state"], "queued");
    assert_eq!(page["channel"], "email");
    assert_eq!(page["contact_method"], "mail");
    assert_eq!(page["destination"], "alice@example.com");
    assert_eq!(page["attempts"], 0);
    assert!(
        page.get("body").is_none(),
        "the body holds an acknowledge link"
    );
    let r = api.get(&format!("{base}/escalation")).await;
    assert_eq!(r.body["position"], 0, "{}", r.body);
    assert!(r.body["pending_jobs"]
        .as_array()
        .unwrap()
        .contains(&json!({"kind": "step", "position": 1, "run_at": "2026-11-25T14:05:00Z"})));

    // Escalate by hand: the next step (the dba team) now.
    let r = api
        .send(
            Method::POST,
            &format!("{base}/escalate"),
            Some(&api.viewer),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api.post(&format!("{base}/escalate"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["incident"]["id"], id.as_str());
    assert_eq!(r.body["incident"]["status"], "triggered");
    let events = r.body["events"].as_array().unwrap();
    assert!(!events.is_empty(), "{}", r.body);
    assert!(events.iter().all(|e| e["incident_id"] == id.as_str()));
    let r = api.get(&format!("{base}/escalation")).await;
    assert_eq!(r.body["generation"], 2, "{}", r.body);
    assert_eq!(r.body["position"], 1);
    let r = api.get(&format!("{base}/messages")).await;
    assert_eq!(
        users_paged(&r.body),
        ["alice", "alice", "bob"],
        "{}",
        r.body
    );

    for (body, status, field) in [
        (json!({"to_step": 3}), 422, "to_step"),
        (json!({"to_step": 0}), 422, "to_step"),
        (json!({"to_step": "two"}), 400, "to_step"),
        (json!({"step": 1}), 400, "step"),
    ] {
        let r = api.post(&format!("{base}/escalate"), body).await;
        assert_eq!(r.status.as_u16(), status, "{}", r.body);
        assert_eq!(r.field(), field);
    }
    let r = api
        .post(&format!("{base}/escalate"), json!({"to_step": 1}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = api.get(&format!("{base}/escalation")).await;
    assert_eq!(r.body["position"], 0, "{}", r.body);

    // Reassign to people: paged at once, the policy stops.
    let reassign = format!("{base}/reassign");
    let r = api
        .post(
            &reassign,
            json!({"targets": [{"type": "user", "name": "bob"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["incident"]["id"], id.as_str());
    let r = api.get(&format!("{base}/escalation")).await;
    assert_eq!(r.body["policy"], "reassignment", "{}", r.body);
    assert_eq!(r.body["state"], "reassigned");
    let r = api.get(&format!("{base}/messages")).await;
    assert_eq!(users_paged(&r.body).last(), Some(&"bob"), "{}", r.body);

    // Or to a policy, from its first step.
    let r = api.post(&reassign, json!({"policy": "default"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = api.get(&format!("{base}/escalation")).await;
    assert_eq!(r.body["policy"], "default");
    assert_eq!(r.body["state"], "active");

    let before = api.get(&format!("{base}/escalation")).await.body;
    for (body, status, field) in [
        (json!({}), 400, "targets"),
        (json!({"policy": "default", "targets": []}), 400, "policy"),
        (json!({"targets": []}), 422, "targets"),
        (
            json!({"targets": [{"type": "user", "name": "ghost"}]}),
            422,
            "targets[0].name",
        ),
        (
            json!({"targets": [{"type": "user", "name": "bob"}, {"type": "schedule", "name": "nope"}]}),
            422,
            "targets[1].name",
        ),
        (
            json!({"targets": [{"type": "user", "name": "bob", "mode": "all"}]}),
            400,
            "targets[0].mode",
        ),
        (
            json!({"targets": [{"type": "pager", "name": "bob"}]}),
            400,
            "targets[0].type",
        ),
        (json!({"policy": "nope"}), 422, "policy"),
    ] {
        let r = api.post(&reassign, body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.body);
        assert_eq!(r.field(), field, "{body}: {}", r.body);
    }
    assert_eq!(api.get(&format!("{base}/escalation")).await.body, before);
    let r = api
        .post(
            &reassign,
            json!({"targets": [{"type": "team", "name": "dba", "mode": "round_robin"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // A resolved incident pages nobody.
    let r = api.post(&format!("{base}/resolve"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = api.post(&format!("{base}/escalate"), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = api.post(&reassign, json!({"policy": "default"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    let missing = "/api/v1/incidents/INC-2026-9999";
    let r = api.post(&format!("{missing}/escalate"), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = api
        .post(&format!("{missing}/reassign"), json!({"policy": "default"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

async fn an_incident_without_a_policy_is_never_paged(api: Api) {
    let id = api.declare("Nobody to page", "SEV-2").await;
    let base = format!("/api/v1/incidents/{id}");
    let r = api.get(&format!("{base}/escalation")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("never been paged"));
    let r = api.get(&format!("{base}/messages")).await;
    assert_eq!(r.body, json!({"messages": []}));
    let r = api.post(&format!("{base}/escalate"), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = api.get("/api/v1/incidents/INC-2026-9999/escalation").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api.get("/api/v1/incidents/INC-2026-9999/messages").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn acknowledge_links(api: Api) {
    let r = api
        .post(
            "/api/v1/incidents",
            json!({"title": "DB <down> & \"out\"", "severity": "SEV-1", "services": ["api"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let now = api.clock.now_for_tests();
    let token = api.links.sign(&AckClaim {
        incident_id: id.clone(),
        user: "alice".into(),
        expires_at: now + SignedDuration::from_hours(1),
    });
    let link = format!("/ack/{token}");

    // Looking at the link (as a mail scanner would) changes nothing.
    let page = api.page(Method::GET, &link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(page.body.contains(&id));
    assert!(
        page.body.contains("DB &lt;down&gt; &amp; &quot;out&quot;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<down>"));
    assert!(page.body.contains("SEV-1") && page.body.contains("triggered"));
    assert!(
        page.body.contains("<form method=\"post\">"),
        "{}",
        page.body
    );
    assert!(page.body.contains(">Acknowledge</button>"));
    let r = api.get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(r.body["status"], "triggered");

    // The button acknowledges, as the person the link was sent to.
    api.clock.advance(SignedDuration::from_mins(3));
    let page = api.page(Method::POST, &link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(&format!("Acknowledged {id}")),
        "{}",
        page.body
    );
    let r = api.get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(r.body["status"], "acknowledged");
    assert_eq!(r.body["acknowledged_at"], "2026-11-25T14:03:00Z");
    let r = api.get(&format!("/api/v1/incidents/{id}/timeline")).await;
    let ack = r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "status_changed" && e["to"] == "acknowledged")
        .unwrap_or_else(|| panic!("{}", r.body));
    assert_eq!(ack["actor"], "alice (acknowledge link)");
    let r = api.get(&format!("/api/v1/incidents/{id}/escalation")).await;
    assert_eq!(r.body["state"], "acknowledged");

    // A second click is not an error.
    let page = api.page(Method::POST, &link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("already acknowledged"), "{}", page.body);
    let page = api.page(Method::GET, &link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<form"), "{}", page.body);

    // Tampered, foreign or truncated links are refused.
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    for bad in [tampered.as_str(), "nope", &token[..token.len() - 2]] {
        for method in [Method::GET, Method::POST] {
            let page = api.page(method.clone(), &format!("/ack/{bad}")).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{method} {bad}");
            assert!(page.body.contains("not valid"));
        }
    }

    // An expired link says where to go instead.
    let other = api.declare("Another", "SEV-2").await;
    let expired = api.links.sign(&AckClaim {
        incident_id: other.clone(),
        user: "bob".into(),
        expires_at: api.clock.now_for_tests() - SignedDuration::from_mins(1),
    });
    for method in [Method::GET, Method::POST] {
        let page = api.page(method.clone(), &format!("/ack/{expired}")).await;
        assert_eq!(page.status, StatusCode::GONE, "{method}");
        assert!(
            page.body.contains("expired") && page.body.contains("CLI"),
            "{}",
            page.body
        );
    }
    let r = api.get(&format!("/api/v1/incidents/{other}")).await;
    assert_eq!(r.body["status"], "triggered");
}

async fn openapi_documents_oncall_and_paging(api: Api) {
    let r = api.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let paths = &r.body["paths"];
    for path in [
        "/api/v1/oncall/users",
        "/api/v1/oncall/escalation-policies/{name}",
        "/api/v1/oncall/schedules/{name}/overrides/{id}",
        "/api/v1/oncall/feeds",
        "/api/v1/incidents/{id}/reassign",
        "/api/v1/incidents/{id}/messages",
    ] {
        assert!(paths.get(path).is_some(), "{path} undocumented");
    }
    assert_eq!(
        paths["/api/v1/oncall/teams/{name}"]["put"]["operationId"],
        "replace_team"
    );
    assert_eq!(
        paths["/api/v1/oncall/escalation-policies"]["post"]["operationId"],
        "create_escalation_policy"
    );
    assert!(r.body["components"]["schemas"]
        .get("EscalationView")
        .is_some());
}
