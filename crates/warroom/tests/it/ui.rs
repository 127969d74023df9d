//! The web UI in headless Chromium against a real `warroom serve`: sign in,
//! declare, acknowledge, a note that shows up in a second signed-in browser
//! within a second, a checklist tick, resolve; a viewer without write
//! controls whose forged POST is refused; a cross-site POST refused; live
//! updates surviving a server restart; and full-page screenshots of the
//! Now page, the workspace and the on-call calendar at desktop and phone
//! widths in both themes under `target/screenshots/`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::browser::{Browser, Session, Theme, Viewport};
use crate::server::{http, Server};

pub(crate) const PASSWORD: &str = "correct horse battery";
/// What the issue promises for a change to reach another browser.
const LIVE: Duration = Duration::from_secs(1);
pub(crate) const PAGE: Duration = Duration::from_secs(10);

/// The built-in playbook's incident rules plus an on-call rotation, so the
/// calendar and "on call now" have something to show.
const PLAYBOOK: &str = r#"
oncall:
  users:
    - name: alice
      full_name: Alice Moreau
      email: alice@example.com
      contact_methods: [{id: mail, kind: email, address: alice@example.com}]
    - name: bob
      full_name: Bob Chen
      email: bob@example.com
      contact_methods: [{id: phone, kind: sms, address: "+14155550101"}]
    - name: carol
      email: carol@example.com
  schedules:
    - name: primary
      time_zone: UTC
      layers:
        - name: daily
          users: [alice, bob]
          shift: {days: 1}
          start: 2026-01-05T09:00:00
    - name: secondary
      time_zone: Europe/London
      layers:
        - name: weekdays
          users: [carol, bob]
          shift: {weeks: 1}
          start: 2026-01-05T09:00:00
          restrictions: [{days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00"}]
  escalation_policies:
    - name: default
      steps:
        - delay_minutes: 5
          targets: [{type: schedule, name: primary}]
        - delay_minutes: 10
          targets: [{type: schedule, name: secondary}]
  default_escalation_policy: default
"#;

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) async fn create_account(
    server: &Server,
    token: &str,
    email: &str,
    name: &str,
    role: &str,
) {
    let r = http()
        .post(format!("{}/api/v1/accounts", server.url))
        .bearer_auth(token)
        .json(&json!({"email": email, "name": name, "role": role, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

pub(crate) async fn sign_in(session: &Session, base: &str, email: &str, password: &str) {
    session.goto(&format!("{base}/login")).await;
    session.fill("input[name=email]", email).await;
    session.fill("input[name=password]", password).await;
    session
        .click("form[action='/login'] button[type=submit]")
        .await;
    session.wait_for(".stats", PAGE).await;
}

async fn note_count(server: &Server, token: &str, id: &str, text: &str) -> usize {
    let timeline: serde_json::Value = http()
        .get(format!("{}/api/v1/incidents/{id}/timeline", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "note" && e["text"] == text)
        .count()
}

/// Saves a full-page screenshot after the script has localized times.
pub(crate) async fn shot(session: &Session, name: &str) {
    session
        .wait_until("document.readyState === 'complete'", PAGE)
        .await;
    let path = session
        .screenshot_full_page(&format!("{name}-{}", session.label()))
        .await;
    assert!(
        std::fs::metadata(&path).unwrap().len() > 10_000,
        "{}",
        path.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_runs_an_incident_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    run(&warroom_store::testing::sqlite_url(dir.path()), dir.path()).await;
}

async fn run(database_url: &str, dir: &Path) {
    let playbook = dir.join("playbook.yaml");
    std::fs::write(&playbook, PLAYBOOK).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let playbook_arg = playbook.to_str().unwrap().to_owned();
    let server = Server::start_on(database_url, dir, &listen, &["--playbook", &playbook_arg]);
    let base = server.url.clone();
    let token = server
        .first_token
        .clone()
        .expect("first start prints a token");
    let admin_password = server
        .first_password
        .clone()
        .expect("first start prints the admin password");
    create_account(&server, &token, "ada@example.com", "ada", "responder").await;
    create_account(&server, &token, "vic@example.com", "vic", "viewer").await;

    let browser = Browser::start();
    let ada = browser.session(Theme::Light, Viewport::Desktop).await;
    let admin = browser.session(Theme::Dark, Viewport::Phone).await;
    sign_in(&ada, &base, "ada@example.com", PASSWORD).await;
    sign_in(&admin, &base, "admin@localhost", &admin_password).await;

    // Declare from the form.
    let started = Instant::now();
    ada.goto(&format!("{base}/incidents/new")).await;
    ada.fill("input[name=title]", "Checkout fails for card payments")
        .await;
    ada.click("input[name=severity][value='SEV-1']").await;
    ada.fill(
        "textarea[name=summary]",
        "Card payments time out at the gateway",
    )
    .await;
    ada.click("#declare button[type=submit]").await;
    ada.wait_for(".incident-head", PAGE).await;
    let declare_took = started.elapsed();
    let url = ada.url().await;
    let id = url.rsplit('/').next().unwrap().to_owned();
    assert!(id.starts_with("INC-"), "{url}");
    assert!(
        declare_took < Duration::from_secs(10),
        "declaring took {declare_took:?}"
    );
    ada.wait_for_text(".incident-head", "triggered", PAGE).await;

    // The second browser watches the workspace live.
    admin.goto(&url).await;
    admin
        .wait_for_text(".incident-head", "triggered", PAGE)
        .await;

    ada.click("#ack").await;
    ada.wait_for_text(".incident-head .status", "acknowledged", PAGE)
        .await;
    let seen = Instant::now();
    admin
        .wait_for_text(".incident-head .status", "acknowledged", LIVE * 2)
        .await;
    eprintln!(
        "acknowledge reached the second browser in {:?}",
        seen.elapsed()
    );

    ada.fill("#note", "Rolled back deploy 4711").await;
    ada.click(".note-box button[type=submit]").await;
    ada.wait_for_text(".timeline", "Rolled back deploy 4711", PAGE)
        .await;
    let posted = Instant::now();
    admin
        .wait_for_text(".timeline", "Rolled back deploy 4711", LIVE)
        .await;
    eprintln!(
        "the note reached the second browser in {:?}",
        posted.elapsed()
    );

    ada.click("button[data-item='detection-1']").await;
    ada.wait_for("button[data-item='detection-1'].done", PAGE)
        .await;
    admin
        .wait_for("button[data-item='detection-1'].done", LIVE * 2)
        .await;

    // Screenshots while the incident is open, at both widths and themes.
    let phone = browser.session(Theme::Light, Viewport::Phone).await;
    sign_in(&phone, &base, "ada@example.com", PASSWORD).await;
    for (page, ready) in [
        ("", ".incident-cards"),
        ("/oncall", ".week .shift"),
        (url.trim_start_matches(&base), ".timeline .ev"),
    ] {
        phone.goto(&format!("{base}{page}")).await;
        phone.wait_for(ready, PAGE).await;
        let name = match page {
            "" => "now",
            "/oncall" => "oncall",
            _ => "workspace",
        };
        shot(&phone, name).await;
    }
    phone.close().await;
    shot(&ada, "workspace").await;
    shot(&admin, "workspace").await;
    ada.goto(&base).await;
    ada.wait_for_text(".incident-cards", &id, PAGE).await;
    shot(&ada, "now").await;
    admin.goto(&base).await;
    admin.wait_for_text(".incident-cards", &id, PAGE).await;
    shot(&admin, "now").await;
    ada.goto(&format!("{base}/oncall")).await;
    ada.wait_for(".week .shift", PAGE).await;
    shot(&ada, "oncall").await;
    admin.goto(&format!("{base}/oncall")).await;
    admin.wait_for(".week .shift", PAGE).await;
    shot(&admin, "oncall").await;

    // An alert with its runbook and graph, so the alerts page shows its links.
    let am = crate::server::integration_key(&server, &token, "prom", "alertmanager").await;
    let sent = http()
        .post(format!("{base}/integrations/alertmanager/{am}"))
        .json(&json!({"version": "4", "status": "firing", "alerts": [{
            "status": "firing",
            "labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "warning"},
            "annotations": {"summary": "Disk 95% full on db-1",
                            "runbook_url": "https://runbooks.example.com/disk-full"},
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=disk"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 202);

    // Every other page, once each at desktop width and once on the phone.
    for (page, ready, name) in [
        ("/incidents", "table.list", "incidents"),
        ("/incidents/new", "#declare", "declare"),
        ("/alerts", ".tabs", "alerts"),
        ("/silences/new", "textarea[name=matchers]", "silence-new"),
        ("/services", "#int-title", "services"),
        ("/people", "#users-title", "people"),
        ("/playbook", "#sev-title", "playbook"),
        ("/account", "input[name=new_password]", "account"),
    ] {
        ada.goto(&format!("{base}{page}")).await;
        ada.wait_for(ready, PAGE).await;
        shot(&ada, name).await;
        admin.goto(&format!("{base}{page}")).await;
        admin.wait_for(ready, PAGE).await;
        shot(&admin, name).await;
    }

    // A destructive action asks first, on a page of its own (no script
    // needed), and its button does it.
    let silence: serde_json::Value = crate::server::http()
        .post(format!("{base}/api/v1/silences"))
        .bearer_auth(&token)
        .json(&json!({"matchers": "alertname=\"DiskFull\", instance=~\"db-.*\"", "duration": "2h", "comment": "Planned disk migration"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expire = format!("{base}/silences/{}/expire", silence["id"].as_str().unwrap());
    for session in [&admin, &ada] {
        session.goto(&expire).await;
        session.wait_for("#confirm-title", PAGE).await;
        shot(session, "confirm").await;
    }
    ada.click("button.danger").await;
    ada.wait_for_text(".flash.ok", "Expired silence", PAGE)
        .await;
    shot(&ada, "silences").await;

    // A viewer sees no write controls, and a forged POST is refused.
    let vic = browser.session(Theme::Dark, Viewport::Desktop).await;
    sign_in(&vic, &base, "vic@example.com", PASSWORD).await;
    vic.goto(&url).await;
    vic.wait_for(".timeline", PAGE).await;
    for control in [
        "#ack",
        "#note",
        "#resolve",
        "#update-form",
        "button[data-item]",
        "a[href='/incidents/new']",
    ] {
        assert!(!vic.exists(control).await, "a viewer sees {control}");
    }
    shot(&vic, "workspace").await;
    vic.goto(&base).await;
    vic.wait_for(".stats", PAGE).await;
    shot(&vic, "now").await;
    vic.goto(&format!("{base}/oncall")).await;
    vic.wait_for(".week .shift", PAGE).await;
    shot(&vic, "oncall").await;
    vic.goto(&url).await;
    vic.wait_for(".timeline", PAGE).await;
    let forged = vic
        .execute(&format!(
            "const csrf = document.querySelector('input[name=csrf]').value;\
             const x = new XMLHttpRequest();\
             x.open('POST', '/incidents/{id}/note', false);\
             x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');\
             x.send(new URLSearchParams({{csrf, text: 'viewer was here'}}).toString());\
             return x.status"
        ))
        .await;
    assert_eq!(forged, json!(403));
    assert_eq!(note_count(&server, &token, &id, "viewer was here").await, 0);

    // A form on another site posting into Warroom, as a CSRF attack would.
    let action = format!("{base}/incidents/{id}/note");
    ada.goto(&format!(
        "data:text/html,<form method=post action='{action}'><input name=text value=forged-by-another-site></form>\
         <script>document.forms[0].submit()</script>"
    ))
    .await;
    ada.wait_until("location.href.startsWith('http')", PAGE)
        .await;
    assert_eq!(
        note_count(&server, &token, &id, "forged-by-another-site").await,
        0
    );

    // Resolve.
    ada.goto(&url).await;
    ada.click("#resolve-menu summary").await;
    ada.click("#resolve").await;
    ada.wait_for_text(".incident-head .status", "resolved", PAGE)
        .await;
    admin.goto(&url).await;
    admin
        .wait_for_text(".incident-head .status", "resolved", PAGE)
        .await;

    // Live updates survive a restart: the browser reconnects by itself.
    server.kill9();
    let server = Server::start_on(database_url, dir, &listen, &["--playbook", &playbook_arg]);
    let r = http()
        .post(format!("{}/api/v1/incidents/{id}/notes", server.url))
        .bearer_auth(&token)
        .json(&json!({"text": "after the restart"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    admin
        .wait_for_text(".timeline", "after the restart", PAGE)
        .await;

    for session in [ada, admin, vic] {
        session.close().await;
    }
    drop(server);
}
