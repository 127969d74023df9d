//! Unit tests of the incident rules, on a small hand-built playbook.

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::id_format::IdFormat;
use crate::playbook::{Category, PhaseDef, RoleDef, ServiceDef, SeverityLevel};

fn playbook() -> Playbook {
    let sev = |name: &str| SeverityLevel {
        name: name.into(),
        label: name.into(),
        description: String::new(),
        response_target: None,
        resolution_target: None,
        update_every: None,
        escalate_every: None,
        bridge: Default::default(),
        notify: vec![],
        urgency: Default::default(),
    };
    Playbook {
        incident_id_format: IdFormat::default_format(),
        severities: vec![sev("SEV-0"), sev("SEV-1"), sev("SEV-2")],
        categories: vec![Category {
            name: "Database".into(),
            description: String::new(),
        }],
        roles: vec![RoleDef {
            name: "Incident Commander".into(),
            description: String::new(),
        }],
        services: vec![ServiceDef {
            id: "api".into(),
            name: "API".into(),
            description: String::new(),
            when_alerts_resolve: Default::default(),
            escalation_policy: None,
            links: Vec::new(),
        }],
        phases: vec![PhaseDef {
            id: "detection".into(),
            name: "Detection".into(),
            target: None,
            items: vec!["Confirm it".into(), "Note start time".into()],
        }],
        alerting: Default::default(),
        oncall: Default::default(),
        notifications: Default::default(),
    }
}

fn t(mins: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap() + SignedDuration::from_mins(mins)
}

fn declared() -> Incident {
    let pb = playbook();
    let decl = Declaration {
        title: "  Database connection failures ".into(),
        severity: "sev-1".into(),
        services: vec!["API".into()],
        ..Default::default()
    }
    .validate(&pb, t(0))
    .unwrap();
    Incident::open(&pb, decl, "INC-2027-0001".into(), 1, "alice", t(0)).0
}

#[test]
fn declaration_normalizes_names_to_the_playbook() {
    let inc = declared();
    assert_eq!(inc.title, "Database connection failures");
    assert_eq!(inc.severity, "SEV-1");
    assert_eq!(inc.services, vec!["api"]);
    assert_eq!(inc.status, Status::Triggered);
    assert_eq!(inc.detected_at, t(0));
    assert_eq!(inc.checklist[0].items.len(), 2);
}

#[test]
fn declaration_errors_name_the_field() {
    let pb = playbook();
    let bad = |d: Declaration| d.validate(&pb, t(0)).unwrap_err();
    let base = Declaration {
        title: "x".into(),
        severity: "SEV-1".into(),
        ..Default::default()
    };
    let field = |e: DomainError| match e {
        DomainError::Invalid { field, .. } => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(bad(Declaration {
            title: " ".into(),
            ..base.clone()
        })),
        "title"
    );
    assert_eq!(
        field(bad(Declaration {
            severity: "SEV-9".into(),
            ..base.clone()
        })),
        "severity"
    );
    assert_eq!(
        field(bad(Declaration {
            services: vec!["api".into(), "nope".into()],
            ..base.clone()
        })),
        "services[1]"
    );
    assert_eq!(
        field(bad(Declaration {
            status: Some(Status::Closed),
            ..base.clone()
        })),
        "status"
    );
    assert_eq!(
        field(bad(Declaration {
            users_affected: Some(-1),
            ..base.clone()
        })),
        "users_affected"
    );
    assert_eq!(
        field(bad(Declaration {
            detected_at: Some(t(60)),
            ..base.clone()
        })),
        "detected_at"
    );
}

#[test]
fn the_first_acknowledgement_survives_a_retrigger_but_not_a_reopen() {
    let mut inc = declared();
    inc.acknowledge("bob", t(4)).unwrap();
    // The acknowledgement timed out: paging starts again, but the response
    // happened at t(4).
    inc.change_status(Status::Triggered, None, "engine", t(30))
        .unwrap();
    assert_eq!(inc.acknowledged_at, Some(t(4)));
    inc.acknowledge("carol", t(32)).unwrap();
    assert_eq!(inc.acknowledged_at, Some(t(4)));
    inc.resolve(None, "carol", t(40)).unwrap();
    inc.reopen(Some(Status::Triggered), None, "carol", t(50))
        .unwrap();
    assert_eq!(inc.acknowledged_at, None);
}

#[test]
fn status_changes_keep_mttx_timestamps() {
    let mut inc = declared();
    inc.acknowledge("bob", t(2)).unwrap();
    assert_eq!(inc.acknowledged_at, Some(t(2)));
    inc.change_status(Status::Monitoring, None, "bob", t(10))
        .unwrap();
    assert_eq!(inc.mitigated_at, Some(t(10)));
    // The fix did not hold.
    inc.change_status(Status::Investigating, None, "bob", t(12))
        .unwrap();
    assert_eq!(inc.mitigated_at, None);
    assert_eq!(inc.acknowledged_at, Some(t(2)));
    inc.resolve(Some("rolled back".into()), "bob", t(20))
        .unwrap();
    assert_eq!(inc.mitigated_at, Some(t(20)));
    assert_eq!(inc.resolved_at, Some(t(20)));
    inc.reopen(None, None, "bob", t(25)).unwrap();
    assert_eq!(inc.status, Status::Investigating);
    assert_eq!(inc.resolved_at, None);
    inc.resolve(None, "bob", t(30)).unwrap();
    inc.close("bob", t(40)).unwrap();
    assert_eq!(inc.closed_at, Some(t(40)));
}

#[test]
fn illegal_transitions_are_typed_and_change_nothing() {
    let mut inc = declared();
    let before = inc.clone();
    let err = inc.close("bob", t(1)).unwrap_err();
    assert!(matches!(err, DomainError::IllegalTransition { .. }));
    assert!(
        err.to_string()
            .contains("resolve the incident before closing it"),
        "{err}"
    );
    assert_eq!(inc, before);
    inc.change_status(Status::Investigating, None, "bob", t(1))
        .unwrap();
    let err = inc.acknowledge("bob", t(2)).unwrap_err();
    assert!(err.to_string().contains("already being worked on"), "{err}");
    let err = inc.reopen(None, None, "bob", t(2)).unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)));
}

#[test]
fn closed_is_final_but_takes_notes() {
    let mut inc = declared();
    let pb = playbook();
    inc.resolve(None, "a", t(1)).unwrap();
    inc.close("a", t(2)).unwrap();
    assert!(inc.reopen(None, None, "a", t(3)).is_err());
    assert!(inc.change_severity(&pb, "SEV-0", None, "a", t(3)).is_err());
    assert!(inc
        .assign_role(&pb, "incident commander", "a", "a", t(3))
        .is_err());
    assert_eq!(inc.add_note("lessons", "a", t(3)).unwrap().len(), 1);
}

#[test]
fn severity_change_records_direction() {
    let pb = playbook();
    let mut inc = declared();
    let ev = inc
        .change_severity(&pb, "sev-0", Some("all users".into()), "a", t(1))
        .unwrap();
    assert!(matches!(
        &ev[0].kind,
        EventKind::SeverityChanged { from, to, direction: SeverityDirection::Raised, .. } if from == "SEV-1" && to == "SEV-0"
    ));
    assert!(inc.change_severity(&pb, "SEV-0", None, "a", t(2)).is_err());
    let ev = inc.change_severity(&pb, "SEV-2", None, "a", t(3)).unwrap();
    assert!(matches!(
        &ev[0].kind,
        EventKind::SeverityChanged {
            direction: SeverityDirection::Lowered,
            ..
        }
    ));
}

#[test]
fn roles_hand_off() {
    let pb = playbook();
    let mut inc = declared();
    let ev = inc
        .assign_role(&pb, "incident commander", "alice", "alice", t(1))
        .unwrap();
    assert!(
        matches!(&ev[0].kind, EventKind::RoleAssigned { role, .. } if role == "Incident Commander")
    );
    assert!(inc
        .assign_role(&pb, "Incident Commander", "alice", "alice", t(2))
        .is_err());
    let ev = inc
        .assign_role(&pb, "Incident Commander", "bob", "alice", t(3))
        .unwrap();
    assert!(
        matches!(&ev[0].kind, EventKind::RoleHandedOff { from, to, .. } if from == "alice" && to == "bob")
    );
    assert_eq!(inc.roles["Incident Commander"].assignee, "bob");
    assert!(inc
        .assign_role(&pb, "Janitor", "bob", "alice", t(3))
        .is_err());
    inc.unassign_role(&pb, "Incident Commander", "bob", t(4))
        .unwrap();
    assert!(inc
        .unassign_role(&pb, "Incident Commander", "bob", t(5))
        .is_err());
}

#[test]
fn checklist_items_tick_and_untick() {
    let mut inc = declared();
    assert_eq!(
        inc.set_checklist_item("detection", 2, true, "a", t(1))
            .unwrap()
            .len(),
        1
    );
    assert!(inc.checklist[0].items[1].is_done());
    // Ticking twice is harmless and silent.
    assert!(inc
        .set_checklist_item("detection", 2, true, "a", t(2))
        .unwrap()
        .is_empty());
    assert_eq!(
        inc.set_checklist_item("Detection", 2, false, "a", t(3))
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        inc.set_checklist_item("detection", 3, true, "a", t(3)),
        Err(DomainError::Invalid { field, .. }) if field == "item"
    ));
    assert!(matches!(
        inc.set_checklist_item("detection", 0, true, "a", t(3)),
        Err(DomainError::Invalid { field, .. }) if field == "item"
    ));
    assert!(matches!(
        inc.set_checklist_item("nope", 1, true, "a", t(3)),
        Err(DomainError::Invalid { field, .. }) if field == "phase"
    ));
}

#[test]
fn details_patch_validates_everything_before_changing_anything() {
    let pb = playbook();
    let mut inc = declared();
    let before = inc.clone();
    let err = inc
        .update_details(
            &pb,
            DetailsPatch {
                title: Some("New title".into()),
                category: Some(Some("Nope".into())),
                ..Default::default()
            },
            "a",
            t(1),
        )
        .unwrap_err();
    assert!(matches!(err, DomainError::Invalid { ref field, .. } if field == "category"));
    assert_eq!(inc, before);
    let ev = inc
        .update_details(
            &pb,
            DetailsPatch {
                title: Some("New title".into()),
                summary: Some(before.summary.clone()),
                customer_facing: Some(true),
                users_affected: Some(Some(1200)),
                ..Default::default()
            },
            "a",
            t(1),
        )
        .unwrap();
    assert_eq!(ev.len(), 3, "unchanged summary makes no event: {ev:?}");
    assert_eq!(inc.users_affected, Some(1200));
}

#[test]
fn control_characters_are_refused() {
    let mut inc = declared();
    assert!(inc.add_note("bell \u{7}", "a", t(1)).is_err());
    assert!(inc.add_note("two\nlines", "a", t(1)).is_ok());
}

mod properties {
    //! Whatever sequence of changes responders make, the MTTx timestamps stay
    //! consistent with the status, and a refused change leaves the incident as it was.

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Status(Status),
        Ack,
        Resolve,
        Close,
        Reopen(Option<Status>),
        Severity(&'static str),
        Note,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            proptest::sample::select(Status::ALL.to_vec()).prop_map(Op::Status),
            Just(Op::Ack),
            Just(Op::Resolve),
            Just(Op::Close),
            proptest::option::of(proptest::sample::select(Status::ALL.to_vec()))
                .prop_map(Op::Reopen),
            proptest::sample::select(vec!["SEV-0", "SEV-1", "SEV-2", "SEV-9"])
                .prop_map(Op::Severity),
            Just(Op::Note),
        ]
    }

    proptest! {
        #[test]
        fn timestamps_follow_the_status(ops in proptest::collection::vec(op(), 0..40)) {
            let pb = playbook();
            let mut inc = declared();
            for (n, op) in ops.into_iter().enumerate() {
                let now = t(n as i64 + 1);
                let before = inc.clone();
                let result = match op {
                    Op::Status(s) => inc.change_status(s, None, "p", now),
                    Op::Ack => inc.acknowledge("p", now),
                    Op::Resolve => inc.resolve(None, "p", now),
                    Op::Close => inc.close("p", now),
                    Op::Reopen(s) => inc.reopen(s, None, "p", now),
                    Op::Severity(s) => inc.change_severity(&pb, s, None, "p", now),
                    Op::Note => inc.add_note("n", "p", now),
                };
                match result {
                    Ok(events) => prop_assert!(!events.is_empty()),
                    Err(_) => prop_assert_eq!(&inc, &before),
                }
                use Status::*;
                match inc.status {
                    // Re-triggered while open keeps the first acknowledgement;
                    // reopened after resolving starts without one.
                    Triggered if before.status.is_open() => prop_assert!(
                        inc.acknowledged_at.is_none() || inc.acknowledged_at == before.acknowledged_at
                    ),
                    Triggered => prop_assert!(inc.acknowledged_at.is_none()),
                    Acknowledged | Investigating | Identified | Monitoring => {
                        prop_assert!(inc.acknowledged_at.is_some())
                    }
                    // Resolving straight from triggered leaves no acknowledgement.
                    Resolved | Closed => {}
                }
                prop_assert_eq!(inc.resolved_at.is_some(), matches!(inc.status, Resolved | Closed));
                prop_assert_eq!(inc.closed_at.is_some(), inc.status == Closed);
                if matches!(inc.status, Monitoring | Resolved | Closed) {
                    prop_assert!(inc.mitigated_at.is_some());
                }
                if let (Some(m), Some(r)) = (inc.mitigated_at, inc.resolved_at) {
                    prop_assert!(m <= r);
                }
                prop_assert!(pb.severity(&inc.severity).is_some());
            }
        }
    }
}
