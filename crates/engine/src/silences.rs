//! Silences: label matchers that keep matching alerts from paging for a
//! while. Created, listed and expired here; the ingest rules read them.

use std::sync::Arc;

use jiff::Timestamp;
use rand::RngCore;
use warroom_domain::alerting::{Matcher, Silence};
use warroom_domain::DomainError;
use warroom_store::{AlertStore, SilenceRecord, StoreError};

use crate::clock::Clock;
use crate::ingest::silence_from_record;

/// Id prefix of ordinary silences (maintenance windows use `mw_`).
pub const SILENCE_PREFIX: &str = "sil_";

/// What a new silence mutes, when, and who asked.
#[derive(Debug, Clone)]
pub struct NewSilence {
    pub matchers: Vec<Matcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub comment: String,
}

/// Silences over one store. Methods take the caller's `now` (read from
/// `now()`), so what a handler shows of a silence agrees with what it stored.
#[derive(Clone)]
pub struct Silences<S> {
    store: S,
    clock: Arc<dyn Clock>,
}

impl<S: AlertStore> Silences<S> {
    pub fn new(store: S, clock: Arc<dyn Clock>) -> Silences<S> {
        Silences { store, clock }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Checks and stores a new silence (id prefix `sil_`).
    pub async fn create(&self, new: NewSilence, now: Timestamp) -> Result<Silence, StoreError> {
        self.insert(SILENCE_PREFIX, new, now).await
    }

    /// Checks and stores a silence whose id starts with `prefix`.
    pub(crate) async fn insert(
        &self,
        prefix: &str,
        new: NewSilence,
        now: Timestamp,
    ) -> Result<Silence, StoreError> {
        let silence = Silence::new(
            new_id(prefix),
            new.matchers,
            new.starts_at,
            new.ends_at,
            new.created_by,
            new.comment,
        )
        .map_err(DomainError::from)?;
        self.store.insert_silence(&to_record(&silence, now)).await?;
        Ok(silence)
    }

    /// Silences (maintenance windows included), newest first: those that
    /// have not ended by `live_at`, or every one when it is `None`.
    pub async fn list(&self, live_at: Option<Timestamp>) -> Result<Vec<Silence>, StoreError> {
        self.list_prefixed("", live_at).await
    }

    /// Like `list`, only those whose id starts with `prefix`.
    pub(crate) async fn list_prefixed(
        &self,
        prefix: &str,
        live_at: Option<Timestamp>,
    ) -> Result<Vec<Silence>, StoreError> {
        let records = self.store.list_silences(live_at).await?;
        records
            .into_iter()
            .filter(|r| r.id.starts_with(prefix))
            .map(silence_from_record)
            .collect()
    }

    /// How many firing alerts `matchers` match now (those already
    /// suppressed included): what a silence would mute, shown before it is
    /// created. Matchers see an alert's labels plus `service`, as at ingest.
    pub async fn count_matching(&self, matchers: &[Matcher]) -> Result<usize, StoreError> {
        let firing = self.store.firing_alert_labels().await?;
        Ok(firing
            .iter()
            .filter(|labels| warroom_domain::alerting::matches_all(matchers, labels))
            .count())
    }

    /// Ends a silence at `now`; one already expired is a conflict.
    pub async fn expire(&self, id: &str, now: Timestamp) -> Result<Silence, StoreError> {
        let mut silence = silence_from_record(self.store.get_silence(id).await?)?;
        silence.expire(now).map_err(DomainError::from)?;
        self.store
            .set_silence_window(id, silence.starts_at, silence.ends_at)
            .await?;
        Ok(silence)
    }
}

/// A random id with a prefix that says what it is.
fn new_id(prefix: &str) -> String {
    let mut id = [0u8; 8];
    rand::rng().fill_bytes(&mut id);
    format!("{prefix}{}", hex::encode(id))
}

fn to_record(s: &Silence, now: Timestamp) -> SilenceRecord {
    SilenceRecord {
        id: s.id.clone(),
        matchers: serde_json::to_value(&s.matchers).unwrap_or_default(),
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        created_by: s.created_by.clone(),
        comment: s.comment.clone(),
        created_at: now,
    }
}
