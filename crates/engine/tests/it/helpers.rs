//! What the engine tests share: fixed times, the built-in rules, alert signals and requests.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use warroom_domain::alert::{AlertAction, AlertSignal};
use warroom_domain::Playbook;
use warroom_engine::ingest::{IngestRequest, IngestRules, IngestSource};

pub fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000).unwrap() + SignedDuration::from_secs(secs)
}

pub fn rules() -> IngestRules {
    IngestRules::new(Arc::new(Playbook::builtin()))
}

pub fn signal(
    action: AlertAction,
    key: Option<&str>,
    summary: &str,
    severity: &str,
) -> AlertSignal {
    AlertSignal {
        action,
        dedup_key: key.map(str::to_owned),
        summary: summary.to_owned(),
        severity: Some(severity.to_owned()),
        source: "db-1".to_owned(),
        labels: BTreeMap::from([("alertname".to_owned(), summary.to_owned())]),
        details: serde_json::Map::new(),
        links: vec![],
        starts_at: None,
        ends_at: None,
        generator_url: None,
        group_key: None,
        origin: "pagerduty".to_owned(),
    }
}

/// 100 new error alerts from `origin`, keyed `<prefix>-<batch>-<i>`.
pub fn storm_batch(prefix: &str, batch: i64, origin: &str) -> Vec<AlertSignal> {
    (0..100)
        .map(|i| {
            let key = format!("{prefix}-{batch}-{i}");
            let mut s = signal(AlertAction::Trigger, Some(&key), &key, "error");
            s.origin = origin.to_owned();
            s
        })
        .collect()
}

pub fn request(signals: Vec<AlertSignal>) -> IngestRequest {
    IngestRequest {
        source: IngestSource {
            integration_id: None,
            integration_name: "test".to_owned(),
            service: "api".to_owned(),
            severity_overrides: BTreeMap::new(),
            routes: Vec::new(),
            actor: None,
        },
        signals,
    }
}

/// The alert writer over `store`, with `rules` and the test's clock.
pub fn writer<S: warroom_store::Store>(
    store: &S,
    rules: IngestRules,
    clock: &Arc<warroom_engine::ManualClock>,
) -> warroom_engine::Ingestor {
    warroom_engine::Ingestor::spawn(
        store.clone(),
        Arc::new(rules),
        clock.clone(),
        Arc::new(tokio::sync::Notify::new()),
    )
}

/// Applies one signal at `now` through `ingest_once`; its result.
pub async fn send<S: warroom_store::Store>(
    store: &S,
    now: Timestamp,
    s: AlertSignal,
) -> warroom_engine::SignalResult {
    let mut results = warroom_engine::ingest::ingest_once(store, &rules(), now, &request(vec![s]))
        .await
        .unwrap();
    results.remove(0)
}
