//! SIGTERM under alert and paging load: the server stops accepting,
//! answers what it accepted, applies every accepted alert, lets the pages
//! in flight finish, and exits 0 within 10 s. After a restart every
//! message goes out exactly once.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{json, Value};
use warroom_store::{AlertFilter, PgStore, SqliteStore, Store};

use crate::comms::messages;
use crate::oncall::eventually;
use crate::server::{http, integration_key, Server};
use warroom_store::on_both_backends;

on_both_backends!(url; sigterm_under_load_loses_nothing_and_sends_nothing_twice);

/// Every request's `Idempotency-Key`, in arrival order. Answers after a
/// moment, so sends are in flight when the signal comes.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<String>>>);

impl Receiver {
    fn keys(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

async fn receiver() -> (Receiver, String) {
    let rx = Receiver::default();
    let state = rx.clone();
    let app = axum::Router::new().route(
        "/{who}",
        post(move |headers: HeaderMap| {
            let state = state.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let key = headers["idempotency-key"].to_str().unwrap().to_owned();
                state.0.lock().unwrap().push(key);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (rx, url)
}

/// Pages Alice at once for every incident, and tells the ops hook about
/// every SEV-1.
fn write_playbook(dir: &Path, hook: &str) -> String {
    let yaml = format!(
        r#"
severities:
  - name: SEV-1
    label: Major
    update_every: 15m
    notify:
      - {{audience: ops, within: 15m}}
  - name: SEV-3
    label: Low
notifications:
  channels:
    - name: ops-hook
      type: webhook
      url: {{env: WARROOM_TEST_OPS_HOOK}}
      signing_secret: {{env: WARROOM_TEST_OPS_SECRET}}
  audiences:
    - name: ops
      class: stakeholders
      targets: [{{channel: ops-hook}}]
oncall:
  users:
    - name: alice
      email: alice@example.com
      contact_methods: [{{id: hook, kind: webhook, address: "{hook}/alice"}}]
  schedules:
    - name: primary
      time_zone: UTC
      layers:
        - name: weekly
          users: [alice]
          shift: {{weeks: 1}}
          start: 2026-01-05T09:00:00
  escalation_policies:
    - name: default
      steps:
        - delay_minutes: 30
          targets: [{{type: user, name: alice}}]
  default_escalation_policy: default
"#
    );
    let path = dir.join("playbook.yaml");
    std::fs::write(&path, yaml).unwrap();
    path.display().to_string()
}

/// Sends alerts (PagerDuty events, one new key each) until the server stops
/// answering; the keys it answered 2xx for.
async fn send_alerts(
    server_url: String,
    key: String,
    sender: usize,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let client = http();
    let mut accepted = Vec::new();
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let dedup = format!("s{sender}-{n}");
        let body = json!({
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": dedup,
            "payload": {"summary": format!("Disk full {dedup}"), "source": "db-1", "severity": "warning"}
        });
        match client
            .post(format!("{server_url}/v2/enqueue"))
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => accepted.push(dedup),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    accepted
}

/// Declares SEV-1 incidents (each pages Alice and queues an ops message)
/// until the server stops answering; the ids it answered 2xx for.
async fn declare_incidents(
    server_url: String,
    token: String,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let client = http();
    let mut declared = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let sent = client
            .post(format!("{server_url}/api/v1/incidents"))
            .bearer_auth(&token)
            .json(&json!({"title": "PBX down", "severity": "SEV-1"}))
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                let body: Value = r.json().await.unwrap();
                declared.push(body["id"].as_str().unwrap().to_owned());
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    declared
}

/// Every stored alert's dedup key, read from the database itself.
async fn stored_alert_keys<S: Store>(store: &S) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut before = None;
    loop {
        let filter = AlertFilter {
            limit: 500,
            before_id: before,
            ..Default::default()
        };
        let page = store.list_alerts(&filter).await.unwrap();
        let Some(last) = page.last() else {
            return keys;
        };
        before = Some(last.id);
        keys.extend(page.iter().map(|a| a.dedup_key.clone()));
    }
}

async fn stored_keys(url: &str) -> BTreeSet<String> {
    if url.starts_with("sqlite:") {
        stored_alert_keys(&SqliteStore::connect(url).await.unwrap()).await
    } else {
        stored_alert_keys(&PgStore::connect(url).await.unwrap()).await
    }
}

async fn sigterm_under_load_loses_nothing_and_sends_nothing_twice(url: &str, dir: &Path) {
    let (rx, hook) = receiver().await;
    let playbook = write_playbook(dir, &hook);
    let ops_hook = format!("{hook}/ops");
    let envs = [
        ("WARROOM_TEST_OPS_HOOK", ops_hook.as_str()),
        ("WARROOM_TEST_OPS_SECRET", "whsec-test-0123456789"),
    ];
    let server = Server::start_with_env(url, dir, &["--playbook", &playbook], &envs);
    let token = server.first_token.clone().unwrap();
    let key = integration_key(&server, &token, "pd", "pagerduty").await;

    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..4)
        .map(|n| {
            tokio::spawn(send_alerts(
                server.url.clone(),
                key.clone(),
                n,
                Arc::clone(&stop),
            ))
        })
        .collect();
    let declaring = tokio::spawn(declare_incidents(
        server.url.clone(),
        token.clone(),
        Arc::clone(&stop),
    ));
    // Under load: pages and messages going out while alerts come in.
    eventually("pages going out", async || {
        (rx.keys().len() >= 5).then_some(())
    })
    .await;

    let signalled = Instant::now();
    // Off the runtime, so the load goes on while the server stops.
    let status = tokio::task::spawn_blocking(move || server.terminate(Duration::from_secs(20)))
        .await
        .unwrap();
    let took = signalled.elapsed();
    stop.store(true, Ordering::Relaxed);
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(took < Duration::from_secs(10), "took {took:?} to stop");

    let mut accepted = BTreeSet::new();
    for sender in senders {
        accepted.extend(sender.await.unwrap());
    }
    let declared = declaring.await.unwrap();
    assert!(!accepted.is_empty() && !declared.is_empty());
    // Applied before the exit, not left in the journal for the next start.
    let stored = stored_keys(url).await;
    let missing: Vec<_> = accepted.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );

    // Nothing went out twice across the stop.
    let before_restart = rx.keys();
    let unique: BTreeSet<&String> = before_restart.iter().collect();
    assert_eq!(
        unique.len(),
        before_restart.len(),
        "sent twice: {before_restart:?}"
    );

    // What was still queued goes out after a restart, once; nothing was left
    // leased (a lease would hold its message back for a minute).
    let server = Server::start_with_env(url, dir, &["--playbook", &playbook], &envs);
    let mut expected = 0;
    for id in &declared {
        let sent = eventually("every message sent", async || {
            let all = messages(&server, &token, id).await;
            all.iter().all(|m| m["state"] == "sent").then_some(all)
        })
        .await;
        assert!(sent.len() >= 2, "a page and an ops message: {sent:?}");
        expected += sent.len();
    }
    let received = eventually("every send received", async || {
        let keys = rx.keys();
        (keys.len() >= expected).then_some(keys)
    })
    .await;
    let unique: BTreeSet<&String> = received.iter().collect();
    assert_eq!(unique.len(), received.len(), "sent twice: {received:?}");
}
