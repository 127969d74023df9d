//! On-call storage: the directory (users, teams, vendors, schedules, policies
//! kept as JSON documents), schedule overrides, calendar feeds, contact
//! verifications, and the paging engine's durable work: escalations, timed
//! jobs with leases, and the outbox of messages.
//!
//! Both backends share one implementation (`oncall_sql.rs`): the SQL is
//! written once with `$n` placeholders, which SQLite accepts too.

use std::future::Future;

use jiff::Timestamp;

use crate::StoreError;

/// What a directory document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectoryKind {
    User,
    Team,
    Vendor,
    Schedule,
    Policy,
}

impl DirectoryKind {
    pub const ALL: [DirectoryKind; 5] = [
        DirectoryKind::User,
        DirectoryKind::Team,
        DirectoryKind::Vendor,
        DirectoryKind::Schedule,
        DirectoryKind::Policy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryKind::User => "user",
            DirectoryKind::Team => "team",
            DirectoryKind::Vendor => "vendor",
            DirectoryKind::Schedule => "schedule",
            DirectoryKind::Policy => "policy",
        }
    }
}

/// Who defined a directory entry. Playbook entries are replaced on every
/// start and cannot be changed through the API.
pub const SOURCE_PLAYBOOK: &str = "playbook";
pub const SOURCE_API: &str = "api";

#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryEntry {
    pub kind: DirectoryKind,
    pub name: String,
    /// The domain type as JSON.
    pub doc: String,
    pub source: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OverrideRecord {
    pub id: String,
    pub schedule: String,
    pub user: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// A secret calendar URL; only the hash of its token is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRecord {
    pub id: String,
    /// `schedule` or `user`.
    pub kind: String,
    pub name: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
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
    /// `active`, `acknowledged`, `exhausted` or `stopped`.
    pub state: String,
    pub updated_at: Timestamp,
}

pub const JOB_STEP: &str = "step";
/// The severity's "escalate every N while unresolved" timer.
pub const JOB_SEVERITY: &str = "severity_escalation";
/// Un-acknowledges an incident nobody resolved within `acknowledge_timeout`.
pub const JOB_ACK_TIMEOUT: &str = "ack_timeout";

/// A timed unit of paging work. Unique per (incident, kind, generation,
/// position), so scheduling it twice is harmless.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: i64,
    pub incident_id: String,
    pub kind: String,
    pub generation: i64,
    pub position: i64,
    pub run_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub incident_id: String,
    pub kind: String,
    pub generation: i64,
    pub position: i64,
    pub run_at: Timestamp,
}

/// Outbox states.
pub mod message_state {
    pub const QUEUED: &str = "queued";
    /// Claimed by a sender (with a lease) and possibly on the wire.
    pub const SENDING: &str = "sending";
    pub const SENT: &str = "sent";
    /// Failed temporarily; retried at `run_at`.
    pub const FAILED: &str = "failed";
    /// Gave up after the last attempt.
    pub const DEAD: &str = "dead";
    /// No longer wanted (the incident was acknowledged or resolved first).
    pub const CANCELLED: &str = "cancelled";
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
    pub state: String,
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
    pub state: String,
    pub attempts: i64,
    pub run_at: Timestamp,
    pub last_error: Option<String>,
    pub provider_answer: Option<String>,
    pub sent_at: Option<Timestamp>,
}

/// A pending contact-method verification code (hashed).
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationRecord {
    pub user_name: String,
    pub method_id: String,
    pub code_hash: String,
    pub expires_at: Timestamp,
    pub attempts: i64,
}

/// On-call reads and writes outside an incident transaction.
pub trait OncallStore: Send + Sync {
    /// Creates an entry; `Conflict` if one of that kind and name exists.
    fn insert_directory(
        &self,
        entry: &DirectoryEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces the document of an entry of the same source; `NotFound` when
    /// there is none, `Conflict` when the playbook owns it.
    fn update_directory(
        &self,
        entry: &DirectoryEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn get_directory(
        &self,
        kind: DirectoryKind,
        name: &str,
    ) -> impl Future<Output = Result<Option<DirectoryEntry>, StoreError>> + Send;

    /// Entries of a kind by name.
    fn list_directory(
        &self,
        kind: DirectoryKind,
    ) -> impl Future<Output = Result<Vec<DirectoryEntry>, StoreError>> + Send;

    /// Deletes an API-defined entry; `NotFound`, or `Conflict` for a playbook one.
    fn delete_directory(
        &self,
        kind: DirectoryKind,
        name: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Makes the playbook's entries exactly `entries`, in one transaction:
    /// playbook entries no longer listed are removed, and a listed name
    /// takes over an API entry of the same name.
    fn sync_playbook_directory(
        &self,
        entries: &[DirectoryEntry],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn insert_override(
        &self,
        record: &OverrideRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Overrides of a schedule that overlap [from, to), by start.
    fn list_overrides(
        &self,
        schedule: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Future<Output = Result<Vec<OverrideRecord>, StoreError>> + Send;

    fn delete_override(
        &self,
        schedule: &str,
        id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn insert_feed(
        &self,
        feed: &FeedRecord,
        token_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The live feed with this token hash.
    fn find_feed(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<FeedRecord>, StoreError>> + Send;

    fn list_feeds(&self) -> impl Future<Output = Result<Vec<FeedRecord>, StoreError>> + Send;

    /// `NotFound` unless a live feed has this id.
    fn revoke_feed(
        &self,
        id: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores (replacing) a pending verification code.
    fn put_verification(
        &self,
        record: &VerificationRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn get_verification(
        &self,
        user_name: &str,
        method_id: &str,
    ) -> impl Future<Output = Result<Option<VerificationRecord>, StoreError>> + Send;

    /// Counts a wrong guess.
    fn count_verification_attempt(
        &self,
        user_name: &str,
        method_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks the contact method verified in the user's document and drops
    /// the code, atomically. `doc` is the updated user document.
    fn complete_verification(
        &self,
        user_name: &str,
        method_id: &str,
        doc: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The secret stored under `name`, storing `candidate` if there is none
    /// yet (so every node of a cluster ends up with the same one).
    fn server_secret(
        &self,
        name: &str,
        candidate: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

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

    /// An incident's messages, oldest first.
    fn list_messages(
        &self,
        incident_id: &str,
    ) -> impl Future<Output = Result<Vec<MessageRecord>, StoreError>> + Send;

    fn get_message(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<MessageRecord, StoreError>> + Send;
}

/// On-call writes that belong in the same transaction as an incident change.
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
