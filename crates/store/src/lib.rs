//! Warroom's storage: the `Store` trait, its query types, and one implementation
//! per backend (`sqlite`, `postgres`), each owning its SQL and migrations.
//!
//! The backend is chosen from the database URL at start-up and the rest of the
//! program is monomorphized over it; nothing here uses `sqlx::Any`.

use std::future::Future;

use jiff::Timestamp;
use warroom_domain::{AccessRole, DomainError, Incident, NewEvent, Status, TimelineEvent};

pub mod accounts;
mod alerts;
pub mod comms;
pub mod dead_letters;
mod error;
mod journal;
pub mod oncall;
mod oncall_rows;
mod oncall_sql;
pub mod postgres;
mod row;
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

pub use accounts::{
    AccountRecord, AccountStore, AccountUpdate, IncidentChange, NewAccountRecord, SessionRecord,
};
pub use alerts::{
    AlertFilter, AlertGroup, AlertRecord, BumpedAlert, IntegrationRecord, Repeat, SilenceRecord,
    WriteTx,
};
pub use comms::{CommsStore, CommsTx};
pub use dead_letters::{DeadLetter, DeadLetterStore, NewDeadLetter};
pub use error::StoreError;
pub use journal::IngestJournal;
pub use oncall::{OncallStore, PagingTx};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// The most incidents one list call returns.
pub const MAX_PAGE: u32 = 500;

/// Which incidents to list. Empty vectors and `None` mean "any".
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub statuses: Vec<Status>,
    pub severities: Vec<String>,
    pub service: Option<String>,
    pub category: Option<String>,
    /// Declared at or after.
    pub declared_from: Option<Timestamp>,
    /// Declared before.
    pub declared_until: Option<Timestamp>,
    /// Case-insensitive substring of id, title or summary.
    pub text: Option<String>,
    /// 1..=MAX_PAGE.
    pub limit: u32,
    /// Continue after this position (from `IncidentPage::next`).
    pub after: Option<PageCursor>,
}

/// Firing alerts right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertCounts {
    /// Firing and paging (not silenced, inhibited or in maintenance).
    pub firing: i64,
    /// Firing but suppressed.
    pub suppressed: i64,
}

/// Position in the newest-first incident order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    pub declared_at_ms: i64,
    pub id: String,
}

impl PageCursor {
    /// Opaque text form used in the API: `<millis>~<id>`.
    pub fn encode(&self) -> String {
        format!("{}~{}", self.declared_at_ms, self.id)
    }

    pub fn decode(s: &str) -> Option<PageCursor> {
        let (ms, id) = s.split_once('~')?;
        Some(PageCursor {
            declared_at_ms: ms.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct IncidentPage {
    pub incidents: Vec<Incident>,
    /// Present when there may be more incidents after this page.
    pub next: Option<PageCursor>,
}

/// An API token as stored (the secret itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub role: AccessRole,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Persistence for everything Warroom keeps. Every method that returns `Ok`
/// has committed durably.
pub trait Store:
    oncall::OncallStore
    + comms::CommsStore
    + accounts::AccountStore
    + DeadLetterStore
    + Clone
    + Send
    + Sync
    + 'static
{
    /// Applies pending migrations.
    fn migrate(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Cheap round trip to the database, for `/readyz`.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The backend's write transaction.
    type Tx: WriteTx;

    /// Starts a write transaction (on SQLite it takes the write lock at once).
    fn begin(&self) -> impl Future<Output = Result<Self::Tx, StoreError>> + Send;

    /// Starts the first of a run of write transactions that the caller
    /// chains with `WriteTx::commit_and_continue` and ends with `commit`.
    /// Its commits may return before they are on disk (SQLite: the WAL is
    /// synced by `sync_committed` instead, off the writer's path), so the
    /// caller must call `sync_committed` before it reports one durable.
    fn begin_run(&self) -> impl Future<Output = Result<Self::Tx, StoreError>> + Send;

    /// Makes every transaction committed so far durable (SQLite: one
    /// `fdatasync` of the WAL however many commits it covers). Blocks the
    /// calling thread: call it from a thread of its own, not from a task.
    fn sync_committed(&self) -> Result<(), StoreError>;

    /// The backend's ingest journal.
    type Journal: IngestJournal;

    /// Opens the ingest journal (SQLite: creating its file if missing).
    /// The alert writer holds one; a second one may read it meanwhile.
    fn open_journal(&self) -> impl Future<Output = Result<Self::Journal, StoreError>> + Send;

    /// Readies the alert writer before its first request, so the first
    /// alert after a start does not wait (SQLite: reads the firing alerts'
    /// keys into memory, `sqlite/open_keys.rs`). Does nothing by default.
    fn warm_up(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }

    /// Allocates the next number in `scope` and stores the incident `make`
    /// builds from it, with its first timeline events, in one transaction.
    /// Numbers within a scope are consecutive and never reused.
    fn declare_incident<F>(
        &self,
        scope: &str,
        make: F,
    ) -> impl Future<Output = Result<(Incident, Vec<TimelineEvent>), StoreError>> + Send
    where
        F: FnOnce(i64) -> (Incident, Vec<NewEvent>) + Send,
    {
        async move {
            let mut tx = self.begin().await?;
            let declared = tx.declare_incident(scope, make).await?;
            tx.commit().await?;
            Ok(declared)
        }
    }

    /// Loads the incident, lets `change` apply a domain operation under a
    /// lock, then saves it with the events `change` returned, atomically.
    /// A domain error aborts without changing anything.
    fn modify_incident<F>(
        &self,
        id: &str,
        change: F,
    ) -> impl Future<Output = Result<(Incident, Vec<TimelineEvent>), StoreError>> + Send
    where
        F: FnOnce(&mut Incident) -> Result<Vec<NewEvent>, DomainError> + Send,
    {
        async move {
            let mut tx = self.begin().await?;
            let mut incident = tx.lock_incident(id).await?;
            let events = change(&mut incident)?;
            if events.is_empty() {
                // Nothing changed: leave the row (and updated_at) alone.
                return Ok((incident, Vec::new()));
            }
            let stored = tx.save_incident(&incident, events).await?;
            tx.commit().await?;
            Ok((incident, stored))
        }
    }

    fn get_incident(&self, id: &str) -> impl Future<Output = Result<Incident, StoreError>> + Send;

    fn list_incidents(
        &self,
        filter: &IncidentFilter,
    ) -> impl Future<Output = Result<IncidentPage, StoreError>> + Send;

    /// Events of one incident in order, those with `seq > after`, at most `limit`.
    fn timeline(
        &self,
        incident_id: &str,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<TimelineEvent>, StoreError>> + Send;

    /// The newest `limit` events of one incident, oldest first.
    fn timeline_tail(
        &self,
        incident_id: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<TimelineEvent>, StoreError>> + Send;

    /// How many alerts are firing, split by whether they page.
    fn alert_counts(&self) -> impl Future<Output = Result<AlertCounts, StoreError>> + Send;

    /// Stores a token by the hash of its secret. A duplicate name is a `Conflict`.
    fn insert_token(
        &self,
        name: &str,
        role: AccessRole,
        hash: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<ApiToken, StoreError>> + Send;

    /// Stores the token only if no token exists yet, atomically; `None` when
    /// one already did. Used to bootstrap the first admin exactly once.
    fn insert_first_token(
        &self,
        name: &str,
        role: AccessRole,
        hash: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<ApiToken>, StoreError>> + Send;

    /// The live (not revoked) token with this hash.
    fn find_token(
        &self,
        hash: &str,
    ) -> impl Future<Output = Result<Option<ApiToken>, StoreError>> + Send;

    fn list_tokens(&self) -> impl Future<Output = Result<Vec<ApiToken>, StoreError>> + Send;

    /// Revokes by name; `NotFound` if there is no live token of that name,
    /// `Conflict` if it is the last live admin token (checked and revoked in
    /// one transaction, so two revokes at once cannot both pass the check),
    /// so someone can always manage tokens.
    fn revoke_token(
        &self,
        name: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<ApiToken, StoreError>> + Send;

    /// Alerts newest first.
    fn list_alerts(
        &self,
        filter: &AlertFilter,
    ) -> impl Future<Output = Result<Vec<AlertRecord>, StoreError>> + Send;

    fn get_alert(&self, id: i64) -> impl Future<Output = Result<AlertRecord, StoreError>> + Send;

    fn insert_silence(
        &self,
        silence: &SilenceRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Silences newest first; with `live_at`, only those not ended by then.
    fn list_silences(
        &self,
        live_at: Option<Timestamp>,
    ) -> impl Future<Output = Result<Vec<SilenceRecord>, StoreError>> + Send;

    fn get_silence(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<SilenceRecord, StoreError>> + Send;

    /// Rewrites a silence's window (expiring it).
    fn set_silence_window(
        &self,
        id: &str,
        starts_at: Timestamp,
        ends_at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores an integration by the hash of its key.
    fn insert_integration(
        &self,
        integration: &IntegrationRecord,
        key_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The live integration whose key has this hash.
    fn find_integration(
        &self,
        key_hash: &str,
    ) -> impl Future<Output = Result<Option<IntegrationRecord>, StoreError>> + Send;

    fn list_integrations(
        &self,
    ) -> impl Future<Output = Result<Vec<IntegrationRecord>, StoreError>> + Send;

    /// Replaces a live integration's key; the old key stops working at once.
    fn rotate_integration_key(
        &self,
        id: &str,
        key_hash: &str,
        key_hint: &str,
    ) -> impl Future<Output = Result<IntegrationRecord, StoreError>> + Send;

    /// Revokes by id; its key stops working at once.
    fn revoke_integration(
        &self,
        id: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<IntegrationRecord, StoreError>> + Send;
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
