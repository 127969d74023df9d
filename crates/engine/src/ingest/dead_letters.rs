//! Accepted requests that can never be applied: the writer moves each out
//! of its way into the store's dead letters (`add`), and an admin lists,
//! retries or drops them (`DeadLetters`, behind the API and
//! `warroom ingest dead-letters`).

use jiff::Timestamp;
use warroom_store::{DeadLetter, DeadLetterStore, NewDeadLetter, StoreError};

use super::journal::Entry;
use super::{IngestRequest, Ingestor, SignalResult};

/// Keeps `request`, which the store refused with `error`, as a dead letter.
pub(super) async fn add<S: DeadLetterStore>(
    store: &S,
    accepted_at: Timestamp,
    now: Timestamp,
    request: &IngestRequest,
    error: &StoreError,
) -> Result<i64, StoreError> {
    let entry = Entry {
        accepted_at,
        requests: vec![request.clone()],
    };
    let encoded = String::from_utf8(entry.encode()?)
        .map_err(|e| StoreError::Database(format!("encoding a dead letter: {e}")))?;
    let letter = NewDeadLetter {
        accepted_at,
        failed_at: now,
        integration: &request.source.integration_name,
        alerts: request.signals.len() as i64,
        error: &error.to_string(),
        request: &encoded,
    };
    store.add_dead_letter(&letter).await
}

/// Keeps a journal entry that does not even decode, as the text it holds.
pub(super) async fn add_undecodable<S: DeadLetterStore>(
    store: &S,
    now: Timestamp,
    body: &[u8],
    error: &StoreError,
) -> Result<i64, StoreError> {
    let letter = NewDeadLetter {
        accepted_at: now,
        failed_at: now,
        integration: "(unknown: the journal entry does not decode)",
        alerts: 0,
        error: &error.to_string(),
        request: &String::from_utf8_lossy(body),
    };
    store.add_dead_letter(&letter).await
}

/// The most dead letters one list returns.
pub const MAX_LIST: u32 = 500;

/// An admin's view of the dead letters.
#[derive(Clone)]
pub struct DeadLetters<S> {
    store: S,
    ingestor: Ingestor,
}

impl<S: DeadLetterStore> DeadLetters<S> {
    pub fn new(store: S, ingestor: Ingestor) -> DeadLetters<S> {
        DeadLetters { store, ingestor }
    }

    /// The oldest dead letters first, at most `MAX_LIST`.
    pub async fn list(&self) -> Result<Vec<DeadLetter>, StoreError> {
        self.store.list_dead_letters(MAX_LIST).await
    }

    pub async fn count(&self) -> Result<i64, StoreError> {
        self.store.count_dead_letters().await
    }

    pub async fn get(&self, id: i64) -> Result<DeadLetter, StoreError> {
        self.store.get_dead_letter(id).await
    }

    /// Applies the request again, now, through the alert writer; once it
    /// is applied and durable the dead letter goes. If it fails again it
    /// stays, and the error says why. Two retries at once may both apply
    /// it: the second counts as a repeat of the same alerts.
    pub async fn retry(&self, id: i64) -> Result<Vec<SignalResult>, StoreError> {
        let letter = self.store.get_dead_letter(id).await?;
        let entry = Entry::decode(id, letter.request.as_bytes()).map_err(|e| {
            StoreError::Conflict(format!("dead letter {id} cannot be read ({e}); drop it"))
        })?;
        let mut results = Vec::new();
        for request in entry.requests {
            let applied = self.ingestor.submit(request).await.map_err(|e| match e {
                StoreError::Unavailable(_) => e,
                other => StoreError::Conflict(format!(
                    "dead letter {id} failed again and stays: {other}"
                )),
            })?;
            results.extend(applied);
        }
        self.store.delete_dead_letter(id).await?;
        tracing::info!(
            id,
            alerts = results.len(),
            "dead letter retried and applied"
        );
        Ok(results)
    }

    /// Forgets it for good.
    pub async fn drop_letter(&self, id: i64) -> Result<(), StoreError> {
        self.store.delete_dead_letter(id).await?;
        tracing::info!(id, "dead letter dropped");
        Ok(())
    }
}
