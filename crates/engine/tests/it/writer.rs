//! The alert writer (`Ingestor::submit`): the order of a batch's signals, counts kept across batches and re-read after other writers, and one failing request failing alone.

use std::sync::Arc;

use warroom_domain::alert::{AlertAction, AlertStatus};
use warroom_domain::Status;
use warroom_engine::ingest::{ingest_once, Outcome};
use warroom_store::on_both_backends;
use warroom_store::{AlertFilter, Store};

use crate::helpers::{request, rules, send, signal, t, writer};

on_both_backends!(
    one_batch_keeps_the_order_of_its_signals,
    the_writer_counts_across_batches_and_rereads_after_other_writers,
    a_failing_request_fails_alone_and_the_writer_goes_on,
);

/// A batch counts repeats up front and inserts new alerts at the end; the
/// outcome must still be what the signals would do one by one.
async fn one_batch_keeps_the_order_of_its_signals<S: Store>(store: S) {
    use AlertAction::*;
    let sig = |action, key, summary| signal(action, Some(key), summary, "error");
    send(&store, t(0), sig(Trigger, "old", "Old firing")).await;
    let results = ingest_once(
        &store,
        &rules(),
        t(1),
        &request(vec![
            sig(Trigger, "old", "Old again"),
            sig(Trigger, "new", "New one"),
            sig(Trigger, "new", "New repeated"),
            sig(Trigger, "old", "Old third"),
            sig(Resolve, "new", "New resolved"),
            sig(Trigger, "new", "New after resolve"),
        ]),
    )
    .await
    .unwrap();
    let outcomes: Vec<Outcome> = results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Deduplicated,
            Outcome::Created,
            Outcome::Deduplicated,
            Outcome::Deduplicated,
            Outcome::Resolved,
            Outcome::Created,
        ]
    );
    assert_eq!(results[1].alert_id, results[2].alert_id);
    assert_ne!(results[1].alert_id, results[5].alert_id);
    let alerts = store
        .list_alerts(&AlertFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let by_id = |id| alerts.iter().find(|a| Some(a.id) == id).unwrap();
    let old = by_id(results[0].alert_id);
    assert_eq!((old.event_count, old.summary.as_str()), (3, "Old third"));
    assert_eq!(old.last_seen_at, t(1));
    let first_new = by_id(results[1].alert_id);
    assert_eq!(first_new.event_count, 2);
    assert_eq!(first_new.summary, "New repeated");
    assert_eq!(first_new.status, AlertStatus::Resolved);
    let second_new = by_id(results[5].alert_id);
    assert_eq!(second_new.status, AlertStatus::Firing);
    assert_eq!(alerts.len(), 3);
    // Ids come from a reserved range: a later alert still gets a larger one.
    let later = send(&store, t(2), sig(Trigger, "later", "Later")).await;
    assert!(later.alert_id > results[5].alert_id);
}

/// The `Ingestor` chains batches on one connection: the open-alert cap
/// counts across the batches of a run, and a change another writer makes
/// between runs (an acknowledgement) is read again, not overwritten.
async fn the_writer_counts_across_batches_and_rereads_after_other_writers<S: Store>(store: S) {
    use AlertAction::*;
    let mut rules = rules();
    rules.max_open_alerts_per_service = 30;
    let clock = Arc::new(warroom_engine::clock::ManualClock::new(t(0)));
    let ingestor = writer(&store, rules, &clock);
    // 40 senders at once: more requests than one batch holds by the time
    // the writer starts, so several batches of one run share the count.
    let mut senders = tokio::task::JoinSet::new();
    for i in 0..40 {
        let ingestor = ingestor.clone();
        senders.spawn(async move {
            let key = format!("disk-{i}");
            ingestor
                .submit(request(vec![signal(
                    Trigger,
                    Some(&key),
                    "Disk",
                    "warning",
                )]))
                .await
                .unwrap()
                .remove(0)
        });
    }
    let results = senders.join_all().await;
    let count = |outcome| results.iter().filter(|r| r.outcome == outcome).count();
    assert_eq!(
        (count(Outcome::Created), count(Outcome::Folded)),
        (30, 10),
        "30 alerts fill the cap; the rest fold into the storm alert"
    );
    let id = results[0].incident_id.clone().unwrap();
    assert!(results
        .iter()
        .all(|r| r.incident_id.as_deref() == Some(id.as_str())));

    store
        .modify_incident(&id, |i| i.acknowledge("alice", t(1)))
        .await
        .unwrap();
    clock.set(t(2));
    // Two resolved alerts free room under the cap (the storm alert fires too).
    let created: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Created)
        .map(|r| r.dedup_key.as_str())
        .collect();
    let results = ingestor
        .submit(request(vec![
            signal(Resolve, Some(created[0]), "Disk", "warning"),
            signal(Resolve, Some(created[1]), "Disk", "warning"),
            signal(Trigger, Some("db"), "Database down", "critical"),
        ]))
        .await
        .unwrap();
    let outcomes: Vec<Outcome> = results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [Outcome::Resolved, Outcome::Resolved, Outcome::Created]
    );
    let incident = store.get_incident(&id).await.unwrap();
    assert_eq!(
        incident.status,
        Status::Acknowledged,
        "the acknowledgement stays"
    );
    assert_eq!(incident.severity, "SEV-1", "the critical alert raised it");
    let timeline = store.timeline(&id, 0, 1000).await.unwrap();
    let seqs: Vec<i64> = timeline.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert!(timeline.iter().any(|e| e.actor == "alice"));
}

/// A request the rules refuse (its integration's service left the
/// playbook) fails on its own: the batch it shared is rolled back and
/// retried request by request, and the writer keeps working.
async fn a_failing_request_fails_alone_and_the_writer_goes_on<S: Store>(store: S) {
    use AlertAction::*;
    let ingestor = writer(
        &store,
        rules(),
        &Arc::new(warroom_engine::clock::ManualClock::new(t(0))),
    );
    let mut senders = tokio::task::JoinSet::new();
    for i in 0..20 {
        let ingestor = ingestor.clone();
        senders.spawn(async move {
            let mut request = request(vec![signal(
                Trigger,
                Some(&format!("k{i}")),
                "Disk",
                "warning",
            )]);
            if i % 5 == 0 {
                request.source.service = "retired-service".to_owned();
            }
            (i, ingestor.submit(request).await)
        });
    }
    for (i, answer) in senders.join_all().await {
        if i % 5 == 0 {
            assert!(
                answer.is_err(),
                "request {i} names a service the playbook lacks"
            );
        } else {
            assert_eq!(answer.unwrap()[0].outcome, Outcome::Created, "request {i}");
        }
    }
    let after = ingestor
        .submit(request(vec![signal(
            Trigger,
            Some("later"),
            "Disk",
            "warning",
        )]))
        .await
        .unwrap();
    assert_eq!(after[0].outcome, Outcome::Created);
    let stored = store
        .list_alerts(&AlertFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 17);
    assert!(stored.iter().all(|a| a.service == "api"));
}
