//! Credentials: API tokens, integrations (the keys monitoring tools send
//! alerts with) and the server's own secrets, behind `TokenStore`. Only
//! hashes of tokens and keys are stored.

use std::future::Future;

use jiff::Timestamp;
use warroom_domain::AccessRole;

use crate::StoreError;

/// An API token as stored (the secret itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub role: AccessRole,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// An integration: the key a monitoring tool sends with, and where its alerts go.
/// The key itself is never stored, only its SHA-256 hash.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationRecord {
    pub id: String,
    /// A playbook service id.
    pub service: String,
    pub name: String,
    /// `pagerduty`, `alertmanager`, `prometheus`, `grafana`, `sentry`, `uptimerobot` or `generic`.
    pub kind: String,
    /// The key's first characters, to tell keys apart in listings.
    pub key_hint: String,
    /// Per-integration settings (severity overrides, generic field mapping).
    pub config: serde_json::Value,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Tokens, integrations and server secrets.
pub trait TokenStore: Send + Sync {
    /// Stores a token by the hash of its secret. A duplicate name is a `Conflict`.
    fn insert_token(
        &self,
        name: &str,
        role: AccessRole,
        hash: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<ApiToken, StoreError>> + Send;

    /// Stores the token only if no token exists yet, atomically; `None` when
    /// one already did. Used to bootstrap the first admin exactly once.
    fn insert_first_token(
        &self,
        name: &str,
        role: AccessRole,
        hash: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<ApiToken>, StoreError>> + Send;

    /// The live (not revoked) token with this hash.
    fn find_token(
        &self,
        hash: &str,
    ) -> impl Future<Output = Result<Option<ApiToken>, StoreError>> + Send;

    fn list_tokens(&self) -> impl Future<Output = Result<Vec<ApiToken>, StoreError>> + Send;

    /// Revokes by name; `NotFound` if there is no live token of that name,
    /// `Conflict` if it is the last live admin token (checked and revoked in
    /// one transaction, so two revokes at once cannot both pass the check),
    /// so someone can always manage tokens.
    fn revoke_token(
        &self,
        name: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<ApiToken, StoreError>> + Send;

    /// Stores an integration by the hash of its key.
    fn insert_integration(
        &self,
        integration: &IntegrationRecord,
        key_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The live integration whose key has this hash.
    fn find_integration(
        &self,
        key_hash: &str,
    ) -> impl Future<Output = Result<Option<IntegrationRecord>, StoreError>> + Send;

    fn list_integrations(
        &self,
    ) -> impl Future<Output = Result<Vec<IntegrationRecord>, StoreError>> + Send;

    /// Replaces a live integration's key; the old key stops working at once.
    fn rotate_integration_key(
        &self,
        id: &str,
        key_hash: &str,
        key_hint: &str,
    ) -> impl Future<Output = Result<IntegrationRecord, StoreError>> + Send;

    /// Revokes by id; its key stops working at once.
    fn revoke_integration(
        &self,
        id: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<IntegrationRecord, StoreError>> + Send;

    /// The secret stored under `name`, storing `candidate` if there is none
    /// yet (so every node of a cluster ends up with the same one).
    fn server_secret(
        &self,
        name: &str,
        candidate: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
}

/// `Conflict` when `name` is the only live admin token in `live_admins`.
pub(crate) fn refuse_last_admin_token(
    name: &str,
    live_admins: &[String],
) -> Result<(), StoreError> {
    if live_admins.len() == 1 && live_admins[0] == name {
        return Err(StoreError::Conflict(format!(
            "{name:?} is the last live admin token; create another admin token first \
             (warroom token create --role admin), then revoke this one"
        )));
    }
    Ok(())
}

pub(crate) fn token_conflict(err: sqlx::Error, name: &str) -> StoreError {
    match StoreError::from(err) {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("a token named {name:?} already exists"))
        }
        other => other,
    }
}
