//! The paging engine against real stores with a manual clock: escalation
//! steps, acknowledgement, resolution, acknowledgement timeout, severity
//! escalation, manual re-escalation, and delivery to a local webhook receiver.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use jiff::{SignedDuration, Timestamp};
use warroom_domain::{Declaration, EventKind, Playbook, Status, TimelineEvent};
use warroom_engine::delivery::{Delivery, HttpChannels};
use warroom_engine::paging::{AckLinks, Reassign};
use warroom_engine::{App, AppOptions, IncidentOp, Incidents, ManualClock, Paging};
use warroom_store::{on_both_backends, MessageState, Store};

on_both_backends!(
    a_three_step_policy_stops_at_the_acknowledgement,
    a_resolved_incident_pages_no_one_after,
    an_acknowledgement_lapses_after_the_timeout,
    an_unresolved_worst_severity_escalates_on_its_timer,
    manual_escalation_and_reassignment_page_at_once,
    pages_reach_a_webhook_and_failures_retry_then_die,
    a_page_is_cancelled_when_the_incident_is_acknowledged_first,
    an_incident_opened_by_alerts_pages_and_repeats_do_not,
    a_receiver_that_recovers_gets_the_page_once_and_a_dead_page_moves_on,
);

fn t0() -> Timestamp {
    "2026-11-25T14:00:00Z".parse().unwrap()
}

pub(crate) fn mins(m: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(m)
}

/// Alice is on call on `primary`; the policy pages it, then Bob, then Carol.
pub(crate) fn playbook(extra: &str, hook: &str) -> Playbook {
    let yaml = format!(
        r#"
oncall:
  users:
    - name: alice
      email: alice@example.com
      contact_methods:
        - {{id: hook, kind: webhook, address: "{hook}/alice"}}
    - name: bob
      email: bob@example.com
      contact_methods:
        - {{id: hook, kind: webhook, address: "{hook}/bob"}}
    - name: carol
      email: carol@example.com
      contact_methods:
        - {{id: hook, kind: webhook, address: "{hook}/carol"}}
        - {{id: phone, kind: sms, address: "+14155550100"}}
      notification_rules:
        - {{urgency: low, contact_method: hook, delay_minutes: 0}}
        - {{urgency: high, contact_method: phone, delay_minutes: 0}}
        - {{urgency: high, contact_method: hook, delay_minutes: 2}}
  schedules:
    - name: primary
      time_zone: America/New_York
      layers:
        - name: daily
          users: [alice]
          shift: {{days: 1}}
          start: 2026-01-01T09:00:00
  escalation_policies:
    - name: default
      steps:
        - delay_minutes: 5
          targets: [{{type: schedule, name: primary}}]
        - delay_minutes: 10
          targets: [{{type: user, name: bob}}]
        - delay_minutes: 10
          targets: [{{type: user, name: carol}}]
  default_escalation_policy: default
{extra}
"#
    );
    Playbook::parse("test.yaml", &yaml).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) struct Setup<S: Store> {
    pub(crate) store: S,
    pub(crate) clock: ManualClock,
    pub(crate) incidents: Incidents<S>,
    pub(crate) paging: Paging<S>,
}

pub(crate) async fn setup<S: Store>(store: S, playbook: Playbook) -> Setup<S> {
    let clock = ManualClock::new(t0());
    let playbook = Arc::new(playbook);
    let shared: Arc<dyn warroom_engine::Clock> = Arc::new(clock.clone());
    // Built as `warroom serve` builds it; the tests drive the workers'
    // rounds themselves, with the manual clock.
    let app = App::build(
        store.clone(),
        playbook,
        shared,
        AppOptions {
            public_url: Some("https://warroom.example.com".to_owned()),
            ack_links: Some(AckLinks::new(vec![7; 32])),
            channels: Arc::new(HttpChannels::new(None)),
        },
    );
    app.oncall.sync_playbook().await.unwrap();
    let (incidents, paging) = (app.incidents.clone(), app.paging.clone());
    Setup {
        store,
        clock,
        incidents,
        paging,
    }
}

impl<S: Store> Setup<S> {
    async fn declare(&self, severity: &str) -> String {
        let declaration = Declaration {
            title: "PBX down".into(),
            summary: "No calls".into(),
            severity: severity.into(),
            ..Default::default()
        };
        let (incident, _) = self.incidents.declare("tester", declaration).await.unwrap();
        incident.id
    }

    /// Sets the clock and runs the paging jobs due then.
    pub(crate) async fn at(&self, m: i64) -> usize {
        self.clock.set(mins(m));
        self.paging.run_once(mins(m)).await.unwrap()
    }

    /// Who was paged, in order (users of queued page messages).
    pub(crate) async fn paged(&self, id: &str) -> Vec<String> {
        let messages = self.store.list_messages(id).await.unwrap();
        messages
            .iter()
            .filter_map(|m| m.user_name.clone())
            .collect()
    }

    pub(crate) async fn timeline(&self, id: &str) -> Vec<TimelineEvent> {
        self.store.timeline(id, 0, 500).await.unwrap()
    }
}

fn steps(events: &[TimelineEvent]) -> Vec<(u32, Vec<String>)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::EscalationStep { step, paged, .. } => Some((*step, paged.clone())),
            _ => None,
        })
        .collect()
}

async fn a_three_step_policy_stops_at_the_acknowledgement<S: Store>(store: S) {
    let s = setup(store, playbook("", "http://127.0.0.1:9")).await;
    let id = s.declare("SEV-3").await;
    // Step 1 is due at once.
    assert_eq!(s.at(0).await, 1);
    assert_eq!(s.paged(&id).await, ["alice"]);
    // Nothing before step 1's delay has passed.
    assert_eq!(s.at(4).await, 0);
    assert_eq!(s.paged(&id).await, ["alice"]);
    // +5: not acknowledged, step 2.
    assert_eq!(s.at(5).await, 1);
    assert_eq!(s.paged(&id).await, ["alice", "bob"]);
    // +7: acknowledged.
    s.clock.set(mins(7));
    s.incidents
        .apply(&id, "bob", IncidentOp::Acknowledge)
        .await
        .unwrap();
    // +15, when step 3 was due, and long after: nobody else is paged.
    s.at(15).await;
    s.at(120).await;
    assert_eq!(s.paged(&id).await, ["alice", "bob"]);
    let timeline = s.timeline(&id).await;
    assert_eq!(
        steps(&timeline),
        [(1, vec!["alice".to_owned()]), (2, vec!["bob".to_owned()])]
    );
    let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "declared",
            "escalation_started",
            "escalation_step",
            "page_queued",
            "escalation_step",
            "page_queued",
            "status_changed",
        ]
    );
    let escalation = s.store.get_escalation(&id).await.unwrap().unwrap();
    assert_eq!(escalation.state.as_str(), "acknowledged");
    assert_eq!(escalation.position, 1);
    assert!(s.store.pending_jobs(&id).await.unwrap().is_empty());
}

async fn a_resolved_incident_pages_no_one_after<S: Store>(store: S) {
    let s = setup(store, playbook("", "http://127.0.0.1:9")).await;
    let id = s.declare("SEV-3").await;
    s.at(0).await;
    s.clock.set(mins(3));
    s.incidents
        .apply(&id, "alice", IncidentOp::Resolve { message: None })
        .await
        .unwrap();
    for m in [5, 15, 25, 60] {
        s.at(m).await;
    }
    assert_eq!(s.paged(&id).await, ["alice"]);
    assert!(s.store.pending_jobs(&id).await.unwrap().is_empty());
    // Reopening into triggered pages again from step 1, as a new generation.
    s.clock.set(mins(70));
    s.incidents
        .apply(
            &id,
            "alice",
            IncidentOp::Reopen {
                to: Some(Status::Triggered),
                message: None,
            },
        )
        .await
        .unwrap();
    s.at(70).await;
    assert_eq!(s.paged(&id).await, ["alice", "alice"]);
    let escalation = s.store.get_escalation(&id).await.unwrap().unwrap();
    assert_eq!(escalation.generation, 2);
}

async fn an_acknowledgement_lapses_after_the_timeout<S: Store>(store: S) {
    let s = setup(
        store,
        playbook("  acknowledge_timeout: 30m", "http://127.0.0.1:9"),
    )
    .await;
    let id = s.declare("SEV-3").await;
    s.at(0).await;
    s.clock.set(mins(2));
    s.incidents
        .apply(&id, "alice", IncidentOp::Acknowledge)
        .await
        .unwrap();
    assert_eq!(s.at(31).await, 1, "the step-2 job sees the ack and stops");
    assert_eq!(s.get_status(&id).await, Status::Acknowledged);
    // +32: the acknowledgement lapses; paging restarts from step 1.
    s.at(32).await;
    assert_eq!(s.get_status(&id).await, Status::Triggered);
    s.at(32).await;
    assert_eq!(s.paged(&id).await, ["alice", "alice"]);
    let lapsed = s
        .timeline(&id)
        .await
        .into_iter()
        .find_map(|e| match e.kind {
            EventKind::StatusChanged { message, .. } if e.actor == "warroom" => message,
            _ => None,
        })
        .unwrap();
    assert_eq!(lapsed, "acknowledgement timed out after 30m; paging again");
}

impl<S: Store> Setup<S> {
    async fn get_status(&self, id: &str) -> Status {
        self.store.get_incident(id).await.unwrap().status
    }
}

async fn an_unresolved_worst_severity_escalates_on_its_timer<S: Store>(store: S) {
    // SEV-0 escalates every 30 minutes while unresolved, acknowledged or not.
    let s = setup(store, playbook("", "http://127.0.0.1:9")).await;
    let id = s.declare("SEV-0").await;
    s.at(0).await;
    s.clock.set(mins(1));
    s.incidents
        .apply(&id, "alice", IncidentOp::Acknowledge)
        .await
        .unwrap();
    s.at(29).await;
    assert_eq!(s.paged(&id).await, ["alice"]);
    s.at(30).await;
    // Carol at high urgency: SMS at once and her webhook 2 minutes later.
    assert_eq!(s.paged(&id).await, ["alice", "bob"]);
    s.at(60).await;
    assert_eq!(s.paged(&id).await, ["alice", "bob", "carol", "carol"]);
    let carol: Vec<_> = s
        .store
        .list_messages(&id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.user_name.as_deref() == Some("carol"))
        .map(|m| (m.channel, m.run_at))
        .collect();
    assert_eq!(
        carol,
        [
            ("sms".to_owned(), mins(60)),
            ("webhook".to_owned(), mins(62))
        ]
    );
    let reasons: Vec<Option<String>> = s
        .timeline(&id)
        .await
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::EscalationStep { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [
            None,
            Some("SEV-0 unresolved for 30m".to_owned()),
            Some("SEV-0 unresolved for 1h".to_owned())
        ]
    );
}

async fn manual_escalation_and_reassignment_page_at_once<S: Store>(store: S) {
    let s = setup(store, playbook("", "http://127.0.0.1:9")).await;
    let id = s.declare("SEV-3").await;
    s.at(0).await;
    s.clock.set(mins(1));
    s.incidents
        .apply(&id, "alice", IncidentOp::Acknowledge)
        .await
        .unwrap();
    // Alice asks for help: the next step pages now and the incident is triggered again.
    s.paging.escalate(&id, "alice", None).await.unwrap();
    assert_eq!(s.paged(&id).await, ["alice", "bob"]);
    assert_eq!(s.get_status(&id).await, Status::Triggered);
    // The rest of the policy continues from there: step 3 at +1 +10.
    s.at(10).await;
    assert_eq!(s.paged(&id).await, ["alice", "bob"]);
    s.at(11).await;
    assert_eq!(s.paged(&id).await, ["alice", "bob", "carol"]);
    // Reassigning to Bob pages him alone and stops the policy.
    s.clock.set(mins(12));
    s.paging
        .reassign(
            &id,
            "carol",
            Reassign::Targets(vec![warroom_domain::oncall::Target::User {
                name: "bob".into(),
            }]),
        )
        .await
        .unwrap();
    assert_eq!(s.paged(&id).await, ["alice", "bob", "carol", "bob"]);
    s.at(200).await;
    assert_eq!(s.paged(&id).await, ["alice", "bob", "carol", "bob"]);
    // Escalating past the policy's steps is refused with the field named.
    let err = s.paging.escalate(&id, "alice", Some(9)).await.unwrap_err();
    assert!(err.to_string().contains("to_step"), "{err}");
}

/// A local webhook receiver: records each request, answers with `status`.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(String, HeaderMap, serde_json::Value)>>>,
    status: Arc<Mutex<u16>>,
}

async fn receiver() -> (Receiver, String) {
    let rx = Receiver {
        status: Arc::new(Mutex::new(200)),
        ..Default::default()
    };
    let state = rx.clone();
    let app = axum::Router::new().route(
        "/{who}",
        post(
            move |axum::extract::Path(who): axum::extract::Path<String>,
                  headers: HeaderMap,
                  body: String| {
                let state = state.clone();
                async move {
                    let json = serde_json::from_str(&body).unwrap_or_default();
                    state.seen.lock().unwrap().push((who, headers, json));
                    StatusCode::from_u16(*state.status.lock().unwrap()).unwrap()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (rx, url)
}

async fn pages_reach_a_webhook_and_failures_retry_then_die<S: Store>(store: S) {
    let (rx, url) = receiver().await;
    let s = setup(store, playbook("", &url)).await;
    let delivery = Delivery::new(
        s.store.clone(),
        Arc::new(HttpChannels::new(None)),
        Arc::new(s.clock.clone()),
        2,
    );
    let id = s.declare("SEV-3").await;
    s.at(0).await;
    assert_eq!(delivery.deliver_once(mins(0)).await.unwrap(), 1);
    {
        let seen = rx.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let (who, headers, body) = &seen[0];
        assert_eq!(who, "alice");
        assert_eq!(body["type"], "page");
        assert_eq!(body["incident"]["id"], id.as_str());
        assert_eq!(body["incident"]["severity"], "SEV-3");
        assert_eq!(body["user"], "alice");
        assert_eq!(body["urgency"], "low");
        let ack = body["acknowledge_url"].as_str().unwrap();
        assert!(ack.starts_with("https://warroom.example.com/ack/"), "{ack}");
        let token = ack.rsplit('/').next().unwrap();
        let claim = s.paging.links().verify(token, mins(1)).unwrap();
        assert_eq!(
            (claim.incident_id.as_str(), claim.user.as_str()),
            (id.as_str(), "alice")
        );
        assert_eq!(
            headers["idempotency-key"].to_str().unwrap(),
            format!("page:{id}:1:0:alice:hook")
        );
    }
    // Bob's receiver fails with a 503: retried with backoff, then dead after 2 attempts.
    *rx.status.lock().unwrap() = 503;
    s.at(5).await;
    delivery.deliver_once(mins(5)).await.unwrap();
    let bob = |messages: Vec<warroom_store::MessageRecord>| {
        messages
            .into_iter()
            .find(|m| m.user_name.as_deref() == Some("bob"))
            .unwrap()
    };
    let first = bob(s.store.list_messages(&id).await.unwrap());
    assert_eq!(first.state, MessageState::Failed);
    assert_eq!(first.attempts, 1);
    let retry = first.run_at.duration_since(mins(5)).as_secs();
    assert!((24..=36).contains(&retry), "first retry after {retry}s");
    assert_eq!(
        delivery.deliver_once(mins(5)).await.unwrap(),
        0,
        "not due yet"
    );
    delivery.deliver_once(first.run_at).await.unwrap();
    let last = bob(s.store.list_messages(&id).await.unwrap());
    assert_eq!(last.state, MessageState::Dead);
    assert_eq!(last.attempts, 2);
    assert!(last.last_error.unwrap().contains("503"));
    let outcomes: Vec<(String, bool)> = s
        .timeline(&id)
        .await
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::PageDelivered { user, .. } => Some((user, true)),
            EventKind::PageFailed { user, gave_up, .. } => Some((user, !gave_up)),
            _ => None,
        })
        .collect();
    // alice delivered; bob failed (will retry), then failed for good.
    assert_eq!(
        outcomes,
        [
            ("alice".to_owned(), true),
            ("bob".to_owned(), true),
            ("bob".to_owned(), false)
        ]
    );
    // A 4xx is permanent at once.
    *rx.status.lock().unwrap() = 410;
    s.at(15).await;
    delivery.deliver_once(mins(15)).await.unwrap();
    let carol = s
        .store
        .list_messages(&id)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.user_name.as_deref() == Some("carol"))
        .unwrap();
    assert_eq!((carol.state, carol.attempts), (MessageState::Dead, 1));
}

async fn a_page_is_cancelled_when_the_incident_is_acknowledged_first<S: Store>(store: S) {
    let (rx, url) = receiver().await;
    let s = setup(store, playbook("", &url)).await;
    let delivery = Delivery::new(
        s.store.clone(),
        Arc::new(HttpChannels::new(None)),
        Arc::new(s.clock.clone()),
        3,
    );
    let id = s.declare("SEV-3").await;
    s.at(0).await;
    s.incidents
        .apply(&id, "alice", IncidentOp::Acknowledge)
        .await
        .unwrap();
    delivery.deliver_once(mins(0)).await.unwrap();
    assert!(rx.seen.lock().unwrap().is_empty());
    let message = &s.store.list_messages(&id).await.unwrap()[0];
    assert_eq!(message.state, MessageState::Cancelled);
}

async fn an_incident_opened_by_alerts_pages_and_repeats_do_not<S: Store>(store: S) {
    use std::collections::BTreeMap;
    use warroom_domain::alert::{AlertAction, AlertSignal};
    use warroom_engine::ingest::{ingest_once, IngestRequest, IngestRules, IngestSource};

    let pb = playbook("", "http://127.0.0.1:9");
    let s = setup(store, pb.clone()).await;
    let rules = IngestRules::new(Arc::new(pb));
    let request = |key: &str| IngestRequest {
        source: IngestSource {
            integration_id: None,
            integration_name: "test".to_owned(),
            service: "api".to_owned(),
            severity_overrides: BTreeMap::new(),
            routes: Vec::new(),
            actor: None,
        },
        signals: vec![AlertSignal {
            action: AlertAction::Trigger,
            dedup_key: Some(key.to_owned()),
            summary: "Disk full".to_owned(),
            severity: Some("critical".to_owned()),
            source: "db-1".to_owned(),
            labels: BTreeMap::new(),
            details: serde_json::Map::new(),
            links: vec![],
            starts_at: None,
            ends_at: None,
            generator_url: None,
            group_key: None,
            origin: "pagerduty".to_owned(),
        }],
    };
    // A new alert opens an incident whose paging starts in the same transaction.
    let first = ingest_once(&s.store, &rules, mins(0), &request("disk"))
        .await
        .unwrap();
    let id = first[0].incident_id.clone().unwrap();
    let escalation = s.store.get_escalation(&id).await.unwrap().unwrap();
    assert_eq!(
        (escalation.policy.as_str(), escalation.urgency.as_str()),
        ("default", "high")
    );
    // Repeats and a second alert grouped into it start nothing new.
    ingest_once(&s.store, &rules, mins(1), &request("disk"))
        .await
        .unwrap();
    ingest_once(&s.store, &rules, mins(1), &request("cpu"))
        .await
        .unwrap();
    assert_eq!(
        s.store
            .get_escalation(&id)
            .await
            .unwrap()
            .unwrap()
            .generation,
        1
    );
    s.at(1).await;
    assert_eq!(s.paged(&id).await, ["alice"]);
}

async fn a_receiver_that_recovers_gets_the_page_once_and_a_dead_page_moves_on<S: Store>(store: S) {
    let (rx, url) = receiver().await;
    let s = setup(store, playbook("", &url)).await;
    let delivery = Delivery::new(
        s.store.clone(),
        Arc::new(HttpChannels::new(None)),
        Arc::new(s.clock.clone()),
        5,
    );
    let id = s.declare("SEV-3").await;
    s.at(0).await;
    // Alice's receiver fails three times, then recovers.
    *rx.status.lock().unwrap() = 503;
    let mut now = mins(0);
    for _ in 0..3 {
        delivery.deliver_once(now).await.unwrap();
        let page = s.store.list_messages(&id).await.unwrap().remove(0);
        assert_eq!(page.state, MessageState::Failed);
        now = page.run_at;
    }
    *rx.status.lock().unwrap() = 200;
    delivery.deliver_once(now).await.unwrap();
    delivery
        .deliver_once(now + SignedDuration::from_hours(1))
        .await
        .unwrap();
    let page = s.store.list_messages(&id).await.unwrap().remove(0);
    assert_eq!((page.state, page.attempts), (MessageState::Sent, 4));
    let received = rx
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, headers, _)| headers["idempotency-key"] == page.idempotency_key.as_str())
        .count();
    // Four requests reached the receiver; it answered 2xx once, and nothing came after.
    assert_eq!(received, 4);

    // Step 3 pages Carol (low urgency: her webhook). Her receiver is gone
    // (410): the page is dead, and her next verified method, SMS, is paged
    // at once (and dies too: no SMS channel is configured here).
    *rx.status.lock().unwrap() = 410;
    s.at(5).await;
    s.at(15).await;
    delivery.deliver_once(mins(15)).await.unwrap();
    delivery.deliver_once(mins(15)).await.unwrap();
    let carol: Vec<(String, String)> = s
        .store
        .list_messages(&id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.user_name.as_deref() == Some("carol"))
        .map(|m| (m.channel, m.state.as_str().to_owned()))
        .collect();
    assert_eq!(
        carol,
        [
            ("webhook".to_owned(), "dead".to_owned()),
            ("sms".to_owned(), "dead".to_owned()),
        ]
    );
    let carol_events: Vec<&'static str> = s
        .timeline(&id)
        .await
        .iter()
        .filter(|e| match &e.kind {
            EventKind::PageQueued { user, .. }
            | EventKind::PageFailed { user, .. }
            | EventKind::PageDelivered { user, .. } => user == "carol",
            _ => false,
        })
        .map(|e| e.kind.name())
        .collect();
    assert_eq!(
        carol_events,
        ["page_queued", "page_failed", "page_queued", "page_failed"]
    );
}
