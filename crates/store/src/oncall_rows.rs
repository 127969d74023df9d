//! The on-call tables' rows (directory, overrides, feeds, verifications,
//! escalations, jobs, messages, comms) as both backends read them, the
//! columns each row reads, and their conversion into the records the
//! store returns.

use jiff::Timestamp;

use crate::directory::{
    DirectoryEntry, DirectoryKind, FeedRecord, OverrideRecord, VerificationRecord,
};
use crate::queue::{
    CommsRecord, EscalationRecord, EscalationState, JobKind, JobRecord, MessageRecord, MessageState,
};
use crate::row::ts;
use crate::StoreError;

pub(crate) const DIRECTORY_COLUMNS: &str = "kind, name, doc, source, created_at, updated_at";
pub(crate) const OVERRIDE_COLUMNS: &str =
    "id, schedule, user_name, starts_at, ends_at, created_by, created_at";
pub(crate) const ESCALATION_COLUMNS: &str =
    "incident_id, policy, policy_doc, urgency, generation, position, state, updated_at";
pub(crate) const JOB_COLUMNS: &str = "id, incident_id, kind, generation, position, run_at";
pub(crate) const MESSAGE_COLUMNS: &str = "id, idempotency_key, incident_id, purpose, user_name, \
     contact_method, channel, destination, subject, body, state, attempts, run_at, last_error, \
     provider_answer, created_at, sent_at";
pub(crate) const COMMS_COLUMNS: &str =
    "incident_id, updates, last_update_at, next_update_due, reminders, missed, notified";

pub(crate) fn opt_ts(ms: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    ms.map(ts).transpose()
}

pub(crate) fn kind_from(text: &str) -> Result<DirectoryKind, StoreError> {
    DirectoryKind::ALL
        .into_iter()
        .find(|k| k.as_str() == text)
        .ok_or_else(|| StoreError::Corrupt(format!("directory kind {text:?}")))
}

#[derive(sqlx::FromRow)]
pub(crate) struct DirectoryRow {
    kind: String,
    name: String,
    doc: String,
    source: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<DirectoryRow> for DirectoryEntry {
    type Error = StoreError;
    fn try_from(r: DirectoryRow) -> Result<DirectoryEntry, StoreError> {
        Ok(DirectoryEntry {
            kind: kind_from(&r.kind)?,
            name: r.name,
            doc: r.doc,
            source: r.source,
            created_at: ts(r.created_at)?,
            updated_at: ts(r.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OverrideRow {
    id: String,
    schedule: String,
    user_name: String,
    starts_at: i64,
    ends_at: i64,
    created_by: String,
    created_at: i64,
}

impl TryFrom<OverrideRow> for OverrideRecord {
    type Error = StoreError;
    fn try_from(r: OverrideRow) -> Result<OverrideRecord, StoreError> {
        Ok(OverrideRecord {
            id: r.id,
            schedule: r.schedule,
            user: r.user_name,
            starts_at: ts(r.starts_at)?,
            ends_at: ts(r.ends_at)?,
            created_by: r.created_by,
            created_at: ts(r.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct FeedRow {
    id: String,
    kind: String,
    name: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<FeedRow> for FeedRecord {
    type Error = StoreError;
    fn try_from(r: FeedRow) -> Result<FeedRecord, StoreError> {
        Ok(FeedRecord {
            id: r.id,
            kind: r.kind,
            name: r.name,
            created_at: ts(r.created_at)?,
            revoked_at: opt_ts(r.revoked_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct VerificationRow {
    user_name: String,
    method_id: String,
    code_hash: String,
    expires_at: i64,
    attempts: i64,
}

impl TryFrom<VerificationRow> for VerificationRecord {
    type Error = StoreError;
    fn try_from(r: VerificationRow) -> Result<VerificationRecord, StoreError> {
        Ok(VerificationRecord {
            user_name: r.user_name,
            method_id: r.method_id,
            code_hash: r.code_hash,
            expires_at: ts(r.expires_at)?,
            attempts: r.attempts,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EscalationRow {
    incident_id: String,
    policy: String,
    policy_doc: String,
    urgency: String,
    generation: i64,
    position: i64,
    state: String,
    updated_at: i64,
}

impl TryFrom<EscalationRow> for EscalationRecord {
    type Error = StoreError;
    fn try_from(r: EscalationRow) -> Result<EscalationRecord, StoreError> {
        Ok(EscalationRecord {
            incident_id: r.incident_id,
            policy: r.policy,
            policy_doc: r.policy_doc,
            urgency: r.urgency,
            generation: r.generation,
            position: r.position,
            state: EscalationState::parse(&r.state)?,
            updated_at: ts(r.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    id: i64,
    incident_id: String,
    kind: String,
    generation: i64,
    position: i64,
    run_at: i64,
}

impl TryFrom<JobRow> for JobRecord {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<JobRecord, StoreError> {
        Ok(JobRecord {
            id: r.id,
            incident_id: r.incident_id,
            kind: JobKind::parse(&r.kind)?,
            generation: r.generation,
            position: r.position,
            run_at: ts(r.run_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    id: i64,
    idempotency_key: String,
    incident_id: Option<String>,
    purpose: String,
    user_name: Option<String>,
    contact_method: Option<String>,
    channel: String,
    destination: String,
    subject: String,
    body: String,
    state: String,
    attempts: i64,
    run_at: i64,
    last_error: Option<String>,
    provider_answer: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
}

impl TryFrom<MessageRow> for MessageRecord {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<MessageRecord, StoreError> {
        Ok(MessageRecord {
            id: r.id,
            idempotency_key: r.idempotency_key,
            incident_id: r.incident_id,
            purpose: r.purpose,
            user_name: r.user_name,
            contact_method: r.contact_method,
            channel: r.channel,
            destination: r.destination,
            subject: r.subject,
            body: r.body,
            state: MessageState::parse(&r.state)?,
            attempts: r.attempts,
            run_at: ts(r.run_at)?,
            last_error: r.last_error,
            provider_answer: r.provider_answer,
            created_at: ts(r.created_at)?,
            sent_at: opt_ts(r.sent_at)?,
        })
    }
}

pub(crate) fn convert<R, T: TryFrom<R, Error = StoreError>>(
    rows: Vec<R>,
) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}

impl EscalationRow {
    /// Reads a row selected by `ESCALATION_COLUMNS` on SQLite's writer.
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<EscalationRow> {
        Ok(EscalationRow {
            incident_id: r.get(0)?,
            policy: r.get(1)?,
            policy_doc: r.get(2)?,
            urgency: r.get(3)?,
            generation: r.get(4)?,
            position: r.get(5)?,
            state: r.get(6)?,
            updated_at: r.get(7)?,
        })
    }
}

impl OverrideRow {
    /// Reads a row selected by `OVERRIDE_COLUMNS` on SQLite's writer.
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<OverrideRow> {
        Ok(OverrideRow {
            id: r.get(0)?,
            schedule: r.get(1)?,
            user_name: r.get(2)?,
            starts_at: r.get(3)?,
            ends_at: r.get(4)?,
            created_by: r.get(5)?,
            created_at: r.get(6)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CommsRow {
    pub(crate) incident_id: String,
    pub(crate) updates: i64,
    pub(crate) last_update_at: Option<i64>,
    pub(crate) next_update_due: Option<i64>,
    pub(crate) reminders: i64,
    pub(crate) missed: i64,
    pub(crate) notified: String,
}

impl TryFrom<CommsRow> for CommsRecord {
    type Error = StoreError;
    fn try_from(r: CommsRow) -> Result<CommsRecord, StoreError> {
        Ok(CommsRecord {
            incident_id: r.incident_id,
            updates: r.updates,
            last_update_at: opt_ts(r.last_update_at)?,
            next_update_due: opt_ts(r.next_update_due)?,
            reminders: r.reminders,
            missed: r.missed,
            notified: serde_json::from_str(&r.notified)
                .map_err(|e| StoreError::Corrupt(format!("incident_comms.notified: {e}")))?,
        })
    }
}

impl CommsRow {
    /// Reads a row selected by `COMMS_COLUMNS` on SQLite's writer.
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<CommsRow> {
        Ok(CommsRow {
            incident_id: r.get(0)?,
            updates: r.get(1)?,
            last_update_at: r.get(2)?,
            next_update_due: r.get(3)?,
            reminders: r.get(4)?,
            missed: r.get(5)?,
            notified: r.get(6)?,
        })
    }
}

/// The `notified` column's text.
pub(crate) fn notified_json(r: &CommsRecord) -> Result<String, StoreError> {
    serde_json::to_string(&r.notified).map_err(|e| StoreError::Database(e.to_string()))
}
