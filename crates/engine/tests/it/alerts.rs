//! The alert path against real stores, with a manual clock: dedup,
//! PagerDuty's documented dedup_key semantics, silences, grouping, storms.

use warroom_domain::alert::{AlertAction, AlertStatus};
use warroom_domain::timeline::MAX_ALERTS_PER_EVENT;
use warroom_domain::{EventKind, Status, TimelineEvent};
use warroom_engine::ingest::{ingest_once, Outcome};
use warroom_store::on_both_backends;
use warroom_store::{AlertFilter, IncidentFilter, SilenceRecord, Store};

use crate::helpers::{request, rules, send, signal, storm_batch, t};

on_both_backends!(
    pagerduty_dedup_key_semantics,
    repeats_bump_the_counter_and_raise_nothing,
    silenced_alerts_are_stored_but_page_nobody,
    a_group_collects_alerts_within_its_window,
    a_worse_alert_raises_the_incident_severity,
    a_storm_becomes_one_incident_and_keeps_every_alert,
    alerts_that_change_together_share_a_timeline_event,
    api_v2_alerts_expire_when_no_longer_sent,
    an_expiring_storm_resolves_its_incident_with_the_last_alert,
    a_firing_source_inhibits_its_targets,
    alerts_past_the_cap_fold_into_a_storm_alert,
    a_catch_all_key_routes_by_labels,
    muted_alerts_page_when_nothing_mutes_them_any_more,
);

async fn incidents<S: Store>(store: &S) -> Vec<warroom_domain::Incident> {
    store
        .list_incidents(&IncidentFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .incidents
}

async fn pagerduty_dedup_key_semantics<S: Store>(store: S) {
    use AlertAction::*;
    // A trigger without a key gets one generated and returned.
    let generated = send(&store, t(0), signal(Trigger, None, "CPU hot", "warning")).await;
    assert_eq!(generated.outcome, Outcome::Created);
    assert_eq!(generated.dedup_key.len(), 32);

    let first = send(
        &store,
        t(1),
        signal(Trigger, Some("disk"), "Disk full", "critical"),
    )
    .await;
    assert_eq!(first.outcome, Outcome::Created);
    let repeat = send(
        &store,
        t(2),
        signal(Trigger, Some("disk"), "Disk full", "critical"),
    )
    .await;
    assert_eq!(repeat.outcome, Outcome::Deduplicated);
    assert_eq!(repeat.alert_id, first.alert_id);
    assert_eq!(repeat.incident_id, first.incident_id);
    let incident_id = first.incident_id.clone().unwrap();

    let ack = send(
        &store,
        t(3),
        signal(Acknowledge, Some("disk"), "", "critical"),
    )
    .await;
    assert_eq!(ack.outcome, Outcome::Acknowledged);
    let incident = store.get_incident(&incident_id).await.unwrap();
    assert_eq!(incident.status, Status::Acknowledged);

    // Unknown keys: accepted and ignored.
    let unknown = send(&store, t(4), signal(Resolve, Some("nope"), "", "info")).await;
    assert_eq!(unknown.outcome, Outcome::Ignored);
    let unknown = send(&store, t(4), signal(Acknowledge, Some("nope"), "", "info")).await;
    assert_eq!(unknown.outcome, Outcome::Ignored);

    // Resolve the two alerts of the incident: it resolves itself.
    send(
        &store,
        t(5),
        signal(Resolve, Some(&generated.dedup_key), "", "info"),
    )
    .await;
    let resolved = send(&store, t(6), signal(Resolve, Some("disk"), "", "critical")).await;
    assert_eq!(resolved.outcome, Outcome::Resolved);
    let incident = store.get_incident(&incident_id).await.unwrap();
    assert_eq!(incident.status, Status::Resolved);
    assert_eq!(incident.resolved_at, Some(t(6)));

    // Trigger after resolve: a new alert, and (the incident being resolved) a new incident.
    let again = send(
        &store,
        t(7),
        signal(Trigger, Some("disk"), "Disk full", "critical"),
    )
    .await;
    assert_eq!(again.outcome, Outcome::Created);
    assert_ne!(again.alert_id, first.alert_id);
    assert_ne!(again.incident_id, first.incident_id);

    let timeline = store.timeline(&incident_id, 0, 100).await.unwrap();
    let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "declared",
            "alert_triggered",
            // The worse alert raises the severity as it joins.
            "severity_changed",
            "alert_triggered",
            "alert_acknowledged",
            "status_changed",
            "alert_resolved",
            "alert_resolved",
            "status_changed"
        ]
    );
    assert!(timeline.iter().all(|e| e.actor == "integration:test"));
}

async fn repeats_bump_the_counter_and_raise_nothing<S: Store>(store: S) {
    for i in 0..5 {
        send(
            &store,
            t(i),
            signal(AlertAction::Trigger, Some("k"), "Latency high", "error"),
        )
        .await;
    }
    let alerts = store
        .list_alerts(&AlertFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].event_count, 5);
    assert_eq!(alerts[0].first_seen_at, t(0));
    assert_eq!(alerts[0].last_seen_at, t(4));
    assert_eq!(incidents(&store).await.len(), 1);
    let id = alerts[0].incident_id.clone().unwrap();
    // One alert_triggered on the timeline, not five.
    assert_eq!(store.timeline(&id, 0, 100).await.unwrap().len(), 2);
}

async fn silenced_alerts_are_stored_but_page_nobody<S: Store>(store: S) {
    let matchers = warroom_domain::alerting::parse_matchers(r#"alertname="Disk full""#).unwrap();
    store
        .insert_silence(&SilenceRecord {
            id: "sil_1".into(),
            matchers: serde_json::to_value(&matchers).unwrap(),
            starts_at: t(0),
            ends_at: t(3600),
            created_by: "alice".into(),
            comment: "migration".into(),
            created_at: t(0),
        })
        .await
        .unwrap();
    let muted = send(
        &store,
        t(10),
        signal(AlertAction::Trigger, Some("a"), "Disk full", "critical"),
    )
    .await;
    assert_eq!(muted.outcome, Outcome::Suppressed);
    assert_eq!(muted.incident_id, None);
    assert!(incidents(&store).await.is_empty());
    let suppressed = store
        .list_alerts(&AlertFilter {
            status: Some(AlertStatus::Firing),
            suppressed: Some(true),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(
        suppressed[0].suppressed_by.as_deref(),
        Some("silence:sil_1")
    );
    // Other alerts still page; and after the silence ends, new ones do too.
    let other = send(
        &store,
        t(11),
        signal(AlertAction::Trigger, Some("b"), "CPU hot", "critical"),
    )
    .await;
    assert_eq!(other.outcome, Outcome::Created);
    let later = send(
        &store,
        t(3601),
        signal(AlertAction::Trigger, Some("c"), "Disk full", "critical"),
    )
    .await;
    assert_eq!(later.outcome, Outcome::Created);
}

async fn a_group_collects_alerts_within_its_window<S: Store>(store: S) {
    let a = send(
        &store,
        t(0),
        signal(AlertAction::Trigger, Some("a"), "A", "error"),
    )
    .await;
    let b = send(
        &store,
        t(240),
        signal(AlertAction::Trigger, Some("b"), "B", "error"),
    )
    .await;
    // The window slides: 4 more minutes after the last alert still groups.
    let c = send(
        &store,
        t(480),
        signal(AlertAction::Trigger, Some("c"), "C", "error"),
    )
    .await;
    assert_eq!(a.incident_id, b.incident_id);
    assert_eq!(b.incident_id, c.incident_id);
    // Quiet for longer than the window: a new incident.
    let d = send(
        &store,
        t(480 + 301),
        signal(AlertAction::Trigger, Some("d"), "D", "error"),
    )
    .await;
    assert_ne!(d.incident_id, c.incident_id);
}

async fn a_worse_alert_raises_the_incident_severity<S: Store>(store: S) {
    let a = send(
        &store,
        t(0),
        signal(AlertAction::Trigger, Some("a"), "A", "warning"),
    )
    .await;
    let id = a.incident_id.unwrap();
    assert_eq!(store.get_incident(&id).await.unwrap().severity, "SEV-3");
    send(
        &store,
        t(1),
        signal(AlertAction::Trigger, Some("b"), "B", "critical"),
    )
    .await;
    assert_eq!(store.get_incident(&id).await.unwrap().severity, "SEV-1");
    // A milder one does not lower it.
    send(
        &store,
        t(2),
        signal(AlertAction::Trigger, Some("c"), "C", "info"),
    )
    .await;
    assert_eq!(store.get_incident(&id).await.unwrap().severity, "SEV-1");
}

async fn a_storm_becomes_one_incident_and_keeps_every_alert<S: Store>(store: S) {
    let rules = rules();
    for batch in 0..20 {
        let signals = storm_batch("storm", batch, "pagerduty");
        ingest_once(&store, &rules, t(batch), &request(signals))
            .await
            .unwrap();
    }
    assert_eq!(incidents(&store).await.len(), 1);
    let mut count = 0;
    let mut before = None;
    loop {
        let page = store
            .list_alerts(&AlertFilter {
                limit: 500,
                before_id: before,
                ..Default::default()
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        count += page.len();
        before = page.last().map(|a| a.id);
    }
    assert_eq!(count, 2000);
    // On the timeline, each batch's alerts share one event, and every
    // alert is listed exactly once.
    let incident = &incidents(&store).await[0];
    let timeline = store.timeline(&incident.id, 0, 1000).await.unwrap();
    let triggered = triggered_keys(&timeline);
    assert_eq!(triggered.len(), 20);
    let mut keys: Vec<&String> = triggered.iter().flatten().collect();
    assert_eq!(keys.len(), 2000);
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 2000);
}

/// The dedup keys each `alert_triggered` event lists, event by event.
fn triggered_keys(timeline: &[TimelineEvent]) -> Vec<Vec<String>> {
    timeline
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AlertTriggered(list) => {
                Some(list.alerts.iter().map(|a| a.dedup_key.clone()).collect())
            }
            _ => None,
        })
        .collect()
}

async fn alerts_that_change_together_share_a_timeline_event<S: Store>(store: S) {
    let rules = rules();
    // 150 alerts in one request: two events, 100 and 50, in the order sent.
    let signals = storm_batch("a", 0, "pagerduty")
        .into_iter()
        .chain(storm_batch("b", 0, "pagerduty").into_iter().take(50))
        .collect();
    let results = ingest_once(&store, &rules, t(0), &request(signals))
        .await
        .unwrap();
    let incident_id = results[0].incident_id.clone().unwrap();
    let timeline = store.timeline(&incident_id, 0, 100).await.unwrap();
    let triggered = triggered_keys(&timeline);
    assert_eq!(triggered.len(), 2);
    assert_eq!(triggered[0].len(), MAX_ALERTS_PER_EVENT);
    assert_eq!(triggered[0][0], "a-0-0");
    assert_eq!(triggered[0][99], "a-0-99");
    assert_eq!(triggered[1].len(), 50);
    assert_eq!(triggered[1][49], "b-0-49");

    // A worse alert raises the severity between the alerts around it: the
    // events keep that order.
    let signals = vec![
        signal(AlertAction::Trigger, Some("c1"), "C1", "error"),
        signal(AlertAction::Trigger, Some("c2"), "C2", "critical"),
        signal(AlertAction::Trigger, Some("c3"), "C3", "error"),
    ];
    ingest_once(&store, &rules, t(1), &request(signals))
        .await
        .unwrap();
    // Resolved together: one event. Acknowledged one by one: one each.
    let resolve = ["a-0-1", "a-0-2", "b-0-7"]
        .map(|key| signal(AlertAction::Resolve, Some(key), "", "error"))
        .to_vec();
    ingest_once(&store, &rules, t(2), &request(resolve))
        .await
        .unwrap();
    for (i, key) in ["c1", "c3"].into_iter().enumerate() {
        let ack = signal(AlertAction::Acknowledge, Some(key), "", "error");
        ingest_once(&store, &rules, t(3 + i as i64), &request(vec![ack]))
            .await
            .unwrap();
    }
    let timeline = store.timeline(&incident_id, 0, 100).await.unwrap();
    let from_t1: Vec<(&str, Vec<String>)> = timeline
        .iter()
        .filter(|e| e.at >= t(1))
        .map(|e| {
            let keys = match &e.kind {
                EventKind::AlertTriggered(l) => l.alerts.iter().map(|a| &a.dedup_key).collect(),
                EventKind::AlertResolved(l) => l.alerts.iter().map(|a| &a.dedup_key).collect(),
                EventKind::AlertAcknowledged(l) => l.alerts.iter().map(|a| &a.dedup_key).collect(),
                _ => Vec::new(),
            };
            (e.kind.name(), keys.into_iter().cloned().collect())
        })
        .collect();
    let keys = |list: &[&str]| list.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        from_t1,
        vec![
            ("alert_triggered", keys(&["c1"])),
            ("severity_changed", vec![]),
            ("alert_triggered", keys(&["c2", "c3"])),
            ("alert_resolved", keys(&["a-0-1", "a-0-2", "b-0-7"])),
            ("alert_acknowledged", keys(&["c1"])),
            ("status_changed", vec![]),
            ("alert_acknowledged", keys(&["c3"])),
        ]
    );
}

async fn api_v2_alerts_expire_when_no_longer_sent<S: Store>(store: S) {
    use warroom_engine::expiry::expire_once;
    let rules = rules();
    let mut with_end = signal(AlertAction::Trigger, Some("a"), "A", "error");
    with_end.origin = "prometheus".into();
    with_end.ends_at = Some(t(60));
    let mut without_end = signal(AlertAction::Trigger, Some("b"), "B", "error");
    without_end.origin = "prometheus".into();
    let a = send(&store, t(0), with_end.clone()).await;
    send(&store, t(0), without_end).await;
    assert_eq!(expire_once(&store, &rules, t(30)).await.unwrap(), 0);
    // Re-sent with a later endsAt: still firing past the first one.
    with_end.ends_at = Some(t(120));
    send(&store, t(50), with_end).await;
    assert_eq!(expire_once(&store, &rules, t(90)).await.unwrap(), 0);
    assert_eq!(expire_once(&store, &rules, t(121)).await.unwrap(), 1);
    let alert = store.get_alert(a.alert_id.unwrap()).await.unwrap();
    assert_eq!(alert.status, AlertStatus::Resolved);
    assert_eq!(alert.ends_at, Some(t(120)));
    // Without endsAt: resolve_timeout (5 minutes) after it was last seen.
    assert_eq!(expire_once(&store, &rules, t(300)).await.unwrap(), 0);
    assert_eq!(expire_once(&store, &rules, t(301)).await.unwrap(), 1);
    let incident = store.get_incident(&a.incident_id.unwrap()).await.unwrap();
    assert_eq!(incident.status, Status::Resolved);
}

/// Expiry resolves a storm in batches (`expiry::BATCH`, 500): the incident
/// stays open while any of its alerts still fires, and resolves with the last.
async fn an_expiring_storm_resolves_its_incident_with_the_last_alert<S: Store>(store: S) {
    use warroom_engine::expiry::expire_once;
    let rules = rules();
    for batch in 0..12 {
        let signals = storm_batch("expiring", batch, "prometheus");
        ingest_once(&store, &rules, t(batch), &request(signals))
            .await
            .unwrap();
    }
    let id = incidents(&store).await[0].id.clone();
    // resolve_timeout is 5 minutes after each alert was last seen.
    let after = t(11 + 300 + 1);
    assert_eq!(expire_once(&store, &rules, after).await.unwrap(), 500);
    assert_eq!(expire_once(&store, &rules, after).await.unwrap(), 500);
    assert!(store.get_incident(&id).await.unwrap().status.is_open());
    assert_eq!(expire_once(&store, &rules, after).await.unwrap(), 200);
    assert_eq!(expire_once(&store, &rules, after).await.unwrap(), 0);
    assert_eq!(
        store.get_incident(&id).await.unwrap().status,
        Status::Resolved
    );
}

async fn a_firing_source_inhibits_its_targets<S: Store>(store: S) {
    use warroom_domain::alerting::{parse_matchers, InhibitRule};
    let mut rules = rules();
    rules.inhibit_rules = vec![InhibitRule {
        source: parse_matchers(r#"severity="critical""#).unwrap(),
        target: parse_matchers(r#"severity=~"warning|info""#).unwrap(),
        equal: vec!["cluster".into()],
    }];
    let with = |key: &str, severity: &str, cluster: &str| {
        let mut s = signal(AlertAction::Trigger, Some(key), key, severity);
        s.labels.insert("severity".into(), severity.into());
        s.labels.insert("cluster".into(), cluster.into());
        request(vec![s])
    };
    let source = ingest_once(&store, &rules, t(0), &with("db-down", "critical", "eu"))
        .await
        .unwrap();
    assert_eq!(source[0].outcome, Outcome::Created);
    let target = ingest_once(&store, &rules, t(1), &with("slow", "warning", "eu"))
        .await
        .unwrap();
    assert_eq!(target[0].outcome, Outcome::Suppressed);
    let alert = store.get_alert(target[0].alert_id.unwrap()).await.unwrap();
    assert_eq!(alert.suppressed_by.as_deref(), Some("inhibited:rule 0"));
    // Another cluster is not inhibited (the `equal` label differs).
    let other = ingest_once(&store, &rules, t(2), &with("slow-us", "warning", "us"))
        .await
        .unwrap();
    assert_eq!(other[0].outcome, Outcome::Created);
}

async fn alerts_past_the_cap_fold_into_a_storm_alert<S: Store>(store: S) {
    let mut rules = rules();
    rules.max_open_alerts_per_service = 3;
    let signals = (0..5)
        .map(|i| {
            signal(
                AlertAction::Trigger,
                Some(&format!("k{i}")),
                &format!("A{i}"),
                "error",
            )
        })
        .collect();
    let results = ingest_once(&store, &rules, t(0), &request(signals))
        .await
        .unwrap();
    let outcomes: Vec<Outcome> = results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Created,
            Outcome::Created,
            Outcome::Created,
            Outcome::Folded,
            Outcome::Folded
        ]
    );
    let storm = store.get_alert(results[4].alert_id.unwrap()).await.unwrap();
    assert_eq!(storm.dedup_key, warroom_engine::ingest::STORM_KEY);
    assert_eq!(storm.event_count, 2);
    assert!(
        storm.summary.contains("2 alerts arrived past the cap of 3"),
        "{}",
        storm.summary
    );
    assert_eq!(storm.details["last_folded"]["dedup_key"], "k4");
    // Repeats of alerts already open still deduplicate, whatever the cap.
    let again = ingest_once(
        &store,
        &rules,
        t(1),
        &request(vec![signal(
            AlertAction::Trigger,
            Some("k0"),
            "A0",
            "error",
        )]),
    )
    .await
    .unwrap();
    assert_eq!(again[0].outcome, Outcome::Deduplicated);
}

async fn a_catch_all_key_routes_by_labels<S: Store>(store: S) {
    use warroom_domain::alerting::parse_matchers;
    use warroom_engine::ingest::Route;
    let mut db = signal(AlertAction::Trigger, Some("db"), "Replica lag", "error");
    db.labels.insert("team".into(), "dba".into());
    let other = signal(AlertAction::Trigger, Some("other"), "Something", "error");
    let mut req = request(vec![db, other]);
    req.source.routes = vec![Route {
        matchers: parse_matchers(r#"team="dba""#).unwrap(),
        service: "database".into(),
    }];
    let results = ingest_once(&store, &rules(), t(0), &req).await.unwrap();
    let db = store.get_alert(results[0].alert_id.unwrap()).await.unwrap();
    let other = store.get_alert(results[1].alert_id.unwrap()).await.unwrap();
    assert_eq!(db.service, "database");
    assert_eq!(other.service, "api");
    assert_ne!(
        results[0].incident_id, results[1].incident_id,
        "different services, different incidents"
    );
}

async fn muted_alerts_page_when_nothing_mutes_them_any_more<S: Store>(store: S) {
    use warroom_domain::alerting::{parse_matchers, InhibitRule};
    use warroom_engine::ingest::unsuppress_once;
    let matchers = parse_matchers(r#"alertname="Disk full""#).unwrap();
    store
        .insert_silence(&SilenceRecord {
            id: "sil_1".into(),
            matchers: serde_json::to_value(&matchers).unwrap(),
            starts_at: t(0),
            ends_at: t(100),
            created_by: "alice".into(),
            comment: "migration".into(),
            created_at: t(0),
        })
        .await
        .unwrap();
    let mut rules = rules();
    rules.inhibit_rules = vec![InhibitRule {
        source: parse_matchers(r#"alertname="Node down""#).unwrap(),
        target: parse_matchers(r#"alertname="Slow""#).unwrap(),
        equal: vec![],
    }];
    let muted = ingest_once(
        &store,
        &rules,
        t(10),
        &request(vec![signal(
            AlertAction::Trigger,
            Some("disk"),
            "Disk full",
            "error",
        )]),
    )
    .await
    .unwrap();
    assert_eq!(muted[0].outcome, Outcome::Suppressed);
    let source = ingest_once(
        &store,
        &rules,
        t(10),
        &request(vec![signal(
            AlertAction::Trigger,
            Some("node"),
            "Node down",
            "critical",
        )]),
    )
    .await
    .unwrap();
    let target = ingest_once(
        &store,
        &rules,
        t(11),
        &request(vec![signal(
            AlertAction::Trigger,
            Some("slow"),
            "Slow",
            "warning",
        )]),
    )
    .await
    .unwrap();
    assert_eq!(target[0].outcome, Outcome::Suppressed);

    assert_eq!(unsuppress_once(&store, &rules, t(50)).await.unwrap(), 0);
    // The inhibiting alert resolves: its target pages.
    ingest_once(
        &store,
        &rules,
        t(60),
        &request(vec![signal(
            AlertAction::Resolve,
            Some("node"),
            "",
            "critical",
        )]),
    )
    .await
    .unwrap();
    assert_eq!(unsuppress_once(&store, &rules, t(61)).await.unwrap(), 1);
    let slow = store.get_alert(target[0].alert_id.unwrap()).await.unwrap();
    assert_eq!(slow.suppressed_by, None);
    assert!(slow.incident_id.is_some());
    assert_ne!(
        slow.incident_id, source[0].incident_id,
        "the source's incident resolved with it"
    );
    // The silence ends: the disk alert pages.
    assert_eq!(unsuppress_once(&store, &rules, t(99)).await.unwrap(), 0);
    assert_eq!(unsuppress_once(&store, &rules, t(100)).await.unwrap(), 1);
    let disk = store.get_alert(muted[0].alert_id.unwrap()).await.unwrap();
    assert!(disk.incident_id.is_some());
    let timeline = store
        .timeline(disk.incident_id.as_ref().unwrap(), 0, 100)
        .await
        .unwrap();
    assert!(timeline
        .iter()
        .any(|e| e.kind.name() == "alert_triggered" && e.actor == "warroom"));
}
