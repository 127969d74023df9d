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
    /// A new alert joined the incident (repeats of it are counted, not recorded).
    AlertTriggered {
        alert_id: i64,
        dedup_key: String,
        summary: String,
        severity: String,
        origin: String,
    },
    AlertAcknowledged {
        alert_id: i64,
        dedup_key: String,
    },
    AlertResolved {
        alert_id: i64,
        dedup_key: String,
        summary: String,
    },
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
    /// The update the severity's cadence asked for is overdue.
    UpdateOverdue {
        due_at: Timestamp,
        /// Who was reminded (the Communications Coordinator, else the commander), if anyone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reminded: Option<String>,
    },
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
            EventKind::AlertTriggered { .. } => "alert_triggered",
            EventKind::AlertAcknowledged { .. } => "alert_acknowledged",
            EventKind::AlertResolved { .. } => "alert_resolved",
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
