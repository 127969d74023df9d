//! The workspace and Now in Chromium: on a SEV-0 with 150
//! timeline entries a phone shows who is paged, the roles, the next
//! stakeholder update and the summary in its first 1,600 px; a 50-alert
//! burst costs an open page at most 5 refetches; and screenshots of both
//! pages at 375 and 1280 px in both themes.

use std::time::Duration;

use serde_json::{json, Value};

use crate::browser::{Browser, Session, Theme, Viewport};
use crate::server::{http, Server};
use crate::ui::{create_account, shot, sign_in, PAGE, PASSWORD};

/// One person on call and a one-step policy, so the incident pages someone.
const PLAYBOOK: &str = r#"
oncall:
  users:
    - name: alice
      full_name: Alice Moreau
      email: alice@example.com
      contact_methods: [{id: mail, kind: email, address: alice@example.com}]
  schedules:
    - name: primary
      time_zone: UTC
      layers:
        - name: always
          users: [alice]
          shift: {weeks: 1}
          start: 2026-01-05T09:00:00
  escalation_policies:
    - name: default
      steps:
        - delay_minutes: 30
          targets: [{type: schedule, name: primary}]
  default_escalation_policy: default
"#;

/// The first screen and a half of a 375x812 phone.
const FIRST_SCREENS: f64 = 1600.0;

struct Seeded {
    server: Server,
    token: String,
    key: String,
    id: String,
}

async fn call(seeded: &Seeded, method: reqwest::Method, path: &str, body: Value) -> Value {
    let r = http()
        .request(method, format!("{}{path}", seeded.server.url))
        .bearer_auth(&seeded.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

async fn alert(seeded: &Seeded, dedup: &str) {
    let event = json!({
        "routing_key": seeded.key,
        "event_action": "trigger",
        "dedup_key": dedup,
        "payload": {"summary": format!("5xx rate above 20% on {dedup}"), "source": "api-prom", "severity": "critical"}
    });
    let r = http()
        .post(format!("{}/v2/enqueue", seeded.server.url))
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::ACCEPTED);
}

async fn timeline_len(seeded: &Seeded) -> usize {
    let path = format!("/api/v1/incidents/{}/timeline", seeded.id);
    call(seeded, reqwest::Method::GET, &path, Value::Null).await["events"]
        .as_array()
        .unwrap()
        .len()
}

/// A SEV-0 opened by an alert, with a commander, a summary, alerts and
/// notes: 150 timeline entries.
async fn seed(dir: &std::path::Path) -> Seeded {
    let playbook = dir.join("playbook.yaml");
    std::fs::write(&playbook, PLAYBOOK).unwrap();
    let server = Server::start_with(
        &warroom_store::testing::sqlite_url(dir),
        dir,
        &["--playbook", playbook.to_str().unwrap()],
    );
    let token = server
        .first_token
        .clone()
        .expect("first start prints a token");
    let mut seeded = Seeded {
        server,
        token,
        key: String::new(),
        id: String::new(),
    };
    let integration = call(
        &seeded,
        reqwest::Method::POST,
        "/api/v1/integrations",
        json!({"service": "api", "name": "api-prom", "kind": "pagerduty"}),
    )
    .await;
    seeded.key = integration["key"].as_str().unwrap().to_owned();
    alert(&seeded, "api-5xx-0").await;
    let incidents = call(
        &seeded,
        reqwest::Method::GET,
        "/api/v1/incidents",
        Value::Null,
    )
    .await;
    seeded.id = incidents["incidents"][0]["id"].as_str().unwrap().to_owned();
    let id = seeded.id.clone();
    call(
        &seeded,
        reqwest::Method::POST,
        &format!("/api/v1/incidents/{id}/severity"),
        json!({"severity": "SEV-0", "reason": "every region"}),
    )
    .await;
    call(
        &seeded,
        reqwest::Method::PATCH,
        &format!("/api/v1/incidents/{id}"),
        json!({"summary": "API returns 5xx in every region since the 12:00 deploy; checkout and login fail."}),
    )
    .await;
    call(
        &seeded,
        reqwest::Method::PUT,
        &format!("/api/v1/incidents/{id}/roles/Incident%20Commander"),
        json!({"assignee": "ada"}),
    )
    .await;
    for n in 1..40 {
        alert(&seeded, &format!("api-5xx-{n}")).await;
    }
    let mut n = 0;
    while timeline_len(&seeded).await < 150 {
        n += 1;
        call(
            &seeded,
            reqwest::Method::POST,
            &format!("/api/v1/incidents/{id}/notes"),
            json!({"text": format!("Note {n}: drained node api-{n} from the pool; 5xx rate unchanged")}),
        )
        .await;
    }
    create_account(
        &seeded.server,
        &seeded.token,
        "ada@example.com",
        "ada",
        "responder",
    )
    .await;
    seeded
}

/// How far down the page (in CSS px) the bottom of `css` is.
async fn bottom(session: &Session, css: &str) -> f64 {
    let js = format!(
        "const r = document.querySelector('{css}').getBoundingClientRect(); return r.bottom + window.scrollY"
    );
    session.execute(&js).await.as_f64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_shows_what_matters_first_and_a_burst_refetches_little() {
    let dir = tempfile::tempdir().unwrap();
    let seeded = seed(dir.path()).await;
    let base = seeded.server.url.clone();
    let workspace = format!("{base}/incidents/{}", seeded.id);
    let browser = Browser::start();

    for (theme, viewport) in [
        (Theme::Light, Viewport::Phone),
        (Theme::Dark, Viewport::Phone),
        (Theme::Light, Viewport::Desktop),
        (Theme::Dark, Viewport::Desktop),
    ] {
        let session = browser.session(theme, viewport).await;
        sign_in(&session, &base, "ada@example.com", PASSWORD).await;
        shot(&session, "sev0-now").await;
        session.goto(&workspace).await;
        session.wait_for(".timeline .ev", PAGE).await;
        if viewport == Viewport::Phone {
            for css in ["#paging", "#roles", "#next-update", "#summary"] {
                let at = bottom(&session, css).await;
                assert!(at <= FIRST_SCREENS, "{css} ends at {at} px on a phone");
            }
            assert!(session.text("#paging").await.contains("alice"));
            assert!(session.text("#roles").await.contains("ada"));
            assert!(session.text("#summary").await.contains("every region"));
        }
        shot(&session, "sev0-workspace").await;
        session.close().await;
    }

    // A burst of 50 alerts: the open page refetches at most 5 times.
    let session = browser.session(Theme::Light, Viewport::Desktop).await;
    sign_in(&session, &base, "ada@example.com", PASSWORD).await;
    session.goto(&workspace).await;
    session.wait_for(".timeline .ev", PAGE).await;
    session
        .execute(
            "window.fetches = 0; const original = window.fetch; \
             window.fetch = function () { window.fetches++; return original.apply(this, arguments); }; \
             return true",
        )
        .await;
    for n in 0..50 {
        alert(&seeded, &format!("burst-{n}")).await;
    }
    session
        .wait_until(
            "document.querySelector('#alerts').textContent.includes('burst-49')",
            PAGE,
        )
        .await;
    // Let a refetch the burst still owes happen before counting.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let fetches = session.execute("return window.fetches").await;
    let fetches = fetches.as_u64().unwrap();
    assert!(
        (1..=5).contains(&fetches),
        "{fetches} refetches for 50 alerts"
    );
    session.close().await;
}
