//! The one rule for text at the edge (`warroom_web::text`): control
//! characters from alert senders are replaced and the alert still pages;
//! from people they are refused with the field named; neither backend is
//! ever handed one. And what the server could not apply is visible.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use warroom_store::testing::PoisonAlerts;
use warroom_store::Store;

use crate::helpers::Api;
use warroom_store::on_both_backends;

on_both_backends!(setup = crate::helpers::Api::new;
    a_nul_from_a_sender_never_stops_ingest,
    control_characters_from_people_are_refused_naming_the_field,
    alertmanager_label_names_follow_prometheus,
);

/// A PagerDuty event whose summary is given as JSON text (escapes and all).
fn event(key: &str, dedup: &str, summary_json: &str) -> String {
    format!(
        r#"{{"routing_key": "{key}", "event_action": "trigger", "dedup_key": "{dedup}",
            "payload": {{"summary": {summary_json}, "source": "db-1", "severity": "critical"}}}}"#
    )
}

async fn alerts(api: &Api) -> Vec<Value> {
    let r = api.get("/api/v1/alerts").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body.as_array().unwrap().clone()
}

/// The defect: on PostgreSQL one NUL in a summary got 202, was never
/// stored, and stopped every alert after it.
async fn a_nul_from_a_sender_never_stops_ingest(api: Api) {
    let key = api.integration("pagerduty").await;
    for (dedup, summary) in [
        ("good-1", r#""Disk full""#),
        ("poisoned", r#""a\u0000b \u001b[31m""#),
        ("good-2", r#""Disk full again""#),
    ] {
        let r = api
            .send(
                Method::POST,
                "/v2/enqueue",
                None,
                Some(&event(&key, dedup, summary)),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    }
    let am = api.integration("alertmanager").await;
    let webhook = r#"{"version": "4", "status": "firing", "receiver": "warroom", "groupKey": "{}:{}",
        "alerts": [{"status": "firing", "labels": {"alertname": "Nul\u0000Label", "job": "node"},
        "annotations": {"summary": "from \u0000 Alertmanager"}, "startsAt": "2026-11-25T13:59:00Z"}]}"#;
    let r = api
        .send(
            Method::POST,
            &format!("/integrations/alertmanager/{am}"),
            None,
            Some(webhook),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);

    let all = alerts(&api).await;
    let summary = |dedup: &str| {
        all.iter()
            .find(|a| a["dedup_key"] == dedup)
            .map(|a| a["summary"].as_str().unwrap().to_owned())
    };
    assert_eq!(summary("good-1").as_deref(), Some("Disk full"));
    assert_eq!(summary("good-2").as_deref(), Some("Disk full again"));
    assert_eq!(
        summary("poisoned").as_deref(),
        Some("a\u{FFFD}b \u{FFFD}[31m")
    );
    assert!(
        all.iter()
            .any(|a| a["labels"]["alertname"] == "Nul\u{FFFD}Label"),
        "{all:?}"
    );
    assert_eq!(all.len(), 4);
    let status = api.get("/api/v1/status").await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert_eq!(status.body["ingest"]["dead_letters"], 0);
}

/// What people write through the API is refused (422, field named), and
/// nothing is stored: a silence comment, a maintenance description, an
/// integration's config, an incident title, a query and a path.
async fn control_characters_from_people_are_refused_naming_the_field(api: Api) {
    let admin = api.admin.clone();
    let cases = [
        (
            "/api/v1/silences",
            r#"{"matchers": "a=\"b\"", "duration": "1h", "comment": "x\u0000"}"#,
            "comment",
        ),
        (
            "/api/v1/maintenance",
            r#"{"services": ["api"], "duration": "1h", "description": "up\u0000grade"}"#,
            "description",
        ),
        (
            "/api/v1/integrations",
            r#"{"service": "api", "name": "n", "kind": "generic", "config": {"mapping": {"summary": "/t\u0000"}}}"#,
            "config.mapping.summary",
        ),
        (
            "/api/v1/incidents",
            r#"{"title": "bell \u0007", "severity": "SEV-1"}"#,
            "title",
        ),
        (
            "/api/v1/incidents",
            r#"{"title": "ok", "severity": "SEV-1", "labels\b": 1}"#,
            "labels\u{8}",
        ),
    ];
    for (uri, body, field) in cases {
        let r = api.send(Method::POST, uri, Some(&admin), Some(body)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{uri}: {}",
            r.body
        );
        assert_eq!(r.field(), field, "{uri}: {}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("U+00"),
            "{}",
            r.body
        );
    }
    // Tab, line feed and carriage return are text.
    let r = api
        .post(
            "/api/v1/incidents",
            json!({"title": "a\tb", "severity": "SEV-1", "summary": "one\r\ntwo"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = api.get("/api/v1/incidents?service=api%00").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), "service");
    for path in [
        "/api/v1/incidents/INC%00",
        "/api/v1/silences/s%00x",
        "/ical/x%00.ics",
    ] {
        let r = api.send(Method::GET, path, Some(&admin), None).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            r.body
        );
        assert_eq!(r.field(), "path");
    }
    assert!(api
        .get("/api/v1/silences")
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
    assert!(api
        .get("/api/v1/maintenance")
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
    let incidents = api.get("/api/v1/incidents").await;
    assert_eq!(
        incidents.body["incidents"].as_array().unwrap().len(),
        1,
        "{}",
        incidents.body
    );
}

async fn alertmanager_label_names_follow_prometheus(api: Api) {
    let am = api.integration("alertmanager").await;
    let webhook = r#"{"version": "4", "status": "firing", "receiver": "warroom",
        "alerts": [{"status": "firing", "labels": {"alertname": "A", "bad name!": "x"}}]}"#;
    let r = api
        .send(
            Method::POST,
            &format!("/integrations/alertmanager/{am}"),
            None,
            Some(webhook),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body.to_string().contains("alerts[0].labels"),
        "{}",
        r.body
    );
    assert!(
        r.body.to_string().contains("not a valid label name"),
        "{}",
        r.body
    );
    assert!(alerts(&api).await.is_empty());
}

on_both_backends!(dead_letters_are_shown_retried_and_dropped);

/// A request the database refuses: the sender still got 202, the alerts
/// around it are stored, and an admin sees it in the status, lists it,
/// retries it once the cause is gone, or drops it.
async fn dead_letters_are_shown_retried_and_dropped<S: Store + PoisonAlerts>(store: S) {
    store.refuse_alerts_titled("Poison").await;
    let api = Api::new(store.clone()).await;
    let key = api.integration("pagerduty").await;
    for (dedup, summary) in [
        ("a", "\"Fine\""),
        ("p1", "\"Poison\""),
        ("p2", "\"Poison\""),
        ("b", "\"Fine\""),
    ] {
        let r = api
            .send(
                Method::POST,
                "/v2/enqueue",
                None,
                Some(&event(&key, dedup, summary)),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    }
    assert_eq!(alerts(&api).await.len(), 2);
    let viewer = api.viewer.clone();
    let status = api
        .send(Method::GET, "/api/v1/status", Some(&viewer), None)
        .await;
    assert_eq!(status.body["ingest"]["dead_letters"], 2, "{}", status.body);

    let list = api.get("/api/v1/ingest/dead-letters").await;
    assert_eq!(list.status, StatusCode::FORBIDDEN, "admins only");
    let admin = api.admin.clone();
    let list = api
        .send(
            Method::GET,
            "/api/v1/ingest/dead-letters",
            Some(&admin),
            None,
        )
        .await;
    let letters = list.body.as_array().unwrap().clone();
    assert_eq!(letters.len(), 2, "{}", list.body);
    assert_eq!(letters[0]["integration"], "pagerduty-1");
    assert!(letters[0]["error"]
        .as_str()
        .unwrap()
        .contains("poisoned alert"));
    assert!(
        letters[0].get("request").is_none(),
        "the list leaves the requests out"
    );
    let (first, second) = (
        letters[0]["id"].as_i64().unwrap(),
        letters[1]["id"].as_i64().unwrap(),
    );
    let one = api
        .send(
            Method::GET,
            &format!("/api/v1/ingest/dead-letters/{first}"),
            Some(&admin),
            None,
        )
        .await;
    assert!(
        one.body["request"].as_str().unwrap().contains("p1"),
        "{}",
        one.body
    );

    let retry = format!("/api/v1/ingest/dead-letters/{first}/retry");
    let r = api.send(Method::POST, &retry, Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "still refused: {}", r.body);
    store.accept_all_alerts().await;
    let r = api.send(Method::POST, &retry, Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["results"][0]["outcome"], "created");
    let r = api
        .send(
            Method::DELETE,
            &format!("/api/v1/ingest/dead-letters/{second}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = api.send(Method::POST, &retry, Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api
        .send(
            Method::GET,
            "/api/v1/ingest/dead-letters/x",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let keys: Vec<Value> = alerts(&api)
        .await
        .iter()
        .map(|a| a["dedup_key"].clone())
        .collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.contains(&json!("p1")) && !keys.contains(&json!("p2")));
    let status = api
        .send(Method::GET, "/api/v1/status", Some(&viewer), None)
        .await;
    assert_eq!(status.body["ingest"]["dead_letters"], 0);
}
