//! The single alert writer: requests queue here, it commits them in batches
//! (group commit) and answers each once an fsync covers its commit.
//!
//! Two ways in:
//! - `Ingestor::submit` applies a request to the alert and incident tables
//!   before it answers, with what happened to each alert.
//! - `Ingestor::accept` only appends the request to the ingest journal
//!   before it answers, on the appender's thread (`appender.rs`), beside
//!   this writer. The writer applies journaled requests a few milliseconds
//!   later, many per transaction, in the order they came, and marks them
//!   applied in the same transaction. Senders whose answer carries no
//!   outcome (Alertmanager API v2, PagerDuty) come this way: a 2xx then
//!   waits for one small append per batch, not for the alert, timeline and
//!   incident writes, nor for the write lock those hold.
//!
//! `Ingestor::settled` is the read barrier: it returns once every request
//! accepted before it was called has been applied, so a read after a 2xx
//! sees the alert.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot, Notify};

use warroom_store::{DeadLetterStore, IngestStore, IngestTx, StoreError, WriteTx};

use super::appender::Appender;
use super::batch::apply_batch;
use super::journal::Entry;
use super::queue::{AppendJob, Committed, Job, Reply, MAX_BATCH};
use super::{ingest_once, IngestRequest, IngestRules, SignalResult, Touched};
use crate::clock::Clock;
use crate::supervisor::Heartbeat;

mod backlog;

/// The single writer for alerts: requests queue here and are committed in batches.
#[derive(Clone)]
pub struct Ingestor {
    queue: mpsc::Sender<Job>,
    /// To the journal appender (`appender.rs`).
    accepts: mpsc::Sender<AppendJob>,
    /// Journal entries appended and not yet applied (plus 1 until the
    /// writer has applied what the journal held at startup): `settled`
    /// asks the writer only when there are some.
    pending: Arc<AtomicUsize>,
}

/// How long the writer keeps the write connection across batches before it
/// gives other writers (API calls, paging, the outbox) their turn.
const MAX_RUN: Duration = Duration::from_millis(25);

/// How long a run waits for more requests before it ends.
const RUN_IDLE: Duration = Duration::from_millis(2);

/// An accepted request carrying more alerts than this is applied at once
/// instead of journaled: it already shares its writes among many alerts,
/// and journaling would write each alert twice.
const JOURNAL_MAX_SIGNALS: usize = 64;

/// How long journaled requests wait to be applied, unless a read waits for
/// them: long enough that one transaction applies many batches, since
/// appends do not wait for applies and fewer, larger applies cost less.
/// Waiting longer than this gains nothing and delays reads.
const APPLY_DELAY: Duration = Duration::from_millis(20);

/// Past this many journaled alerts waiting, they are applied at once
/// rather than when due, which bounds a read's wait. (The writer's queue
/// bounds the memory: the appender waits when it is full.)
const MAX_BACKLOG_SIGNALS: usize = 2048;

/// How long `settled` waits for the writer before it lets a read go ahead
/// anyway (the writer logs why it is stuck).
const SETTLE_LIMIT: Duration = Duration::from_secs(5);

impl Ingestor {
    /// Starts the writer task; it stops after `stop`, or when every
    /// `Ingestor` clone is dropped, and its handle ends once what it
    /// committed is durable. `paging_wake` is notified after a batch that
    /// opened incidents, so their first pages go out at once; `heartbeat`
    /// records each batch for the server's status.
    ///
    /// Before anything else, the writer applies what the journal still
    /// holds from before a crash; `settled` waits for that too. Then it
    /// starts the journal appender's thread.
    ///
    /// While requests keep coming, the writer chains its transactions on one
    /// connection (`Store::begin_run`) and hands each committed batch to a
    /// thread that syncs the WAL and only then answers: the next batch
    /// is written while the previous one's fsync runs, and one fsync covers
    /// every batch committed before it started.
    pub fn start<S: IngestStore + DeadLetterStore + Clone + 'static>(
        store: S,
        rules: Arc<IngestRules>,
        clock: Arc<dyn Clock>,
        paging_wake: Arc<Notify>,
        heartbeat: Heartbeat,
    ) -> (Ingestor, tokio::task::JoinHandle<()>) {
        let (queue, jobs) = mpsc::channel::<Job>(4 * MAX_BATCH);
        let (accepts, to_append) = mpsc::channel::<AppendJob>(4 * MAX_BATCH);
        let (committed, to_sync) = mpsc::unbounded_channel::<Committed>();
        let applied_durable = Arc::new(AtomicI64::new(0));
        let syncing = store.clone();
        let (durable, appender) = (Arc::clone(&applied_durable), accepts.downgrade());
        let sync_thread = std::thread::Builder::new()
            .name("warroom-alert-sync".into())
            .spawn(move || answer_when_durable(&syncing, to_sync, &durable, &appender))
            .expect("the alert writer's sync thread starts");
        let pending = Arc::new(AtomicUsize::new(1));
        let appender = Appender {
            journal: None,
            jobs: queue.clone(),
            clock: Arc::clone(&clock),
            pending: Arc::clone(&pending),
            applied_durable,
            next_seq: 1,
            runtime: tokio::runtime::Handle::current(),
        };
        let writer = Writer {
            pending: Arc::clone(&pending),
            store,
            rules,
            paging_wake,
            committed,
            run: None,
            touched: Touched::default(),
            touched_current: false,
            backlog: VecDeque::new(),
            backlog_signals: 0,
            failures: 0,
            retry_delay: APPLY_DELAY,
            clock: Arc::clone(&clock),
            heartbeat,
            sync_thread: Some(sync_thread),
        };
        let task = tokio::spawn(writer.write_batches(clock, jobs, appender, to_append));
        let ingestor = Ingestor {
            queue,
            accepts,
            pending,
        };
        (ingestor, task)
    }

    /// `start` with nobody watching the task: for tools and tests that
    /// drive the writer alone.
    pub fn spawn<S: IngestStore + DeadLetterStore + Clone + 'static>(
        store: S,
        rules: Arc<IngestRules>,
        clock: Arc<dyn Clock>,
        paging_wake: Arc<Notify>,
    ) -> Ingestor {
        let heartbeat = Heartbeat::unwatched("alert writer");
        Ingestor::start(store, rules, clock, paging_wake, heartbeat).0
    }

    /// Asks the writer to apply everything queued before this call (the
    /// journaled requests too) and stop; the task `start` returned ends
    /// once that is durable. Requests sent afterwards are refused.
    pub async fn stop(&self) {
        let _ = self.queue.send(Job::Stop).await;
    }

    /// Journal entries accepted and not yet applied.
    pub fn backlog(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Queues a request and waits until it is applied and durable; the
    /// answer says what happened to each alert.
    pub async fn submit(&self, request: IngestRequest) -> Result<Vec<SignalResult>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Apply(request, reply), answer).await
    }

    /// Queues a request and waits until it is durable in the ingest journal.
    /// It is applied soon after, in order with everything else; reads that
    /// call `settled` first see it.
    pub async fn accept(&self, request: IngestRequest) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        if request.signals.len() > JOURNAL_MAX_SIGNALS {
            return self
                .send(Job::Apply(request, reply), answer)
                .await
                .map(drop);
        }
        let stopped = || StoreError::Unavailable("the alert journal has stopped".into());
        let job = AppendJob::Accept(request, reply);
        self.accepts.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map(drop)
    }

    /// Waits until every request accepted before this call is applied, so
    /// that what it reads next includes them. Gives up after a few seconds
    /// if the writer cannot apply them (it logs why), letting the read go on.
    pub async fn settled(&self) {
        // The writer counts an entry before anyone is answered for it, and
        // uncounts it only once its apply has committed.
        if self.pending.load(Ordering::Acquire) == 0 {
            return;
        }
        let (reply, answer) = oneshot::channel();
        let settled = self.send(Job::Settle(reply), answer);
        if tokio::time::timeout(SETTLE_LIMIT, settled).await.is_err() {
            tracing::warn!(
                "reading without waiting for accepted alerts: the alert writer is behind"
            );
        }
    }

    async fn send(
        &self,
        job: Job,
        answer: oneshot::Receiver<Result<Vec<SignalResult>, StoreError>>,
    ) -> Result<Vec<SignalResult>, StoreError> {
        let stopped = || StoreError::Unavailable("the alert writer has stopped".into());
        self.queue.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// A journal entry written and not yet applied.
struct Journaled {
    seq: i64,
    entry: Entry,
    /// When it was appended, for `APPLY_DELAY`.
    appended: Instant,
}

/// The writer task's state.
struct Writer<S: IngestStore + DeadLetterStore + Clone + 'static> {
    store: S,
    rules: Arc<IngestRules>,
    paging_wake: Arc<Notify>,
    committed: mpsc::UnboundedSender<Committed>,
    /// The open transaction of the current run, when it began, and when
    /// it last committed.
    run: Option<(S::Tx, Instant, Instant)>,
    /// What the run has read, kept across its transactions while no other
    /// writer commits in between (`WriteTx::commit_and_continue`).
    touched: Touched,
    /// Whether `touched` still holds what is stored.
    touched_current: bool,
    /// Journaled and not yet applied, oldest first.
    backlog: VecDeque<Journaled>,
    backlog_signals: usize,
    /// Failures in a row to apply journaled alerts, and the wait before the
    /// next try (`retry_later`).
    failures: u32,
    retry_delay: Duration,
    /// When dead letters failed.
    clock: Arc<dyn Clock>,
    /// Entries not yet applied, as `Ingestor::settled` sees them: the
    /// appender counts each up before anyone hears of it, the writer
    /// down once its apply has committed.
    pending: Arc<AtomicUsize>,
    heartbeat: Heartbeat,
    /// Joined when the writer stops, so its last commits are durable
    /// before the writer's task ends.
    sync_thread: Option<std::thread::JoinHandle<()>>,
}

impl<S: IngestStore + DeadLetterStore + Clone + 'static> Writer<S> {
    /// Takes every job waiting, handles them as one batch, and in the
    /// pauses applies the journal and ends runs.
    async fn write_batches(
        mut self,
        clock: Arc<dyn Clock>,
        mut jobs: mpsc::Receiver<Job>,
        mut appender: Appender<S::Journal>,
        to_append: mpsc::Receiver<AppendJob>,
    ) {
        // Requests queue meanwhile; a failure here only moves the work to the
        // first batch.
        if let Err(err) = self.store.warm_up().await {
            tracing::warn!(error = %err, "readying the alert writer failed");
        }
        if let Some((journal, next_seq, forgettable)) = self.recover().await {
            appender.journal = Some(journal);
            appender.next_seq = next_seq;
            appender
                .applied_durable
                .fetch_max(forgettable, Ordering::AcqRel);
        }
        // Accepts queued meanwhile are numbered after what was recovered.
        std::thread::Builder::new()
            .name("warroom-alert-journal".into())
            .spawn(move || appender.run(to_append))
            .expect("the alert journal's thread starts");
        let mut batch = Vec::with_capacity(MAX_BATCH);
        loop {
            let received = match self.next_deadline() {
                None => jobs.recv_many(&mut batch, MAX_BATCH).await,
                Some(at) => {
                    let wait =
                        tokio::time::timeout_at(at.into(), jobs.recv_many(&mut batch, MAX_BATCH));
                    match wait.await {
                        Ok(received) => received,
                        Err(_) => {
                            self.on_pause().await;
                            continue;
                        }
                    }
                }
            };
            let stop_at = batch.iter().position(|job| matches!(job, Job::Stop));
            if received == 0 || stop_at.is_some() {
                // Stopped, or every `Ingestor` is gone: apply what was
                // accepted before and stop. Requests after the stop are
                // refused by dropping their replies; journaled ones wait in
                // the journal for the next start.
                batch.truncate(stop_at.unwrap_or(batch.len()));
                self.handle(std::mem::take(&mut batch), clock.now()).await;
                self.apply_backlog().await;
                self.end_run().await;
                break;
            }
            self.handle(std::mem::take(&mut batch), clock.now()).await;
            // The store's calls complete without yielding: let the
            // handlers queued on this worker run (and send more) before
            // the next batch, so batches fill instead of the writer
            // taking requests one at a time.
            tokio::task::yield_now().await;
        }
        // The sync thread ends once the last commits are durable and answered.
        let Writer {
            committed,
            sync_thread,
            ..
        } = self;
        drop(committed);
        if let Some(thread) = sync_thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    /// When the writer must act though no job came: the journal is due,
    /// or the run has been idle long enough to end.
    fn next_deadline(&self) -> Option<Instant> {
        let apply_at = self.backlog.front().map(|j| j.appended + APPLY_DELAY);
        let end_run_at = self.run.as_ref().map(|(_, _, last)| *last + RUN_IDLE);
        match (apply_at, end_run_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Nothing came before `next_deadline`.
    async fn on_pause(&mut self) {
        let due = self
            .backlog
            .front()
            .is_some_and(|j| j.appended.elapsed() >= APPLY_DELAY);
        if due {
            self.apply_backlog().await;
        } else {
            // Senders answered a moment ago usually send again at once;
            // past `RUN_IDLE` with nothing to do, give the connection back.
            self.end_run().await;
        }
    }

    async fn handle(&mut self, batch: Vec<Job>, now: Timestamp) {
        let mut settles = Vec::new();
        let mut work = Vec::new();
        for job in batch {
            match job {
                Job::Settle(reply) => settles.push(reply),
                Job::Apply(request, reply) => work.push((request, reply)),
                Job::Journaled(seq, entry) => self.push_backlog(seq, entry),
                // `write_batches` stops before a stop job reaches here.
                Job::Stop => {}
            }
        }
        self.heartbeat.ran(now);
        // Everything accepted before comes first; past `MAX_BACKLOG_SIGNALS`
        // it is applied now rather than when due.
        if !work.is_empty() || !settles.is_empty() || self.backlog_signals > MAX_BACKLOG_SIGNALS {
            self.apply_backlog().await;
        }
        if !work.is_empty() {
            self.apply_now(work, now).await;
        }
        for reply in settles {
            let _ = reply.send(Ok(Vec::new()));
        }
    }

    /// The open transaction of the run, beginning a run if none is open.
    async fn tx(&mut self) -> Result<&mut S::Tx, StoreError> {
        if self.run.is_none() {
            let tx = self.store.begin_run().await?;
            let at = Instant::now();
            self.run = Some((tx, at, at));
            self.touched_current = false;
        }
        Ok(&mut self.run.as_mut().expect("just begun").0)
    }

    /// `touched`, ready for another batch: emptied unless what it holds
    /// is still what is stored.
    fn fresh_touched(&mut self) {
        if self.touched_current {
            self.touched.next_batch();
        } else {
            self.touched = Touched::default();
        }
    }

    /// Commits the run's transaction and begins its next one, or ends the
    /// run when it has held the connection long enough.
    async fn commit(&mut self) -> Result<(), StoreError> {
        let (tx, started, last) = self.run.as_mut().expect("a run is open");
        match tx.commit_and_continue().await {
            Ok(alone) => {
                self.touched_current = alone;
                *last = Instant::now();
                if started.elapsed() >= MAX_RUN {
                    self.end_run().await;
                }
                Ok(())
            }
            Err(err) => {
                self.abandon_run();
                Err(err)
            }
        }
    }

    /// Rolls back the open transaction; the connection goes back to the pool.
    fn abandon_run(&mut self) {
        self.run = None;
        self.touched_current = false;
    }

    /// Commits the (empty) open transaction of a run, which gives the write
    /// connection back to other writers.
    async fn end_run(&mut self) {
        if let Some((tx, _, _)) = self.run.take() {
            if let Err(err) = tx.commit().await {
                tracing::warn!(error = %err, "ending the alert writer's run failed");
            }
        }
        self.touched_current = false;
    }

    /// Applies a batch at once, commits it within the current run and
    /// hands it to `answer_when_durable`.
    async fn apply_now(&mut self, work: Vec<(IngestRequest, Reply)>, now: Timestamp) {
        let applied = async {
            self.tx().await?;
            self.fresh_touched();
            let (tx, _, _) = self.run.as_mut().expect("just begun");
            let requests: Vec<(Timestamp, &IngestRequest)> =
                work.iter().map(|(request, _)| (now, request)).collect();
            let requests = requests.iter().copied();
            let applied = apply_batch(tx, &mut self.touched, &self.rules, requests).await?;
            self.touched.flush(tx).await?;
            self.commit().await?;
            Ok::<_, StoreError>(applied)
        }
        .await;
        match applied {
            Ok((all, opened)) => {
                let answers = work.into_iter().map(|(_, reply)| reply).zip(all);
                let _ = self.committed.send(Committed {
                    answers: answers.collect(),
                    applied: None,
                });
                if opened {
                    self.paging_wake.notify_one();
                }
            }
            Err(err) => {
                self.abandon_run();
                if retry_one_by_one(&self.store, &self.rules, now, work, err).await {
                    self.paging_wake.notify_one();
                }
            }
        }
    }
}

/// Answers committed batches once an fsync after their commit has returned,
/// and then publishes how far the journal is durably marked applied, which
/// wakes the appender to forget those entries. A thread of its own, since
/// the sync blocks: batches committed while one runs share the next. The
/// writer's commits wake it directly and it wakes the requests directly,
/// so no hop through a task or the blocking pool adds a wake-up to every
/// request's wait.
fn answer_when_durable<S: IngestStore + DeadLetterStore + Clone + 'static>(
    store: &S,
    mut to_sync: mpsc::UnboundedReceiver<Committed>,
    applied_durable: &AtomicI64,
    appender: &mpsc::WeakSender<AppendJob>,
) {
    let mut waiting = Vec::new();
    while let Some(first) = to_sync.blocking_recv() {
        waiting.push(first);
        while let Ok(more) = to_sync.try_recv() {
            waiting.push(more);
        }
        let synced = store.sync_committed();
        let applied = waiting.iter().filter_map(|c| c.applied).max();
        for (reply, results) in waiting.drain(..).flat_map(|c| c.answers) {
            let answer = match &synced {
                Ok(()) => Ok(results),
                Err(err) => Err(StoreError::Unavailable(err.to_string())),
            };
            let _ = reply.send(answer);
        }
        if let (Ok(()), Some(seq)) = (&synced, applied) {
            applied_durable.fetch_max(seq, Ordering::AcqRel);
            if let Some(appender) = appender.upgrade() {
                // A full queue means the appender is busy; it looks
                // again after its next append anyway.
                let _ = appender.try_send(AppendJob::Forget);
            }
        }
    }
}

/// One bad request must not fail its neighbours: after a failed batch, each
/// request is applied alone, in its own durable transaction. Returns
/// whether any of them may have opened an incident.
async fn retry_one_by_one<S: IngestStore + DeadLetterStore + Clone + 'static>(
    store: &S,
    rules: &IngestRules,
    now: Timestamp,
    batch: Vec<(IngestRequest, Reply)>,
    err: StoreError,
) -> bool {
    if batch.len() == 1 {
        if let Some((_, reply)) = batch.into_iter().next() {
            let _ = reply.send(Err(err));
        }
        return false;
    }
    tracing::warn!(error = %err, size = batch.len(), "alert batch failed; retrying one by one");
    for (request, reply) in batch {
        let _ = reply.send(ingest_once(store, rules, now, &request).await);
    }
    true
}
