//! The append-only incident timeline: every change and note is an event with actor, time and kind.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::status::Status;

/// What happened. Serialized with a `kind` tag, e.g. `{"kind":"note","text":"..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    Declared {
        title: String,
        severity: String,
        status: Status,
    },
    StatusChanged {
        from: Status,
        to: Status,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    SeverityChanged {
        from: String,
        to: String,
        /// `raised` when the new level is worse, `lowered` when it is milder.
        direction: SeverityDirection,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A plain field such as title, summary, category, services or impact changed.
    FieldChanged {
        field: String,
        from: serde_json::Value,
        to: serde_json::Value,
    },
    RoleAssigned {
        role: String,
        assignee: String,
    },
    RoleHandedOff {
        role: String,
        from: String,
        to: String,
    },
    RoleUnassigned {
        role: String,
        from: String,
    },
    ChecklistItem {
        phase: String,
        item: usize,
        text: String,
        done: bool,
    },
    Note {
        text: String,
    },
    /// New alerts joined the incident (repeats of one are counted, not
    /// recorded). Alerts that joined at the same moment share one event.
    AlertTriggered(Alerts<TriggeredAlert>),
    /// The source acknowledged alerts (PagerDuty's `acknowledge`).
    AlertAcknowledged(Alerts<AlertRef>),
    /// Alerts stopped firing.
    AlertResolved(Alerts<ResolvedAlert>),
    /// Paging started (or restarted) under an escalation policy.
    EscalationStarted {
        policy: String,
        urgency: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A step of the policy paged its targets. `step` and `round` count from 1.
    EscalationStep {
        step: u32,
        round: u32,
        targets: Vec<String>,
        /// The people paged; empty when the step resolved to nobody.
        paged: Vec<String>,
        /// Targets that reached no one, and why.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        problems: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Every step ran and nobody acknowledged.
    EscalationExhausted {
        policy: String,
    },
    /// A page was queued for one person on one contact method.
    PageQueued {
        message_id: i64,
        user: String,
        contact_method: String,
        channel: String,
        send_at: Timestamp,
    },
    PageDelivered {
        message_id: i64,
        user: String,
        channel: String,
        attempt: u32,
    },
    PageFailed {
        message_id: i64,
        user: String,
        channel: String,
        attempt: u32,
        error: String,
        /// No more attempts will be made.
        gave_up: bool,
    },
    /// A status update for stakeholders; the messages it queued follow.
    UpdatePosted {
        status: Status,
        message: String,
    },
    /// A message to an audience (initial notification, update, resolution
    /// notice) or a reminder was queued.
    NotificationQueued {
        message_id: i64,
        /// `initial_notification`, `status_update`, `resolution_notice`, `reminder`.
        message_kind: String,
        /// The audience, or the person reminded.
        to: String,
        channel: String,
        destination: String,
    },
    NotificationSent {
        message_id: i64,
        message_kind: String,
        to: String,
        channel: String,
        attempt: u32,
    },
    NotificationFailed {
        message_id: i64,
        message_kind: String,
        to: String,
        channel: String,
        attempt: u32,
        error: String,
        gave_up: bool,
    },
    /// This incident was closed as a duplicate of `into`: its alerts and
    /// pages moved there, and its timeline was copied there.
    MergedInto {
        into: String,
    },
    /// The duplicate `from` was merged into this incident: its alerts and
    /// messages now belong to this one, and its timeline events were copied
    /// onto this one's (all counted here).
    MergedFrom {
        from: String,
        title: String,
        alerts: u64,
        events: u64,
        messages: u64,
    },
    /// The update the severity's cadence asked for is overdue.
    UpdateOverdue {
        due_at: Timestamp,
        /// Who was reminded (the Communications Coordinator, else the commander), if anyone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reminded: Option<String>,
    },
}

/// The most alerts one alert event lists; a storm's alerts fill several.
pub const MAX_ALERTS_PER_EVENT: usize = 100;

/// The alerts of one alert event, serialized as `{"alerts": [...]}`, in
/// the order they changed.
///
/// One event per alert would make a storm of 10,000 alerts 10,000 timeline
/// lines and a large share of the alert writer's work. Alerts that change together (one ingest batch: the same moment,
/// actor and change) share an event instead. Events written before this
/// held one alert's fields at the top level; they read as a list of one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alerts<T> {
    pub alerts: Vec<T>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Alerts<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored<T> {
            List { alerts: Vec<T> },
            One(T),
        }
        Ok(match Stored::deserialize(deserializer)? {
            Stored::List { alerts } => Alerts { alerts },
            Stored::One(alert) => Alerts {
                alerts: vec![alert],
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggeredAlert {
    pub alert_id: i64,
    pub dedup_key: String,
    pub summary: String,
    pub severity: String,
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRef {
    pub alert_id: i64,
    pub dedup_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedAlert {
    pub alert_id: i64,
    pub dedup_key: String,
    pub summary: String,
}

/// One alert's change, for `push_alert_change`.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertChange {
    Triggered(TriggeredAlert),
    Acknowledged(AlertRef),
    Resolved(ResolvedAlert),
}

/// Appends an alert's change to `events`: into the last event when that one
/// records the same change, at the same moment, by the same actor, and has
/// room; else as a new event. Only the last event is ever joined, so the
/// timeline's order stays the order things happened in.
pub fn push_alert_change(
    events: &mut Vec<NewEvent>,
    change: AlertChange,
    actor: &str,
    at: Timestamp,
) {
    fn join<T>(list: &mut Alerts<T>, alert: T) -> Option<T> {
        if list.alerts.len() < MAX_ALERTS_PER_EVENT {
            list.alerts.push(alert);
            None
        } else {
            Some(alert)
        }
    }
    let change = match events.last_mut() {
        Some(last) if last.at == at && last.actor == actor => match (&mut last.kind, change) {
            (EventKind::AlertTriggered(list), AlertChange::Triggered(a)) => {
                join(list, a).map(AlertChange::Triggered)
            }
            (EventKind::AlertAcknowledged(list), AlertChange::Acknowledged(a)) => {
                join(list, a).map(AlertChange::Acknowledged)
            }
            (EventKind::AlertResolved(list), AlertChange::Resolved(a)) => {
                join(list, a).map(AlertChange::Resolved)
            }
            (_, change) => Some(change),
        },
        _ => Some(change),
    };
    let Some(change) = change else {
        return;
    };
    let kind = match change {
        AlertChange::Triggered(a) => EventKind::AlertTriggered(Alerts { alerts: vec![a] }),
        AlertChange::Acknowledged(a) => EventKind::AlertAcknowledged(Alerts { alerts: vec![a] }),
        AlertChange::Resolved(a) => EventKind::AlertResolved(Alerts { alerts: vec![a] }),
    };
    events.push(NewEvent {
        at,
        actor: actor.to_owned(),
        kind,
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeverityDirection {
    Raised,
    Lowered,
}

impl EventKind {
    /// The tag stored in the `kind` column.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Declared { .. } => "declared",
            EventKind::StatusChanged { .. } => "status_changed",
            EventKind::SeverityChanged { .. } => "severity_changed",
            EventKind::FieldChanged { .. } => "field_changed",
            EventKind::RoleAssigned { .. } => "role_assigned",
            EventKind::RoleHandedOff { .. } => "role_handed_off",
            EventKind::RoleUnassigned { .. } => "role_unassigned",
            EventKind::ChecklistItem { .. } => "checklist_item",
            EventKind::Note { .. } => "note",
            EventKind::AlertTriggered(_) => "alert_triggered",
            EventKind::AlertAcknowledged(_) => "alert_acknowledged",
            EventKind::AlertResolved(_) => "alert_resolved",
            EventKind::EscalationStarted { .. } => "escalation_started",
            EventKind::EscalationStep { .. } => "escalation_step",
            EventKind::EscalationExhausted { .. } => "escalation_exhausted",
            EventKind::PageQueued { .. } => "page_queued",
            EventKind::PageDelivered { .. } => "page_delivered",
            EventKind::PageFailed { .. } => "page_failed",
            EventKind::UpdatePosted { .. } => "update_posted",
            EventKind::NotificationQueued { .. } => "notification_queued",
            EventKind::NotificationSent { .. } => "notification_sent",
            EventKind::NotificationFailed { .. } => "notification_failed",
            EventKind::MergedInto { .. } => "merged_into",
            EventKind::MergedFrom { .. } => "merged_from",
            EventKind::UpdateOverdue { .. } => "update_overdue",
        }
    }
}

/// An event about to be appended; the store gives it its sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub at: Timestamp,
    pub actor: String,
    pub kind: EventKind,
}

/// An event as stored: `seq` counts from 1 per incident, in append order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEvent {
    pub incident_id: String,
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triggered(key: &str) -> AlertChange {
        AlertChange::Triggered(TriggeredAlert {
            alert_id: 1,
            dedup_key: key.to_owned(),
            summary: format!("{key} is down"),
            severity: "error".to_owned(),
            origin: "prometheus".to_owned(),
        })
    }

    fn keys(kind: &EventKind) -> Vec<&str> {
        match kind {
            EventKind::AlertTriggered(l) => l.alerts.iter().map(|a| a.dedup_key.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn alerts_join_the_last_event_only_when_it_is_the_same_change_at_the_same_moment() {
        let t0 = Timestamp::from_second(1_795_000_000).unwrap();
        let t1 = Timestamp::from_second(1_795_000_001).unwrap();
        let mut events = Vec::new();
        push_alert_change(&mut events, triggered("a"), "integration:x", t0);
        push_alert_change(&mut events, triggered("b"), "integration:x", t0);
        // Another actor, then another moment: new events.
        push_alert_change(&mut events, triggered("c"), "warroom", t0);
        push_alert_change(&mut events, triggered("d"), "warroom", t1);
        // Another kind in between ends the joining.
        let resolved = AlertChange::Resolved(ResolvedAlert {
            alert_id: 2,
            dedup_key: "a".into(),
            summary: "a is down".into(),
        });
        push_alert_change(&mut events, resolved, "warroom", t1);
        push_alert_change(&mut events, triggered("e"), "warroom", t1);
        let got: Vec<(&str, Vec<&str>)> = events
            .iter()
            .map(|e| (e.kind.name(), keys(&e.kind)))
            .collect();
        assert_eq!(
            got,
            [
                ("alert_triggered", vec!["a", "b"]),
                ("alert_triggered", vec!["c"]),
                ("alert_triggered", vec!["d"]),
                ("alert_resolved", vec![]),
                ("alert_triggered", vec!["e"]),
            ]
        );
    }

    #[test]
    fn a_full_event_starts_another() {
        let t0 = Timestamp::from_second(1_795_000_000).unwrap();
        let mut events = Vec::new();
        for i in 0..=MAX_ALERTS_PER_EVENT {
            push_alert_change(&mut events, triggered(&format!("k{i}")), "warroom", t0);
        }
        assert_eq!(events.len(), 2);
        assert_eq!(keys(&events[0].kind).len(), MAX_ALERTS_PER_EVENT);
        assert_eq!(keys(&events[1].kind), [format!("k{MAX_ALERTS_PER_EVENT}")]);
    }

    #[test]
    fn alert_events_are_stored_as_a_list_and_earlier_single_alert_events_still_read() {
        let kind = EventKind::AlertResolved(Alerts {
            alerts: vec![ResolvedAlert {
                alert_id: 7,
                dedup_key: "disk".into(),
                summary: "Disk full".into(),
            }],
        });
        let stored = serde_json::to_value(&kind).unwrap();
        assert_eq!(
            stored,
            serde_json::json!({"kind": "alert_resolved", "alerts": [
                {"alert_id": 7, "dedup_key": "disk", "summary": "Disk full"}
            ]})
        );
        assert_eq!(serde_json::from_value::<EventKind>(stored).unwrap(), kind);
        // As events were stored before they listed their alerts.
        let earlier = serde_json::json!({
            "kind": "alert_triggered", "alert_id": 3, "dedup_key": "cpu",
            "summary": "CPU hot", "severity": "warning", "origin": "prometheus"
        });
        let EventKind::AlertTriggered(list) = serde_json::from_value(earlier).unwrap() else {
            panic!("not alert_triggered");
        };
        assert_eq!(list.alerts.len(), 1);
        assert_eq!(list.alerts[0].dedup_key, "cpu");
        assert_eq!(list.alerts[0].severity, "warning");
        let earlier_ack =
            serde_json::json!({"kind": "alert_acknowledged", "alert_id": 3, "dedup_key": "cpu"});
        assert!(matches!(
            serde_json::from_value::<EventKind>(earlier_ack).unwrap(),
            EventKind::AlertAcknowledged(l) if l.alerts[0].alert_id == 3
        ));
        // Neither shape: refused, not read as an empty list.
        let broken = serde_json::json!({"kind": "alert_resolved", "alert_id": "x"});
        assert!(serde_json::from_value::<EventKind>(broken).is_err());
    }
}
