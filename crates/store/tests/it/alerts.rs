//! The alert writer's runs and alert rows: batches committed in a run, alerts read back whole, one firing alert per key.

use jiff::Timestamp;
use warroom_domain::{Incident, Playbook};
use warroom_store::{on_both_backends, AlertTx, IngestTx, Store, StoreError, TxStore, WriteTx};

use crate::helpers::{at, decl, declare};

on_both_backends!(
    a_run_commits_each_batch_and_drops_only_the_open_one,
    alerts_inserted_together_read_back_whole,
    one_firing_alert_per_key_through_commits_and_rollbacks,
);

/// Declares an incident inside `tx`, as the alert writer does.
async fn declare_in<T: WriteTx>(tx: &mut T, title: &str, now: Timestamp) -> Incident {
    let pb = Playbook::builtin();
    let decl = decl(title, "SEV-2")
        .validate(&pb, now)
        .expect("valid declaration");
    let format = pb.incident_id_format.clone();
    let date = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    tx.declare_incident(&format.scope_key(date), move |seq| {
        let id = format.render(date, seq as u64);
        Incident::open(&pb, decl, id, seq, "alice", now)
    })
    .await
    .expect("declare in a run")
    .0
}

/// The alert writer's run: each `commit_and_continue` commits (others read
/// it while the run goes on), dropping the run loses only what came after
/// the last one, and other writers get the connection back.
async fn a_run_commits_each_batch_and_drops_only_the_open_one<S: Store>(store: S) {
    let mut run = store.begin_run().await.unwrap();
    let first = declare_in(&mut run, "Batch one", at(0)).await;
    run.commit_and_continue().await.unwrap();
    store.sync_committed().unwrap();
    assert_eq!(store.get_incident(&first.id).await.unwrap(), first);
    let second = declare_in(&mut run, "Batch two", at(1)).await;
    run.commit_and_continue().await.unwrap();
    let third = declare_in(&mut run, "Batch three", at(2)).await;
    drop(run);
    store.sync_committed().unwrap();
    assert_eq!(store.get_incident(&second.id).await.unwrap(), second);
    assert!(matches!(
        store.get_incident(&third.id).await,
        Err(StoreError::NotFound(_))
    ));
    // The write connection is free again, and numbering goes on from the
    // last committed incident.
    let after = declare(&store, decl("After the run", "SEV-2"), at(3)).await;
    assert_eq!(after.seq, second.seq + 1);
    let mut run = store.begin_run().await.unwrap();
    let last = declare_in(&mut run, "End of a run", at(4)).await;
    run.commit().await.unwrap();
    assert_eq!(store.get_incident(&last.id).await.unwrap(), last);
    assert_eq!(last.seq, after.seq + 1);
}

/// An alert as the alert writer builds it; odd numbers fill the optional
/// columns.
fn alert_numbered(id: i64, n: i64) -> warroom_store::AlertRecord {
    use warroom_domain::alert::{AlertLink, AlertStatus};
    let odd = n % 2 == 1;
    warroom_store::AlertRecord {
        id,
        service: "api".to_owned(),
        dedup_key: format!("key-{n}"),
        status: AlertStatus::Firing,
        summary: format!("Alert number {n} \u{2014} \"quoted\""),
        severity: "SEV-3".to_owned(),
        source_severity: odd.then(|| "warning".to_owned()),
        source: "prometheus".to_owned(),
        origin: "alertmanager".to_owned(),
        integration_id: odd.then(|| "int_1".to_owned()),
        labels: [("alertname", "Bench"), ("n", &n.to_string()[..])]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        details: serde_json::json!({"n": n, "nested": {"list": [1, "two", null]}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        links: if odd {
            vec![AlertLink {
                href: format!("https://runbooks.example/{n}"),
                text: "Runbook".to_owned(),
            }]
        } else {
            Vec::new()
        },
        generator_url: odd.then(|| format!("http://prometheus:9090/graph?n={n}")),
        group_key: "{}:{alertname=\"Bench\"}".to_owned(),
        incident_id: None,
        suppressed_by: odd.then(|| "silence:s_1".to_owned()),
        event_count: n + 1,
        starts_at: odd.then(|| at(n)),
        ends_at: odd.then(|| at(n + 60)),
        first_seen_at: at(n),
        last_seen_at: at(n + 1),
        acknowledged_at: None,
        resolved_at: None,
    }
}

/// A batch of new alerts, written together: every column of every alert
/// reads back as written, and a status listing (`alerts_by_status`)
/// returns them newest first.
async fn alerts_inserted_together_read_back_whole<S: Store>(store: S) {
    let mut tx = store.begin().await.unwrap();
    let ids = tx.reserve_alert_ids(37).await.unwrap();
    let alerts: Vec<_> = ids
        .iter()
        .zip(0..)
        .map(|(id, n)| alert_numbered(*id, n))
        .collect();
    tx.insert_alerts(&alerts).await.unwrap();
    tx.commit().await.unwrap();
    for alert in &alerts {
        assert_eq!(&store.get_alert(alert.id).await.unwrap(), alert);
    }
    let listed = store
        .list_alerts(&warroom_store::AlertFilter {
            status: Some(warroom_domain::alert::AlertStatus::Firing),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let newest_first: Vec<i64> = alerts.iter().rev().map(|a| a.id).collect();
    assert_eq!(
        listed.iter().map(|a| a.id).collect::<Vec<_>>(),
        newest_first
    );
    // The next reservation starts past every id just used.
    let mut tx = store.begin().await.unwrap();
    let next = tx.reserve_alert_ids(1).await.unwrap();
    assert!(next[0] > *ids.last().unwrap());
}

/// The dedup lookup (PostgreSQL: a unique index; SQLite: the writer's
/// `open_keys`): a key fires once; a rolled-back insert or resolution
/// leaves no trace; a resolved key can fire again as a new alert.
async fn one_firing_alert_per_key_through_commits_and_rollbacks<S: Store>(store: S) {
    use warroom_domain::alert::AlertStatus;
    let details = serde_json::Map::new();
    let repeat = |key: &'static str| warroom_store::Repeat {
        service: "api",
        dedup_key: key,
        times: 1,
        now: at(5),
        summary: "again",
        details: &details,
        links: &[],
        ends_at: None,
    };
    let mut tx = store.begin().await.unwrap();
    let ids = tx.reserve_alert_ids(3).await.unwrap();
    let first = alert_numbered(ids[0], 0);
    tx.insert_alerts(std::slice::from_ref(&first))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // The same key again fails, and takes its transaction with it.
    let mut tx = store.begin().await.unwrap();
    let mut twin = alert_numbered(ids[1], 0);
    twin.dedup_key.clone_from(&first.dedup_key);
    assert!(tx.insert_alerts(&[twin]).await.is_err());
    drop(tx);

    // A rolled-back insert of a new key leaves it not firing.
    let mut tx = store.begin().await.unwrap();
    let ghost = alert_numbered(ids[2], 1);
    tx.insert_alerts(std::slice::from_ref(&ghost))
        .await
        .unwrap();
    assert_eq!(
        tx.open_alert("api", "key-1").await.unwrap().map(|a| a.id),
        Some(ids[2])
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.open_alert("api", "key-1").await.unwrap(), None);
    assert!(tx
        .bump_open_alerts(&[repeat("key-1")])
        .await
        .unwrap()
        .is_empty());
    let bumped = tx.bump_open_alerts(&[repeat("key-0")]).await.unwrap();
    assert_eq!(bumped.iter().map(|b| b.id).collect::<Vec<_>>(), [first.id]);
    tx.commit().await.unwrap();
    assert_eq!(
        store.get_alert(first.id).await.unwrap().event_count,
        first.event_count + 1
    );

    // A rolled-back resolution leaves it firing; a committed one frees the key.
    let mut resolved = store.get_alert(first.id).await.unwrap();
    resolved.status = AlertStatus::Resolved;
    resolved.resolved_at = Some(at(6));
    let mut tx = store.begin().await.unwrap();
    tx.update_alert(&resolved).await.unwrap();
    assert_eq!(tx.open_alert("api", "key-0").await.unwrap(), None);
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.open_alert("api", "key-0").await.unwrap().map(|a| a.id),
        Some(first.id)
    );
    tx.update_alert(&resolved).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.open_alert("api", "key-0").await.unwrap(), None);
    let again_id = tx.reserve_alert_ids(1).await.unwrap()[0];
    let again = alert_numbered(again_id, 0);
    tx.insert_alerts(&[again]).await.unwrap();
    assert_eq!(
        tx.open_alert("api", "key-0").await.unwrap().map(|a| a.id),
        Some(again_id)
    );
    tx.commit().await.unwrap();
}

/// SQLite keeps the firing keys in its writer's memory: a second writer on
/// the same file (another process) changes alerts, and the first one sees
/// the change at its next transaction instead of trusting its map.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writers_on_one_file_see_each_others_alerts() {
    use warroom_domain::alert::AlertStatus;
    let db = warroom_store::testing::sqlite().await;
    let other = warroom_store::SqliteStore::connect(&db.url).await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    let id = tx.reserve_alert_ids(1).await.unwrap()[0];
    tx.insert_alerts(&[alert_numbered(id, 0)]).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = other.begin().await.unwrap();
    let mut resolved = tx.open_alert("api", "key-0").await.unwrap().unwrap();
    resolved.status = AlertStatus::Resolved;
    tx.update_alert(&resolved).await.unwrap();
    let new_id = tx.reserve_alert_ids(1).await.unwrap()[0];
    tx.insert_alerts(&[alert_numbered(new_id, 1)])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.begin().await.unwrap();
    assert_eq!(tx.open_alert("api", "key-0").await.unwrap(), None);
    assert_eq!(
        tx.open_alert("api", "key-1").await.unwrap().map(|a| a.id),
        Some(new_id)
    );
    let mut twin = alert_numbered(tx.reserve_alert_ids(1).await.unwrap()[0], 1);
    twin.summary = "the same key again".into();
    assert!(tx.insert_alerts(&[twin]).await.is_err());
}
