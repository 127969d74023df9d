//! Dead letters: accepted alert requests that the writer could not apply
//! (the database refused them for what they are, not for being busy). They
//! leave the ingest journal so the requests after them are applied, and
//! wait here until an admin retries or drops them.

use std::future::Future;

use jiff::Timestamp;

use crate::StoreError;

/// One request that could not be applied, as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub id: i64,
    /// When the request was accepted (answered 2xx).
    pub accepted_at: Timestamp,
    /// When applying it last failed.
    pub failed_at: Timestamp,
    /// The integration that sent it, by name.
    pub integration: String,
    /// How many alerts it carries.
    pub alerts: i64,
    /// Why the database refused it.
    pub error: String,
    /// The request itself, in the ingest journal's JSON encoding.
    pub request: String,
}

/// What the alert writer records when a request cannot be applied.
#[derive(Debug, Clone)]
pub struct NewDeadLetter<'a> {
    pub accepted_at: Timestamp,
    pub failed_at: Timestamp,
    pub integration: &'a str,
    pub alerts: i64,
    pub error: &'a str,
    pub request: &'a str,
}

/// Where dead letters are kept. Each call commits on its own.
pub trait DeadLetterStore {
    /// Keeps a request that cannot be applied; returns its id.
    fn add_dead_letter(
        &self,
        letter: &NewDeadLetter<'_>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// The oldest `limit` dead letters, oldest first.
    fn list_dead_letters(
        &self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, StoreError>> + Send;

    fn count_dead_letters(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// `NotFound` if there is none with this id.
    fn get_dead_letter(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<DeadLetter, StoreError>> + Send;

    /// Deletes one (applied after a retry, or dropped); `NotFound` if absent.
    fn delete_dead_letter(&self, id: i64) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Text the database can store whatever the error said: a refused
/// character is what often brings a request here in the first place.
pub(crate) fn storable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

#[derive(sqlx::FromRow)]
pub(crate) struct DeadLetterRow {
    id: i64,
    accepted_at: i64,
    failed_at: i64,
    integration: String,
    alerts: i64,
    error: String,
    request: String,
}

/// The columns `DeadLetterRow` reads, in order.
pub(crate) const COLUMNS: &str = "id, accepted_at, failed_at, integration, alerts, error, request";

impl TryFrom<DeadLetterRow> for DeadLetter {
    type Error = StoreError;

    fn try_from(row: DeadLetterRow) -> Result<DeadLetter, StoreError> {
        Ok(DeadLetter {
            id: row.id,
            accepted_at: crate::row::ts(row.accepted_at)?,
            failed_at: crate::row::ts(row.failed_at)?,
            integration: row.integration,
            alerts: row.alerts,
            error: row.error,
            request: row.request,
        })
    }
}
