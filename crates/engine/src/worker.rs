//! The loop every background worker runs: do what is due, then sleep until
//! the next row is due (at most `max_sleep`, to notice rows other nodes
//! wrote), until woken by a change in this process, or until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;
use warroom_store::StoreError;

use crate::clock::Clock;
use crate::supervisor::TaskContext;

/// How long to sleep before `next` is due.
pub fn until(next: Option<Timestamp>, now: Timestamp, max_sleep: Duration) -> Duration {
    match next {
        Some(due) => {
            let wait = due.duration_since(now).max(SignedDuration::ZERO);
            Duration::try_from(wait).unwrap_or(max_sleep).min(max_sleep)
        }
        None => max_sleep,
    }
}

/// Runs `round` (which returns how many rows it handled) until shutdown:
/// again at once after a full batch, else after `next_due` or a `wake`.
/// A round in progress when shutdown comes is finished first.
#[allow(clippy::too_many_arguments)]
pub async fn run<R, RF, N, NF>(
    what: &'static str,
    task: TaskContext,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    batch: usize,
    max_sleep: Duration,
    mut round: R,
    mut next_due: N,
) where
    R: FnMut(Timestamp) -> RF,
    RF: Future<Output = Result<usize, StoreError>>,
    N: FnMut() -> NF,
    NF: Future<Output = Result<Option<Timestamp>, StoreError>>,
{
    while !task.shutdown.requested() {
        let now = clock.now();
        let handled = match round(now).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, worker = what, "round failed; retrying");
                0
            }
        };
        task.heartbeat.ran(now);
        if handled >= batch {
            continue;
        }
        let sleep = match next_due().await {
            Ok(next) => until(next, clock.now(), max_sleep),
            Err(e) => {
                tracing::warn!(error = %e, worker = what, "cannot read when work is next due");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = wake.notified() => {}
            () = task.shutdown.wait() => {}
        }
    }
}
