//! Questions asked of schedules (who is on call, the shifts), overrides, a
//! user's shifts, the directory's warnings, and contact-method verification.

use axum::extract::State;
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use warroom_domain::oncall::{OnCall, Schedule, Shift};
use warroom_engine::oncall::Stored;
use warroom_store::{OverrideRecord, Store, StoreError};

use super::directory::{view, EntryView};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

const DAY: SignedDuration = SignedDuration::from_hours(24);

/// An RFC 3339 query parameter, or `default` when absent.
fn instant(field: &str, value: Option<&str>, default: Timestamp) -> Result<Timestamp> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|e| {
            ApiError::bad_request(
                field,
                format!("expected an RFC 3339 time like 2026-11-25T14:00:00Z: {e}"),
            )
        }),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AtQuery {
    /// RFC 3339 instant; default now.
    pub at: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    /// RFC 3339 start (inclusive).
    pub from: Option<String>,
    /// RFC 3339 end (exclusive).
    pub to: Option<String>,
}

impl RangeQuery {
    fn range(
        &self,
        default_from: Timestamp,
        default_to: Timestamp,
    ) -> Result<(Timestamp, Timestamp)> {
        let from = instant("from", self.from.as_deref(), default_from)?;
        let to = instant("to", self.to.as_deref(), default_to)?;
        if to <= from {
            return Err(ApiError::bad_request("to", "must be after from"));
        }
        Ok((from, to))
    }
}

fn source_value<T: Serialize>(source: Option<&T>) -> Option<serde_json::Value> {
    source.and_then(|s| serde_json::to_value(s).ok())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OnCallView {
    pub schedule: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `null`: nobody (a gap).
    pub user: Option<String>,
    /// `{"type":"layer","index":0,"name":"weekly"}` or `{"type":"override","id":"ovr_..."}`.
    #[schema(value_type = Option<Object>)]
    pub source: Option<serde_json::Value>,
}

fn on_call_view(schedule: String, at: Timestamp, on_call: Option<OnCall>) -> OnCallView {
    OnCallView {
        schedule,
        at,
        source: source_value(on_call.as_ref().map(|o| &o.source)),
        user: on_call.map(|o| o.user),
    }
}

/// Who is on call on a schedule at an instant.
#[utoipa::path(get, path = "/api/v1/oncall/schedules/{name}/on-call", tag = "oncall",
    params(("name" = String, Path, description = "Schedule"), AtQuery),
    responses((status = 200, description = "The answer", body = OnCallView),
        (status = 404, description = "No such schedule", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn on_call<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<AtQuery>,
) -> Result<axum::Json<OnCallView>> {
    let at = instant("at", q.at.as_deref(), app.oncall.now())?;
    let on_call = app.oncall.on_call_at(&name, at).await?;
    Ok(axum::Json(on_call_view(name, at, on_call)))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NowView {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub schedules: Vec<NowEntry>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NowEntry {
    pub schedule: String,
    pub user: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub source: Option<serde_json::Value>,
}

/// Who is on call now on every schedule.
#[utoipa::path(get, path = "/api/v1/oncall/now", tag = "oncall",
    responses((status = 200, description = "One answer per schedule, by name", body = NowView)),
    security(("bearer" = [])))]
pub async fn now<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
) -> Result<axum::Json<NowView>> {
    let at = app.oncall.now();
    let mut schedules = Vec::new();
    for s in app.oncall.list::<Schedule>().await? {
        let v = on_call_view(
            s.doc.name.clone(),
            at,
            app.oncall.on_call_at(&s.doc.name, at).await?,
        );
        schedules.push(NowEntry {
            schedule: v.schedule,
            user: v.user,
            source: v.source,
        });
    }
    Ok(axum::Json(NowView { at, schedules }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ShiftView {
    /// Set on a user's shifts (which schedule); absent on a schedule's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// `null`: a gap.
    pub user: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub end: Timestamp,
    #[schema(value_type = Option<Object>)]
    pub source: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ShiftList {
    pub shifts: Vec<ShiftView>,
}

fn shift_view(schedule: Option<String>, shift: Shift) -> ShiftView {
    ShiftView {
        schedule,
        source: source_value(shift.source.as_ref()),
        user: shift.user,
        start: shift.start,
        end: shift.end,
    }
}

/// A schedule's final shifts in a range (default: the next 7 days), gaps included.
#[utoipa::path(get, path = "/api/v1/oncall/schedules/{name}/shifts", tag = "oncall",
    params(("name" = String, Path, description = "Schedule"), RangeQuery),
    responses((status = 200, description = "Consecutive shifts covering the range", body = ShiftList),
        (status = 404, description = "No such schedule", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn shifts<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Result<axum::Json<ShiftList>> {
    let now = app.oncall.now();
    let (from, to) = q.range(now, now + 7 * DAY)?;
    let shifts = app.oncall.shifts(&name, from, to).await?;
    Ok(axum::Json(ShiftList {
        shifts: shifts.into_iter().map(|s| shift_view(None, s)).collect(),
    }))
}

/// A user's shifts on every schedule in a range (default: the next 7 days).
#[utoipa::path(get, path = "/api/v1/oncall/users/{name}/shifts", tag = "oncall",
    params(("name" = String, Path, description = "User"), RangeQuery),
    responses((status = 200, description = "Shifts by start", body = ShiftList),
        (status = 404, description = "No such user", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn user_shifts<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Result<axum::Json<ShiftList>> {
    let now = app.oncall.now();
    let (from, to) = q.range(now, now + 7 * DAY)?;
    let shifts = app.oncall.user_shifts(&name, from, to).await?;
    Ok(axum::Json(ShiftList {
        shifts: shifts
            .into_iter()
            .map(|(schedule, s)| shift_view(Some(schedule), s))
            .collect(),
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OverrideView {
    pub id: String,
    pub schedule: String,
    pub user: String,
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub end: Timestamp,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<OverrideRecord> for OverrideView {
    fn from(r: OverrideRecord) -> Self {
        OverrideView {
            id: r.id,
            schedule: r.schedule,
            user: r.user,
            start: r.starts_at,
            end: r.ends_at,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OverrideList {
    pub overrides: Vec<OverrideView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    /// Who takes over.
    #[schema(example = "bob")]
    pub user: String,
    #[schema(value_type = String, format = DateTime, example = "2026-11-25T18:00:00Z")]
    pub start: Timestamp,
    #[schema(value_type = String, format = DateTime, example = "2026-11-26T09:00:00Z")]
    pub end: Timestamp,
}

/// A schedule's overrides overlapping a range (default: 30 days back to a year ahead).
#[utoipa::path(get, path = "/api/v1/oncall/schedules/{name}/overrides", tag = "oncall",
    params(("name" = String, Path, description = "Schedule"), RangeQuery),
    responses((status = 200, description = "Overrides by start", body = OverrideList),
        (status = 404, description = "No such schedule", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_overrides<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Result<axum::Json<OverrideList>> {
    let now = app.oncall.now();
    let (from, to) = q.range(now - 30 * DAY, now + 365 * DAY)?;
    let overrides = app.oncall.list_overrides(&name, from, to).await?;
    Ok(axum::Json(OverrideList {
        overrides: overrides.into_iter().map(OverrideView::from).collect(),
    }))
}

/// Put someone on call in place of whoever the schedule says, for a window.
#[utoipa::path(post, path = "/api/v1/oncall/schedules/{name}/overrides", tag = "oncall",
    params(("name" = String, Path, description = "Schedule")),
    request_body = OverrideRequest,
    responses((status = 201, description = "Created", body = OverrideView),
        (status = 403, description = "A viewer", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 422, description = "Unknown user, or end not after start", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_override<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(name): Path<String>,
    Json(req): Json<OverrideRequest>,
) -> Result<(StatusCode, axum::Json<OverrideView>)> {
    caller.require_responder()?;
    let record = app
        .oncall
        .create_override(&name, &req.user, req.start, req.end, &caller.name)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(record.into())))
}

/// Remove an override.
#[utoipa::path(delete, path = "/api/v1/oncall/schedules/{name}/overrides/{id}", tag = "oncall",
    params(("name" = String, Path, description = "Schedule"),
        ("id" = String, Path, description = "Override id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such override", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_override<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path((name, id)): Path<(String, String)>,
) -> Result<StatusCode> {
    caller.require_responder()?;
    app.oncall.delete_override(&name, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WarningView {
    /// `unreachable_user`, `unknown_reference`, `empty_step`, `schedule_gap` or `no_policy`.
    pub kind: String,
    /// `user:alice`, `schedule:primary`, `policy:default step 2`, `service:api`.
    pub subject: String,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WarningList {
    pub warnings: Vec<WarningView>,
}

/// Everything that would make a page reach nobody.
#[utoipa::path(get, path = "/api/v1/oncall/warnings", tag = "oncall",
    responses((status = 200, description = "Warnings", body = WarningList)),
    security(("bearer" = [])))]
pub async fn warnings<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
) -> Result<axum::Json<WarningList>> {
    let warnings = app.oncall.warnings(app.oncall.now()).await?;
    Ok(axum::Json(WarningList {
        warnings: warnings
            .into_iter()
            .map(|w| WarningView {
                kind: w.kind,
                subject: w.subject,
                message: w.message,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerificationSent {
    /// The address the code went to.
    pub sent_to: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// Send a 6-digit code to a contact method (the code is never returned).
#[utoipa::path(post, path = "/api/v1/oncall/users/{name}/contact-methods/{id}/verification", tag = "oncall",
    params(("name" = String, Path, description = "User"),
        ("id" = String, Path, description = "Contact method id")),
    responses((status = 202, description = "Code queued for sending", body = VerificationSent),
        (status = 404, description = "No such user or contact method", body = ErrorBody),
        (status = 409, description = "Already verified, or no channel can carry a code to this kind of contact method", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn start_verification<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path((name, id)): Path<(String, String)>,
) -> Result<(StatusCode, axum::Json<VerificationSent>)> {
    caller.require_responder()?;
    // The code itself stays out of this response: whoever can call the API
    // must not be able to verify someone else's address.
    let _code = app.oncall.start_verification(&name, &id).await?;
    let user: Stored<warroom_domain::oncall::User> = app.oncall.get(&name).await?;
    let method = user
        .doc
        .contact_method(&id)
        .ok_or_else(|| StoreError::NotFound(format!("contact method {id} of user {name}")))?;
    let pending = app
        .oncall
        .pending_verification(&name, &id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("verification of {id} of {name}")))?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(VerificationSent {
            sent_to: method.address.clone(),
            expires_at: pending.expires_at,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The 6 digits that were sent.
    #[schema(example = "042133")]
    pub code: String,
}

/// Prove a contact method works with the code sent to it.
#[utoipa::path(post, path = "/api/v1/oncall/users/{name}/contact-methods/{id}/verify", tag = "oncall",
    params(("name" = String, Path, description = "User"),
        ("id" = String, Path, description = "Contact method id")),
    request_body = VerifyRequest,
    responses((status = 200, description = "Verified: the user", body = EntryView),
        (status = 409, description = "No code pending, or it expired", body = ErrorBody),
        (status = 422, description = "Wrong code (field `code`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn verify<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path((name, id)): Path<(String, String)>,
    Json(req): Json<VerifyRequest>,
) -> Result<axum::Json<EntryView>> {
    caller.require_responder()?;
    let user = app.oncall.verify(&name, &id, req.code.trim()).await?;
    Ok(axum::Json(view(&user)?))
}
