//! One alert that cannot be stored never stops the ones after it, across
//! `kill -9`; what the server could not apply is visible to `warroom
//! doctor` and handled with `warroom ingest dead-letters`.

use std::path::Path;

use serde_json::{json, Value};
use warroom_store::testing::PoisonAlerts;
use warroom_store::{PgStore, SqliteStore};

use crate::server::{cli, http, integration_key, Server};
use warroom_store::on_both_backends;

on_both_backends!(url; a_poisoned_alert_never_stops_ingest_across_kill_9);

fn event(key: &str, dedup: &str, summary: &str) -> Value {
    json!({
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": dedup,
        "payload": {"summary": summary, "source": "db-1", "severity": "critical"}
    })
}

/// Every stored alert's dedup key, sorted.
async fn alert_keys(server: &Server, token: &str) -> Vec<String> {
    let mut keys = crate::alerts::all_alert_keys(server, token).await;
    keys.sort();
    keys
}

/// Makes the database itself refuse alerts titled `Poison`, or stop refusing.
async fn poison(url: &str, on: bool) {
    if url.starts_with("sqlite:") {
        let store = SqliteStore::connect(url).await.unwrap();
        if on {
            store.refuse_alerts_titled("Poison").await
        } else {
            store.accept_all_alerts().await
        }
    } else {
        let store = PgStore::connect(url).await.unwrap();
        if on {
            store.refuse_alerts_titled("Poison").await
        } else {
            store.accept_all_alerts().await
        }
    }
}

async fn a_poisoned_alert_never_stops_ingest_across_kill_9(url: &str, dir: &Path) {
    let server = Server::start(url, dir);
    let token = server.first_token.clone().unwrap();
    let key = integration_key(&server, &token, "pd", "pagerduty").await;
    let (ok, out, err) = cli(&server, &token, &["doctor"]);
    assert!(ok, "a fresh server is healthy: {out}{err}");
    assert!(out.contains("no dead letters"), "{out}");

    // The database refuses one alert; a NUL, which PostgreSQL cannot store,
    // comes in another; good ones around them.
    poison(url, true).await;
    let sends = [
        event(&key, "good-1", "Disk full"),
        event(&key, "poisoned", "Poison"),
        event(&key, "nul", "a\u{0}b"),
        event(&key, "good-2", "Disk full again"),
    ];
    for body in &sends {
        let r = http()
            .post(format!("{}/v2/enqueue", server.url))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    // Straight after the 2xx, before the writer has applied them.
    server.kill9();

    let server = Server::start(url, dir);
    assert_eq!(
        alert_keys(&server, &token).await,
        ["good-1", "good-2", "nul"]
    );
    let (ok, out, _) = cli(&server, &token, &["doctor"]);
    assert!(!ok, "doctor fails while a dead letter waits: {out}");
    assert!(
        out.contains("1 accepted alert requests could not be applied"),
        "{out}"
    );
    let (ok, out, err) = cli(&server, &token, &["ingest", "dead-letters", "list"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("pd") && out.contains("poisoned alert"),
        "{out}"
    );
    let id = out
        .lines()
        .nth(1)
        .and_then(|line| line.split_whitespace().next())
        .unwrap()
        .to_owned();
    let (ok, _, err) = cli(&server, &token, &["ingest", "dead-letters", "retry", &id]);
    assert!(!ok && err.contains("failed again"), "{err}");

    poison(url, false).await;
    let (ok, out, err) = cli(&server, &token, &["ingest", "dead-letters", "retry", &id]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("Applied dead letter"), "{out}");
    assert_eq!(
        alert_keys(&server, &token).await,
        ["good-1", "good-2", "nul", "poisoned"]
    );
    let (ok, out, _) = cli(&server, &token, &["doctor"]);
    assert!(ok, "{out}");
    let (ok, _, err) = cli(&server, &token, &["ingest", "dead-letters", "drop", &id]);
    assert!(!ok && err.contains("not found"), "{err}");
}
