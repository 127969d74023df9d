//! Stakeholder communications on an incident: post a status update (which
//! queues messages to the severity's audiences) and read the update cadence.

use axum::extract::State;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warroom_domain::Status;
use warroom_engine::notify::UpdateDue;
use warroom_engine::IncidentOp;
use warroom_store::{CommsRecord, Store};

use super::paging::{change, IncidentChange};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostUpdateRequest {
    /// Move to this open status with the update (investigating, identified, monitoring, ...).
    #[serde(default)]
    #[schema(value_type = Option<super::enums::StatusName>)]
    pub status: Option<Status>,
    /// What is known now; sent to the audiences the severity requires.
    #[schema(example = "Bad deploy of api 4.2 identified; rolling back.")]
    pub message: String,
}

/// Post a status update: it goes on the timeline, is queued to the
/// severity's audiences, and restarts the update cadence.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/updates", tag = "comms",
    params(("id" = String, Path, description = "Incident id")),
    request_body = PostUpdateRequest,
    responses((status = 200, description = "Posted; the events include `update_posted` and each `notification_queued`", body = IncidentChange),
        (status = 400, description = "Malformed body, or an unknown status", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Resolved or closed, or an illegal status change", body = ErrorBody),
        (status = 422, description = "An empty message, a message still holding a placeholder such as `{planned actions}`, or a status an update cannot set", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_update<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<PostUpdateRequest>,
) -> Result<axum::Json<IncidentChange>> {
    caller.require_responder()?;
    let op = IncidentOp::PostUpdate {
        status: req.status,
        message: req.message,
    };
    let (incident, events) = app.incidents.apply(&id, &caller.name, op).await?;
    Ok(change(&incident, &events))
}

/// An incident's update cadence: how many updates went out, when the next is due.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommsView {
    pub incident_id: String,
    /// Status updates posted so far.
    pub updates: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_update_at: Option<Timestamp>,
    /// A cadence after the last update (or the declaration); `null` when
    /// the severity has no cadence or the incident is resolved.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_update_due: Option<Timestamp>,
    /// An update is past due now: a cadence has passed since the last
    /// update (or the declaration) without one. Reminders do not clear it;
    /// only posting an update does.
    pub overdue: bool,
    /// Due times passed since the last update without one (0 when not overdue).
    pub overdue_missed: i64,
    /// Updates that came after their due time.
    pub missed: i64,
    /// Audiences that have had their initial notification.
    pub notified: Vec<String>,
}

impl CommsView {
    fn new(record: CommsRecord, due: Option<UpdateDue>) -> CommsView {
        CommsView {
            overdue: due.is_some_and(|d| d.overdue),
            overdue_missed: due.map_or(0, |d| d.missed),
            incident_id: record.incident_id,
            updates: record.updates,
            last_update_at: record.last_update_at,
            next_update_due: due.map(|d| d.due).or(record.next_update_due),
            missed: record.missed,
            notified: record.notified,
        }
    }
}

/// The incident's communications: updates posted, the next one due, audiences told.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/comms", tag = "comms",
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, description = "The cadence (zeros and nulls before any communication)", body = CommsView),
        (status = 404, description = "No such incident", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn comms<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<CommsView>> {
    let incident = app.incidents.get(&id).await?;
    let record = app
        .notifier
        .comms(&incident.id)
        .await?
        .unwrap_or_else(|| CommsRecord {
            incident_id: incident.id.clone(),
            ..Default::default()
        });
    let now = app.incidents.clock().now();
    let due = UpdateDue::of(app.incidents.playbook(), &incident, &record, now);
    Ok(axum::Json(CommsView::new(record, due)))
}
