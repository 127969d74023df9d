//! Responders' work through the UI: running an incident, integration keys, the live feed, every page, silences, overrides, reassigning and resending.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use warroom_store::on_both_backends;

use super::{location, people, request, sign_in};
use crate::helpers::{Api, NowForTests};

on_both_backends!(setup = crate::helpers::Api::new;
    responder_runs_an_incident,
    admin_creates_an_integration_key_shown_once,
    live_feed_reports_changes,
);
on_both_backends!(setup = crate::helpers::oncall_api;
    every_page_renders,
    silences_and_overrides_from_the_ui,
    reassign_resend_keys_and_accounts,
);

async fn responder_runs_an_incident(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    let form = ada.get(&api, "/incidents/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("SEV-1"));

    let declared = ada
        .post(&api, "/incidents", "title=Checkout+fails&severity=SEV-2&service=api&summary=Card+payments+fail&customer_facing=true")
        .await;
    assert_eq!(declared.status, StatusCode::SEE_OTHER, "{}", declared.body);
    let path = location(&declared).to_owned();
    let id = path.trim_start_matches("/incidents/").to_owned();
    let workspace = ada.get(&api, &path).await;
    assert_eq!(workspace.status, StatusCode::OK);
    assert!(workspace.body.contains("Checkout fails"));
    assert!(
        workspace.body.contains("id=\"ack\""),
        "a triggered incident offers Acknowledge"
    );

    for (action, form) in [
        ("acknowledge", ""),
        ("note", "text=Rolled+back+deploy+1234"),
        ("checklist", "phase=detection&item=1&done=true"),
        ("assign", "role=Incident+Commander&assignee=ada"),
        ("severity", "severity=SEV-1&reason=more+customers"),
        ("update", "status=identified&message=We+found+it"),
        ("details", "title=Checkout+fails+in+EU&summary=Only+EU&services=api%2C+web&category=&customer_facing=true"),
        ("resolve", "message=fixed"),
    ] {
        let r = ada.post(&api, &format!("{path}/{action}"), form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
        assert_eq!(location(&r), path);
    }
    let incident = api.get(&format!("/api/v1/incidents/{id}")).await.body;
    assert_eq!(incident["status"], "resolved");
    assert_eq!(incident["severity"], "SEV-1");
    assert_eq!(incident["title"], "Checkout fails in EU");
    assert_eq!(incident["services"], serde_json::json!(["api", "web"]));
    assert!(
        incident["roles"].to_string().contains("\"ada\""),
        "{}",
        incident["roles"]
    );
    let timeline = api
        .get(&format!("/api/v1/incidents/{id}/timeline"))
        .await
        .body;
    let kinds: Vec<&str> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "declared",
        "status_changed",
        "note",
        "checklist_item",
        "role_assigned",
        "severity_changed",
        "update_posted",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let actors: Vec<&str> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert!(
        actors.contains(&"ada"),
        "UI changes are recorded as the signed-in person"
    );

    let page = ada.get(&api, &path).await.body;
    assert!(page.contains("Rolled back deploy 1234"));
    let bad = ada
        .post(&api, &format!("{path}/details"), "title=x&services=nope")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("services"), "{}", bad.body);
    assert!(page.contains("Reopen"), "a resolved incident offers Reopen");
    // A refused change is shown on the workspace, naming the reason.
    let refused = ada.post(&api, &format!("{path}/escalate"), "").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("flash error"));
    // Preview renders the update without posting it.
    let reopened = ada.post(&api, &format!("{path}/reopen"), "").await;
    assert_eq!(reopened.status, StatusCode::SEE_OTHER);
    let before = api
        .get(&format!("/api/v1/incidents/{id}/timeline"))
        .await
        .body["events"]
        .as_array()
        .unwrap()
        .len();
    let preview = ada
        .post(
            &api,
            &format!("{path}/update"),
            "message=Still+digging&preview=1",
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("class=\"preview\""));
    assert!(preview.body.contains("Still digging"));
    let after = api
        .get(&format!("/api/v1/incidents/{id}/timeline"))
        .await
        .body["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "a preview posts nothing");

    let list = ada.get(&api, "/incidents?q=checkout").await;
    assert!(list.body.contains(&id));
    let none = ada.get(&api, "/incidents?q=nothing-like-this").await;
    assert!(none.body.contains("No incidents match"));
}

async fn admin_creates_an_integration_key_shown_once(api: Api) {
    people(&api).await;
    let root = sign_in(&api, "root@example.com").await;
    let ada = sign_in(&api, "ada@example.com").await;
    let page = root.get(&api, "/services").await;
    assert!(page.body.contains("Add an integration"));
    assert!(!ada
        .get(&api, "/services")
        .await
        .body
        .contains("Add an integration"));
    let refused = ada
        .post(
            &api,
            "/services/integrations",
            "service=api&kind=alertmanager&name=prom",
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let created = root
        .post(
            &api,
            "/services/integrations",
            "service=api&kind=alertmanager&name=prom",
        )
        .await;
    let created = root.follow(&api, &created).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(
        created.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let start = created.body.find("/integrations/alertmanager/").unwrap()
        + "/integrations/alertmanager/".len();
    let key = &created.body[start..start + 32];
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()), "{key}");
    assert!(created.body.contains("webhook_configs"));
    assert!(created.body.contains("/v2/enqueue"));
    // The key works, and is never shown again.
    let alert = serde_json::json!({"version": "4", "groupKey": "g", "status": "firing", "receiver": "warroom",
        "alerts": [{"status": "firing", "labels": {"alertname": "Down"}, "annotations": {}, "startsAt": "2026-11-25T13:59:00Z", "fingerprint": "f1"}]});
    let sent = api
        .send(
            Method::POST,
            &format!("/integrations/alertmanager/{key}"),
            None,
            Some(&alert.to_string()),
        )
        .await;
    assert!(sent.status.is_success(), "{}", sent.body);
    assert!(!root.get(&api, "/services").await.body.contains(key));
    let bad = root
        .post(
            &api,
            "/services/integrations",
            "service=nope&kind=alertmanager&name=prom",
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("service"));
}

async fn live_feed_reports_changes(api: Api) {
    people(&api).await;
    let id = api.declare("Disk full", "SEV-2").await;
    let ada = sign_in(&api, "ada@example.com").await;
    let anonymous = request(&api, Method::GET, "/events", None, None, &[]).await;
    assert_eq!(
        anonymous.status,
        StatusCode::SEE_OTHER,
        "the feed needs a session"
    );
    let req = Request::builder()
        .uri("/events")
        .header(header::COOKIE, &ada.cookie)
        .body(Body::empty())
        .unwrap();
    let response = api.app.clone().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/event-stream"
    );
    let mut body = response.into_body();
    // The greeting arrives first; the poller is running from here on.
    let first = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let text = String::from_utf8(first.into_data().unwrap().to_vec()).unwrap();
    assert!(text.contains("retry: 1000"), "{text}");
    // Let the poller take its first look before the change.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let note = ada
        .post(&api, &format!("/incidents/{id}/note"), "text=watching")
        .await;
    assert_eq!(note.status, StatusCode::SEE_OTHER);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while !seen.contains(&id) {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("the change reaches the feed within a second")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
    }
    assert!(seen.contains("event: change"), "{seen}");
}

async fn every_page_renders(api: Api) {
    people(&api).await;
    let id = api.declare("Disk full", "SEV-2").await;
    let root = sign_in(&api, "root@example.com").await;
    for (uri, needle) in [
        ("/", "On call now"),
        ("/incidents", &id as &str),
        ("/incidents?status=open&severity=SEV-2&service=api", &id),
        ("/incidents/new", "Declare an incident"),
        (&format!("/incidents/{id}"), "Timeline"),
        ("/alerts", "Alerts"),
        ("/alerts?tab=suppressed", "No suppressed alerts"),
        ("/alerts?tab=resolved", "No resolved alerts"),
        ("/silences", "Silences"),
        ("/silences/new", "New silence"),
        ("/oncall", "Escalation policies"),
        ("/oncall?week=2026-12-01", "Week of Nov 30, 2026"),
        ("/services", "Integrations"),
        ("/people", "alice@example.com"),
        ("/playbook", "Incident Commander"),
        ("/account", "Change password"),
    ] {
        let page = root.get(&api, uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
        assert!(page.body.contains(needle), "{uri} lacks {needle:?}");
        assert!(
            page.body.contains("/assets/app.css?v="),
            "{uri} uses the layout"
        );
    }
    let now = root.get(&api, "/").await.body;
    assert!(now.contains("primary"), "the Now page names the schedule");
    // SEV-2 updates every hour: due at 15:00 on the manual clock (14:00).
    assert!(
        now.contains("Next update <time datetime=\"2026-11-25T15:00:00Z\""),
        "{now}"
    );
    assert!(!now.contains("No stakeholder updates due"));
    assert!(now.contains("alice"), "and who is on call on it");
    let css = root.get(&api, "/assets/app.css").await;
    assert_eq!(
        css.headers.get(header::CONTENT_TYPE).unwrap(),
        "text/css; charset=utf-8"
    );
    assert!(css.body.contains("prefers-color-scheme: dark"));
}

async fn silences_and_overrides_from_the_ui(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    let bad = ada
        .post(
            &api,
            "/silences",
            "matchers=alertname%3D~%22(%22&duration=2h&comment=x",
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("matchers"));
    let bad = ada
        .post(
            &api,
            "/silences",
            "matchers=alertname%3D%22Down%22&duration=soon&comment=x",
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("duration"));
    let ok = ada
        .post(
            &api,
            "/silences",
            "matchers=alertname%3D%22Down%22%0Aenv%3D~%22prod.*%22&duration=2h&comment=failover",
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let list = api.get("/api/v1/silences").await.body;
    let silence = &list[0];
    assert_eq!(silence["state"], "active");
    assert!(silence["matchers"].as_str().unwrap().contains("env=~"));
    let sid = silence["id"].as_str().unwrap();
    let page = ada.get(&api, "/silences").await;
    assert!(page.body.contains("failover"));
    let expired = ada.confirm(&api, &format!("/silences/{sid}/expire")).await;
    let expired = ada.follow(&api, &expired).await;
    assert!(expired.body.contains("Expired silence"), "{}", expired.body);
    assert_eq!(
        api.get("/api/v1/silences?all=true").await.body[0]["state"],
        "expired"
    );

    // An override from the calendar, in the viewer's zone.
    let week = ada.get(&api, "/oncall?week=2026-11-23").await;
    assert!(week.body.contains("Mon 23 Nov"));
    assert!(week.body.contains("override"));
    let made = request(
        &api,
        Method::POST,
        "/oncall/overrides",
        Some(&format!("{}; tz=Europe%2FLondon", ada.cookie)),
        Some(&format!("csrf={}&schedule=primary&user=bob&start=2026-11-26T09%3A00&end=2026-11-26T17%3A00&week=2026-11-23", ada.csrf)),
        &[],
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let on_call = api
        .get("/api/v1/oncall/schedules/primary/on-call?at=2026-11-26T12:00:00Z")
        .await
        .body;
    assert_eq!(on_call["user"], "bob", "{on_call}");
    let backwards = ada
        .post(&api, "/oncall/overrides", "schedule=primary&user=bob&start=2026-11-26T17%3A00&end=2026-11-26T09%3A00&week=2026-11-23")
        .await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(backwards.body.contains("end"));
}

async fn reassign_resend_keys_and_accounts(api: Api) {
    people(&api).await;
    let id = api.declare("Disk full", "SEV-1").await;
    let ada = sign_in(&api, "ada@example.com").await;
    let root = sign_in(&api, "root@example.com").await;
    let path = format!("/incidents/{id}");

    // Reassign to a person: paging starts over with bob.
    let page = ada.get(&api, &path).await.body;
    assert!(
        page.contains("value=\"user:bob\""),
        "the reassign list names the directory"
    );
    let r = ada
        .post(&api, &format!("{path}/reassign"), "to=user%3Abob")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    for bad in ["to=bob", "to=planet%3Amars", "to="] {
        let r = ada.post(&api, &format!("{path}/reassign"), bad).await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.status);
    }
    api.engine.run_paging(api.clock.now_for_tests()).await;
    let timeline = api
        .get(&format!("/api/v1/incidents/{id}/timeline"))
        .await
        .body
        .to_string();
    assert!(timeline.contains("\"bob\""), "{timeline}");

    // A dead page can be sent again from the workspace.
    api.engine
        .refuse_deliveries(api.clock.now_for_tests())
        .await;
    let page = ada.get(&api, &path).await.body;
    let at = page
        .find("name=\"message_id\" value=\"")
        .expect("a dead message offers Resend");
    let rest = &page[at + "name=\"message_id\" value=\"".len()..];
    let message_id = &rest[..rest.find('"').unwrap()];
    let r = ada
        .post(
            &api,
            &format!("{path}/resend"),
            &format!("message_id={message_id}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let other = api.declare("Other", "SEV-3").await;
    let r = ada
        .post(
            &api,
            &format!("/incidents/{other}/resend"),
            &format!("message_id={message_id}"),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a message resends only from its own incident"
    );

    // Integration keys: a new one replaces the old, revoke ends it.
    let created = root
        .post(
            &api,
            "/services/integrations",
            "service=api&kind=pagerduty&name=pd",
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let integrations = api
        .send(Method::GET, "/api/v1/integrations", Some(&api.admin), None)
        .await
        .body;
    let iid = integrations.as_array().map_or_else(
        || {
            integrations["integrations"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        },
        |list| list[0]["id"].as_str().unwrap().to_owned(),
    );
    assert_eq!(
        ada.post(&api, &format!("/services/integrations/{iid}/rotate"), "")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let rotated = root
        .confirm(&api, &format!("/services/integrations/{iid}/rotate"))
        .await;
    let rotated = root.follow(&api, &rotated).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert!(rotated.body.contains("shown only once"));
    let revoked = root
        .confirm(&api, &format!("/services/integrations/{iid}/revoke"))
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert!(root.get(&api, "/services").await.body.contains("revoked"));

    // Accounts: an admin adds one (password shown once) and disables it.
    assert_eq!(
        ada.post(
            &api,
            "/people/accounts",
            "email=new%40example.com&name=new&role=viewer"
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let made = root
        .post(
            &api,
            "/people/accounts",
            "email=new%40example.com&name=new&role=viewer",
        )
        .await;
    let made = root.follow(&api, &made).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert!(made.body.contains("shown only now"));
    assert_eq!(made.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let again = root
        .post(
            &api,
            "/people/accounts",
            "email=new%40example.com&name=new&role=viewer",
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("email"));
    let bad_role = root
        .post(
            &api,
            "/people/accounts",
            "email=x%40example.com&name=x&role=god",
        )
        .await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    let accounts = api
        .send(Method::GET, "/api/v1/accounts", Some(&api.admin), None)
        .await
        .body;
    let new_id = accounts
        .as_array()
        .or_else(|| accounts["accounts"].as_array())
        .unwrap()
        .iter()
        .find(|a| a["email"] == "new@example.com")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let disabled = root
        .confirm(&api, &format!("/people/accounts/{new_id}/disable"))
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    assert!(
        !api.engine
            .signs_in("new@example.com", "whatever-it-was")
            .await
    );
}
