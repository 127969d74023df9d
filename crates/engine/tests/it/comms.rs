//! Stakeholder communications with a manual clock: initial notifications to
//! the audiences a severity names, status updates, the update cadence and its
//! reminder to the Communications Coordinator, and the resolution notice.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use warroom_domain::{Declaration, EventKind, Playbook, Status, TimelineEvent};
use warroom_engine::delivery::HttpChannels;
use warroom_engine::paging::AckLinks;
use warroom_engine::{App, AppOptions, IncidentOp, Incidents, ManualClock, Paging};
use warroom_store::on_both_backends;
use warroom_store::Store;

on_both_backends!(
    a_sev1_without_an_update_for_15_minutes_reminds_the_coordinator_once,
    updates_and_resolution_reach_the_audiences_told,
    after_downtime_one_reminder_counts_every_missed_update,
);

fn t0() -> Timestamp {
    "2026-11-25T14:00:00Z".parse().unwrap()
}

fn mins(m: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(m)
}

/// SEV-1 updates every 15 minutes and tells management; Carol coordinates.
fn playbook() -> Playbook {
    let yaml = r#"
severities:
  - name: SEV-1
    label: Major
    update_every: 15m
    notify:
      - {audience: management, within: 15m}
  - name: SEV-3
    label: Low
notifications:
  channels:
    - {name: mgmt-mail, type: smtp, host: 127.0.0.1, port: 2525, security: none, from: "Warroom <warroom@example.com>"}
    - {name: ops-chat, type: slack, webhook_url: {env: OPS_SLACK_URL}}
  audiences:
    - name: management
      class: stakeholders
      targets:
        - {channel: mgmt-mail, to: [cto@example.com, vp@example.com]}
        - {channel: ops-chat}
oncall:
  users:
    - name: carol
      email: carol@example.com
      contact_methods: [{id: hook, kind: webhook, address: "http://127.0.0.1:9/carol"}]
"#;
    Playbook::parse("test.yaml", yaml).unwrap_or_else(|e| panic!("{e}"))
}

struct Setup<S: Store> {
    store: S,
    clock: ManualClock,
    incidents: Incidents<S>,
    paging: Paging<S>,
}

async fn setup<S: Store>(store: S) -> Setup<S> {
    let clock = ManualClock::new(t0());
    let playbook = Arc::new(playbook());
    let shared: Arc<dyn warroom_engine::Clock> = Arc::new(clock.clone());
    // Built as `warroom serve` builds it; the tests drive the workers'
    // rounds themselves, with the manual clock.
    let app = App::build(
        store.clone(),
        playbook,
        shared,
        AppOptions {
            public_url: Some("https://warroom.example.com".to_owned()),
            ack_links: Some(AckLinks::new(vec![1; 32])),
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
            title: "Calls drop after 30 seconds".into(),
            summary: "SIP sessions time out".into(),
            severity: severity.into(),
            roles: vec![("Communications Coordinator".into(), "carol".into())],
            ..Default::default()
        };
        self.incidents
            .declare("alice", declaration)
            .await
            .unwrap()
            .0
            .id
    }

    async fn at(&self, m: i64) {
        self.clock.set(mins(m));
        self.paging.run_once(mins(m)).await.unwrap();
    }

    /// (purpose, channel, destination) of every message, oldest first.
    async fn messages(&self, id: &str) -> Vec<(String, String, String)> {
        self.store
            .list_messages(id)
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.purpose, m.channel, m.destination))
            .collect()
    }

    /// How many reminders were queued about the incident.
    async fn reminders(&self, id: &str) -> usize {
        self.messages(id)
            .await
            .iter()
            .filter(|(purpose, ..)| purpose == "reminder")
            .count()
    }

    async fn timeline(&self, id: &str) -> Vec<TimelineEvent> {
        self.store.timeline(id, 0, 500).await.unwrap()
    }
}

fn tuple(purpose: &str, channel: &str, destination: &str) -> (String, String, String) {
    (purpose.into(), channel.into(), destination.into())
}

async fn a_sev1_without_an_update_for_15_minutes_reminds_the_coordinator_once<S: Store>(store: S) {
    let s = setup(store).await;
    let id = s.declare("SEV-1").await;
    let initial = [
        tuple("initial_notification", "mgmt-mail", "cto@example.com"),
        tuple("initial_notification", "mgmt-mail", "vp@example.com"),
        tuple("initial_notification", "ops-chat", "ops-chat"),
    ];
    assert_eq!(s.messages(&id).await, initial);
    let message = &s.store.list_messages(&id).await.unwrap()[0];
    assert!(
        message.subject.starts_with("[SEV-1]")
            && message.subject.contains("Calls drop after 30 seconds"),
        "{}",
        message.subject
    );
    let comms = s.store.get_comms(&id).await.unwrap().unwrap();
    assert_eq!(comms.next_update_due, Some(mins(15)));
    assert_eq!(comms.notified, ["management"]);

    // Nothing is due before 15 minutes.
    s.at(14).await;
    assert_eq!(s.messages(&id).await.len(), 3);
    // At 15 minutes Carol is reminded, once, on her contact method.
    s.at(15).await;
    s.at(16).await;
    let reminders: Vec<_> = s
        .messages(&id)
        .await
        .into_iter()
        .filter(|(purpose, ..)| purpose == "reminder")
        .collect();
    assert_eq!(
        reminders,
        [tuple("reminder", "webhook", "http://127.0.0.1:9/carol")]
    );
    let overdue: Vec<_> = s
        .timeline(&id)
        .await
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::UpdateOverdue { due_at, reminded } => Some((due_at, reminded)),
            _ => None,
        })
        .collect();
    assert_eq!(overdue, [(mins(15), Some("carol".to_owned()))]);

    // Posting an update clears it: the next is due 15 minutes after it, and
    // the reminder of the missed one does not come back.
    s.clock.set(mins(20));
    s.incidents
        .apply(
            &id,
            "carol",
            IncidentOp::PostUpdate {
                status: Some(Status::Investigating),
                message: "Carrier confirmed a trunk fault".into(),
            },
        )
        .await
        .unwrap();
    let comms = s.store.get_comms(&id).await.unwrap().unwrap();
    assert_eq!(comms.next_update_due, Some(mins(35)));
    assert_eq!((comms.updates, comms.missed), (1, 1));
    s.at(30).await;
    s.at(34).await;
    let reminders = s.reminders(&id).await;
    assert_eq!(reminders, 1);
    s.at(35).await;
    let reminders = s.reminders(&id).await;
    assert_eq!(reminders, 2, "the next missed update reminds again");
}

async fn updates_and_resolution_reach_the_audiences_told<S: Store>(store: S) {
    let s = setup(store).await;
    // SEV-3 names no audience: nothing is sent and no update is due.
    let quiet = s.declare("SEV-3").await;
    assert!(s.messages(&quiet).await.is_empty());
    assert_eq!(
        s.store
            .get_comms(&quiet)
            .await
            .unwrap()
            .unwrap()
            .next_update_due,
        None
    );

    let id = s.declare("SEV-1").await;
    s.clock.set(mins(5));
    let (_, events) = s
        .incidents
        .apply(
            &id,
            "carol",
            IncidentOp::PostUpdate {
                status: Some(Status::Identified),
                message: "Trunk fault at the carrier".into(),
            },
        )
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "status_changed",
            "update_posted",
            "notification_queued",
            "notification_queued",
            "notification_queued"
        ]
    );
    let update = s
        .store
        .list_messages(&id)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.purpose == "status_update")
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&update.body).unwrap();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("Trunk fault at the carrier"),
        "{body}"
    );
    assert_eq!(body["thread"], id.as_str());

    // Resolving sends the resolution notice to every audience told.
    s.clock.set(mins(6));
    s.incidents
        .apply(&id, "carol", IncidentOp::Resolve { message: None })
        .await
        .unwrap();
    let purposes: Vec<String> = s.messages(&id).await.into_iter().map(|(p, ..)| p).collect();
    assert_eq!(
        purposes,
        [
            "initial_notification",
            "initial_notification",
            "initial_notification",
            "status_update",
            "status_update",
            "status_update",
            "resolution_notice",
            "resolution_notice",
            "resolution_notice"
        ]
    );
    // Resolved: no update is due any more, and no reminder ever comes.
    assert!(s.store.comms_due().await.unwrap().is_empty());
    s.at(60).await;
    assert!(!s.messages(&id).await.iter().any(|(p, ..)| p == "reminder"));
    // And a resolved incident takes no updates.
    let err = s
        .incidents
        .apply(
            &id,
            "carol",
            IncidentOp::PostUpdate {
                status: None,
                message: "late".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("reopen"), "{err}");
}

/// The server was down for an hour past a SEV-1's 15-minute cadence: one
/// reminder, not one per missed interval, and the misses are all counted.
async fn after_downtime_one_reminder_counts_every_missed_update<S: Store>(store: S) {
    let s = setup(store).await;
    let id = s.declare("SEV-1").await;
    s.at(62).await;
    s.at(62).await;
    let reminders = s.reminders(&id).await;
    assert_eq!(reminders, 1);
    let comms = s.store.get_comms(&id).await.unwrap().unwrap();
    // Due at 15, 30, 45 and 60 minutes; the next one falls at 75.
    assert_eq!(comms.missed, 4);
    assert_eq!(comms.next_update_due, Some(mins(75)));
    let due = s.store.comms_due().await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].incident_id.as_str(), due[0].next_update_due),
        (id.as_str(), Some(mins(75)))
    );
    s.at(75).await;
    let reminders = s.reminders(&id).await;
    assert_eq!(reminders, 2);
}
