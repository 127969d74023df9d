//! The storage conformance suite: every check runs on SQLite, and on
//! PostgreSQL whenever it is reachable (always under `CI`).

use jiff::{SignedDuration, Timestamp};
use warroom_domain::{AccessRole, Declaration, DomainError, EventKind, Incident, Playbook, Status};
use warroom_store::{IncidentFilter, Store, StoreError, WriteTx};

/// Generates `<name>::sqlite` and `<name>::postgres` tests from one generic check.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = warroom_store::testing::sqlite().await;
                super::$name(db.store.clone()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(store) = warroom_store::testing::postgres().await {
                    super::$name(store).await;
                }
            }
        }
    )*};
}

mod accounts;
mod oncall;

conformance!(
    declare_then_get_round_trips,
    concurrent_declares_get_consecutive_numbers,
    scopes_number_independently,
    changes_append_events_in_order,
    a_refused_change_writes_nothing,
    unknown_ids_are_not_found,
    list_filters_and_pages,
    tokens_are_found_by_hash_and_revocable,
    first_token_is_minted_once,
    the_last_live_admin_token_cannot_be_revoked,
    a_run_commits_each_batch_and_drops_only_the_open_one,
    alerts_inserted_together_read_back_whole,
    one_firing_alert_per_key_through_commits_and_rollbacks,
);

fn t0() -> Timestamp {
    // Milliseconds only: that is what the stores keep.
    Timestamp::from_millisecond(1_795_000_000_000).unwrap()
}

fn at(mins: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(mins)
}

async fn declare<S: Store>(store: &S, decl: Declaration, now: Timestamp) -> Incident {
    let pb = Playbook::builtin();
    let decl = decl.validate(&pb, now).expect("valid declaration");
    let format = pb.incident_id_format.clone();
    let date = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    store
        .declare_incident(&format.scope_key(date), move |seq| {
            let id = format.render(date, seq as u64);
            Incident::open(&pb, decl, id, seq, "alice", now)
        })
        .await
        .expect("declare")
        .0
}

fn decl(title: &str, severity: &str) -> Declaration {
    Declaration {
        title: title.into(),
        severity: severity.into(),
        ..Default::default()
    }
}

async fn declare_then_get_round_trips<S: Store>(store: S) {
    let declared = declare(
        &store,
        Declaration {
            summary: "Pool exhausted".into(),
            category: Some("Database".into()),
            services: vec!["api".into()],
            customer_facing: true,
            users_affected: Some(1200),
            impact_started_at: Some(at(-10)),
            roles: vec![("Incident Commander".into(), "alice".into())],
            ..decl("Database connection failures", "SEV-1")
        },
        at(0),
    )
    .await;
    assert_eq!(declared.id, "INC-2026-0001");
    let loaded = store.get_incident(&declared.id).await.unwrap();
    assert_eq!(loaded, declared);
    let timeline = store.timeline(&declared.id, 0, 100).await.unwrap();
    assert_eq!(timeline.len(), 2);
    assert!(matches!(timeline[0].kind, EventKind::Declared { .. }));
    assert!(matches!(timeline[1].kind, EventKind::RoleAssigned { .. }));
    assert_eq!(timeline[0].actor, "alice");
    assert_eq!(timeline[1].seq, 2);
}

async fn concurrent_declares_get_consecutive_numbers<S: Store>(store: S) {
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                declare(&store, decl(&format!("storm {i}"), "SEV-2"), at(0)).await
            })
        })
        .collect();
    let mut seqs = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let incident = t.await.unwrap();
        seqs.push(incident.seq);
        ids.insert(incident.id);
    }
    seqs.sort();
    assert_eq!(seqs, (1..=50).collect::<Vec<i64>>());
    assert_eq!(ids.len(), 50);
}

async fn scopes_number_independently<S: Store>(store: S) {
    let pb = Playbook::builtin();
    let make = |title: &'static str, id: &'static str| {
        let pb = pb.clone();
        move |seq: i64| {
            let d = decl(title, "SEV-3").validate(&pb, at(0)).unwrap();
            Incident::open(&pb, d, format!("{id}-{seq}"), seq, "a", at(0))
        }
    };
    let a1 = store.declare_incident("A", make("a", "A")).await.unwrap().0;
    let b1 = store.declare_incident("B", make("b", "B")).await.unwrap().0;
    let a2 = store.declare_incident("A", make("a", "A")).await.unwrap().0;
    assert_eq!((a1.seq, b1.seq, a2.seq), (1, 1, 2));
    // A repeated id is a conflict, and the number it took is given back.
    let err = store
        .declare_incident("C", |seq| {
            let d = decl("dup", "SEV-3").validate(&pb, at(0)).unwrap();
            Incident::open(&pb, d, "A-1".into(), seq, "a", at(0))
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let c = store.declare_incident("C", make("c", "C")).await.unwrap().0;
    assert_eq!(c.seq, 1, "a rolled-back declare leaves no gap");
}

async fn changes_append_events_in_order<S: Store>(store: S) {
    let pb = Playbook::builtin();
    let inc = declare(&store, decl("Checkout errors", "SEV-2"), at(0)).await;
    let (after, events) = store
        .modify_incident(&inc.id, |i| {
            let mut ev = i.acknowledge("bob", at(1))?;
            ev.extend(i.add_note("looking at the pool", "bob", at(1))?);
            Ok(ev)
        })
        .await
        .unwrap();
    assert_eq!(after.status, Status::Acknowledged);
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 3]);
    let pb2 = pb.clone();
    store
        .modify_incident(&inc.id, move |i| {
            i.change_severity(&pb2, "SEV-1", None, "carol", at(2))
        })
        .await
        .unwrap();
    store
        .modify_incident(&inc.id, |i| {
            i.set_checklist_item("detection", 1, true, "carol", at(3))
        })
        .await
        .unwrap();
    store
        .modify_incident(&inc.id, |i| i.resolve(Some("fixed".into()), "carol", at(4)))
        .await
        .unwrap();
    let stored = store.get_incident(&inc.id).await.unwrap();
    assert_eq!(stored.status, Status::Resolved);
    assert_eq!(stored.severity, "SEV-1");
    assert_eq!(stored.acknowledged_at, Some(at(1)));
    assert_eq!(stored.resolved_at, Some(at(4)));
    assert!(stored.checklist[0].items[0].is_done());
    let timeline = store.timeline(&inc.id, 0, 100).await.unwrap();
    let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "declared",
            "status_changed",
            "note",
            "severity_changed",
            "checklist_item",
            "status_changed"
        ]
    );
    let actors: Vec<&str> = timeline.iter().map(|e| e.actor.as_str()).collect();
    assert_eq!(actors, ["alice", "bob", "bob", "carol", "carol", "carol"]);
    assert_eq!(store.timeline(&inc.id, 4, 100).await.unwrap().len(), 2);
    assert_eq!(store.timeline(&inc.id, 0, 2).await.unwrap().len(), 2);
}

async fn a_refused_change_writes_nothing<S: Store>(store: S) {
    let inc = declare(&store, decl("Disk full", "SEV-2"), at(0)).await;
    let err = store
        .modify_incident(&inc.id, |i| {
            // The first change succeeds in memory; the second is refused, so
            // neither may reach the database.
            let mut ev = i.add_note("noted", "bob", at(1))?;
            ev.extend(i.close("bob", at(1))?);
            Ok(ev)
        })
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Rejected(DomainError::IllegalTransition { .. })
    ));
    assert_eq!(store.get_incident(&inc.id).await.unwrap(), inc);
    assert_eq!(store.timeline(&inc.id, 0, 100).await.unwrap().len(), 1);
}

async fn unknown_ids_are_not_found<S: Store>(store: S) {
    assert!(matches!(
        store.get_incident("INC-1999-0001").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .modify_incident("nope", |i| i.add_note("x", "a", at(0)))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.timeline("nope", 0, 10).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn list_filters_and_pages<S: Store>(store: S) {
    let a = declare(
        &store,
        Declaration {
            services: vec!["api".into()],
            category: Some("Database".into()),
            summary: "100% of_requests fail".into(),
            ..decl("Database down", "SEV-0")
        },
        at(0),
    )
    .await;
    let b = declare(
        &store,
        Declaration {
            services: vec!["web".into(), "api".into()],
            ..decl("Slow checkout", "SEV-2")
        },
        at(10),
    )
    .await;
    let c = declare(&store, decl("Typo on status page", "SEV-3"), at(20)).await;
    store
        .modify_incident(&c.id, |i| i.resolve(None, "a", at(21)))
        .await
        .unwrap();
    let ids = |f: IncidentFilter| {
        let store = store.clone();
        async move {
            let page = store
                .list_incidents(&IncidentFilter { limit: 100, ..f })
                .await
                .unwrap();
            page.incidents.into_iter().map(|i| i.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids(IncidentFilter::default()).await,
        [c.id.as_str(), b.id.as_str(), a.id.as_str()]
    );
    let open = vec![Status::Triggered, Status::Investigating];
    assert_eq!(
        ids(IncidentFilter {
            statuses: open,
            ..Default::default()
        })
        .await,
        [b.id.as_str(), a.id.as_str()]
    );
    assert_eq!(
        ids(IncidentFilter {
            severities: vec!["SEV-0".into(), "SEV-3".into()],
            ..Default::default()
        })
        .await,
        [c.id.as_str(), a.id.as_str()]
    );
    assert_eq!(
        ids(IncidentFilter {
            service: Some("api".into()),
            ..Default::default()
        })
        .await,
        [b.id.as_str(), a.id.as_str()]
    );
    assert_eq!(
        ids(IncidentFilter {
            service: Some("web".into()),
            ..Default::default()
        })
        .await,
        [b.id.as_str()]
    );
    assert_eq!(
        ids(IncidentFilter {
            category: Some("Database".into()),
            ..Default::default()
        })
        .await,
        [a.id.as_str()]
    );
    assert_eq!(
        ids(IncidentFilter {
            declared_from: Some(at(5)),
            declared_until: Some(at(20)),
            ..Default::default()
        })
        .await,
        [b.id.as_str()]
    );
    assert_eq!(
        ids(IncidentFilter {
            text: Some("CHECKOUT".into()),
            ..Default::default()
        })
        .await,
        [b.id.as_str()]
    );
    // LIKE wildcards in the search text are literal.
    assert_eq!(
        ids(IncidentFilter {
            text: Some("of_req".into()),
            ..Default::default()
        })
        .await,
        [a.id.as_str()]
    );
    assert!(ids(IncidentFilter {
        text: Some("o_r".into()),
        ..Default::default()
    })
    .await
    .is_empty());
    assert_eq!(
        ids(IncidentFilter {
            text: Some("%".into()),
            ..Default::default()
        })
        .await,
        [a.id.as_str()]
    );

    // Pages of two walk all three without repeats.
    let first = store
        .list_incidents(&IncidentFilter {
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.incidents.len(), 2);
    let next = first.next.expect("a second page");
    let second = store
        .list_incidents(&IncidentFilter {
            limit: 2,
            after: Some(next),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        second
            .incidents
            .iter()
            .map(|i| i.id.clone())
            .collect::<Vec<_>>(),
        [a.id.as_str()]
    );
    assert!(second.next.is_none());
}

async fn tokens_are_found_by_hash_and_revocable<S: Store>(store: S) {
    let t = store
        .insert_token("ci", AccessRole::Viewer, "h1", at(0))
        .await
        .unwrap();
    assert_eq!(t.role, AccessRole::Viewer);
    assert!(matches!(
        store
            .insert_token("ci", AccessRole::Admin, "h2", at(0))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.find_token("h1").await.unwrap().unwrap().name, "ci");
    assert!(store.find_token("h2").await.unwrap().is_none());
    let revoked = store.revoke_token("ci", at(1)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(at(1)));
    assert!(store.find_token("h1").await.unwrap().is_none());
    assert!(matches!(
        store.revoke_token("ci", at(2)).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.list_tokens().await.unwrap().len(), 1);
}

async fn the_last_live_admin_token_cannot_be_revoked<S: Store>(store: S) {
    store
        .insert_token("root", AccessRole::Admin, "h1", at(0))
        .await
        .unwrap();
    store
        .insert_token("ci", AccessRole::Responder, "h2", at(0))
        .await
        .unwrap();
    let refused = store.revoke_token("root", at(1)).await;
    let Err(StoreError::Conflict(message)) = refused else {
        panic!("revoking the only admin token: {refused:?}");
    };
    assert!(
        message.contains("create another admin token first"),
        "{message}"
    );
    assert!(store.find_token("h1").await.unwrap().is_some());
    // Other roles go as before, and with two admins one may go.
    store.revoke_token("ci", at(1)).await.unwrap();
    store
        .insert_token("root2", AccessRole::Admin, "h3", at(1))
        .await
        .unwrap();
    store.revoke_token("root", at(2)).await.unwrap();
    assert!(matches!(
        store.revoke_token("root2", at(3)).await,
        Err(StoreError::Conflict(_))
    ));
    // Two admins revoked at once: one revoke wins, the other is refused.
    store
        .insert_token("root3", AccessRole::Admin, "h4", at(3))
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        store.revoke_token("root2", at(4)),
        store.revoke_token("root3", at(4))
    );
    assert_eq!(
        usize::from(a.is_ok()) + usize::from(b.is_ok()),
        1,
        "{a:?} {b:?}"
    );
    let live = store.list_tokens().await.unwrap();
    assert_eq!(
        live.iter()
            .filter(|t| t.role == AccessRole::Admin && t.revoked_at.is_none())
            .count(),
        1
    );
}

async fn first_token_is_minted_once<S: Store>(store: S) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .insert_first_token(
                        &format!("admin{i}"),
                        AccessRole::Admin,
                        &format!("h{i}"),
                        at(0),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut minted = 0;
    for t in tasks {
        minted += usize::from(t.await.unwrap().is_some());
    }
    assert_eq!(minted, 1);
    assert_eq!(store.list_tokens().await.unwrap().len(), 1);
}

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
