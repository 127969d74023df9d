//! `/api/v1/status`, the server's own health at a glance, and
//! `/api/v1/ingest/dead-letters`: accepted alerts that could not be
//! applied, for an admin to inspect, retry or drop.

use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warroom_engine::app::task;
use warroom_engine::SignalResult;
use warroom_store::{DeadLetter, Store};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServerStatus {
    /// This server's version.
    pub version: String,
    #[schema(value_type = String, format = DateTime)]
    pub now: Timestamp,
    pub ingest: IngestStatus,
    pub alerts: AlertStatus,
    /// The server's background tasks; only admins see them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<TaskView>>,
}

/// One background task of this server.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TaskView {
    /// `alert writer`, `alert expiry`, `paging`, `delivery`, `live feed`.
    pub name: String,
    /// `running`, `restarting` (it died and is started again after a
    /// delay), `stopped` or `failed` (it died and the server stops).
    pub state: String,
    /// When it last finished a round of work.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_run: Option<Timestamp>,
    /// How many times it died and was restarted.
    pub restarts: u32,
    /// Why it last died.
    pub last_error: Option<String>,
    /// Work waiting for it, where it has a queue: journaled alert requests
    /// for the alert writer, due jobs for paging, messages due for delivery.
    pub queue: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IngestStatus {
    /// Accepted alert requests that could not be applied and wait for an
    /// admin (`warroom ingest dead-letters list`). Anything above 0 needs
    /// a look: those alerts paged nobody.
    pub dead_letters: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertStatus {
    /// Firing alerts that page.
    pub firing: i64,
    /// Firing alerts silenced, inhibited or in maintenance.
    pub suppressed: i64,
}

/// The server's health: what needs an operator's attention.
#[utoipa::path(get, path = "/api/v1/status", tag = "status",
    operation_id = "server_status",
    responses((status = 200, description = "Status", body = ServerStatus),
        (status = 401, description = "No valid token", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn status<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<axum::Json<ServerStatus>, ApiError> {
    let counts = app.alerts.counts().await?;
    let tasks = if caller.require_admin().is_ok() {
        let depths = app.paging.queue_depths().await?;
        let queue_of = |name: &str| match name {
            task::ALERT_WRITER => Some(app.ingestor.backlog() as i64),
            task::PAGING => Some(depths.jobs),
            task::DELIVERY => Some(depths.messages),
            _ => None,
        };
        let tasks = app.supervisor.tasks().into_iter().map(|task| TaskView {
            name: task.name.to_owned(),
            state: task.state.as_str().to_owned(),
            last_run: task.last_run,
            restarts: task.restarts,
            last_error: task.last_error,
            queue: queue_of(task.name),
        });
        Some(tasks.collect())
    } else {
        None
    };
    Ok(axum::Json(ServerStatus {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        now: app.incidents.clock().now(),
        ingest: IngestStatus {
            dead_letters: app.dead_letters.count().await?,
        },
        alerts: AlertStatus {
            firing: counts.firing,
            suppressed: counts.suppressed,
        },
        tasks,
    }))
}

/// One accepted request that could not be applied.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeadLetterView {
    pub id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub accepted_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub failed_at: Timestamp,
    /// The integration that sent it.
    pub integration: String,
    /// How many alerts it carries.
    pub alerts: i64,
    /// Why the database refused it.
    pub error: String,
    /// The request as the writer would apply it (JSON text); only in the
    /// view of one dead letter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

impl DeadLetterView {
    fn new(letter: DeadLetter, with_request: bool) -> DeadLetterView {
        DeadLetterView {
            id: letter.id,
            accepted_at: letter.accepted_at,
            failed_at: letter.failed_at,
            integration: letter.integration,
            alerts: letter.alerts,
            error: letter.error,
            request: with_request.then_some(letter.request),
        }
    }
}

/// What a retry did to each alert of the request.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetryResult {
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<SignalResult>,
}

/// Dead letters, oldest first (at most 500).
#[utoipa::path(get, path = "/api/v1/ingest/dead-letters", tag = "status",
    responses((status = 200, description = "Dead letters", body = Vec<DeadLetterView>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_dead_letters<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<axum::Json<Vec<DeadLetterView>>, ApiError> {
    caller.require_admin()?;
    let letters = app.dead_letters.list().await?;
    let views = letters.into_iter().map(|l| DeadLetterView::new(l, false));
    Ok(axum::Json(views.collect()))
}

/// One dead letter, with the request it holds.
#[utoipa::path(get, path = "/api/v1/ingest/dead-letters/{id}", tag = "status",
    params(("id" = i64, Path, description = "Dead letter id")),
    responses((status = 200, description = "The dead letter", body = DeadLetterView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such dead letter", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_dead_letter<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<DeadLetterView>, ApiError> {
    caller.require_admin()?;
    let letter = app.dead_letters.get(id).await?;
    Ok(axum::Json(DeadLetterView::new(letter, true)))
}

/// Applies a dead letter's alerts again, now; on success it is deleted.
#[utoipa::path(post, path = "/api/v1/ingest/dead-letters/{id}/retry", tag = "status",
    params(("id" = i64, Path, description = "Dead letter id")),
    responses((status = 200, description = "Applied; the dead letter is gone", body = RetryResult),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such dead letter", body = ErrorBody),
        (status = 409, description = "It failed again and stays", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn retry_dead_letter<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<RetryResult>, ApiError> {
    caller.require_admin()?;
    let results = app.dead_letters.retry(id).await?;
    Ok(axum::Json(RetryResult { results }))
}

/// Forgets a dead letter for good.
#[utoipa::path(delete, path = "/api/v1/ingest/dead-letters/{id}", tag = "status",
    params(("id" = i64, Path, description = "Dead letter id")),
    responses((status = 204, description = "Dropped"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such dead letter", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn drop_dead_letter<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    app.dead_letters.drop_letter(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
