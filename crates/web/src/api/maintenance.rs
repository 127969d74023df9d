//! `/api/v1/maintenance`: planned maintenance windows. A window is a silence
//! on the `service` label (id prefix `mw_`), so alerts of those services are
//! stored and listed but page nobody until it ends.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warroom_domain::alerting::Silence;
use warroom_engine::maintenance::{window_services, NewWindow};
use warroom_store::Store;

use super::alerts::window;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceRequest {
    /// Service ids (or names) from the playbook.
    pub services: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<Timestamp>,
    #[serde(default)]
    #[schema(example = "2h")]
    pub duration: Option<String>,
    #[schema(example = "Database upgrade to 16")]
    pub description: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MaintenanceView {
    pub id: String,
    pub services: Vec<String>,
    #[schema(value_type = super::enums::SilenceStateName)]
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    pub created_by: String,
    pub description: String,
}

fn view(silence: &Silence, now: Timestamp) -> MaintenanceView {
    MaintenanceView {
        id: silence.id.clone(),
        services: window_services(silence),
        state: silence.state(now).as_str().to_owned(),
        starts_at: silence.starts_at,
        ends_at: silence.ends_at,
        created_by: silence.created_by.clone(),
        description: silence.comment.clone(),
    }
}

/// Schedule a maintenance window for some services.
#[utoipa::path(post, path = "/api/v1/maintenance", tag = "alerts",
    operation_id = "create_maintenance",
    request_body = MaintenanceRequest,
    responses((status = 201, description = "Scheduled", body = MaintenanceView),
        (status = 422, description = "Unknown service or bad window", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Json(req): Json<MaintenanceRequest>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_responder()?;
    let now = app.silences.now();
    let services = app.maintenance.services(&req.services)?;
    let (starts_at, ends_at) = window(now, req.starts_at, req.ends_at, req.duration.as_deref())?;
    let new = NewWindow {
        services,
        starts_at,
        ends_at,
        created_by: caller.name.clone(),
        description: req.description,
    };
    let silence = app.maintenance.schedule(new, now).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&silence, now))))
}

/// Maintenance windows that have not ended, newest first.
#[utoipa::path(get, path = "/api/v1/maintenance", tag = "alerts",
    operation_id = "list_maintenance",
    responses((status = 200, description = "Windows", body = Vec<MaintenanceView>)),
    security(("bearer" = [])))]
pub async fn list<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
) -> Result<axum::Json<Vec<MaintenanceView>>, ApiError> {
    let now = app.silences.now();
    let windows = app.maintenance.list(now).await?;
    Ok(axum::Json(windows.iter().map(|w| view(w, now)).collect()))
}

/// End a maintenance window now.
#[utoipa::path(delete, path = "/api/v1/maintenance/{id}", tag = "alerts",
    params(("id" = String, Path, description = "Window id (`mw_...`)")),
    responses((status = 200, description = "Ended", body = MaintenanceView),
        (status = 404, description = "No such window", body = ErrorBody),
        (status = 409, description = "Already ended", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn end<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<MaintenanceView>, ApiError> {
    caller.require_responder()?;
    let now = app.silences.now();
    let silence = app.maintenance.end(&id, now).await?;
    Ok(axum::Json(view(&silence, now)))
}
