//! JSON shapes of the Warroom API as this client sends and reads them.
//!
//! Private copies of the server's wire types (`warroom-web`, `api/types.rs`) so
//! the binary's client does not depend on the server crate. Responses keep
//! only the fields the client prints and ignore the rest, so a newer server
//! with more fields still works.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `IncidentView`.
#[derive(Debug, Deserialize)]
pub(super) struct Incident {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub severity: String,
    pub category: Option<String>,
    #[serde(default)]
    pub services: Vec<String>,
    pub status: String,
    #[serde(default)]
    pub customer_facing: bool,
    pub users_affected: Option<i64>,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub checklist: Vec<Phase>,
    pub declared_by: String,
    pub impact_started_at: Option<Timestamp>,
    pub detected_at: Option<Timestamp>,
    pub declared_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub mitigated_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    #[serde(default)]
    pub bridge_url: Option<String>,
    #[serde(default)]
    pub chat_url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Role {
    pub role: String,
    pub assignee: String,
    pub since: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Phase {
    pub id: String,
    pub name: String,
    pub target: Option<String>,
    pub done: usize,
    pub total: usize,
    #[serde(default)]
    pub items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Item {
    /// 1-based number used to tick it.
    pub item: usize,
    pub text: String,
    pub done: bool,
    pub done_by: Option<String>,
    pub done_at: Option<Timestamp>,
}

/// One page of `GET /api/v1/incidents`, with `T` either [`Incident`] or, for
/// `--output json`, the raw `serde_json::Value`.
#[derive(Debug, Deserialize)]
pub(super) struct Page<T> {
    pub incidents: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A timeline event: `kind` plus that kind's own fields in `data`.
#[derive(Debug, Deserialize)]
pub(super) struct Event {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub kind: String,
    #[serde(flatten)]
    pub data: Map<String, Value>,
}

/// `GET /api/v1/incidents/{id}/timeline`, with `T` as in [`Page`].
#[derive(Debug, Deserialize)]
pub(super) struct Timeline<T> {
    pub events: Vec<T>,
}

/// Just the sequence number of an event, to ask for the next timeline page.
#[derive(Debug, Deserialize)]
pub(super) struct Seq {
    pub seq: i64,
}

#[derive(Debug, Deserialize)]
pub(super) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
pub(super) struct ErrorDetail {
    pub message: String,
    pub field: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct DeclareRequest {
    pub title: String,
    pub severity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub services: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub customer_facing: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_affected: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact_started_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected_at: Option<Timestamp>,
    pub roles: BTreeMap<String, String>,
}

/// `PATCH` body: `None` leaves a field out, `Some(None)` sends `null` (clear).
#[derive(Debug, Default, Serialize)]
pub(super) struct UpdateRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_facing: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_affected: Option<Option<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact_started_at: Option<Option<Timestamp>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bridge_url: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_url: Option<Option<String>>,
}

impl UpdateRequest {
    /// Names of the fields this request changes, in wire spelling.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("title", self.title.is_some()),
            ("summary", self.summary.is_some()),
            ("category", self.category.is_some()),
            ("services", self.services.is_some()),
            ("customer_facing", self.customer_facing.is_some()),
            ("users_affected", self.users_affected.is_some()),
            ("impact_started_at", self.impact_started_at.is_some()),
            ("detected_at", self.detected_at.is_some()),
            ("bridge_url", self.bridge_url.is_some()),
            ("chat_url", self.chat_url.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

#[derive(Debug, Serialize)]
pub(super) struct StatusRequest {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `POST /incidents/{id}/updates`.
#[derive(Debug, Serialize)]
pub(super) struct PostUpdateRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub(super) struct SeverityRequest {
    pub severity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Body of acknowledge, resolve and close; `{}` when there is no message.
#[derive(Debug, Default, Serialize)]
pub(super) struct MessageRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct ReopenRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct AssignRequest {
    pub assignee: String,
}

#[derive(Debug, Serialize)]
pub(super) struct ChecklistRequest {
    pub done: bool,
}

#[derive(Debug, Serialize)]
pub(super) struct NoteRequest {
    pub text: String,
}
