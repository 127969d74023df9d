//! Accepted alerts (`Ingestor::accept`): journaled before the 2xx, applied
//! in order with everything else, visible to a read after `settled`, and
//! applied at the next start when a crash came first.

use std::sync::Arc;

use warroom_domain::alert::{AlertAction, AlertStatus};
use warroom_domain::Status;
use warroom_engine::ingest::{DeadLetters, Outcome};
use warroom_engine::ManualClock;
use warroom_store::testing::PoisonAlerts;
use warroom_store::{on_both_backends, IngestTx};
use warroom_store::{AlertFilter, IncidentFilter, IngestJournal, Store, StoreError, WriteTx};

use crate::helpers::{request, rules, signal, t, writer};

on_both_backends!(
    accepted_alerts_are_seen_by_a_read_after_settled,
    an_applied_request_waits_for_the_alerts_accepted_before_it,
    accepted_alerts_keep_the_time_they_arrived,
    a_start_applies_what_the_journal_kept,
    many_senders_accept_at_once_and_nothing_is_lost,
    entries_applied_together_keep_their_times_and_order,
);

on_both_backends!(
    a_request_the_database_refuses_is_dead_lettered_and_the_next_ones_apply,
    a_nul_never_stops_the_alerts_after_it,
);

async fn all_alerts<S: Store>(store: &S) -> Vec<warroom_store::AlertRecord> {
    store
        .list_alerts(&AlertFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// Accepts the "db" alert of service api with `action`, and waits until durable.
async fn accept_db_down(ingestor: &warroom_engine::Ingestor, action: AlertAction) {
    ingestor
        .accept(request(vec![signal(
            action,
            Some("db"),
            "Database down",
            "critical",
        )]))
        .await
        .unwrap();
}

/// The journal's applied mark (`WriteTx::journal_applied`).
async fn applied_mark<S: Store>(store: &S) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let applied = tx.journal_applied().await.unwrap();
    tx.commit().await.unwrap();
    applied
}

/// The numbers of the entries the journal holds.
async fn journal_seqs<S: Store>(store: &S) -> Vec<i64> {
    let mut journal = store.open_journal().await.unwrap();
    let entries = journal.entries().await.unwrap();
    entries.into_iter().map(|(seq, _)| seq).collect()
}

/// Entries the journal holds past the applied mark: none once settled.
async fn unapplied<S: Store>(store: &S) -> Vec<i64> {
    let applied = applied_mark(store).await;
    let seqs = journal_seqs(store).await;
    seqs.into_iter().filter(|seq| *seq > applied).collect()
}

/// Applied entries leave the journal once their mark is synced, soon
/// after the apply (the appender deletes them): waits for that, up to 5 s.
async fn assert_journal_empties<S: Store>(store: &S) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let seqs = journal_seqs(store).await;
        if seqs.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "applied entries still in the journal: {seqs:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn accepted_alerts_are_seen_by_a_read_after_settled<S: Store>(store: S) {
    use AlertAction::*;
    let clock = Arc::new(ManualClock::new(t(0)));
    let ingestor = writer(&store, rules(), &clock);
    accept_db_down(&ingestor, Trigger).await;
    ingestor.settled().await;
    let alerts = all_alerts(&store).await;
    assert_eq!(alerts.len(), 1, "applied before settled returned");
    assert_eq!(alerts[0].status, AlertStatus::Firing);
    let incident_id = alerts[0]
        .incident_id
        .clone()
        .expect("it opened an incident");
    assert_eq!(
        store.get_incident(&incident_id).await.unwrap().severity,
        "SEV-1"
    );
    assert_eq!(unapplied(&store).await, [0; 0], "marked applied");
    assert_journal_empties(&store).await;

    // A repeat and a resolve, accepted: one alert, counted twice, resolved.
    accept_db_down(&ingestor, Trigger).await;
    accept_db_down(&ingestor, Resolve).await;
    ingestor.settled().await;
    let alerts = all_alerts(&store).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].event_count, 2);
    assert_eq!(alerts[0].status, AlertStatus::Resolved);
    let incident = store.get_incident(&incident_id).await.unwrap();
    assert_eq!(
        incident.status,
        Status::Resolved,
        "the builtin playbook resolves"
    );
}

/// `submit` answers with outcomes, so what was accepted before it must
/// already be applied: a resolve submitted after an accepted trigger
/// finds the alert.
async fn an_applied_request_waits_for_the_alerts_accepted_before_it<S: Store>(store: S) {
    use AlertAction::*;
    let clock = Arc::new(ManualClock::new(t(0)));
    let ingestor = writer(&store, rules(), &clock);
    for key in ["a", "b", "c"] {
        ingestor
            .accept(request(vec![signal(Trigger, Some(key), "Disk", "warning")]))
            .await
            .unwrap();
    }
    let results = ingestor
        .submit(request(vec![
            signal(Resolve, Some("b"), "Disk", "warning"),
            signal(Trigger, Some("c"), "Disk", "warning"),
        ]))
        .await
        .unwrap();
    let outcomes: Vec<Outcome> = results.iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, [Outcome::Resolved, Outcome::Deduplicated]);
}

async fn accepted_alerts_keep_the_time_they_arrived<S: Store>(store: S) {
    use AlertAction::*;
    let clock = Arc::new(ManualClock::new(t(0)));
    let ingestor = writer(&store, rules(), &clock);
    accept_db_down(&ingestor, Trigger).await;
    // Applied later: still stamped with the time it came.
    clock.set(t(60));
    ingestor.settled().await;
    let alert = all_alerts(&store).await.remove(0);
    assert_eq!(alert.first_seen_at, t(0));
    let timeline = store
        .timeline(alert.incident_id.as_deref().unwrap(), 0, 100)
        .await
        .unwrap();
    assert!(timeline.iter().all(|e| e.at == t(0)), "{timeline:?}");
}

/// What a crash left in the journal (appended, never applied) is applied
/// when the writer starts, before `settled` lets a read through, and then
/// leaves the journal; an entry already marked applied is not applied
/// again. New entries are numbered after it.
async fn a_start_applies_what_the_journal_kept<S: Store>(store: S) {
    use AlertAction::*;
    let entry = |at: i64, key: &str| {
        serde_json::to_vec(&serde_json::json!({
            "accepted_at": t(at),
            "requests": [request(vec![signal(Trigger, Some(key), "Disk full", "warning")])],
        }))
        .unwrap()
    };
    let mut journal = store.open_journal().await.unwrap();
    journal.append(40, &entry(3, "disk-0")).await.unwrap();
    journal.append(41, &entry(5, "disk-1")).await.unwrap();
    journal.append(42, b"{ not an entry").await.unwrap();
    journal.append(43, &entry(7, "disk-2")).await.unwrap();
    drop(journal);
    // Entry 40 was applied before the crash, and its alert since deleted.
    let mut tx = store.begin().await.unwrap();
    tx.set_journal_applied(40).await.unwrap();
    tx.commit().await.unwrap();

    let clock = Arc::new(ManualClock::new(t(100)));
    let ingestor = writer(&store, rules(), &clock);
    ingestor.settled().await;
    let mut alerts = all_alerts(&store).await;
    alerts.sort_by(|a, b| a.dedup_key.cmp(&b.dedup_key));
    let seen: Vec<(&str, _)> = alerts
        .iter()
        .map(|a| (a.dedup_key.as_str(), a.first_seen_at))
        .collect();
    assert_eq!(seen, [("disk-1", t(5)), ("disk-2", t(7))]);
    assert_eq!(
        applied_mark(&store).await,
        43,
        "the damaged entry is passed too"
    );
    let kept = store.list_dead_letters(10).await.unwrap();
    assert_eq!(kept.len(), 1, "the damaged entry is kept as a dead letter");
    assert_eq!(kept[0].request, "{ not an entry");
    let incidents = store
        .list_incidents(&IncidentFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(incidents.incidents.len(), 1, "grouped as when they came");

    // The next entry gets a number past what was there.
    ingestor
        .accept(request(vec![signal(
            Trigger,
            Some("disk-3"),
            "Disk full",
            "warning",
        )]))
        .await
        .unwrap();
    ingestor.settled().await;
    assert_eq!(applied_mark(&store).await, 44);
    assert_journal_empties(&store).await;
}

/// Hundreds of concurrent senders: every accepted alert is stored once.
async fn many_senders_accept_at_once_and_nothing_is_lost<S: Store>(store: S) {
    use AlertAction::*;
    let clock = Arc::new(ManualClock::new(t(0)));
    let ingestor = writer(&store, rules(), &clock);
    let mut senders = tokio::task::JoinSet::new();
    for i in 0..300 {
        let ingestor = ingestor.clone();
        senders.spawn(async move {
            let key = format!("k{}", i % 200);
            ingestor
                .accept(request(vec![signal(
                    Trigger,
                    Some(&key),
                    "Disk",
                    "warning",
                )]))
                .await
        });
    }
    for answer in senders.join_all().await {
        answer.unwrap();
    }
    ingestor.settled().await;
    let alerts = all_alerts(&store).await;
    assert_eq!(alerts.len(), 200, "one alert per key");
    let events: i64 = alerts.iter().map(|a| a.event_count).sum();
    assert_eq!(events, 300, "every trigger counted");
    assert_eq!(unapplied(&store).await, [0; 0]);
}

/// Entries accepted a moment apart and applied in one transaction (the
/// writer writes incidents and events once per apply): each keeps its own
/// time, the timeline its order and consecutive numbers, and the incident
/// the state the last of them left.
async fn entries_applied_together_keep_their_times_and_order<S: Store>(store: S) {
    use AlertAction::*;
    let clock = Arc::new(ManualClock::new(t(0)));
    let ingestor = writer(&store, rules(), &clock);
    let accept = |action, key: &'static str, at| {
        clock.set(t(at));
        let ingestor = ingestor.clone();
        async move {
            let one = signal(action, Some(key), key, "critical");
            ingestor.accept(request(vec![one])).await.unwrap();
        }
    };
    accept(Trigger, "a", 0).await;
    accept(Trigger, "b", 1).await;
    accept(Resolve, "a", 2).await;
    accept(Trigger, "c", 2).await;
    accept(Acknowledge, "b", 3).await;
    ingestor.settled().await;

    let alerts = all_alerts(&store).await;
    assert_eq!(alerts.len(), 3);
    let incident_id = alerts[0].incident_id.clone().unwrap();
    assert!(alerts
        .iter()
        .all(|a| a.incident_id.as_deref() == Some(&incident_id)));
    let timeline = store.timeline(&incident_id, 0, 100).await.unwrap();
    let seqs: Vec<i64> = timeline.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    let got: Vec<(&str, jiff::Timestamp)> =
        timeline.iter().map(|e| (e.kind.name(), e.at)).collect();
    assert_eq!(
        got,
        [
            ("declared", t(0)),
            ("alert_triggered", t(0)),
            ("alert_triggered", t(1)),
            ("alert_resolved", t(2)),
            ("alert_triggered", t(2)),
            ("alert_acknowledged", t(3)),
            ("status_changed", t(3)),
        ]
    );
    let incident = store.get_incident(&incident_id).await.unwrap();
    assert_eq!(incident.status, Status::Acknowledged);
    assert_eq!(incident.updated_at, t(3));
    assert_eq!(unapplied(&store).await, [0; 0]);
    // What the writer wrote is what a new one reads: a trigger of "c" now
    // repeats the firing alert instead of opening another.
    drop(ingestor);
    let again = writer(&store, rules(), &clock);
    let results = again
        .submit(request(vec![signal(Trigger, Some("c"), "c", "critical")]))
        .await
        .unwrap();
    assert_eq!(results[0].outcome, Outcome::Deduplicated);
    assert_eq!(
        results[0].incident_id.as_deref(),
        Some(incident_id.as_str())
    );
}

/// The database refuses one accepted request for what it is: it leaves the
/// way as a dead letter, the requests before and after it are applied, and
/// an admin can retry it once the cause is fixed, or drop it.
async fn a_request_the_database_refuses_is_dead_lettered_and_the_next_ones_apply<
    S: Store + PoisonAlerts,
>(
    store: S,
) {
    use AlertAction::*;
    store.refuse_alerts_titled("Poison").await;
    let clock = Arc::new(ManualClock::new(t(0)));
    let ingestor = writer(&store, rules(), &clock);
    for (key, summary) in [("good-1", "Disk"), ("bad", "Poison"), ("good-2", "Disk")] {
        ingestor
            .accept(request(vec![signal(
                Trigger,
                Some(key),
                summary,
                "warning",
            )]))
            .await
            .unwrap();
    }
    ingestor.settled().await;
    let mut keys: Vec<String> = all_alerts(&store)
        .await
        .into_iter()
        .map(|a| a.dedup_key)
        .collect();
    keys.sort();
    assert_eq!(keys, ["good-1", "good-2"]);
    let letters = store.list_dead_letters(10).await.unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].alerts, 1);
    assert_eq!(letters[0].integration, "test");
    assert_eq!(letters[0].accepted_at, t(0));
    assert!(
        letters[0].error.contains("poisoned alert"),
        "{}",
        letters[0].error
    );
    assert_eq!(unapplied(&store).await, [0; 0], "the journal moved past it");
    assert_journal_empties(&store).await;
    // Later alerts are not held up by it.
    ingestor
        .accept(request(vec![signal(
            Trigger,
            Some("good-3"),
            "Disk",
            "warning",
        )]))
        .await
        .unwrap();
    ingestor.settled().await;
    assert_eq!(all_alerts(&store).await.len(), 3);

    let admin = DeadLetters::new(store.clone(), ingestor.clone());
    let id = letters[0].id;
    let again = admin.retry(id).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again}");
    assert_eq!(admin.count().await.unwrap(), 1, "a failed retry keeps it");
    store.accept_all_alerts().await;
    let results = admin.retry(id).await.unwrap();
    assert_eq!(results[0].outcome, Outcome::Created);
    assert_eq!(admin.count().await.unwrap(), 0);
    assert!(all_alerts(&store)
        .await
        .iter()
        .any(|a| a.dedup_key == "bad"));
    assert!(matches!(
        admin.drop_letter(id).await,
        Err(StoreError::NotFound(_))
    ));
}

/// PostgreSQL cannot store U+0000 in text. The edge replaces it, but if one
/// reaches the writer anyway it must not stop the alerts after it: on
/// PostgreSQL it becomes a dead letter, on SQLite it is stored.
async fn a_nul_never_stops_the_alerts_after_it<S: Store + PoisonAlerts>(store: S) {
    use AlertAction::*;
    let clock = Arc::new(ManualClock::new(t(0)));
    let ingestor = writer(&store, rules(), &clock);
    for (key, summary) in [("good-1", "Disk"), ("nul", "a\u{0}b"), ("good-2", "Disk")] {
        ingestor
            .accept(request(vec![signal(
                Trigger,
                Some(key),
                summary,
                "warning",
            )]))
            .await
            .unwrap();
    }
    ingestor.settled().await;
    let keys: Vec<String> = all_alerts(&store)
        .await
        .into_iter()
        .map(|a| a.dedup_key)
        .collect();
    assert!(
        keys.contains(&"good-1".to_owned()) && keys.contains(&"good-2".to_owned()),
        "{keys:?}"
    );
    let dead = store.count_dead_letters().await.unwrap();
    let stored = keys.contains(&"nul".to_owned());
    assert!(stored ^ (dead == 1), "stored {stored}, dead letters {dead}");
    assert_eq!(unapplied(&store).await, [0; 0]);
}
