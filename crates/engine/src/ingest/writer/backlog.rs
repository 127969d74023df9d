//! The writer's journal backlog: applying what the journal held at start,
//! applying journaled requests in one transaction once due, and, when that
//! fails, one request at a time, moving those that can never apply into the
//! dead letters and retrying later those that could.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use warroom_store::{DeadLetterStore, IngestJournal, IngestStore, IngestTx, StoreError, WriteTx};

use super::{Journaled, Writer, APPLY_DELAY};
use crate::ingest::batch::apply_batch;
use crate::ingest::journal::Entry;
use crate::ingest::queue::Committed;
use crate::ingest::{dead_letters, ingest_once, IngestRequest};

/// The longest wait between tries to apply journaled alerts while the
/// database cannot take them.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

impl<S: IngestStore + DeadLetterStore + Clone + 'static> Writer<S> {
    /// Opens the journal and applies what it holds past the applied mark:
    /// requests a crash kept from being applied. They are applied before
    /// anything newer. Returns the journal, the next entry's number and how
    /// far its entries may be deleted, or `None` if it cannot be read:
    /// accepted requests are then applied at once, and what the journal
    /// holds waits for a restart.
    pub(super) async fn recover(&mut self) -> Option<(S::Journal, i64, i64)> {
        let recovered = self.read_journal().await;
        // The start's own count in `pending` goes; the entries' replace it.
        self.pending.fetch_sub(1, Ordering::AcqRel);
        let (journal, applied, last) = match recovered {
            Ok(read) => read,
            Err(err) => {
                tracing::error!(error = %err, "reading the ingest journal failed; accepted alerts are applied at once, and what it holds waits for a restart");
                return None;
            }
        };
        if last > applied {
            tracing::info!(
                entries = self.backlog.len(),
                alerts = self.backlog_signals,
                last_seq = last,
                "applying alerts accepted before the last stop"
            );
            self.apply_backlog().await;
            // Entries that did not decode are passed with the rest.
            if self.backlog.is_empty() {
                self.mark_applied_through(last).await;
            }
        }
        // What is marked applied can be forgotten once the mark is on disk.
        let forgettable = match self.store.sync_committed() {
            Ok(()) => self.backlog.front().map_or(last, |j| j.seq - 1),
            Err(_) => 0,
        };
        Some((journal, last + 1, forgettable))
    }

    /// The journal, its applied mark and its last entry's number (at least
    /// the mark), with every entry past the mark in the backlog.
    async fn read_journal(&mut self) -> Result<(S::Journal, i64, i64), StoreError> {
        let mut tx = self.store.begin().await?;
        let applied = tx.journal_applied().await?;
        tx.commit().await?;
        let mut journal = self.store.open_journal().await?;
        let rows = journal.entries().await?;
        let last = rows.last().map_or(applied, |(seq, _)| applied.max(*seq));
        for (seq, body) in rows.into_iter().filter(|(seq, _)| *seq > applied) {
            match Entry::decode(seq, &body) {
                Ok(entry) => {
                    self.pending.fetch_add(1, Ordering::AcqRel);
                    self.push_backlog(seq, entry);
                }
                Err(err) => {
                    let now = self.clock.now();
                    match dead_letters::add_undecodable(&self.store, now, &body, &err).await {
                        Ok(id) => {
                            tracing::error!(error = %err, dead_letter = id, "an ingest journal entry does not decode: kept as a dead letter")
                        }
                        Err(kept) => {
                            tracing::error!(error = %err, keeping = %kept, "skipping an ingest journal entry that does not decode")
                        }
                    }
                }
            }
        }
        Ok((journal, applied, last))
    }

    /// `n` entries are applied, or dropped for good.
    fn done(&self, n: usize) {
        self.pending.fetch_sub(n, Ordering::AcqRel);
    }

    /// Queues a journaled entry to apply; `pending` already counts it.
    pub(super) fn push_backlog(&mut self, seq: i64, entry: Entry) {
        self.backlog_signals += entry.signals();
        self.backlog.push_back(Journaled {
            seq,
            entry,
            appended: Instant::now(),
        });
    }

    /// Applies every journaled request, oldest first, each entry at its
    /// `accepted_at`, in one transaction that also marks them applied.
    /// Nobody waits for its commit to be synced: if it is lost, so is the
    /// mark, and a restart applies them again. The sync thread publishes
    /// the mark once synced, and only then does the appender delete them.
    pub(super) async fn apply_backlog(&mut self) {
        if self.backlog.is_empty() {
            return;
        }
        let entries: Vec<Journaled> = self.backlog.drain(..).collect();
        self.backlog_signals = 0;
        let last = entries.last().map_or(0, |j| j.seq);
        let applied = async {
            self.tx().await?;
            self.fresh_touched();
            let (tx, _, _) = self.run.as_mut().expect("just begun");
            // One batch for them all, each request at its entry's
            // `accepted_at`: one statement counts every repeat and one
            // inserts every new alert, however many entries there are.
            let requests: Vec<(Timestamp, &IngestRequest)> = entries
                .iter()
                .flat_map(|j| j.entry.requests.iter().map(|r| (j.entry.accepted_at, r)))
                .collect();
            let requests = requests.iter().copied();
            let (_, opened) = apply_batch(tx, &mut self.touched, &self.rules, requests).await?;
            self.touched.flush(tx).await?;
            tx.set_journal_applied(last).await?;
            self.commit().await?;
            Ok::<_, StoreError>(opened)
        }
        .await;
        match applied {
            Ok(opened) => {
                self.done(entries.len());
                self.publish_applied(last);
                if opened {
                    self.paging_wake.notify_one();
                }
            }
            Err(err) => {
                self.abandon_run();
                if self.failures == 0 {
                    tracing::warn!(error = %err, entries = entries.len(), "applying accepted alerts failed; retrying one request at a time");
                }
                self.apply_one_by_one(entries).await;
            }
        }
    }

    /// Has the sync thread publish `seq` as applied once its mark is synced.
    fn publish_applied(&self, seq: i64) {
        let _ = self.committed.send(Committed {
            answers: Vec::new(),
            applied: Some(seq),
        });
    }

    /// After a failed `apply_backlog`: each request in its own transaction.
    /// One the store refuses for what it is (not for being unavailable) can
    /// never be applied: it becomes a dead letter, so the requests after it
    /// are applied. After a failure worth retrying, the rest stays in the
    /// backlog for the next try, which waits longer after each failure.
    async fn apply_one_by_one(&mut self, entries: Vec<Journaled>) {
        let now = self.clock.now();
        let mut done_through = None;
        let mut entries = entries.into_iter();
        while let Some(mut journaled) = entries.next() {
            let mut requests = std::mem::take(&mut journaled.entry.requests).into_iter();
            while let Some(request) = requests.next() {
                let at = journaled.entry.accepted_at;
                let failure = match ingest_once(&self.store, &self.rules, at, &request).await {
                    Ok(_) => {
                        self.paging_wake.notify_one();
                        None
                    }
                    Err(err @ StoreError::Unavailable(_)) => Some(err),
                    Err(err) => {
                        match dead_letters::add(&self.store, at, now, &request, &err).await {
                            Ok(id) => {
                                tracing::error!(error = %err, dead_letter = id, seq = journaled.seq, integration = %request.source.integration_name, alerts = request.signals.len(), "accepted alerts cannot be applied: kept as a dead letter (see `warroom ingest dead-letters list`)");
                                None
                            }
                            Err(kept) => Some(kept),
                        }
                    }
                };
                if let Some(err) = failure {
                    self.retry_later(&err, journaled.seq);
                    // Back in front, from the failed request on.
                    journaled.entry.requests = std::iter::once(request).chain(requests).collect();
                    journaled.appended = Instant::now() + self.retry_delay - APPLY_DELAY;
                    let rest: Vec<Journaled> = std::iter::once(journaled).chain(entries).collect();
                    for j in rest.into_iter().rev() {
                        self.backlog_signals += j.entry.signals();
                        self.backlog.push_front(j);
                    }
                    if let Some(seq) = done_through {
                        self.mark_applied_through(seq).await;
                    }
                    return;
                }
            }
            done_through = Some(journaled.seq);
            self.done(1);
        }
        self.failures = 0;
        self.retry_delay = APPLY_DELAY;
        if let Some(seq) = done_through {
            self.mark_applied_through(seq).await;
        }
    }

    /// Counts a failure to apply that is worth retrying, and doubles the
    /// wait before the next try up to `MAX_RETRY_DELAY`. Logs the first
    /// failure and then ever more rarely (the 2nd, 4th, 8th...), so an
    /// unreachable database does not flood the log.
    fn retry_later(&mut self, err: &StoreError, seq: i64) {
        self.failures += 1;
        if self.failures.is_power_of_two() {
            tracing::error!(error = %err, seq, failures = self.failures, retry_in_ms = self.retry_delay.as_millis() as u64, "accepted alerts cannot be applied now; retrying");
        }
        self.retry_delay = (self.retry_delay * 2).min(MAX_RETRY_DELAY);
    }

    /// Marks entries applied in a transaction of its own.
    async fn mark_applied_through(&mut self, seq: i64) {
        self.end_run().await;
        let marked = async {
            let mut tx = self.store.begin().await?;
            tx.set_journal_applied(seq).await?;
            tx.commit().await
        }
        .await;
        match marked {
            Ok(()) => self.publish_applied(seq),
            // They stay unmarked; a restart applies them again (a repeated
            // trigger only counts up its alert).
            Err(err) => {
                tracing::warn!(error = %err, seq, "marking ingest journal entries applied failed")
            }
        }
    }
}
