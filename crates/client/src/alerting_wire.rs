//! JSON shapes of the integrations, alerts and silences API as this client
//! sends and reads them.
//!
//! Private copies of the server's wire types (`warroom-web`, `api/integrations.rs`
//! and `api/alerts.rs`), like [`super::wire`]. Responses keep only the fields
//! the client prints and ignore the rest.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `IntegrationView`: an integration, never its key.
#[derive(Debug, Deserialize)]
pub(super) struct Integration {
    pub id: String,
    pub service: String,
    pub name: String,
    pub kind: String,
    /// The key's first characters.
    pub key_hint: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// `IssuedIntegrationView`: a new integration and its key, shown this once.
#[derive(Debug, Deserialize)]
pub(super) struct IssuedIntegration {
    #[serde(flatten)]
    pub integration: Integration,
    pub key: String,
}

/// `IntegrationRequest`; an empty `config` is left out.
#[derive(Debug, Serialize)]
pub(super) struct IntegrationRequest {
    pub service: String,
    pub name: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub config: Map<String, Value>,
}

/// `AlertView`.
#[derive(Debug, Deserialize)]
pub(super) struct Alert {
    pub id: i64,
    pub service: String,
    pub dedup_key: String,
    /// firing or resolved.
    pub status: String,
    #[serde(default)]
    pub summary: String,
    pub severity: String,
    pub source_severity: Option<String>,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub origin: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub details: Map<String, Value>,
    #[serde(default)]
    pub links: Vec<Link>,
    pub generator_url: Option<String>,
    pub incident_id: Option<String>,
    /// What keeps it from paging, e.g. `silence:sil_...`.
    pub suppressed_by: Option<String>,
    pub event_count: i64,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub first_seen_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Link {
    pub href: String,
    #[serde(default)]
    pub text: String,
}

/// `SilenceRequest`: `ends_at` or `duration`, never both.
#[derive(Debug, Serialize)]
pub(super) struct SilenceRequest {
    pub matchers: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    pub comment: String,
}

/// `SilenceView`.
#[derive(Debug, Deserialize)]
pub(super) struct Silence {
    pub id: String,
    /// In Alertmanager syntax.
    pub matchers: String,
    /// pending, active or expired.
    pub state: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
}
