//! Stakeholder communications through the API: status updates and their
//! cadence, messages and resending, test messages, channels and previews.

use axum::http::{Method, StatusCode};
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use warroom_domain::Playbook;

use crate::helpers::{Api, NowForTests};
use warroom_store::on_both_backends;

on_both_backends!(setup = crate::comms::comms_api;
    declaring_notifies_and_updates_keep_the_cadence,
    messages_show_and_resend,
    notify_test_channels_and_preview,
);

on_both_backends!(setup = crate::helpers::Api::new; comms_without_audiences_and_bad_updates,);

/// Severities of which SEV-1 tells `management` (a webhook channel whose URL
/// only delivery would read, from an unset variable: nothing is sent here).
/// An `Api` over the playbook of `comms_playbook`.
pub async fn comms_api<S: warroom_store::Store>(store: S) -> Api {
    Api::with_playbook(store, comms_playbook()).await
}

pub fn comms_playbook() -> Playbook {
    const YAML: &str = r#"
severities:
  - {name: SEV-0, label: Critical, update_every: 15m}
  - name: SEV-1
    label: Major
    update_every: 15m
    notify:
      - {audience: management, within: 30m}
  - {name: SEV-2, label: Minor, update_every: 1h}
  - {name: SEV-3, label: Low, update_every: null}
notifications:
  channels:
    - {name: hooks, type: webhook, url: {env: WARROOM_TEST_HOOK_URL}}
  audiences:
    - name: management
      class: stakeholders
      targets: [{channel: hooks}]
"#;
    Playbook::parse("comms.yaml", YAML).unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn kinds(events: &Value) -> Vec<&str> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

async fn messages(api: &Api, id: &str) -> Vec<Value> {
    let r = api.get(&format!("/api/v1/incidents/{id}/messages")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["messages"].as_array().unwrap().clone()
}

async fn declaring_notifies_and_updates_keep_the_cadence(api: Api) {
    let id = api.declare("Checkout down", "SEV-1").await;
    let base = format!("/api/v1/incidents/{id}");

    // The initial notification to management is queued on the hooks channel.
    let sent = messages(&api, &id).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["purpose"], "initial_notification");
    assert_eq!(sent[0]["channel"], "hooks");
    assert_eq!(sent[0]["state"], "queued");
    assert_eq!(sent[0]["incident_id"], id.as_str());
    assert!(sent[0].get("body").is_none());

    let r = api
        .send(
            Method::GET,
            &format!("{base}/comms"),
            Some(&api.viewer),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body,
        json!({
            "incident_id": id,
            "updates": 0,
            "last_update_at": null,
            "next_update_due": "2026-11-25T14:15:00Z",
            "overdue": false,
            "overdue_missed": 0,
            "missed": 0,
            "notified": ["management"],
        })
    );

    // An update ten minutes in: identified, queued to management, due 15 minutes later.
    api.clock.set(at("2026-11-25T14:10:00Z"));
    let r = api
        .send(
            Method::POST,
            &format!("{base}/updates"),
            Some(&api.viewer),
            Some(r#"{"message": "x"}"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api
        .post(
            &format!("{base}/updates"),
            json!({"status": "identified", "message": "Bad deploy; rolling back"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["incident"]["status"], "identified");
    let events = &r.body["events"];
    let k = kinds(events);
    assert!(k.contains(&"status_changed"), "{k:?}");
    assert!(k.contains(&"update_posted"), "{k:?}");
    let queued: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "notification_queued")
        .collect();
    assert_eq!(queued.len(), 1, "{events}");
    assert_eq!(queued[0]["message_kind"], "status_update");
    assert_eq!(queued[0]["to"], "management");
    assert_eq!(queued[0]["channel"], "hooks");
    let sent = messages(&api, &id).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1]["purpose"], "status_update");
    assert_eq!(sent[1]["id"], queued[0]["message_id"]);

    let r = api.get(&format!("{base}/comms")).await;
    assert_eq!(r.body["updates"], 1, "{}", r.body);
    assert_eq!(r.body["last_update_at"], "2026-11-25T14:10:00Z");
    assert_eq!(r.body["next_update_due"], "2026-11-25T14:25:00Z");
    assert_eq!(r.body["overdue"], false);

    // At the due time it is not overdue yet; a minute later it is.
    api.clock.set(at("2026-11-25T14:25:00Z"));
    let r = api.get(&format!("{base}/comms")).await;
    assert_eq!(r.body["overdue"], false, "{}", r.body);
    api.clock.set(at("2026-11-25T14:26:00Z"));
    let r = api.get(&format!("{base}/comms")).await;
    assert_eq!(r.body["overdue"], true, "{}", r.body);

    // A late update sets a new due time a cadence later. (`missed` counts
    // reminders the `update_due` job sent, which no test task runs here.)
    let r = api
        .post(
            &format!("{base}/updates"),
            json!({"message": "Rolled back"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["incident"]["status"], "identified", "unchanged");
    let r = api.get(&format!("{base}/comms")).await;
    assert_eq!(r.body["updates"], 2, "{}", r.body);
    assert_eq!(r.body["next_update_due"], "2026-11-25T14:41:00Z");
    assert_eq!(r.body["overdue"], false);

    // Resolved: no more updates.
    let r = api.post(&format!("{base}/resolve"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = api
        .post(&format!("{base}/updates"), json!({"message": "late"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = api.get(&format!("{base}/comms")).await;
    assert_eq!(r.body["next_update_due"], Value::Null, "{}", r.body);
    assert_eq!(r.body["overdue"], false);
}

async fn messages_show_and_resend(api: Api) {
    let id = api.declare("Checkout down", "SEV-1").await;
    let sent = messages(&api, &id).await;
    let first = sent[0]["id"].as_i64().unwrap();

    let r = api
        .send(
            Method::GET,
            &format!("/api/v1/messages/{first}"),
            Some(&api.viewer),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, sent[0]);
    assert!(r.body.get("body").is_none());
    let r = api.get("/api/v1/messages/99999").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = api.get("/api/v1/messages/first").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);

    // Queued: nothing to resend.
    let resend = format!("/api/v1/messages/{first}/resend");
    let r = api.post(&resend, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("queued"),
        "{}",
        r.body
    );

    // Dead after the channel refused it: resent as a new message.
    let now = api.clock.now_for_tests();
    assert_eq!(api.engine.refuse_deliveries(now).await, 1);
    let r = api.get(&format!("/api/v1/messages/{first}")).await;
    assert_eq!(r.body["state"], "dead", "{}", r.body);
    assert_eq!(r.body["last_error"], "refused by the test channel");
    let r = api
        .send(Method::POST, &resend, Some(&api.viewer), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    api.clock.advance(SignedDuration::from_mins(1));
    let r = api.post(&resend, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let new = r.body["id"].as_i64().unwrap();
    assert_ne!(new, first);
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        format!("/api/v1/messages/{new}")
    );
    assert_eq!(r.body["state"], "queued");
    assert_eq!(r.body["purpose"], "initial_notification");
    assert_eq!(r.body["channel"], "hooks");
    assert_eq!(r.body["incident_id"], id.as_str());
    assert_eq!(messages(&api, &id).await.len(), 2);
}

async fn notify_test_channels_and_preview(api: Api) {
    // Channels: names and types, never the settings.
    let r = api
        .send(
            Method::GET,
            "/api/v1/notify/channels",
            Some(&api.viewer),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"channels": [{"name": "hooks", "type": "webhook"}]})
    );
    assert!(!r.body.to_string().contains("WARROOM_TEST_HOOK_URL"));

    // Test messages: admins only, to a channel that exists.
    let test = |token: &str, body: &str| {
        let token = token.to_owned();
        let body = body.to_owned();
        let api = &api;
        async move {
            api.send(
                Method::POST,
                "/api/v1/notify/test",
                Some(&token),
                Some(&body),
            )
            .await
        }
    };
    let r = test(&api.viewer, r#"{"channel": "hooks"}"#).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = test(&api.responder, r#"{"channel": "hooks"}"#).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = test(&api.admin, r#"{"channel": "slack-ops"}"#).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), "channel");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("hooks"));
    let r = test(&api.admin, r#"{"chanel": "hooks"}"#).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.field(), "chanel");
    let r = test(&api.admin, r#"{"channel": "hooks"}"#).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["purpose"], "test");
    assert_eq!(r.body["channel"], "hooks");
    assert_eq!(r.body["state"], "queued");
    assert_eq!(r.body["incident_id"], Value::Null);
    let id = r.body["id"].as_i64().unwrap();
    let r = api.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["subject"], "Warroom test message");

    // Previews: rendered with a sample incident of the severity asked for.
    let r = api
        .send(
            Method::POST,
            "/api/v1/notify/preview",
            Some(&api.viewer),
            Some(r#"{"kind": "status_update", "audience": "stakeholders", "severity": "SEV-1"}"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body["subject"].as_str().unwrap().starts_with("[UPDATE] "),
        "{}",
        r.body
    );
    assert!(
        r.body["text"].as_str().unwrap().contains("SEV-1"),
        "{}",
        r.body
    );
    assert!(r.body.get("html").is_some());
    let r = api
        .post(
            "/api/v1/notify/preview",
            json!({"kind": "initial_notification", "audience": "stakeholders", "severity": "SEV-2"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body["subject"].as_str().unwrap().starts_with("[SEV-2] "),
        "{}",
        r.body
    );
    for (body, status, field) in [
        (
            json!({"kind": "gossip", "audience": "stakeholders", "severity": "SEV-1"}),
            400,
            "kind",
        ),
        (
            json!({"kind": "status_update", "audience": "everyone", "severity": "SEV-1"}),
            400,
            "audience",
        ),
        (
            json!({"kind": "status_update", "audience": "customers", "severity": "SEV-9"}),
            422,
            "severity",
        ),
        (
            json!({"kind": "status_update", "audience": "customers"}),
            400,
            "severity",
        ),
    ] {
        let r = api.post("/api/v1/notify/preview", body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.body);
        assert_eq!(r.field(), field, "{body}");
    }
}

/// With the built-in playbook (no audiences): updates notify nobody but
/// still keep the cadence; bad updates are refused naming the field.
async fn comms_without_audiences_and_bad_updates(api: Api) {
    let id = api.declare("Slow pages", "SEV-2").await;
    let base = format!("/api/v1/incidents/{id}");
    let r = api.get(&format!("{base}/comms")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["updates"], 0);
    assert_eq!(r.body["notified"], json!([]));
    let r = api.get("/api/v1/incidents/INC-1999-0001/comms").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = api.get("/api/v1/notify/channels").await;
    assert_eq!(r.body, json!({"channels": []}));

    for (body, status, field) in [
        (json!({"message": ""}), 422, "message"),
        (json!({"message": "   "}), 422, "message"),
        (json!({}), 400, "message"),
        (json!({"message": "x", "status": "fixed"}), 400, "status"),
        (json!({"message": "x", "status": "resolved"}), 422, "status"),
        (json!({"message": "x", "colour": "red"}), 400, "colour"),
        // A starter's placeholder left in: not for stakeholders' eyes.
        (
            json!({"message": "IMPACT:\n- {who is affected, how}"}),
            422,
            "message",
        ),
        (json!({"message": "ETA: {estimated time}"}), 422, "message"),
    ] {
        let r = api.post(&format!("{base}/updates"), body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.body);
        assert_eq!(r.field(), field, "{body}");
    }
    let r = api.get(&format!("{base}/timeline")).await;
    assert!(!kinds(&r.body["events"]).contains(&"update_posted"));
    let r = api
        .post(
            "/api/v1/incidents/INC-1999-0001/updates",
            json!({"message": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let r = api
        .post(
            &format!("{base}/updates"),
            json!({"message": "Looking into it"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let k = kinds(&r.body["events"]);
    assert_eq!(k, ["update_posted"], "{}", r.body);
    let r = api.get(&format!("{base}/comms")).await;
    assert_eq!(r.body["updates"], 1, "{}", r.body);
    assert_eq!(r.body["next_update_due"], "2026-11-25T15:00:00Z");

    let r = api.get("/api/v1/openapi.json").await;
    for path in [
        "/api/v1/incidents/{id}/updates",
        "/api/v1/incidents/{id}/comms",
        "/api/v1/messages/{id}",
        "/api/v1/messages/{id}/resend",
        "/api/v1/notify/test",
        "/api/v1/notify/channels",
        "/api/v1/notify/preview",
    ] {
        assert!(r.body["paths"].get(path).is_some(), "{path} undocumented");
    }
    assert!(r.body["components"]["schemas"].get("CommsView").is_some());
}
