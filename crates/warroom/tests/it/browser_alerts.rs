//! The Alerts and Silences pages in headless Chromium against a real
//! `warroom serve`: alerts grouped with counts, a label filter typed into
//! the form, two alerts ticked and acknowledged, a suppressed alert naming
//! its silence or maintenance window, the silence form's preview; and
//! full-page screenshots of each at desktop and phone widths in both themes.

use std::time::Duration;

use serde_json::json;

use crate::browser::{Browser, Session, Theme, Viewport};
use crate::server::{http, integration_key, Server};
use crate::ui::{create_account, free_port, shot, sign_in, PAGE, PASSWORD};

/// An Alertmanager webhook: one alert per (alertname, instance, env).
fn webhook(alerts: &[(&str, &str, &str)]) -> serde_json::Value {
    let alerts: Vec<_> = alerts
        .iter()
        .map(|(name, instance, env)| {
            json!({"status": "firing",
                "labels": {"alertname": name, "instance": instance, "env": env},
                "annotations": {"summary": format!("{name} on {instance}")},
                "startsAt": "2026-11-25T13:59:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom", "fingerprint": format!("{name}-{instance}")})
        })
        .collect();
    json!({"version": "4", "groupKey": "{}:{}", "status": "firing", "receiver": "warroom",
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
        "alerts": alerts})
}

async fn post(
    server: &Server,
    token: Option<&str>,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let mut req = http().post(format!("{}{path}", server.url)).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let r = req.send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_and_silences_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let url = warroom_store::testing::sqlite_url(dir.path());
    let listen = format!("127.0.0.1:{}", free_port());
    let server = Server::start_on(&url, dir.path(), &listen, &[]);
    let base = server.url.clone();
    let token = server.first_token.clone().expect("a first token");
    create_account(&server, &token, "ada@example.com", "ada", "responder").await;

    post(
        &server,
        Some(&token),
        "/api/v1/silences",
        json!({"matchers": "alertname=\"BackupSlow\"", "duration": "2h", "comment": "disk migration"}),
    )
    .await;
    let database = post(
        &server,
        Some(&token),
        "/api/v1/integrations",
        json!({"service": "database", "name": "db-prometheus", "kind": "alertmanager"}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    post(
        &server,
        Some(&token),
        "/api/v1/maintenance",
        json!({"services": ["database"], "duration": "1h", "description": "PostgreSQL upgrade"}),
    )
    .await;
    let api = integration_key(&server, &token, "api-prometheus", "alertmanager").await;
    post(
        &server,
        None,
        &format!("/integrations/alertmanager/{api}"),
        webhook(&[
            ("DiskFull", "api-1", "prod"),
            ("DiskFull", "api-2", "prod"),
            ("DiskFull", "api-3", "staging"),
            ("HighLatency", "api-1", "prod"),
            ("BackupSlow", "api-4", "prod"),
        ]),
    )
    .await;
    post(
        &server,
        None,
        &format!("/integrations/alertmanager/{database}"),
        webhook(&[("ReplicationLag", "db-1", "prod")]),
    )
    .await;

    let browser = Browser::start();
    let ada = browser.session(Theme::Light, Viewport::Desktop).await;
    sign_in(&ada, &base, "ada@example.com", PASSWORD).await;

    // Grouped by alertname with counts.
    ada.goto(&format!("{base}/alerts?group=alertname")).await;
    let groups = ada.text("#groups-title + ul.groups").await;
    assert!(groups.contains("DiskFull 3"), "{groups}");
    assert!(groups.contains("HighLatency 1"), "{groups}");
    // A label filter typed into the form is a GET parameter.
    ada.fill("#alert-filters input[name=label]", "env=prod")
        .await;
    ada.click("#alert-filters button[type=submit]").await;
    ada.wait_for_text(".filter-row", "env=prod", PAGE).await;
    assert!(ada.url().await.contains("label=env%3Dprod"));
    let rows = ada
        .execute("return document.querySelectorAll('input[name=ids]').length")
        .await;
    assert_eq!(rows, json!(3));
    // Tick two and acknowledge them.
    ada.click("input[name=ids]").await;
    ada.execute("document.querySelectorAll('input[name=ids]')[1].click()")
        .await;
    ada.click("#bulk button[value=acknowledge]").await;
    ada.wait_until(
        "document.querySelectorAll('.badge.amber').length === 2",
        PAGE,
    )
    .await;
    assert!(ada.url().await.contains("label=env%3Dprod"));

    // Suppressed alerts name what mutes them and never say "firing".
    ada.goto(&format!("{base}/alerts?status=suppressed")).await;
    let listed = ada.text("[data-region=alerts]").await;
    assert!(listed.contains("silenced by disk migration"), "{listed}");
    assert!(
        listed.contains("in maintenance PostgreSQL upgrade"),
        "{listed}"
    );
    assert!(!listed.contains("firing"), "{listed}");

    // The silence form from ticked alerts, previewed before it is made.
    ada.goto(&format!("{base}/alerts?label=alertname%3DDiskFull"))
        .await;
    ada.click("input[name=ids]").await;
    ada.execute("document.querySelectorAll('input[name=ids]')[1].click()")
        .await;
    ada.click("#bulk button[value=silence]").await;
    let matches = ada.wait_for_text("#silence-matches", "Matches", PAGE).await;
    assert_eq!(
        matches, "Matches 3 firing alerts now.",
        "shared: alertname, service"
    );
    ada.fill(
        "textarea[name=matchers]",
        "alertname=\"DiskFull\"\nenv=\"prod\"",
    )
    .await;
    ada.click("#silence-preview").await;
    ada.wait_for_text("#silence-matches", "Matches 2 firing alerts now.", PAGE)
        .await;
    ada.fill("input[name=comment]", "disks are being replaced")
        .await;
    ada.click("#silence-create").await;
    ada.wait_for_text("main", "disks are being replaced", PAGE)
        .await;
    ada.close().await;

    for (theme, viewport) in [
        (Theme::Light, Viewport::Desktop),
        (Theme::Dark, Viewport::Desktop),
        (Theme::Light, Viewport::Phone),
        (Theme::Dark, Viewport::Phone),
    ] {
        let session = browser.session(theme, viewport).await;
        sign_in(&session, &base, "ada@example.com", PASSWORD).await;
        screenshots(&session, &base).await;
        session.close().await;
    }
    drop(server);
}

async fn screenshots(session: &Session, base: &str) {
    let pages = [
        ("alerts-grouped", "/alerts?group=alertname"),
        ("alerts-suppressed", "/alerts?status=suppressed"),
        ("silences", "/silences"),
        ("silence-new", "/silences/new?alert=1&alert=2"),
    ];
    for (name, path) in pages {
        session.goto(&format!("{base}{path}")).await;
        session.wait_for("main", Duration::from_secs(10)).await;
        shot(session, name).await;
    }
}
