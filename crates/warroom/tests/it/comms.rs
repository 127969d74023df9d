//! Notifications end to end: `kill -9` while a message is on the wire, then
//! restart. Nothing is lost, and the receiver, which checks the
//! `Idempotency-Key` as a real one should, processes each message once. The
//! signature of every request verifies.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::Value;
use warroom_engine::delivery::verify_signature;

use crate::server::{cli, http, Server};
use warroom_store::on_both_backends;

const SECRET: &str = "whsec-test-0123456789";

on_both_backends!(url; kill_9_while_sending_loses_nothing_and_sends_nothing_twice);

/// A webhook receiver that holds the first request it gets (so the sender
/// can be killed mid-send) and records every request.
#[derive(Clone, Default)]
struct Receiver {
    requests: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

impl Receiver {
    fn keys(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|(h, _)| h["idempotency-key"].to_str().unwrap().to_owned())
            .collect()
    }
}

async fn receiver() -> (Receiver, String) {
    let rx = Receiver::default();
    let state = rx.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                let first = {
                    let mut all = state.requests.lock().unwrap();
                    all.push((headers, body));
                    all.len() == 1
                };
                if first {
                    // Hold it: the test kills the server meanwhile.
                    tokio::time::sleep(Duration::from_secs(600)).await;
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (rx, url)
}

const PLAYBOOK: &str = r#"
severities:
  - name: SEV-1
    label: Major
    update_every: 15m
    notify:
      - {audience: ops, within: 15m}
  - name: SEV-3
    label: Low
notifications:
  channels:
    - name: ops-hook
      type: webhook
      url: {env: WARROOM_TEST_OPS_HOOK}
      signing_secret: {env: WARROOM_TEST_OPS_SECRET}
  audiences:
    - name: ops
      class: stakeholders
      targets: [{channel: ops-hook}]
"#;

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..400 {
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

pub(crate) async fn messages(server: &Server, token: &str, id: &str) -> Vec<Value> {
    let body: Value = http()
        .get(format!("{}/api/v1/incidents/{id}/messages", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["messages"].as_array().unwrap().clone()
}

async fn kill_9_while_sending_loses_nothing_and_sends_nothing_twice(url: &str, dir: &Path) {
    let (rx, hook) = receiver().await;
    let playbook = dir.join("playbook.yaml");
    std::fs::write(&playbook, PLAYBOOK).unwrap();
    let playbook = playbook.display().to_string();
    let envs = [
        ("WARROOM_TEST_OPS_HOOK", hook.as_str()),
        ("WARROOM_TEST_OPS_SECRET", SECRET),
    ];
    let server = Server::start_with_env(url, dir, &["--playbook", &playbook], &envs);
    let token = server.first_token.clone().unwrap();
    let mut ids = Vec::new();
    for title in ["Trunk down", "Calls drop", "Voicemail lost"] {
        let (ok, out, err) = cli(
            &server,
            &token,
            &[
                "incident",
                "declare",
                title,
                "--severity",
                "SEV-1",
                "--output",
                "json",
            ],
        );
        assert!(ok, "{out}{err}");
        let incident: Value = serde_json::from_str(&out).unwrap();
        ids.push(incident["id"].as_str().unwrap().to_owned());
    }
    // The first initial notification reaches the receiver, which holds it.
    eventually("the first request", async || {
        (!rx.keys().is_empty()).then_some(())
    })
    .await;
    server.kill9();

    // Two minutes "later" the sender's lease has lapsed: everything goes out.
    let server = Server::start_with_env(
        url,
        dir,
        &["--playbook", &playbook, "--clock-offset", "2m"],
        &envs,
    );
    for id in &ids {
        let sent = eventually("every message sent", async || {
            let all = messages(&server, &token, id).await;
            all.iter().all(|m| m["state"] == "sent").then_some(all)
        })
        .await;
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0]["purpose"], "initial_notification");
    }
    let keys = rx.keys();
    let unique: BTreeSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), 3, "no message lost: {keys:?}");
    // The held one was sent again after the restart, with the same key, so
    // the receiver processes it once.
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert_eq!(keys.iter().filter(|k| **k == keys[0]).count(), 2);
    let now = warroom_engine::Clock::now(&warroom_engine::SystemClock);
    for (headers, body) in rx.requests.lock().unwrap().iter() {
        verify_signature(
            SECRET.as_bytes(),
            headers["x-warroom-timestamp"].to_str().unwrap(),
            body.as_bytes(),
            headers["x-warroom-signature"].to_str().unwrap(),
            now,
            jiff::SignedDuration::from_mins(10),
        )
        .unwrap();
        let json: Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["kind"], "initial_notification");
    }
}
