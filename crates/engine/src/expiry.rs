//! Resolves Alertmanager API v2 alerts that stopped arriving, as Alertmanager
//! does: when their `endsAt` passes, or, without one, after `resolve_timeout`
//! since they were last seen. Prometheus re-sends firing alerts with a fresh
//! `endsAt` on every evaluation, so a rule that stops firing expires here even
//! if its final "resolved" message is lost.
//!
//! The same task re-checks suppressed alerts (`ingest::unsuppress_once`): a
//! silence that ends or an inhibiting alert that resolves lets them page.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use warroom_store::{AlertTx, IncidentStore, StoreError, WriteTx};

use crate::clock::Clock;
use crate::ingest::{resolve_expired, IngestRules, Ingestor, Touched};
use crate::supervisor::TaskContext;

/// The origin the Alertmanager API v2 parser gives its alerts.
pub const ORIGIN: &str = "prometheus";

/// How many expired alerts one transaction resolves.
const BATCH: u32 = 500;

/// The longest the expirer sleeps, so it notices alerts that arrived meanwhile.
const MAX_SLEEP: Duration = Duration::from_secs(5);

/// Resolves the alerts expired at `now`, in one transaction. Returns how many.
pub async fn expire_once<S: IncidentStore>(
    store: &S,
    rules: &IngestRules,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut tx = store.begin().await?;
    let stale_before = now - rules.resolve_timeout;
    let expired = tx.expired_alerts(ORIGIN, now, stale_before, BATCH).await?;
    let count = expired.len();
    let mut touched = Touched::default();
    for alert in expired {
        let ends_at = alert.ends_at.unwrap_or(now);
        resolve_expired(&mut tx, &mut touched, rules, alert, ends_at, now).await?;
    }
    touched.flush(&mut tx).await?;
    tx.commit().await?;
    Ok(count)
}

/// The expiry worker's loop: runs `expire_once` whenever the next alert is
/// due, until `task.shutdown`. Waits for `ingestor` to apply what it
/// accepted before each pass, so that an alert re-sent just before its
/// timeout is not resolved.
pub async fn run<S: IncidentStore>(
    store: S,
    rules: Arc<IngestRules>,
    clock: Arc<dyn Clock>,
    ingestor: Ingestor,
    task: TaskContext,
) {
    while !task.shutdown.requested() {
        ingestor.settled().await;
        let now = clock.now();
        let expired = match expire_once(&store, &rules, now).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "alert expiry failed; retrying");
                0
            }
        };
        if let Err(e) = crate::ingest::unsuppress_once(&store, &rules, now).await {
            tracing::warn!(error = %e, "re-checking suppressed alerts failed; retrying");
        }
        task.heartbeat.ran(now);
        if expired as u32 == BATCH {
            // The store's calls complete without yielding: without this,
            // a long backlog would hold this worker thread, and a shutdown
            // would wait for the whole backlog.
            tokio::task::yield_now().await;
            continue;
        }
        let sleep = match next_due(&store).await {
            Some(due) => {
                let wait = due.duration_since(now).max(jiff::SignedDuration::ZERO);
                Duration::try_from(wait).unwrap_or(MAX_SLEEP).min(MAX_SLEEP)
            }
            None => MAX_SLEEP,
        };
        tokio::select! {
            () = tokio::time::sleep(sleep.max(Duration::from_millis(50))) => {}
            () = task.shutdown.wait() => {}
        }
    }
}

async fn next_due<S: IncidentStore>(store: &S) -> Option<Timestamp> {
    let mut tx = store.begin().await.ok()?;
    tx.next_expiry(ORIGIN).await.ok().flatten()
}
