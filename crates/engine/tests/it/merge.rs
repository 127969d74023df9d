//! One outage, one incident, against real stores with a manual clock: a
//! storm re-sent for 40 minutes stays one incident through the alert
//! writer, and merging moves a duplicate's alerts, timeline and pages to
//! the survivor, closing the duplicate with a link both ways.

use std::sync::Arc;

use warroom_domain::alert::AlertAction;
use warroom_domain::{Declaration, DomainError, EventKind, Status};
use warroom_engine::ingest::{ingest_once, Outcome};
use warroom_engine::ManualClock;
use warroom_store::{on_both_backends, AlertFilter, IncidentFilter, Store, StoreError};

use crate::helpers::{request, rules, signal, t, writer};
use crate::paging::{mins, playbook, setup};

on_both_backends!(
    a_storm_repeated_for_40_minutes_stays_one_incident,
    a_merge_moves_alerts_timeline_and_pages_and_links_both_ways,
    merges_into_itself_a_closed_or_a_missing_incident_are_refused,
);

async fn a_storm_repeated_for_40_minutes_stays_one_incident<S: Store>(store: S) {
    let clock = Arc::new(ManualClock::new(t(0)));
    let ingestor = writer(&store, rules(), &clock);
    let trigger = |key: &str| signal(AlertAction::Trigger, Some(key), key, "error");
    let storm: Vec<String> = (0..5).map(|i| format!("db-{i}")).collect();
    let mut incident_ids = Vec::new();
    // Alertmanager re-sends every firing alert every 3 minutes, for 40
    // minutes; now and then a new alert of the same outage joins.
    for minute in (0..=39).step_by(3) {
        clock.set(t(minute * 60));
        let mut signals: Vec<_> = storm.iter().map(|k| trigger(k)).collect();
        if minute == 21 || minute == 39 {
            signals.push(trigger(&format!("late-{minute}")));
        }
        let results = ingestor.submit(request(signals)).await.unwrap();
        for r in &results {
            let want = if minute == 0 || r.dedup_key.starts_with("late") {
                Outcome::Created
            } else {
                Outcome::Deduplicated
            };
            assert_eq!(r.outcome, want, "minute {minute}: {r:?}");
            incident_ids.push(r.incident_id.clone().expect("every alert pages"));
        }
    }
    incident_ids.dedup();
    assert_eq!(incident_ids.len(), 1, "{incident_ids:?}");
    let all = store
        .list_incidents(&IncidentFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.incidents.len(), 1);
    ingestor.stop().await;

    // Once the storm stops for longer than the window, a new alert is a
    // new outage: the repeats no longer hold the group open.
    clock.set(t(39 * 60 + 301));
    let later = ingest_once(
        &store,
        &rules(),
        t(39 * 60 + 301),
        &request(vec![trigger("next-day")]),
    )
    .await
    .unwrap();
    assert_ne!(later[0].incident_id.as_ref(), incident_ids.first());
}

async fn a_merge_moves_alerts_timeline_and_pages_and_links_both_ways<S: Store>(store: S) {
    let pb = playbook("", "http://127.0.0.1:9");
    let s = setup(store, pb.clone()).await;
    let rules = warroom_engine::IngestRules::new(Arc::new(pb));
    let disk = |key: &str| signal(AlertAction::Trigger, Some(key), "Disk full", "critical");
    // An alert opens the duplicate and pages alice.
    let opened = ingest_once(&s.store, &rules, mins(0), &request(vec![disk("disk")]))
        .await
        .unwrap();
    let duplicate = opened[0].incident_id.clone().unwrap();
    assert_eq!(s.at(0).await, 1);
    assert_eq!(s.paged(&duplicate).await, ["alice"]);
    // Someone already declared the outage by hand, and is working it.
    s.clock.set(mins(1));
    let (survivor, _) = s
        .incidents
        .declare(
            "bob",
            Declaration {
                title: "Database outage".into(),
                severity: "SEV-2".into(),
                status: Some(Status::Investigating),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let survivor = survivor.id;
    let moved_events = s.timeline(&duplicate).await;
    let survivor_before = s.timeline(&survivor).await;

    s.clock.set(mins(2));
    let merged = s
        .incidents
        .merge(&duplicate, &survivor, "bob")
        .await
        .unwrap();
    assert_eq!(merged.duplicate.status, Status::Closed);
    assert_eq!(merged.survivor.status, Status::Investigating);

    // Alerts moved.
    let alerts_of = |id: &str| AlertFilter {
        incident_id: Some(id.to_owned()),
        limit: 10,
        ..Default::default()
    };
    let moved = s.store.list_alerts(&alerts_of(&survivor)).await.unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].dedup_key, "disk");
    assert!(s
        .store
        .list_alerts(&alerts_of(&duplicate))
        .await
        .unwrap()
        .is_empty());

    // The timeline was copied, in order and numbered after the survivor's
    // own, then the link to where it came from.
    let timeline = s.timeline(&survivor).await;
    let seqs: Vec<i64> = timeline.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    let kinds = |events: &[warroom_domain::TimelineEvent]| -> Vec<EventKind> {
        events.iter().map(|e| e.kind.clone()).collect()
    };
    let mut want = kinds(&survivor_before);
    want.extend(kinds(&moved_events));
    want.push(EventKind::MergedFrom {
        from: duplicate.clone(),
        title: "Disk full".into(),
        alerts: 1,
        events: moved_events.len() as u64,
        messages: 1,
    });
    assert_eq!(kinds(&timeline), want);
    assert!(moved_events.iter().any(|e| e.kind.name() == "page_queued"));

    // The duplicate closed, keeping its history, linking to the survivor.
    let left = s.timeline(&duplicate).await;
    assert_eq!(left[..moved_events.len()], moved_events[..]);
    assert_eq!(
        kinds(&left[moved_events.len()..]),
        [
            EventKind::StatusChanged {
                from: Status::Triggered,
                to: Status::Closed,
                message: Some(format!("duplicate of {survivor}")),
            },
            EventKind::MergedInto {
                into: survivor.clone()
            },
        ]
    );
    assert_eq!(
        s.store.get_incident(&duplicate).await.unwrap().status,
        Status::Closed
    );

    // Pages moved: the message and, since the survivor paged nobody, the
    // escalation with its next step.
    assert_eq!(s.paged(&survivor).await, ["alice"]);
    assert!(s.paged(&duplicate).await.is_empty());
    assert!(s.store.get_escalation(&duplicate).await.unwrap().is_none());
    assert!(s.store.get_escalation(&survivor).await.unwrap().is_some());
    let escalation_jobs = |jobs: Vec<warroom_store::JobRecord>| -> Vec<_> {
        jobs.into_iter()
            .filter(|j| j.kind != warroom_store::JobKind::UpdateDue)
            .map(|j| (j.kind, j.position))
            .collect()
    };
    let jobs = escalation_jobs(s.paging.pending_jobs(&survivor).await.unwrap());
    assert!(
        jobs.contains(&(warroom_store::JobKind::Step, 1)),
        "{jobs:?}"
    );
    assert_eq!(
        escalation_jobs(s.paging.pending_jobs(&duplicate).await.unwrap()),
        []
    );

    // The outage goes on: a repeat and a new alert land on the survivor.
    let later = ingest_once(
        &s.store,
        &rules,
        mins(3),
        &request(vec![disk("disk"), disk("disk-2")]),
    )
    .await
    .unwrap();
    assert_eq!(later[0].outcome, Outcome::Deduplicated);
    assert_eq!(later[1].outcome, Outcome::Created);
    for r in &later {
        assert_eq!(r.incident_id.as_ref(), Some(&survivor), "{r:?}");
    }
}

async fn merges_into_itself_a_closed_or_a_missing_incident_are_refused<S: Store>(store: S) {
    let s = setup(store, playbook("", "http://127.0.0.1:9")).await;
    let declare = |title: &str| Declaration {
        title: title.into(),
        severity: "SEV-3".into(),
        status: Some(Status::Investigating),
        ..Default::default()
    };
    let (a, _) = s.incidents.declare("ann", declare("A")).await.unwrap();
    let (b, _) = s.incidents.declare("ann", declare("B")).await.unwrap();
    let (c, _) = s.incidents.declare("ann", declare("C")).await.unwrap();
    let before = s.timeline(&a.id).await;

    let err = s.incidents.merge(&a.id, &a.id, "ann").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Rejected(DomainError::Invalid { field, .. }) if field == "into"),
        "{err:?}"
    );
    let err = s
        .incidents
        .merge(&a.id, "INC-1999-0001", "ann")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let err = s
        .incidents
        .merge("INC-1999-0001", &a.id, "ann")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");

    s.incidents.merge(&b.id, &c.id, "ann").await.unwrap();
    // B is closed now: nothing merges into it, and it merges no more.
    let err = s.incidents.merge(&a.id, &b.id, "ann").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Rejected(DomainError::Conflict(m)) if m.contains("closed")),
        "{err:?}"
    );
    let err = s.incidents.merge(&b.id, &a.id, "ann").await.unwrap_err();
    assert!(
        matches!(err, StoreError::Rejected(DomainError::Conflict(_))),
        "{err:?}"
    );
    // Refusals changed nothing.
    assert_eq!(s.timeline(&a.id).await, before);
    assert_eq!(
        s.store.get_incident(&a.id).await.unwrap().status,
        Status::Investigating
    );
}
