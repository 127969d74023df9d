//! Incidents: declaring, numbering, changes and their events, listing.

use warroom_domain::{Declaration, DomainError, EventKind, Incident, Playbook, Status};
use warroom_store::{on_both_backends, IncidentFilter, Store, StoreError};

use crate::helpers::{at, decl, declare};

on_both_backends!(
    declare_then_get_round_trips,
    concurrent_declares_get_consecutive_numbers,
    scopes_number_independently,
    changes_append_events_in_order,
    a_refused_change_writes_nothing,
    unknown_ids_are_not_found,
    list_filters_and_pages,
);

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
