//! `IngestJournal`: where accepted alert requests wait to be applied, with
//! a write lock of its own so that appending never waits for the writer
//! that applies them (SQLite: a second database file beside the main one;
//! PostgreSQL: a table, whose row locks already keep the two apart).
//!
//! The journal only holds entries; which of them are applied is recorded in
//! the main database (`WriteTx::set_journal_applied`), in the transaction
//! that applies them. Entries up to that mark are skipped at a restart and
//! forgotten once the mark is durable.

use std::future::Future;

use crate::StoreError;

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
