//! The alert writer's storage. `IngestStore` runs its transactions
//! (a run of them, synced in one go), `IngestTx` keeps the journal's
//! applied mark in them, and `IngestJournal` is where accepted alert requests wait to be applied, with
//! a write lock of its own so that appending never waits for the writer
//! that applies them (SQLite: a second database file beside the main one;
//! PostgreSQL: a table, whose row locks already keep the two apart).
//!
//! The journal only holds entries; which of them are applied is recorded in
//! the main database (`IngestTx::set_journal_applied`), in the transaction
//! that applies them. Entries up to that mark are skipped at a restart and
//! forgotten once the mark is durable.

use std::future::Future;

use crate::{StoreError, TxStore};

/// What only the ingest writer needs of the store.
pub trait IngestStore: TxStore {
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
}

/// The ingest writer's part of a write transaction: the journal's applied
/// mark, and the commit that keeps a run going.
pub trait IngestTx: Send {
    /// The last ingest journal entry applied to the tables
    /// (`IngestJournal`); 0 before any.
    fn journal_applied(&mut self) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Records that the journal's entries up to `seq` are applied, in the
    /// transaction that applied them. Never moves the mark back.
    fn set_journal_applied(
        &mut self,
        seq: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Commits what this transaction wrote and begins the next one on the
    /// same connection, for a writer that commits batch after batch
    /// (`Store::begin_run`). The commit is durable once
    /// `Store::sync_committed` returns, not before.
    ///
    /// Returns whether no other writer committed since this run's previous
    /// transaction began, so what the run read then still holds (always
    /// false on PostgreSQL, where writers run side by side).
    fn commit_and_continue(&mut self) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
/// One backend's ingest journal. Its futures do not need to yield: the
/// alert writer drives them from a thread of its own, where blocking on a
/// write or an fsync holds up nothing else.
pub trait IngestJournal: Send + 'static {
    /// Appends one entry; durable when this returns `Ok`. `seq` is the
    /// caller's and must exceed every entry's already there.
    fn append(
        &mut self,
        seq: i64,
        body: &[u8],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the entries up to `seq` (inclusive): applied, and the mark
    /// saying so is durable. Need not be durable itself.
    fn forget_through(&mut self, seq: i64) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every entry, oldest first.
    fn entries(&mut self) -> impl Future<Output = Result<Vec<(i64, Vec<u8>)>, StoreError>> + Send;
}
