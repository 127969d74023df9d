//! The paging engine's durable work: each incident's escalation, timed
//! jobs with leases, the outbox of messages and each incident's
//! stakeholder-update cadence. `QueueStore` claims and reads them;
//! `PagingTx` and `CommsTx` write them inside an incident's transaction.

use std::future::Future;

use jiff::Timestamp;

use crate::directory::{DirectoryKind, OverrideRecord};
use crate::StoreError;

/// Where an incident's escalation stands. Stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationState {
    /// Paging its policy's steps.
    Active,
    Acknowledged,
    /// Every step and repeat has been paged.
    Exhausted,
    /// Reassigned by hand to targets outside the policy: no further steps.
    Reassigned,
}

impl EscalationState {
    pub const ALL: [EscalationState; 4] = [
        EscalationState::Active,
        EscalationState::Acknowledged,
        EscalationState::Exhausted,
        EscalationState::Reassigned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EscalationState::Active => "active",
            EscalationState::Acknowledged => "acknowledged",
            EscalationState::Exhausted => "exhausted",
            EscalationState::Reassigned => "reassigned",
        }
    }

    /// The state stored under `name`; an unknown name is `Corrupt`.
    pub fn parse(name: &str) -> Result<EscalationState, StoreError> {
        by_name(
            &EscalationState::ALL,
            name,
            EscalationState::as_str,
            "escalation state",
        )
    }
}

/// What a paging job does when it is due. Stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Pages the escalation policy's next step.
    Step,
    /// The severity's "escalate every N while unresolved" timer.
    SeverityEscalation,
    /// Un-acknowledges an incident nobody resolved within `acknowledge_timeout`.
    AckTimeout,
    /// Reminds that a stakeholder update is due. Current while the
    /// incident's `updates` equals its generation and `reminders` (the
    /// cadence version: bumped by each reminder and each severity change)
    /// its position.
    UpdateDue,
}

impl JobKind {
    pub const ALL: [JobKind; 4] = [
        JobKind::Step,
        JobKind::SeverityEscalation,
        JobKind::AckTimeout,
        JobKind::UpdateDue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Step => "step",
            JobKind::SeverityEscalation => "severity_escalation",
            JobKind::AckTimeout => "ack_timeout",
            JobKind::UpdateDue => "update_due",
        }
    }

    /// The kind stored under `name`; an unknown name is `Corrupt`.
    pub fn parse(name: &str) -> Result<JobKind, StoreError> {
        by_name(&JobKind::ALL, name, JobKind::as_str, "job kind")
    }
}

/// Where an outbound message stands. Stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    Queued,
    /// Claimed by a sender (with a lease) and possibly on the wire.
    Sending,
    Sent,
    /// Failed temporarily; retried at `run_at`.
    Failed,
    /// Gave up after the last attempt.
    Dead,
    /// No longer wanted (the incident was acknowledged or resolved first).
    Cancelled,
}

impl MessageState {
    pub const ALL: [MessageState; 6] = [
        MessageState::Queued,
        MessageState::Sending,
        MessageState::Sent,
        MessageState::Failed,
        MessageState::Dead,
        MessageState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Queued => "queued",
            MessageState::Sending => "sending",
            MessageState::Sent => "sent",
            MessageState::Failed => "failed",
            MessageState::Dead => "dead",
            MessageState::Cancelled => "cancelled",
        }
    }

    /// The state stored under `name`; an unknown name is `Corrupt`.
    pub fn parse(name: &str) -> Result<MessageState, StoreError> {
        by_name(
            &MessageState::ALL,
            name,
            MessageState::as_str,
            "message state",
        )
    }
}

/// The value in `all` stored as `name`; an unknown name is `Corrupt`
/// (a row written by a newer version, or by hand), never a panic.
fn by_name<T: Copy>(
    all: &[T],
    name: &str,
    as_str: fn(T) -> &'static str,
    what: &str,
) -> Result<T, StoreError> {
    all.iter()
        .copied()
        .find(|v| as_str(*v) == name)
        .ok_or_else(|| StoreError::Corrupt(format!("{what} {name:?}")))
}

/// The paging state of one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationRecord {
    pub incident_id: String,
    pub policy: String,
    /// The policy as JSON, as it was when paging started.
    pub policy_doc: String,
    /// `high` or `low`.
    pub urgency: String,
    pub generation: i64,
    /// The last step paged, counting repeats; -1 before the first.
    pub position: i64,
    pub state: EscalationState,
    pub updated_at: Timestamp,
}

/// A timed unit of paging work. Unique per (incident, kind, generation,
/// position), so scheduling it twice is harmless.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: i64,
    pub incident_id: String,
    pub kind: JobKind,
    pub generation: i64,
    pub position: i64,
    pub run_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub incident_id: String,
    pub kind: JobKind,
    pub generation: i64,
    pub position: i64,
    pub run_at: Timestamp,
}

/// One outbound message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    pub id: i64,
    pub idempotency_key: String,
    pub incident_id: Option<String>,
    /// `page` or `verification`.
    pub purpose: String,
    pub user_name: Option<String>,
    pub contact_method: Option<String>,
    pub channel: String,
    pub destination: String,
    pub subject: String,
    /// JSON payload.
    pub body: String,
    pub state: MessageState,
    pub attempts: i64,
    pub run_at: Timestamp,
    pub last_error: Option<String>,
    pub provider_answer: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub idempotency_key: String,
    pub incident_id: Option<String>,
    pub purpose: String,
    pub user_name: Option<String>,
    pub contact_method: Option<String>,
    pub channel: String,
    pub destination: String,
    pub subject: String,
    pub body: String,
    pub run_at: Timestamp,
    pub created_at: Timestamp,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageUpdate {
    pub id: i64,
    pub state: MessageState,
    pub attempts: i64,
    pub run_at: Timestamp,
    pub last_error: Option<String>,
    pub provider_answer: Option<String>,
    pub sent_at: Option<Timestamp>,
}

/// One incident's communications state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommsRecord {
    pub incident_id: String,
    /// Status updates posted so far; also the generation of the reminder job.
    pub updates: i64,
    pub last_update_at: Option<Timestamp>,
    /// When the next update is due; `None` when the severity has no cadence
    /// or the incident is resolved.
    pub next_update_due: Option<Timestamp>,
    /// The cadence version since the last update: bumped by each reminder
    /// and each severity change; the reminder job's position.
    pub reminders: i64,
    /// Updates that came after their due time (or never came), for reports.
    pub missed: i64,
    /// Audiences that have had their initial notification.
    pub notified: Vec<String>,
}

/// Recent deliveries to one destination.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SentWindow {
    pub count: i64,
    pub oldest: Option<Timestamp>,
}

/// Work due and not yet done, leased work included: the paging and
/// delivery workers' queues, for the server's status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepths {
    /// Paging jobs (steps, timeouts, update reminders) due by then.
    pub jobs: i64,
    /// Outbox messages due for an attempt by then.
    pub messages: i64,
}

/// Escalations, jobs, messages and comms, outside a transaction.
pub trait QueueStore: Send + Sync {
    fn get_escalation(
        &self,
        incident_id: &str,
    ) -> impl Future<Output = Result<Option<EscalationRecord>, StoreError>> + Send;

    /// Leases up to `limit` due jobs (`run_at <= now`, not done, lease free
    /// or lapsed) until `lease_until`, earliest first. On PostgreSQL rows
    /// another node is claiming are skipped (`FOR UPDATE SKIP LOCKED`).
    fn claim_jobs(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<JobRecord>, StoreError>> + Send;

    /// When the next job is due (a leased one counts when its lease lapses).
    fn next_job_at(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    /// Jobs not yet done, for tests and diagnostics.
    fn pending_jobs(
        &self,
        incident_id: &str,
    ) -> impl Future<Output = Result<Vec<JobRecord>, StoreError>> + Send;

    /// Leases up to `limit` messages due for an attempt, marking them `sending`.
    fn claim_messages(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<MessageRecord>, StoreError>> + Send;

    fn next_message_at(&self)
        -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    /// How much paging and delivery work is due by `now` and not done.
    fn queue_depths(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<QueueDepths, StoreError>> + Send;

    /// An incident's messages, oldest first.
    fn list_messages(
        &self,
        incident_id: &str,
    ) -> impl Future<Output = Result<Vec<MessageRecord>, StoreError>> + Send;

    fn get_message(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<MessageRecord, StoreError>> + Send;

    fn get_comms(
        &self,
        incident_id: &str,
    ) -> impl Future<Output = Result<Option<CommsRecord>, StoreError>> + Send;

    /// Every incident with a stakeholder update due, soonest first (the Now
    /// page's one read instead of one per open incident).
    fn comms_due(&self) -> impl Future<Output = Result<Vec<CommsRecord>, StoreError>> + Send;

    /// Messages sent on `channel` to `destination` at or after `since`.
    fn sent_since(
        &self,
        channel: &str,
        destination: &str,
        since: Timestamp,
    ) -> impl Future<Output = Result<SentWindow, StoreError>> + Send;
}

/// Paging writes that belong in the same transaction as an incident change.
pub trait PagingTx: Send {
    fn escalation(
        &mut self,
        incident_id: &str,
    ) -> impl Future<Output = Result<Option<EscalationRecord>, StoreError>> + Send;

    /// Inserts or replaces the incident's escalation.
    fn put_escalation(
        &mut self,
        record: &EscalationRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Schedules a job unless the same one exists.
    fn schedule_job(&mut self, job: &NewJob)
        -> impl Future<Output = Result<(), StoreError>> + Send;

    fn finish_job(
        &mut self,
        id: i64,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `finish_job` for several jobs in one statement.
    fn finish_jobs(
        &mut self,
        ids: &[i64],
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Queues a message; `None` when one with its idempotency key exists.
    fn queue_message(
        &mut self,
        message: &NewMessage,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    fn update_message(
        &mut self,
        update: &MessageUpdate,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A directory document, read inside the transaction.
    fn directory_doc(
        &mut self,
        kind: DirectoryKind,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    fn overrides_in(
        &mut self,
        schedule: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Future<Output = Result<Vec<OverrideRecord>, StoreError>> + Send;

    /// The team's round-robin index for this page, advancing it by one.
    fn next_team_index(
        &mut self,
        team: &str,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
}

/// Communications writes inside an incident transaction.
pub trait CommsTx: Send {
    fn comms(
        &mut self,
        incident_id: &str,
    ) -> impl Future<Output = Result<Option<CommsRecord>, StoreError>> + Send;

    fn put_comms(
        &mut self,
        record: &CommsRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
