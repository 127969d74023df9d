//! Every long-running task of the server under one supervisor: each has a
//! name, a state and the time of its last round, they share one shutdown
//! signal, and a task that dies is logged by name and restarted (workers
//! over durable rows) or stops the server (the alert writer), never
//! silently gone.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// The first wait before a dead task is restarted; each later one twice
/// the last, so a task that dies at once does not spin.
const FIRST_RESTART_DELAY: Duration = Duration::from_millis(500);
const MAX_RESTART_DELAY: Duration = Duration::from_secs(30);

/// What the supervisor does when a task ends before shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExit {
    /// Start it again after a delay: it keeps nothing in memory that a
    /// fresh start would miss (its work is rows with leases).
    Restart,
    /// Stop the server: without this task the server would answer requests
    /// it cannot carry out.
    StopServer,
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    Running,
    /// Died; waiting to be started again.
    Restarting,
    /// Ended after the shutdown signal.
    Stopped,
    /// Died and was not restarted.
    Failed,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Running => "running",
            TaskState::Restarting => "restarting",
            TaskState::Stopped => "stopped",
            TaskState::Failed => "failed",
        }
    }

    fn from_u8(n: u8) -> TaskState {
        match n {
            0 => TaskState::Running,
            1 => TaskState::Restarting,
            2 => TaskState::Stopped,
            _ => TaskState::Failed,
        }
    }
}

/// A task as the status page shows it.
#[derive(Debug, Clone)]
pub struct TaskStatus {
    pub name: &'static str,
    pub state: TaskState,
    /// When it last finished a round of work (or a batch), if ever.
    pub last_run: Option<Timestamp>,
    /// How many times it died and was started again.
    pub restarts: u32,
    /// Why it last died.
    pub last_error: Option<String>,
}

/// One task's entry, shared by the supervisor and the task's `Heartbeat`.
struct Entry {
    name: &'static str,
    state: AtomicU8,
    /// Milliseconds since the epoch of the last round; 0 before the first.
    last_run_ms: AtomicI64,
    restarts: AtomicU32,
    last_error: Mutex<Option<String>>,
}

impl Entry {
    fn new(name: &'static str) -> Entry {
        Entry {
            name,
            state: AtomicU8::new(TaskState::Running as u8),
            last_run_ms: AtomicI64::new(0),
            restarts: AtomicU32::new(0),
            last_error: Mutex::new(None),
        }
    }

    fn set(&self, state: TaskState) {
        self.state.store(state as u8, Ordering::Release);
    }

    fn died(&self, why: String) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
    }
}

/// A task's handle for recording that it did a round of work: one atomic
/// store, cheap enough for the alert writer's every batch.
#[derive(Clone)]
pub struct Heartbeat(Arc<Entry>);

impl Heartbeat {
    /// A heartbeat no supervisor reads, for a task run on its own.
    pub fn unwatched(name: &'static str) -> Heartbeat {
        Heartbeat(Arc::new(Entry::new(name)))
    }

    pub fn ran(&self, now: Timestamp) {
        self.0
            .last_run_ms
            .store(now.as_millisecond(), Ordering::Relaxed);
    }
}

/// The shared shutdown signal, as a task sees it.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Whether shutdown has been asked for.
    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Returns once shutdown is asked for (at once if it already was).
    pub async fn wait(&self) {
        let mut signal = self.0.clone();
        // An error means the supervisor is gone, which is a shutdown too.
        let _ = signal.wait_for(|stop| *stop).await;
    }
}

/// What a supervised task gets each time it is started.
#[derive(Clone)]
pub struct TaskContext {
    pub shutdown: Shutdown,
    pub heartbeat: Heartbeat,
}

struct Inner {
    shutdown: watch::Sender<bool>,
    entries: Mutex<Vec<Arc<Entry>>>,
    /// The tasks' join handles: the restart loops of `spawn`, and the
    /// tasks given to `watch`.
    handles: Mutex<Vec<(&'static str, JoinHandle<()>)>>,
    /// Set (and `failure` notified) when a `StopServer` task died.
    failed: AtomicBool,
    failure: Notify,
    first_restart_delay: Duration,
}

/// The server's tasks. Cheap to clone; every clone is the same supervisor.
#[derive(Clone)]
pub struct Supervisor(Arc<Inner>);

impl Default for Supervisor {
    fn default() -> Self {
        Supervisor::new()
    }
}

impl Supervisor {
    pub fn new() -> Supervisor {
        Supervisor::with_restart_delay(FIRST_RESTART_DELAY)
    }

    /// A supervisor whose first restart waits `delay` (tests use a short one).
    pub fn with_restart_delay(delay: Duration) -> Supervisor {
        Supervisor(Arc::new(Inner {
            shutdown: watch::Sender::new(false),
            entries: Mutex::new(Vec::new()),
            handles: Mutex::new(Vec::new()),
            failed: AtomicBool::new(false),
            failure: Notify::new(),
            first_restart_delay: delay,
        }))
    }

    /// Registers a task by name; its heartbeat reports its rounds.
    pub fn register(&self, name: &'static str) -> Heartbeat {
        let entry = Arc::new(Entry::new(name));
        lock(&self.0.entries).push(Arc::clone(&entry));
        Heartbeat(entry)
    }

    /// The shutdown signal every task shares.
    pub fn shutdown_signal(&self) -> Shutdown {
        Shutdown(self.0.shutdown.subscribe())
    }

    /// Starts `make(context)` as the task `name`, and again whenever it ends
    /// or panics before shutdown (with `OnExit::Restart`, after a growing
    /// delay), or stops the server (`OnExit::StopServer`). The task should
    /// return soon after `context.shutdown` fires, finishing the round it is in.
    pub fn spawn<F, Fut>(&self, name: &'static str, on_exit: OnExit, make: F)
    where
        F: Fn(TaskContext) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let heartbeat = self.register(name);
        let context = TaskContext {
            shutdown: self.shutdown_signal(),
            heartbeat: heartbeat.clone(),
        };
        let supervisor = self.clone();
        let handle = tokio::spawn(async move {
            let entry = &heartbeat.0;
            let mut delay = supervisor.0.first_restart_delay;
            loop {
                entry.set(TaskState::Running);
                let ended = tokio::spawn(make(context.clone())).await;
                if context.shutdown.requested() {
                    entry.set(TaskState::Stopped);
                    return;
                }
                let why = died_because(ended);
                tracing::error!(task = name, reason = %why, "background task died");
                entry.died(why);
                match on_exit {
                    OnExit::StopServer => {
                        entry.set(TaskState::Failed);
                        supervisor.fail();
                        return;
                    }
                    OnExit::Restart => {
                        entry.set(TaskState::Restarting);
                        entry.restarts.fetch_add(1, Ordering::Relaxed);
                        tokio::select! {
                            () = tokio::time::sleep(delay) => {}
                            () = context.shutdown.wait() => {
                                entry.set(TaskState::Stopped);
                                return;
                            }
                        }
                        delay = (delay * 2).min(MAX_RESTART_DELAY);
                        tracing::info!(task = name, "restarting background task");
                    }
                }
            }
        });
        lock(&self.0.handles).push((name, handle));
    }

    /// Watches a task that was started elsewhere and cannot be restarted
    /// (it owns what it was given): if it ends before shutdown, the server stops.
    pub fn watch(&self, heartbeat: &Heartbeat, task: JoinHandle<()>) {
        let entry = Arc::clone(&heartbeat.0);
        let shutdown = self.shutdown_signal();
        let supervisor = self.clone();
        let handle = tokio::spawn(async move {
            let ended = task.await;
            if shutdown.requested() && ended.is_ok() {
                entry.set(TaskState::Stopped);
                return;
            }
            let why = died_because(ended);
            tracing::error!(task = entry.name, reason = %why, "background task died");
            entry.died(why);
            entry.set(TaskState::Failed);
            supervisor.fail();
        });
        lock(&self.0.handles).push((heartbeat.0.name, handle));
    }

    fn fail(&self) {
        self.0.failed.store(true, Ordering::Release);
        self.0.failure.notify_waiters();
    }

    /// Returns once a task whose death stops the server has died.
    pub async fn failed(&self) {
        loop {
            let notified = self.0.failure.notified();
            if self.0.failed.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    /// Whether a task whose death stops the server has died.
    pub fn has_failed(&self) -> bool {
        self.0.failed.load(Ordering::Acquire)
    }

    /// Every task, in the order they were started.
    pub fn tasks(&self) -> Vec<TaskStatus> {
        lock(&self.0.entries)
            .iter()
            .map(|entry| {
                let ms = entry.last_run_ms.load(Ordering::Relaxed);
                TaskStatus {
                    name: entry.name,
                    state: TaskState::from_u8(entry.state.load(Ordering::Acquire)),
                    last_run: (ms != 0)
                        .then(|| Timestamp::from_millisecond(ms).ok())
                        .flatten(),
                    restarts: entry.restarts.load(Ordering::Relaxed),
                    last_error: lock(&entry.last_error).clone(),
                }
            })
            .collect()
    }

    /// Gives the shutdown signal.
    pub fn request_shutdown(&self) {
        self.0.shutdown.send_replace(true);
    }

    /// Gives the shutdown signal and waits for every task to end, at most
    /// `grace`. Returns the names of the tasks still running then (they
    /// are dropped with the runtime; what they held is rows with leases,
    /// which lapse and are taken up again by the next start).
    pub async fn shutdown(&self, grace: Duration) -> Vec<&'static str> {
        self.request_shutdown();
        let handles = std::mem::take(&mut *lock(&self.0.handles));
        let deadline = tokio::time::Instant::now() + grace;
        let mut late = Vec::new();
        for (name, mut handle) in handles {
            if tokio::time::timeout_at(deadline, &mut handle)
                .await
                .is_err()
            {
                tracing::warn!(task = name, "background task did not stop in time");
                handle.abort();
                late.push(name);
            }
        }
        late
    }
}

fn died_because(ended: Result<(), tokio::task::JoinError>) -> String {
    match ended {
        Ok(()) => "returned before shutdown".to_owned(),
        Err(err) if err.is_panic() => {
            let panic = err.into_panic();
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            format!("panicked: {text}")
        }
        Err(_) => "cancelled".to_owned(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test]
    async fn a_panicking_task_is_restarted_and_named() {
        let supervisor = Supervisor::with_restart_delay(Duration::from_millis(1));
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&starts);
        supervisor.spawn("flaky", OnExit::Restart, move |ctx| {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    panic!("first start fails");
                }
                ctx.shutdown.wait().await;
            }
        });
        let restarted = async {
            while starts.load(Ordering::SeqCst) < 2 {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), restarted)
            .await
            .expect("restarted");
        let tasks = supervisor.tasks();
        assert_eq!(tasks[0].name, "flaky");
        assert_eq!(tasks[0].restarts, 1);
        assert_eq!(
            tasks[0].last_error.as_deref(),
            Some("panicked: first start fails")
        );
        assert!(supervisor.shutdown(Duration::from_secs(1)).await.is_empty());
        assert_eq!(supervisor.tasks()[0].state, TaskState::Stopped);
        assert!(!supervisor.has_failed());
    }

    #[tokio::test]
    async fn a_task_that_must_not_die_stops_the_server() {
        let supervisor = Supervisor::new();
        supervisor.spawn("writer", OnExit::StopServer, |_| async {});
        tokio::time::timeout(Duration::from_secs(5), supervisor.failed())
            .await
            .expect("the failure is reported");
        let task = &supervisor.tasks()[0];
        assert_eq!(task.state, TaskState::Failed);
        assert_eq!(task.last_error.as_deref(), Some("returned before shutdown"));
    }

    #[tokio::test]
    async fn shutdown_waits_for_the_round_in_progress() {
        let supervisor = Supervisor::new();
        let finished = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&finished);
        supervisor.spawn("worker", OnExit::Restart, move |ctx| {
            let flag = Arc::clone(&flag);
            async move {
                ctx.shutdown.wait().await;
                // The round in progress when the signal came.
                tokio::time::sleep(Duration::from_millis(50)).await;
                flag.store(true, Ordering::SeqCst);
            }
        });
        assert!(supervisor.shutdown(Duration::from_secs(5)).await.is_empty());
        assert!(finished.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_task_past_the_grace_period_is_named() {
        let supervisor = Supervisor::new();
        supervisor.spawn("stuck", OnExit::Restart, |_| std::future::pending::<()>());
        let late = supervisor.shutdown(Duration::from_millis(20)).await;
        assert_eq!(late, vec!["stuck"]);
    }
}
