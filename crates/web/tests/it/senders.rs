//! Senders' documented shapes through the router.
//! Sentry's integration-platform metric alerts open, change and resolve an
//! alert; its other resources get a 400 naming the resource; UptimeRobot's
//! query-string delivery works by GET and by POST.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::Value;

use crate::helpers::{Api, Reply};
use warroom_store::on_both_backends;

on_both_backends!(setup = crate::helpers::Api::new;
    sentry_metric_alerts_open_change_and_resolve,
    uptimerobot_sends_the_alert_in_the_query_string,
);

/// Sentry's documented metric alert webhook (the alert rule's triggers left out).
fn metric_alert(action: &str) -> String {
    serde_json::json!({
        "action": action,
        "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
        "data": {
            "description_text": "1000 events in the last 10 minutes\nFilter: level:error",
            "description_title": format!("{}: Too many errors", match action {
                "critical" => "Critical", "warning" => "Warning", _ => "Resolved",
            }),
            "metric_alert": {
                "alert_rule": {
                    "aggregate": "count()", "dataset": "events", "id": "14",
                    "name": "Too many errors", "organization_id": "5",
                    "projects": ["earth"], "query": "level:error", "time_window": 10,
                    "triggers": []
                },
                "date_closed": null,
                "date_started": "2026-11-25T13:50:00Z",
                "id": "4", "identifier": "4", "organization_id": "5",
                "projects": ["earth"], "status": 2, "title": "Too many errors", "type": 2
            },
            "web_url": "https://sentry.io/organizations/example/alerts/1/"
        },
        "installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"}
    })
    .to_string()
}

async fn sentry(api: &Api, key: &str, resource: &str, body: &str) -> Reply {
    api.raw(
        Request::builder()
            .method(Method::POST)
            .uri(format!("/integrations/sentry/{key}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("Sentry-Hook-Resource", resource)
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

async fn alert(api: &Api, reply: &Reply) -> Value {
    let id = reply.body["alerts"][0]["alert_id"].as_i64().unwrap();
    let r = api.get(&format!("/api/v1/alerts/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

async fn sentry_metric_alerts_open_change_and_resolve(api: Api) {
    let key = api.integration("sentry").await;
    let r = sentry(&api, &key, "metric_alert", &metric_alert("critical")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let critical = alert(&api, &r).await;
    assert_eq!(critical["status"], "firing");
    assert_eq!(critical["dedup_key"], "sentry-metric-4");
    assert_eq!(critical["summary"], "Critical: Too many errors");
    assert_eq!(critical["source_severity"], "critical");
    assert!(critical["incident_id"].is_string(), "{critical}");
    assert_eq!(
        critical["links"][0]["href"],
        "https://sentry.io/organizations/example/alerts/1/"
    );

    let r = sentry(&api, &key, "metric_alert", &metric_alert("warning")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let warning = alert(&api, &r).await;
    assert_eq!(warning["id"], critical["id"], "the same Sentry incident");
    assert_eq!(warning["status"], "firing");

    let r = sentry(&api, &key, "metric_alert", &metric_alert("resolved")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let resolved = alert(&api, &r).await;
    assert_eq!(resolved["id"], critical["id"]);
    assert_eq!(resolved["status"], "resolved");

    // Every other resource Sentry documents is refused by name, nothing stored.
    for resource in ["installation", "error", "comment", "activity_alert", "seer"] {
        let r = sentry(
            &api,
            &key,
            resource,
            r#"{"action": "created", "data": {}, "installation": {"uuid": "x"}}"#,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{resource}: {}", r.body);
        assert_eq!(r.field(), "Sentry-Hook-Resource", "{}", r.body);
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("resource `{resource}` is not supported")),
            "{message}"
        );
    }
    let all = api.get("/api/v1/alerts?status=all").await;
    assert_eq!(
        all.body.as_array().unwrap().len(),
        1,
        "refused resources store nothing: {}",
        all.body
    );
}

async fn uptimerobot(api: &Api, method: Method, uri: &str) -> Reply {
    api.raw(
        Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn uptimerobot_sends_the_alert_in_the_query_string(api: Api) {
    let key = api.integration("uptimerobot").await;
    let base = format!("/integrations/uptimerobot/{key}");
    let down = "monitorID=793508639&monitorURL=https%3A%2F%2Fshop.example.com%2Fhealth&monitorFriendlyName=Shop%20health&alertType=1&alertTypeFriendlyName=Down&alertDetails=Connection%20Timeout&alertDateTime=1764078600";
    let r = uptimerobot(&api, Method::GET, &format!("{base}?{down}")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let firing = alert(&api, &r).await;
    assert_eq!(firing["status"], "firing");
    assert_eq!(firing["dedup_key"], "uptimerobot-793508639");
    assert_eq!(firing["summary"], "Shop health is down: Connection Timeout");

    // "Up", by POST with the variables in the URL and an empty body.
    let up = "monitorID=793508639&monitorFriendlyName=Shop%20health&alertType=2&alertDuration=600&alertDateTime=1764079200";
    let r = uptimerobot(&api, Method::POST, &format!("{base}?{up}")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let resolved = alert(&api, &r).await;
    assert_eq!(resolved["id"], firing["id"]);
    assert_eq!(resolved["status"], "resolved");

    // Nothing anywhere: the missing variable is named. Other formats need a POST.
    let r = uptimerobot(&api, Method::GET, &base).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.field(), "monitorID");
    let sentry_key = api.integration("sentry").await;
    let r = uptimerobot(
        &api,
        Method::GET,
        &format!("/integrations/sentry/{sentry_key}?action=critical"),
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.body);
}
