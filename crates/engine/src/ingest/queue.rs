//! What the ingest threads pass each other: the writer's jobs, the
//! appender's jobs, committed batches on their way to the sync thread, and
//! the batch limit they share. The writer and the appender both depend on
//! this module and on nothing of each other's queues.

use tokio::sync::oneshot;
use warroom_store::StoreError;

use super::journal::Entry;
use super::{IngestRequest, SignalResult};

/// The most requests taken into one batch, or into one journal entry.
pub(super) const MAX_BATCH: usize = 256;

/// Where a request's answer goes: its outcomes, once they are durable.
pub(super) type Reply = oneshot::Sender<Result<Vec<SignalResult>, StoreError>>;

/// What the writer is asked to do.
pub(super) enum Job {
    /// Apply at once; answer with the outcomes once durable.
    Apply(IngestRequest, Reply),
    /// Journaled (durably, by the appender): apply soon.
    Journaled(i64, Entry),
    /// Answer once everything accepted before is applied.
    Settle(Reply),
    /// Apply everything queued before this, then stop (`Ingestor::stop`).
    Stop,
}

/// What the appender is asked to do.
pub(super) enum AppendJob {
    /// Journal the request; answer once durable.
    Accept(IngestRequest, Reply),
    /// Applied entries' mark became durable: forget them.
    Forget,
}

/// A commit waiting for its fsync: each request's answer, and how far the
/// journal is marked applied by it.
pub(super) struct Committed {
    pub answers: Vec<(Reply, Vec<SignalResult>)>,
    pub applied: Option<i64>,
}
