//! The workspace and Now pages: an overdue stakeholder update
//! that stays overdue, a response clock that stays met after an
//! acknowledgement timeout, who is paged, confirmations before a role is
//! removed or taken over, the timeline narrowed without a script, and
//! compressed responses (but not the live stream or ingest answers).

use std::io::Read as _;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use jiff::SignedDuration;
use serde_json::json;
use tower::ServiceExt;
use warroom_store::on_both_backends;

use super::{location, people, sign_in, urlenc};
use crate::helpers::{oncall_playbook, Api, NowForTests};

on_both_backends!(setup = crate::helpers::Api::new;
    an_overdue_update_stays_red_until_one_is_posted,
    removing_or_taking_over_a_role_asks_first,
    the_timeline_folds_bulk_entries_and_filters_without_a_script,
    pages_assets_and_json_are_compressed_but_not_the_stream_or_ingest,
);
on_both_backends!(setup = crate::ui::workspace::acknowledge_timeout_api;
    the_response_clock_stays_met_after_an_acknowledgement_timeout,
    the_workspace_says_who_is_paged_and_when_nobody_was_reached,
);

pub(crate) async fn acknowledge_timeout_api<S: warroom_store::Store>(store: S) -> Api {
    let mut playbook = oncall_playbook();
    playbook.oncall.acknowledge_timeout = Some(SignedDuration::from_mins(10));
    Api::with_playbook(store, playbook).await
}

async fn run_paging(api: &Api) {
    api.engine.run_paging(api.clock.now_for_tests()).await;
}

async fn an_overdue_update_stays_red_until_one_is_posted(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    // SEV-1 wants a stakeholder update every 15 minutes.
    let id = api.declare("Checkout fails", "SEV-1").await;
    let path = format!("/incidents/{id}");
    let page = ada.get(&api, &path).await.body;
    assert!(!page.contains("missed"), "nothing is due yet");

    // Past the due time the reminder runs, and moves its own next run on a
    // cadence; the update is still overdue.
    api.clock.advance(SignedDuration::from_mins(16));
    run_paging(&api).await;
    let page = ada.get(&api, &path).await.body;
    assert!(page.contains("class=\"ess overdue\""), "{page}");
    assert!(page.contains("1 missed"), "{page}");
    let now = ada.get(&api, "/").await.body;
    assert!(now.contains("update overdue"), "{now}");
    assert!(now.contains("overdue, 1 missed"), "{now}");
    let comms = api.get(&format!("/api/v1/incidents/{id}/comms")).await.body;
    assert_eq!(comms["overdue"], true, "{comms}");
    assert_eq!(comms["overdue_missed"], 1, "{comms}");

    // Another interval with no update: two missed, still red.
    api.clock.advance(SignedDuration::from_mins(15));
    run_paging(&api).await;
    let page = ada.get(&api, &path).await.body;
    assert!(page.contains("class=\"ess overdue\""));
    assert!(page.contains("2 missed"), "{page}");
    assert!(ada.get(&api, "/").await.body.contains("overdue, 2 missed"));

    // An update clears it.
    let posted = ada
        .post(
            &api,
            &format!("{path}/update"),
            "message=Still+investigating",
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let page = ada.get(&api, &path).await.body;
    assert!(!page.contains("class=\"ess overdue\""));
    assert!(!page.contains(" missed"), "{page}");
    assert!(!ada.get(&api, "/").await.body.contains("overdue"));
    let comms = api.get(&format!("/api/v1/incidents/{id}/comms")).await.body;
    assert_eq!(comms["overdue"], false, "{comms}");
    assert_eq!(comms["overdue_missed"], 0, "{comms}");
}

async fn the_response_clock_stays_met_after_an_acknowledgement_timeout(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    // SEV-1: respond within 15 minutes.
    let id = api.declare("Database down", "SEV-1").await;
    api.clock.advance(SignedDuration::from_mins(4));
    let r = api
        .post(&format!("/api/v1/incidents/{id}/acknowledge"), json!({}))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    // Nobody resolves it: the acknowledgement lapses and paging starts again.
    api.clock.advance(SignedDuration::from_mins(11));
    run_paging(&api).await;
    let incident = api.get(&format!("/api/v1/incidents/{id}")).await.body;
    assert_eq!(incident["status"], "triggered", "{incident}");
    api.clock.advance(SignedDuration::from_mins(30));
    let page = ada.get(&api, &format!("/incidents/{id}")).await.body;
    assert!(page.contains("met in 4m"), "{page}");
    assert!(!page.contains("over</span>"), "{page}");
    let now = ada.get(&api, "/").await.body;
    assert!(now.contains("met in 4m"), "{now}");
}

async fn the_workspace_says_who_is_paged_and_when_nobody_was_reached(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    let id = api.declare("Database down", "SEV-1").await;
    let path = format!("/incidents/{id}");
    let page = ada.get(&api, &path).await.body;
    assert!(page.contains("Starting default"), "{page}");
    run_paging(&api).await;
    let page = ada.get(&api, &path).await.body;
    // Step 1 pages the primary schedule: alice has the week.
    assert!(page.contains("Step <strong>1</strong> of 2"), "{page}");
    assert!(page.contains("<strong>alice</strong> <span class=\"page-state"));
    assert!(!page.contains("Paging reached nobody"));

    // Nobody acknowledges: step 2, then the policy runs out.
    let mut exhausted = false;
    for _ in 0..10 {
        api.clock.advance(SignedDuration::from_mins(5));
        run_paging(&api).await;
        let page = ada.get(&api, &path).await.body;
        if page.contains("Paging reached nobody") {
            assert!(page.contains("has paged its last step"), "{page}");
            assert!(page.contains("ess paging nobody"));
            exhausted = true;
            break;
        }
    }
    assert!(exhausted, "the policy never ran out");

    // Acknowledged: who has it, and paging stopped.
    let r = api
        .post(&format!("/api/v1/incidents/{id}/acknowledge"), json!({}))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let page = ada.get(&api, &path).await.body;
    assert!(!page.contains("Paging reached nobody"), "{page}");
    assert!(page.contains("paging stopped"), "{page}");
}

/// Who holds Incident Commander, by the API.
async fn holder(api: &Api, id: &str) -> Option<String> {
    let incident = api.get(&format!("/api/v1/incidents/{id}")).await.body;
    incident["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "Incident Commander")
        .map(|r| r["assignee"].as_str().unwrap().to_owned())
}

async fn removing_or_taking_over_a_role_asks_first(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    let id = api.declare("Checkout fails", "SEV-2").await;
    let path = format!("/incidents/{id}");
    let ic = urlenc("Incident Commander");
    // Taking a free role needs no confirmation.
    let r = ada
        .post(
            &api,
            &format!("{path}/assign"),
            &format!("role={ic}&assignee=ada"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), path);
    assert_eq!(holder(&api, &id).await.as_deref(), Some("ada"));

    // Taking it over from ada asks first, and nothing changes until confirmed.
    let r = ada
        .post(
            &api,
            &format!("{path}/assign"),
            &format!("role={ic}&assignee=root"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let confirm = location(&r).to_owned();
    assert!(confirm.contains("confirm=assign"), "{confirm}");
    assert_eq!(holder(&api, &id).await.as_deref(), Some("ada"));
    let page = ada.get(&api, &confirm).await.body;
    assert!(
        page.contains("Take over Incident Commander from ada?"),
        "{page}"
    );
    assert!(page.contains("name=\"confirm\" value=\"1\""));
    let r = ada
        .post(
            &api,
            &format!("{path}/assign"),
            &format!("role={ic}&assignee=root&confirm=1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), path);
    assert_eq!(holder(&api, &id).await.as_deref(), Some("root"));

    // Removing: the link opens the confirmation; a bare post asks too.
    let page = ada.get(&api, &path).await.body;
    assert!(
        page.contains("?confirm=unassign&amp;role=Incident%20Commander"),
        "{page}"
    );
    let r = ada
        .post(&api, &format!("{path}/unassign"), &format!("role={ic}"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let confirm = location(&r).to_owned();
    assert!(confirm.contains("confirm=unassign"), "{confirm}");
    assert_eq!(holder(&api, &id).await.as_deref(), Some("root"));
    let page = ada.get(&api, &confirm).await.body;
    assert!(
        page.contains("Remove root as Incident Commander?"),
        "{page}"
    );
    let r = ada
        .post(
            &api,
            &format!("{path}/unassign"),
            &format!("role={ic}&confirm=1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), path);
    assert_eq!(holder(&api, &id).await, None);
}

async fn the_timeline_folds_bulk_entries_and_filters_without_a_script(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    let key = api.integration("pagerduty").await;
    for n in 0..12 {
        let event = json!({
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": format!("disk-{n}"),
            "payload": {"summary": format!("Disk full on db-{n}"), "source": "db", "severity": "critical"}
        });
        let r = api
            .send(Method::POST, "/v2/enqueue", None, Some(&event.to_string()))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    }
    let incidents = api.get("/api/v1/incidents").await.body;
    let id = incidents["incidents"][0]["id"].as_str().unwrap().to_owned();
    let r = api
        .post(
            &format!("/api/v1/incidents/{id}/notes"),
            json!({"text": "Rolled back deploy 1234"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let path = format!("/incidents/{id}");
    let page = ada.get(&api, &path).await.body;
    assert!(page.contains("data-category=\"alert\""), "{page}");
    assert!(page.contains("Rolled back deploy 1234"));
    // The linked alerts, by sender, with a count.
    assert!(page.contains("class=\"alert-group\""), "{page}");

    let notes = ada.get(&api, &format!("{path}?show=note")).await.body;
    assert!(notes.contains("Rolled back deploy 1234"));
    assert!(!notes.contains("data-category=\"alert\""), "{notes}");
    assert!(notes.contains("aria-current=\"true\">note</a>"), "{notes}");
    let alerts = ada.get(&api, &format!("{path}?show=alert")).await.body;
    assert!(!alerts.contains("Rolled back deploy 1234"));
    assert!(alerts.contains("data-category=\"alert\""));
}

/// The body as sent, and its `content-encoding`.
async fn fetch(
    api: &Api,
    uri: &str,
    cookie: Option<&str>,
    token: Option<&str>,
) -> (Vec<u8>, Option<String>, String) {
    let mut req = Request::builder()
        .uri(uri)
        .header(header::ACCEPT_ENCODING, "gzip");
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    if let Some(token) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = api
        .app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_owned());
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (bytes.to_vec(), encoding, content_type)
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .unwrap();
    text
}

async fn pages_assets_and_json_are_compressed_but_not_the_stream_or_ingest(api: Api) {
    people(&api).await;
    let ada = sign_in(&api, "ada@example.com").await;
    // A SEV-0 with 150 timeline entries, notes (which never fold) mostly.
    let id = api.declare("Everything is down", "SEV-0").await;
    for n in 0..149 {
        let r = api
            .post(
                &format!("/api/v1/incidents/{id}/notes"),
                json!({"text": format!("Note {n}: checked the load balancer pool api-{n} and restarted two of its nodes; error rate unchanged at 40%")}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }

    let (page, encoding, kind) =
        fetch(&api, &format!("/incidents/{id}"), Some(&ada.cookie), None).await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert!(kind.starts_with("text/html"), "{kind}");
    let html = gunzip(&page);
    assert!(html.contains("Note 147:"));
    assert!(
        page.len() < 40 * 1024,
        "the workspace is {} bytes compressed ({} plain)",
        page.len(),
        html.len()
    );
    let (now, encoding, _) = fetch(&api, "/", Some(&ada.cookie), None).await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert!(gunzip(&now).contains("Everything is down"));
    for asset in ["/assets/app.css", "/assets/app.js"] {
        let (body, encoding, _) = fetch(&api, asset, None, None).await;
        assert_eq!(encoding.as_deref(), Some("gzip"), "{asset}");
        assert!(gunzip(&body).len() > 1000);
    }
    let (json, encoding, kind) = fetch(&api, "/api/v1/incidents", None, Some(&api.responder)).await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert!(kind.starts_with("application/json"), "{kind}");
    assert!(gunzip(&json).contains(&id));

    // The live stream is never compressed (it would sit in the encoder's buffer).
    let response = api
        .app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/events")
                .header(header::ACCEPT_ENCODING, "gzip")
                .header(header::COOKIE, &ada.cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
    drop(response);

    // Nor are ingest answers: a few bytes, on the hot path.
    let key = api.integration("pagerduty").await;
    let event = json!({"routing_key": key, "event_action": "trigger",
        "payload": {"summary": "Disk full on db-1", "source": "db-1", "severity": "critical"}});
    let response = api
        .app
        .clone()
        .oneshot(
            Request::builder()
                .method(Method::POST)
                .uri("/v2/enqueue")
                .header(header::ACCEPT_ENCODING, "gzip")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(event.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
}
