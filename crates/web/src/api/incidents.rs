//! `/api/v1/incidents`: declare, list, read and change incidents.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use jiff::Timestamp;
use warroom_domain::{Declaration, DetailsPatch, Status};
use warroom_engine::IncidentOp;
use warroom_store::{IncidentFilter, PageCursor, Store, MAX_PAGE};

use super::types::*;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// Declare an incident.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents",
    request_body = DeclareRequest,
    responses(
        (status = 201, description = "Declared", body = IncidentView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 422, description = "A field is not acceptable", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn declare<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Json(req): Json<DeclareRequest>,
) -> Result<impl IntoResponse> {
    caller.require_responder()?;
    let declaration = Declaration {
        title: req.title,
        summary: req.summary,
        severity: req.severity,
        category: req.category,
        services: req.services,
        status: req.status,
        customer_facing: req.customer_facing,
        users_affected: req.users_affected,
        impact_started_at: req.impact_started_at,
        detected_at: req.detected_at,
        roles: req.roles.into_iter().collect(),
    };
    let (incident, _) = app.incidents.declare(&caller.name, declaration).await?;
    let location = format!("/api/v1/incidents/{}", incident.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(IncidentView::from(&incident)),
    ))
}

/// List incidents, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents",
    operation_id = "list_incidents",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of incidents", body = IncidentList),
        (status = 400, description = "A bad filter", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<IncidentList>> {
    let filter = filter_from_query(app.incidents.playbook(), q)?;
    let page = app.incidents.list(&filter).await?;
    Ok(axum::Json(IncidentList {
        incidents: page.incidents.iter().map(IncidentView::from).collect(),
        next_cursor: page.next.map(|c| c.encode()),
    }))
}

fn comma_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn filter_from_query(playbook: &warroom_domain::Playbook, q: ListQuery) -> Result<IncidentFilter> {
    let mut filter = IncidentFilter {
        limit: q.limit.unwrap_or(50),
        text: q
            .q
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.trim().to_owned()),
        ..Default::default()
    };
    if !(1..=MAX_PAGE).contains(&filter.limit) {
        return Err(ApiError::bad_request(
            "limit",
            format!("must be from 1 to {MAX_PAGE}"),
        ));
    }
    if let Some(statuses) = &q.status {
        for s in comma_list(statuses) {
            if s.eq_ignore_ascii_case("open") {
                filter
                    .statuses
                    .extend(Status::ALL.into_iter().filter(|s| s.is_open()));
            } else {
                filter.statuses.push(Status::parse(s).ok_or_else(|| {
                    ApiError::bad_request(
                        "status",
                        format!("unknown status `{s}`; use open or one of triggered, acknowledged, investigating, identified, monitoring, resolved, closed"),
                    )
                })?);
            }
        }
    }
    if let Some(severities) = &q.severity {
        for s in comma_list(severities) {
            let level = playbook.severity(s).ok_or_else(|| {
                ApiError::bad_request("severity", format!("unknown severity `{s}`"))
            })?;
            filter.severities.push(level.name.clone());
        }
    }
    if let Some(service) = q
        .service
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let def = playbook.service(service).ok_or_else(|| {
            ApiError::bad_request("service", format!("unknown service `{service}`"))
        })?;
        filter.service = Some(def.id.clone());
    }
    if let Some(category) = q
        .category
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let def = playbook.category(category).ok_or_else(|| {
            ApiError::bad_request("category", format!("unknown category `{category}`"))
        })?;
        filter.category = Some(def.name.clone());
    }
    filter.declared_from = q
        .from
        .as_deref()
        .map(|s| timestamp("from", s))
        .transpose()?;
    filter.declared_until = q
        .until
        .as_deref()
        .map(|s| timestamp("until", s))
        .transpose()?;
    if let Some(cursor) = &q.cursor {
        filter.after =
            Some(PageCursor::decode(cursor).ok_or_else(|| {
                ApiError::bad_request("cursor", "not a cursor returned by this API")
            })?);
    }
    Ok(filter)
}

fn timestamp(field: &str, s: &str) -> Result<Timestamp> {
    s.trim().parse().map_err(|e| {
        ApiError::bad_request(
            field,
            format!("expected an RFC 3339 time like 2026-11-25T14:00:00Z: {e}"),
        )
    })
}

/// One incident.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents",
    operation_id = "get_incident",
    params(("id" = String, Path, description = "Incident id, e.g. INC-2026-0042")),
    responses(
        (status = 200, description = "The incident", body = IncidentView),
        (status = 404, description = "No such incident", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<IncidentView>> {
    let incident = app.incidents.get(&id).await?;
    Ok(axum::Json(IncidentView::from(&incident)))
}

/// The incident's timeline, oldest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline", tag = "incidents",
    params(("id" = String, Path, description = "Incident id"), TimelineQuery),
    responses(
        (status = 200, description = "Events in order", body = Timeline),
        (status = 404, description = "No such incident", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn timeline<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> Result<axum::Json<Timeline>> {
    let limit = q.limit.unwrap_or(1000);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit", "must be from 1 to 1000"));
    }
    let events = app
        .incidents
        .timeline(&id, q.after.unwrap_or(0), limit)
        .await?;
    Ok(axum::Json(Timeline {
        events: events.iter().map(EventView::from).collect(),
    }))
}

async fn apply<S: Store>(
    app: &AppState<S>,
    caller: &Caller,
    id: &str,
    op: IncidentOp,
) -> Result<axum::Json<IncidentView>> {
    caller.require_responder()?;
    let (incident, _) = app.incidents.apply(id, &caller.name, op).await?;
    Ok(axum::Json(IncidentView::from(&incident)))
}

/// Change title, summary, category, services, impact, or the call bridge and chat links.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}", tag = "incidents",
    operation_id = "update_incident",
    params(("id" = String, Path, description = "Incident id")),
    request_body = UpdateRequest,
    responses(
        (status = 200, description = "Updated", body = IncidentView),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 422, description = "A field is not acceptable", body = ErrorBody),
        (status = 409, description = "The incident is closed", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn update<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<UpdateRequest>,
) -> Result<axum::Json<IncidentView>> {
    let patch = DetailsPatch {
        title: req.title,
        summary: req.summary,
        category: req.category,
        services: req.services,
        customer_facing: req.customer_facing,
        users_affected: req.users_affected,
        impact_started_at: req.impact_started_at,
        detected_at: req.detected_at,
        bridge_url: req.bridge_url,
        chat_url: req.chat_url,
    };
    apply(&app, &caller, &id, IncidentOp::Details(patch)).await
}

/// Acknowledge a triggered incident.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/acknowledge", tag = "incidents",
    params(("id" = String, Path, description = "Incident id")),
    responses(
        (status = 200, description = "Acknowledged", body = IncidentView),
        (status = 409, description = "Not triggered", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn acknowledge<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<IncidentView>> {
    apply(&app, &caller, &id, IncidentOp::Acknowledge).await
}

/// Move to another status.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/status", tag = "incidents",
    operation_id = "change_incident_status",
    params(("id" = String, Path, description = "Incident id")),
    request_body = StatusRequest,
    responses(
        (status = 200, description = "Changed", body = IncidentView),
        (status = 409, description = "Illegal transition", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn status<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<StatusRequest>,
) -> Result<axum::Json<IncidentView>> {
    let op = IncidentOp::Status {
        to: req.status,
        message: req.message,
    };
    apply(&app, &caller, &id, op).await
}

/// Raise or lower the severity.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/severity", tag = "incidents",
    params(("id" = String, Path, description = "Incident id")),
    request_body = SeverityRequest,
    responses(
        (status = 200, description = "Changed", body = IncidentView),
        (status = 422, description = "Unknown severity", body = ErrorBody),
        (status = 409, description = "Already at that severity, or the incident is closed", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn severity<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<SeverityRequest>,
) -> Result<axum::Json<IncidentView>> {
    let op = IncidentOp::Severity {
        to: req.severity,
        reason: req.reason,
    };
    apply(&app, &caller, &id, op).await
}

/// Resolve.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/resolve", tag = "incidents",
    params(("id" = String, Path, description = "Incident id")),
    request_body = MessageRequest,
    responses((status = 200, description = "Resolved", body = IncidentView),
        (status = 409, description = "Illegal transition", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resolve<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<MessageRequest>,
) -> Result<axum::Json<IncidentView>> {
    let op = IncidentOp::Resolve {
        message: req.message,
    };
    apply(&app, &caller, &id, op).await
}

/// Close a resolved incident (final).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/close", tag = "incidents",
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, description = "Closed", body = IncidentView),
        (status = 409, description = "Not resolved", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn close<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<IncidentView>> {
    apply(&app, &caller, &id, IncidentOp::Close).await
}

/// Reopen a resolved incident.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/reopen", tag = "incidents",
    params(("id" = String, Path, description = "Incident id")),
    request_body = ReopenRequest,
    responses((status = 200, description = "Reopened", body = IncidentView),
        (status = 409, description = "Not resolved", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reopen<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<ReopenRequest>,
) -> Result<axum::Json<IncidentView>> {
    let op = IncidentOp::Reopen {
        to: req.status,
        message: req.message,
    };
    apply(&app, &caller, &id, op).await
}

/// Assign a role, or hand it off if someone holds it.
#[utoipa::path(put, path = "/api/v1/incidents/{id}/roles/{role}", tag = "incidents",
    params(("id" = String, Path, description = "Incident id"),
        ("role" = String, Path, description = "Role name from the playbook, e.g. Incident Commander")),
    request_body = AssignRequest,
    responses((status = 200, description = "Assigned", body = IncidentView),
        (status = 422, description = "Unknown role", body = ErrorBody),
        (status = 409, description = "The incident is closed", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn assign_role<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path((id, role)): Path<(String, String)>,
    Json(req): Json<AssignRequest>,
) -> Result<axum::Json<IncidentView>> {
    let op = IncidentOp::AssignRole {
        role,
        assignee: req.assignee,
    };
    apply(&app, &caller, &id, op).await
}

/// Free a role.
#[utoipa::path(delete, path = "/api/v1/incidents/{id}/roles/{role}", tag = "incidents",
    params(("id" = String, Path, description = "Incident id"),
        ("role" = String, Path, description = "Role name")),
    responses((status = 200, description = "Unassigned", body = IncidentView),
        (status = 409, description = "Nobody holds it", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn unassign_role<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path((id, role)): Path<(String, String)>,
) -> Result<axum::Json<IncidentView>> {
    apply(&app, &caller, &id, IncidentOp::UnassignRole { role }).await
}

/// Tick or untick a checklist item.
#[utoipa::path(put, path = "/api/v1/incidents/{id}/checklist/{phase}/{item}", tag = "incidents",
    params(("id" = String, Path, description = "Incident id"),
        ("phase" = String, Path, description = "Phase id, e.g. detection"),
        ("item" = usize, Path, description = "1-based item number")),
    request_body = ChecklistRequest,
    responses((status = 200, description = "Set", body = IncidentView),
        (status = 422, description = "No such phase or item", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn checklist<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path((id, phase, item)): Path<(String, String, usize)>,
    Json(req): Json<ChecklistRequest>,
) -> Result<axum::Json<IncidentView>> {
    let op = IncidentOp::Checklist {
        phase,
        item,
        done: req.done,
    };
    apply(&app, &caller, &id, op).await
}

/// Add a note to the timeline.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/notes", tag = "incidents",
    params(("id" = String, Path, description = "Incident id")),
    request_body = NoteRequest,
    responses((status = 201, description = "Added", body = EventView),
        (status = 422, description = "Empty or too long", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn note<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<NoteRequest>,
) -> Result<impl IntoResponse> {
    caller.require_responder()?;
    let (_, events) = app
        .incidents
        .apply(&id, &caller.name, IncidentOp::Note { text: req.text })
        .await?;
    let event = events.first().ok_or_else(|| {
        ApiError::from(warroom_store::StoreError::Database(
            "a note made no event".into(),
        ))
    })?;
    Ok((StatusCode::CREATED, axum::Json(EventView::from(event))))
}

/// Which incident a duplicate merges into.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The id of the incident that survives, e.g. `INC-2026-0042`.
    pub into: String,
}

/// Both incidents after a merge.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MergeView {
    /// The incident that survives, now holding the duplicate's alerts, pages and timeline events.
    pub survivor: IncidentView,
    /// The duplicate, closed, its timeline linking to the survivor.
    pub duplicate: IncidentView,
}

/// Merge a duplicate incident into another: its alerts and pages move to
/// the survivor, its timeline events are copied there, and it closes as a
/// duplicate with a link both ways in the timelines.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/merge", tag = "incidents",
    operation_id = "merge_incident",
    params(("id" = String, Path, description = "The duplicate's id")),
    request_body = MergeRequest,
    responses(
        (status = 200, description = "Merged", body = MergeView),
        (status = 404, description = "No such incident (either one)", body = ErrorBody),
        (status = 422, description = "`into` is empty or the incident itself", body = ErrorBody),
        (status = 409, description = "One of them is closed", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn merge<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<MergeRequest>,
) -> Result<axum::Json<MergeView>> {
    caller.require_responder()?;
    let into = req.into.trim();
    if into.is_empty() {
        return Err(ApiError::invalid(
            "into",
            "give the id of the incident to merge into",
        ));
    }
    let merged = app.incidents.merge(&id, into, &caller.name).await?;
    Ok(axum::Json(MergeView {
        survivor: IncidentView::from(&merged.survivor),
        duplicate: IncidentView::from(&merged.duplicate),
    }))
}
