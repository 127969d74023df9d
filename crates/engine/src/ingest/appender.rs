//! The journal appender: a thread of its own that appends accepted alert
//! requests to the ingest journal (`IngestJournal`), many per append, and
//! answers them once the append is durable, while the writer task applies
//! earlier entries beside it. The journal has its own write lock (SQLite:
//! its own file), so an append never waits for an apply to commit.
//!
//! Each durable entry goes to the writer's queue before anyone is answered
//! for it: a read barrier (`Ingestor::settled`) or a request sent after
//! that answer is queued behind it, so it is applied first.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::mpsc;
use warroom_store::{IngestJournal, StoreError};

use super::journal::Entry;
use super::queue::{AppendJob, Job, Reply, MAX_BATCH};
use super::IngestRequest;
use crate::clock::Clock;

pub(super) struct Appender<J> {
    /// `None` when the journal could not be opened: accepted requests are
    /// then applied at once, as `Ingestor::submit` does.
    pub journal: Option<J>,
    pub jobs: mpsc::Sender<Job>,
    pub clock: Arc<dyn Clock>,
    /// Entries appended and not yet applied (`Ingestor::settled`).
    pub pending: Arc<AtomicUsize>,
    /// The last entry applied with its mark synced (`answer_when_durable`).
    pub applied_durable: Arc<AtomicI64>,
    pub next_seq: i64,
    /// Drives the journal's futures from this thread.
    pub runtime: Handle,
}

impl<J: IngestJournal> Appender<J> {
    /// Appends what `to_append` brings until every `Ingestor` is gone.
    pub fn run(mut self, mut to_append: mpsc::Receiver<AppendJob>) {
        let mut forgotten = self.forget(0);
        let mut work = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = to_append.blocking_recv() {
            // Whatever queued while the last append synced goes in one entry.
            let mut next = Some(first);
            while let Some(job) = next {
                if let AppendJob::Accept(request, reply) = job {
                    work.push((request, reply));
                }
                next = if work.len() < MAX_BATCH {
                    to_append.try_recv().ok()
                } else {
                    None
                };
            }
            if !work.is_empty() {
                self.append(std::mem::take(&mut work));
            }
            forgotten = self.forget(forgotten);
        }
    }

    /// Appends the requests as one entry, hands it to the writer and
    /// answers them; or, without a journal, hands them to the writer to
    /// apply and answer.
    fn append(&mut self, work: Vec<(IngestRequest, Reply)>) {
        let Some(journal) = self.journal.as_mut() else {
            for (request, reply) in work {
                // The writer answers; if it has stopped, dropping the
                // reply tells the sender so.
                let _ = self.jobs.blocking_send(Job::Apply(request, reply));
            }
            return;
        };
        let (requests, replies): (Vec<_>, Vec<_>) = work.into_iter().unzip();
        let entry = Entry {
            accepted_at: self.clock.now(),
            requests,
        };
        let seq = self.next_seq;
        // Used even by a failed append, which may have written it.
        self.next_seq += 1;
        let appended = entry
            .encode()
            .and_then(|body| self.runtime.block_on(journal.append(seq, &body)));
        match appended {
            Ok(()) => {
                self.pending.fetch_add(1, Ordering::Release);
                // If the writer has stopped, the entry waits in the journal
                // for the next start: the answer is still true.
                let _ = self.jobs.blocking_send(Job::Journaled(seq, entry));
                for reply in replies {
                    let _ = reply.send(Ok(Vec::new()));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, seq, "appending accepted alerts to the ingest journal failed");
                let message = err.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Unavailable(message.clone())));
                }
            }
        }
    }

    /// Deletes the entries applied since `forgotten`, once the mark saying
    /// so is durable; returns how far the journal is forgotten now.
    fn forget(&mut self, forgotten: i64) -> i64 {
        let durable = self.applied_durable.load(Ordering::Acquire);
        let Some(journal) = self.journal.as_mut() else {
            return durable;
        };
        if durable <= forgotten {
            return forgotten;
        }
        match self.runtime.block_on(journal.forget_through(durable)) {
            Ok(()) => durable,
            Err(err) => {
                // They stay; a restart skips them (they are marked applied).
                tracing::warn!(error = %err, seq = durable, "deleting applied ingest journal entries failed");
                forgotten
            }
        }
    }
}
