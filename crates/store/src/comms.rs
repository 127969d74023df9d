//! Stakeholder communications storage: each incident's update cadence
//! (`incident_comms`) and the outbox lookups throttling needs. One SQL text
//! for both backends, like `oncall_sql`.

use std::future::Future;

use jiff::Timestamp;

use crate::StoreError;

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

/// Communications reads outside a transaction.
pub trait CommsStore: Send + Sync {
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
        let opt = |ms: Option<i64>| ms.map(crate::row::ts).transpose();
        Ok(CommsRecord {
            incident_id: r.incident_id,
            updates: r.updates,
            last_update_at: opt(r.last_update_at)?,
            next_update_due: opt(r.next_update_due)?,
            reminders: r.reminders,
            missed: r.missed,
            notified: serde_json::from_str(&r.notified)
                .map_err(|e| StoreError::Corrupt(format!("incident_comms.notified: {e}")))?,
        })
    }
}

pub(crate) const COMMS_COLUMNS: &str =
    "incident_id, updates, last_update_at, next_update_due, reminders, missed, notified";

/// One incident's comms row, by `incident_id` ($1).
pub(crate) fn select_comms_sql() -> String {
    format!("SELECT {COMMS_COLUMNS} FROM incident_comms WHERE incident_id = $1")
}

/// Inserts or replaces one incident's comms row, for `CommsTx::put_comms`.
pub(crate) const PUT_COMMS: &str = "INSERT INTO incident_comms (incident_id, updates, \
     last_update_at, next_update_due, reminders, missed, notified) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (incident_id) DO UPDATE SET updates = excluded.updates, \
     last_update_at = excluded.last_update_at, next_update_due = excluded.next_update_due, \
     reminders = excluded.reminders, missed = excluded.missed, notified = excluded.notified";

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

/// Expands to `impl CommsStore for $store`.
macro_rules! impl_comms {
    ($store:ty) => {
        impl $crate::comms::CommsStore for $store {
            async fn get_comms(
                &self,
                incident_id: &str,
            ) -> Result<Option<$crate::comms::CommsRecord>, StoreError> {
                let sql = $crate::comms::select_comms_sql();
                let row: Option<$crate::comms::CommsRow> = sqlx::query_as(&sql)
                    .bind(incident_id)
                    .fetch_optional(self.read_pool())
                    .await?;
                row.map($crate::comms::CommsRecord::try_from).transpose()
            }

            async fn comms_due(&self) -> Result<Vec<$crate::comms::CommsRecord>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM incident_comms WHERE next_update_due IS NOT NULL \
                     ORDER BY next_update_due, incident_id",
                    $crate::comms::COMMS_COLUMNS
                );
                let rows: Vec<$crate::comms::CommsRow> =
                    sqlx::query_as(&sql).fetch_all(self.read_pool()).await?;
                rows.into_iter()
                    .map($crate::comms::CommsRecord::try_from)
                    .collect()
            }

            async fn sent_since(
                &self,
                channel: &str,
                destination: &str,
                since: jiff::Timestamp,
            ) -> Result<$crate::comms::SentWindow, StoreError> {
                let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
                    "SELECT COUNT(*), MIN(sent_at) FROM outbox WHERE state = 'sent' \
                     AND channel = $1 AND destination = $2 AND sent_at >= $3",
                )
                .bind(channel)
                .bind(destination)
                .bind(ms(since))
                .fetch_one(self.write_pool())
                .await?;
                Ok($crate::comms::SentWindow {
                    count,
                    oldest: oldest.map($crate::row::ts).transpose()?,
                })
            }
        }
    };
}

pub(crate) use impl_comms;
