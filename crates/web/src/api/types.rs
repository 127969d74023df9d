//! Wire types of the JSON API: requests as clients send them and responses as
//! they receive them. Domain types never cross the HTTP edge directly.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use warroom_domain::incident::ChecklistPhase;
use warroom_domain::{AccessRole, Incident, Status, TimelineEvent};

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareRequest {
    /// What is broken, in a few words.
    #[schema(
        example = "Database connection failures",
        min_length = 1,
        max_length = 200
    )]
    pub title: String,
    /// A severity name from the playbook, e.g. `SEV-1`.
    #[schema(example = "SEV-1")]
    pub severity: String,
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub summary: String,
    #[serde(default)]
    pub category: Option<String>,
    /// Service ids (or names) from the playbook.
    #[serde(default)]
    pub services: Vec<String>,
    /// Any open status; default `triggered`.
    #[serde(default)]
    #[schema(value_type = Option<super::enums::StatusName>)]
    pub status: Option<Status>,
    #[serde(default)]
    pub customer_facing: bool,
    #[serde(default)]
    pub users_affected: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub impact_started_at: Option<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub detected_at: Option<Timestamp>,
    /// Role name to assignee, assigned at once.
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
}

/// Fields to change; absent fields stay, `null` clears the nullable ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    #[serde(default)]
    pub services: Option<Vec<String>>,
    #[serde(default)]
    pub customer_facing: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub users_affected: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub impact_started_at: Option<Option<Timestamp>>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub detected_at: Option<Timestamp>,
    /// The call bridge, an http(s) URL; `null` or `""` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub bridge_url: Option<Option<String>>,
    /// The chat channel, an http(s) URL; `null` or `""` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub chat_url: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// triggered, acknowledged, investigating, identified, monitoring, resolved or closed.
    #[schema(value_type = super::enums::StatusName)]
    pub status: Status,
    /// Shown on the timeline with the change.
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityRequest {
    #[schema(example = "SEV-0")]
    pub severity: String,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenRequest {
    /// Open status to reopen into; default `investigating`.
    #[serde(default)]
    #[schema(value_type = Option<super::enums::StatusName>)]
    pub status: Option<Status>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    #[schema(example = "alice")]
    pub assignee: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistRequest {
    pub done: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    #[schema(example = "Restarted pgbouncer; error rate falling")]
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(example = "grafana")]
    pub name: String,
    /// admin, responder or viewer.
    #[schema(value_type = super::enums::RoleName)]
    pub role: AccessRole,
}

/// Query of `GET /api/v1/incidents`. List values are comma-separated.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// e.g. `triggered,acknowledged`; `open` means every status before resolved.
    pub status: Option<String>,
    /// e.g. `SEV-0,SEV-1`.
    pub severity: Option<String>,
    pub service: Option<String>,
    pub category: Option<String>,
    /// Declared at or after (RFC 3339).
    pub from: Option<String>,
    /// Declared before (RFC 3339).
    pub until: Option<String>,
    /// Case-insensitive text in id, title or summary.
    pub q: Option<String>,
    /// 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Only events with a greater `seq`.
    pub after: Option<i64>,
    /// 1 to 1000, default 1000.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentView {
    #[schema(example = "INC-2026-0042")]
    pub id: String,
    pub title: String,
    pub summary: String,
    pub severity: String,
    pub category: Option<String>,
    pub services: Vec<String>,
    #[schema(value_type = super::enums::StatusName)]
    pub status: Status,
    pub customer_facing: bool,
    pub users_affected: Option<i64>,
    pub roles: Vec<RoleView>,
    pub checklist: Vec<PhaseView>,
    pub declared_by: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub impact_started_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub detected_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub declared_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub mitigated_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// The call bridge responders join (a video or phone conference link).
    pub bridge_url: Option<String>,
    /// The incident's chat channel.
    pub chat_url: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoleView {
    pub role: String,
    pub assignee: String,
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PhaseView {
    pub id: String,
    pub name: String,
    pub target: Option<String>,
    pub done: usize,
    pub total: usize,
    pub items: Vec<ItemView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ItemView {
    /// 1-based number used to tick it.
    pub item: usize,
    pub text: String,
    pub done: bool,
    pub done_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub done_at: Option<Timestamp>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentList {
    pub incidents: Vec<IncidentView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A timeline event: `kind` plus that kind's fields (e.g. `text` for `note`,
/// `from`/`to` for `status_changed`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    pub incident_id: String,
    pub seq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub actor: String,
    #[schema(example = "note")]
    pub kind: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Timeline {
    pub events: Vec<EventView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    pub name: String,
    /// admin, responder or viewer.
    #[schema(value_type = super::enums::RoleName)]
    pub role: AccessRole,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

/// A new token; `token` is shown this once and never again.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuedTokenView {
    pub name: String,
    /// admin, responder or viewer.
    #[schema(value_type = super::enums::RoleName)]
    pub role: AccessRole,
    pub token: String,
}

impl From<&Incident> for IncidentView {
    fn from(i: &Incident) -> Self {
        IncidentView {
            id: i.id.clone(),
            title: i.title.clone(),
            summary: i.summary.clone(),
            severity: i.severity.clone(),
            category: i.category.clone(),
            services: i.services.clone(),
            status: i.status,
            customer_facing: i.customer_facing,
            users_affected: i.users_affected,
            roles: i
                .roles
                .iter()
                .map(|(role, a)| RoleView {
                    role: role.clone(),
                    assignee: a.assignee.clone(),
                    since: a.since,
                })
                .collect(),
            checklist: i.checklist.iter().map(PhaseView::from).collect(),
            declared_by: i.declared_by.clone(),
            impact_started_at: i.impact_started_at,
            detected_at: i.detected_at,
            declared_at: i.declared_at,
            acknowledged_at: i.acknowledged_at,
            mitigated_at: i.mitigated_at,
            resolved_at: i.resolved_at,
            closed_at: i.closed_at,
            updated_at: i.updated_at,
            bridge_url: i.bridge.bridge_url.clone(),
            chat_url: i.bridge.chat_url.clone(),
        }
    }
}

impl From<&ChecklistPhase> for PhaseView {
    fn from(p: &ChecklistPhase) -> Self {
        PhaseView {
            id: p.id.clone(),
            name: p.name.clone(),
            target: p.target.clone(),
            done: p.items.iter().filter(|i| i.is_done()).count(),
            total: p.items.len(),
            items: p
                .items
                .iter()
                .enumerate()
                .map(|(n, item)| ItemView {
                    item: n + 1,
                    text: item.text.clone(),
                    done: item.is_done(),
                    done_by: item.done_by.clone(),
                    done_at: item.done_at,
                })
                .collect(),
        }
    }
}

impl From<&TimelineEvent> for EventView {
    fn from(e: &TimelineEvent) -> Self {
        let mut data = match serde_json::to_value(&e.kind) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        data.remove("kind");
        EventView {
            incident_id: e.incident_id.clone(),
            seq: e.seq,
            at: e.at,
            actor: e.actor.clone(),
            kind: e.kind.name().to_owned(),
            data,
        }
    }
}

impl From<&warroom_store::ApiToken> for TokenView {
    fn from(t: &warroom_store::ApiToken) -> Self {
        TokenView {
            name: t.name.clone(),
            role: t.role,
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        }
    }
}
