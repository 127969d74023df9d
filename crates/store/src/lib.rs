//! Warroom's storage: one trait per concern (incidents, alerts, the ingest
//! writer, the directory, the paging queue, accounts, tokens, dead letters),
//! their records, and one implementation per backend (`sqlite`,
//! `postgres`), each owning its SQL, file by file, and its migrations.
//!
//! A service is generic over the traits it uses; `Store` is all of them,
//! for what needs everything (the web state, start-up). The backend is
//! chosen from the database URL at start-up and the rest of the program is
//! monomorphized over it; nothing here uses `sqlx::Any`.

use std::future::Future;

pub mod accounts;
pub mod alerts;
pub mod dead_letters;
pub mod directory;
mod error;
pub mod incidents;
pub mod ingest;
mod oncall_rows;
pub mod postgres;
pub mod queue;
mod row;
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokens;

pub use accounts::{AccountRecord, AccountStore, AccountUpdate, NewAccountRecord, SessionRecord};
pub use alerts::{
    AlertCounts, AlertFilter, AlertGroup, AlertGroupCount, AlertGrouping, AlertRecord, AlertStore,
    AlertTx, BumpedAlert, Repeat, SilenceRecord,
};
pub use dead_letters::{DeadLetter, DeadLetterStore, NewDeadLetter};
pub use directory::{
    DirectoryEntry, DirectoryKind, DirectoryStore, FeedRecord, OverrideRecord, VerificationRecord,
    SOURCE_API, SOURCE_PLAYBOOK,
};
pub use error::StoreError;
pub use incidents::{
    IncidentChange, IncidentFilter, IncidentPage, IncidentStore, IncidentTx, PageCursor, MAX_PAGE,
};
pub use ingest::{IngestJournal, IngestStore, IngestTx};
pub use postgres::PgStore;
pub use queue::{
    CommsRecord, CommsTx, EscalationRecord, EscalationState, JobKind, JobRecord, MessageRecord,
    MessageState, MessageUpdate, NewJob, NewMessage, PagingTx, QueueDepths, QueueStore, SentWindow,
};
pub use sqlite::SqliteStore;
pub use tokens::{ApiToken, IntegrationRecord, TokenStore};

/// A store that starts write transactions, whose writes each concern's
/// `…Tx` trait names. Every method that returns `Ok` has committed durably.
pub trait TxStore: Send + Sync {
    /// The backend's write transaction.
    type Tx: WriteTx;

    /// Starts a write transaction (on SQLite it takes the write lock at once).
    fn begin(&self) -> impl Future<Output = Result<Self::Tx, StoreError>> + Send;
}

/// One write transaction, with every concern's writes. Dropping it
/// without `commit` rolls everything back.
pub trait WriteTx: IncidentTx + AlertTx + PagingTx + CommsTx + IngestTx + Send {
    fn commit(self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Persistence for everything Warroom keeps: every concern's trait, plus
/// what start-up and health checks need.
pub trait Store:
    IncidentStore
    + AlertStore
    + IngestStore
    + DirectoryStore
    + QueueStore
    + AccountStore
    + TokenStore
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
}
