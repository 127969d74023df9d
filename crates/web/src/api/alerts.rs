//! `/api/v1/alerts` and `/api/v1/silences`: what came in, and what is muted.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use warroom_domain::alert::{AlertLink, AlertStatus};
use warroom_domain::alerting::{parse_matchers, Silence};
use warroom_engine::silences::NewSilence;
use warroom_store::{AlertFilter, AlertRecord, Store, MAX_PAGE};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertView {
    pub id: i64,
    pub service: String,
    pub dedup_key: String,
    #[schema(value_type = super::enums::AlertStatusName)]
    pub status: String,
    pub summary: String,
    pub severity: String,
    pub source_severity: Option<String>,
    pub source: String,
    pub origin: String,
    pub labels: BTreeMap<String, String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Map<String, serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub links: Vec<AlertLink>,
    pub generator_url: Option<String>,
    pub incident_id: Option<String>,
    /// What keeps it from paging, e.g. `silence:sil_...`.
    pub suppressed_by: Option<String>,
    /// Times received; repeats count here and page nobody.
    pub event_count: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub first_seen_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Timestamp>,
}

impl From<AlertRecord> for AlertView {
    fn from(a: AlertRecord) -> Self {
        AlertView {
            id: a.id,
            service: a.service,
            dedup_key: a.dedup_key,
            status: a.status.as_str().to_owned(),
            summary: a.summary,
            severity: a.severity,
            source_severity: a.source_severity,
            source: a.source,
            origin: a.origin,
            labels: a.labels,
            details: a.details,
            links: a.links,
            generator_url: a.generator_url,
            incident_id: a.incident_id,
            suppressed_by: a.suppressed_by,
            event_count: a.event_count,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            first_seen_at: a.first_seen_at,
            last_seen_at: a.last_seen_at,
            acknowledged_at: a.acknowledged_at,
            resolved_at: a.resolved_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `firing` (default), `resolved`, `suppressed` (firing but muted) or `all`.
    #[param(value_type = Option<super::enums::AlertStatusFilter>)]
    pub status: Option<String>,
    pub service: Option<String>,
    pub incident: Option<String>,
    /// Only alerts with this label value: `NAME=VALUE`, e.g. `env=prod`.
    pub label: Option<String>,
    /// Only alerts that came in through this integration (its id).
    pub integration: Option<String>,
    /// 1 to 500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Only alerts with a smaller id (for the next page).
    pub before: Option<i64>,
}

/// Alerts, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts",
    operation_id = "list_alerts",
    params(AlertQuery),
    responses((status = 200, description = "Alerts", body = Vec<AlertView>),
        (status = 400, description = "A bad filter", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Query(q): Query<AlertQuery>,
) -> Result<axum::Json<Vec<AlertView>>, ApiError> {
    let mut filter = AlertFilter {
        limit: q.limit.unwrap_or(100),
        service: q.service,
        incident_id: q.incident,
        before_id: q.before,
        integration_id: q.integration,
        ..Default::default()
    };
    if let Some(label) = q.label.as_deref().filter(|l| !l.trim().is_empty()) {
        let (name, value) = label
            .split_once('=')
            .filter(|(name, _)| !name.trim().is_empty())
            .ok_or_else(|| ApiError::bad_request("label", "write NAME=VALUE, e.g. env=prod"))?;
        filter
            .labels
            .push((name.trim().to_owned(), value.trim().to_owned()));
    }
    if !(1..=MAX_PAGE).contains(&filter.limit) {
        return Err(ApiError::bad_request(
            "limit",
            format!("must be from 1 to {MAX_PAGE}"),
        ));
    }
    match q.status.as_deref().unwrap_or("firing") {
        "firing" => {
            filter.status = Some(AlertStatus::Firing);
            filter.suppressed = Some(false);
        }
        "suppressed" => {
            filter.status = Some(AlertStatus::Firing);
            filter.suppressed = Some(true);
        }
        "resolved" => filter.status = Some(AlertStatus::Resolved),
        "all" => {}
        other => {
            return Err(ApiError::bad_request(
                "status",
                format!("unknown status `{other}`; use firing, suppressed, resolved or all"),
            ))
        }
    }
    let alerts = app.alerts.list(&filter).await?;
    Ok(axum::Json(
        alerts.into_iter().map(AlertView::from).collect(),
    ))
}

/// One alert.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts",
    operation_id = "get_alert",
    params(("id" = i64, Path, description = "Alert id")),
    responses((status = 200, description = "The alert", body = AlertView),
        (status = 404, description = "No such alert", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<AlertView>, ApiError> {
    let alert = app.alerts.get(id).await?;
    Ok(axum::Json(AlertView::from(alert)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SilenceRequest {
    /// Alertmanager syntax, e.g. `alertname="HighLatency", env=~"prod|staging"`.
    #[schema(example = "alertname=\"DiskFull\", instance=~\"db-.*\"")]
    pub matchers: String,
    /// Default now.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Timestamp>,
    /// Give `ends_at` or `duration`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<Timestamp>,
    /// e.g. `2h`, `30m`.
    #[serde(default)]
    #[schema(example = "2h")]
    pub duration: Option<String>,
    #[schema(example = "Planned disk migration")]
    pub comment: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SilenceView {
    pub id: String,
    /// The matchers in Alertmanager syntax.
    pub matchers: String,
    #[schema(value_type = super::enums::SilenceStateName)]
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    pub created_by: String,
    pub comment: String,
}

pub(crate) fn silence_view(silence: &Silence, now: Timestamp) -> SilenceView {
    SilenceView {
        id: silence.id.clone(),
        matchers: warroom_domain::alerting::display_matchers(&silence.matchers),
        state: silence.state(now).as_str().to_owned(),
        starts_at: silence.starts_at,
        ends_at: silence.ends_at,
        created_by: silence.created_by.clone(),
        comment: silence.comment.clone(),
    }
}

/// Silence alerts matching the matchers for a while; they are stored and listed but page nobody.
#[utoipa::path(post, path = "/api/v1/silences", tag = "alerts",
    request_body = SilenceRequest,
    responses((status = 201, description = "Created", body = SilenceView),
        (status = 422, description = "Bad matchers or window", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_silence<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Json(req): Json<SilenceRequest>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_responder()?;
    let now = app.silences.now();
    let matchers = parse_matchers(&req.matchers).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("matchers: {e}"),
        )
        .with_field("matchers")
    })?;
    let (starts_at, ends_at) = window(now, req.starts_at, req.ends_at, req.duration.as_deref())?;
    let new = NewSilence {
        matchers,
        starts_at,
        ends_at,
        created_by: caller.name.clone(),
        comment: req.comment,
    };
    let silence = app.silences.create(new, now).await?;
    Ok((StatusCode::CREATED, axum::Json(silence_view(&silence, now))))
}

/// The window a request asks for: `starts_at` (default now) to `ends_at`, or for `duration`.
pub(crate) fn window(
    now: Timestamp,
    starts_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
    duration: Option<&str>,
) -> Result<(Timestamp, Timestamp), ApiError> {
    let starts_at = starts_at.unwrap_or(now);
    let ends_at = match (ends_at, duration) {
        (Some(end), None) => end,
        (None, Some(d)) => {
            let d: SignedDuration = d.trim().parse().map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    format!("duration: {e}; use e.g. 30m or 2h"),
                )
                .with_field("duration")
            })?;
            starts_at + d
        }
        _ => {
            return Err(ApiError::bad_request(
                "ends_at",
                "give exactly one of ends_at and duration",
            ))
        }
    };
    Ok((starts_at, ends_at))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SilenceQuery {
    /// Include expired silences.
    pub all: Option<bool>,
}

/// Silences, newest first; expired ones only with `all=true`.
#[utoipa::path(get, path = "/api/v1/silences", tag = "alerts",
    params(SilenceQuery),
    responses((status = 200, description = "Silences", body = Vec<SilenceView>)),
    security(("bearer" = [])))]
pub async fn list_silences<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Query(q): Query<SilenceQuery>,
) -> Result<axum::Json<Vec<SilenceView>>, ApiError> {
    let now = app.silences.now();
    let live_at = (!q.all.unwrap_or(false)).then_some(now);
    let silences = app.silences.list(live_at).await?;
    Ok(axum::Json(
        silences.iter().map(|s| silence_view(s, now)).collect(),
    ))
}

/// Expire a silence now.
#[utoipa::path(delete, path = "/api/v1/silences/{id}", tag = "alerts",
    params(("id" = String, Path, description = "Silence id")),
    responses((status = 200, description = "Expired", body = SilenceView),
        (status = 404, description = "No such silence", body = ErrorBody),
        (status = 409, description = "Already expired", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn expire_silence<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<SilenceView>, ApiError> {
    caller.require_responder()?;
    let now = app.silences.now();
    let silence = app.silences.expire(&id, now).await?;
    Ok(axum::Json(silence_view(&silence, now)))
}
