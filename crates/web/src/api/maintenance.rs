//! `/api/v1/maintenance`: planned maintenance windows. A window is a silence
//! on the `service` label (id prefix `mw_`), so alerts of those services are
//! stored and listed but page nobody until it ends.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warroom_domain::alerting::{MatchOp, Matcher, Silence};
use warroom_engine::ingest::{silence_from_record, MAINTENANCE_PREFIX};
use warroom_store::Store;

use super::alerts::{new_id, to_record, window};
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
    let services = silence
        .matchers
        .iter()
        .find(|m| m.name() == "service")
        .map(|m| m.value().split('|').map(str::to_owned).collect())
        .unwrap_or_default();
    MaintenanceView {
        id: silence.id.clone(),
        services,
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
    let now = app.incidents.clock().now();
    let playbook = app.incidents.playbook();
    let mut services = Vec::new();
    for (i, name) in req.services.iter().enumerate() {
        let def = playbook.service(name.trim()).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                format!("services[{i}]: unknown service `{name}`"),
            )
            .with_field(format!("services[{i}]"))
        })?;
        services.push(def.id.clone());
    }
    if services.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "services: name at least one service",
        )
        .with_field("services"));
    }
    let (starts_at, ends_at) = window(now, req.starts_at, req.ends_at, req.duration.as_deref())?;
    // Service ids are slugs, so joining them is a safe regex alternation.
    let matcher = Matcher::new("service", MatchOp::Re, services.join("|"))
        .map_err(|e| ApiError::bad_request("services", e.to_string()))?;
    let silence = Silence::new(
        new_id(MAINTENANCE_PREFIX),
        vec![matcher],
        starts_at,
        ends_at,
        caller.name.clone(),
        req.description,
    )
    .map_err(warroom_domain::DomainError::from)?;
    app.incidents
        .store()
        .insert_silence(&to_record(&silence, now))
        .await?;
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
    let now = app.incidents.clock().now();
    let records = app.incidents.store().list_silences(Some(now)).await?;
    let mut views = Vec::new();
    for record in records
        .into_iter()
        .filter(|r| r.id.starts_with(MAINTENANCE_PREFIX))
    {
        views.push(view(&silence_from_record(record)?, now));
    }
    Ok(axum::Json(views))
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
    // Windows are silences; this route must not end an ordinary silence.
    if !id.starts_with(MAINTENANCE_PREFIX) {
        return Err(ApiError::not_found(format!(
            "maintenance window {id} not found"
        )));
    }
    let now = app.incidents.clock().now();
    let silence = super::alerts::expire(&app, &id, now).await?;
    Ok(axum::Json(view(&silence, now)))
}
