//! Paging on an incident: escalate by hand, reassign to people or another
//! policy, and read the escalation's state and the messages sent.

use axum::extract::State;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warroom_domain::oncall::{Schedule, Target, Team, TeamMode, User};
use warroom_domain::{DomainError, Incident, TimelineEvent};
use warroom_engine::oncall::{DirectoryDoc, Stored};
use warroom_engine::paging::Reassign;
use warroom_store::{MessageRecord, Store, StoreError};

use super::types::{EventView, IncidentView};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// An incident after a paging action, with the timeline events it appended.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentChange {
    pub incident: IncidentView,
    pub events: Vec<EventView>,
}

pub(super) fn change(incident: &Incident, events: &[TimelineEvent]) -> axum::Json<IncidentChange> {
    axum::Json(IncidentChange {
        incident: IncidentView::from(incident),
        events: events.iter().map(EventView::from).collect(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    /// The step to page (counting from 1); default the next one.
    pub to_step: Option<u32>,
}

/// Page the next step (or `to_step`) of the incident's policy now.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/escalate", tag = "paging",
    params(("id" = String, Path, description = "Incident id")),
    request_body = EscalateRequest,
    responses((status = 200, description = "Paged", body = IncidentChange),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Closed, resolved, or never had a policy", body = ErrorBody),
        (status = 422, description = "No such step", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn escalate<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<EscalateRequest>,
) -> Result<axum::Json<IncidentChange>> {
    caller.require_responder()?;
    let (incident, events) = app.paging.escalate(&id, &caller.name, req.to_step).await?;
    Ok(change(&incident, &events))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    User,
    Schedule,
    Team,
}

impl TargetKind {
    fn as_str(self) -> &'static str {
        match self {
            TargetKind::User => "user",
            TargetKind::Schedule => "schedule",
            TargetKind::Team => "team",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TeamModeRequest {
    /// Every member at once (default).
    All,
    /// The next member in turn.
    RoundRobin,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetRequest {
    #[serde(rename = "type")]
    pub kind: TargetKind,
    #[schema(example = "alice")]
    pub name: String,
    /// Teams only.
    pub mode: Option<TeamModeRequest>,
}

/// Exactly one of `targets` and `policy`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignRequest {
    /// Page these now; the policy stops.
    pub targets: Option<Vec<TargetRequest>>,
    /// Start this escalation policy from its first step.
    #[schema(example = "database")]
    pub policy: Option<String>,
}

async fn exists<S: Store, T: DirectoryDoc>(app: &AppState<S>, name: &str) -> Result<bool> {
    match app.oncall.get::<T>(name).await {
        Ok(Stored { .. }) => Ok(true),
        Err(StoreError::NotFound(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Turns the wire targets into domain ones, refusing any that names nobody
/// (the engine would page no one and only say so on the timeline).
async fn targets<S: Store>(app: &AppState<S>, req: Vec<TargetRequest>) -> Result<Vec<Target>> {
    if req.is_empty() {
        return Err(DomainError::invalid("targets", "name at least one target").into());
    }
    let mut out = Vec::with_capacity(req.len());
    for (i, t) in req.into_iter().enumerate() {
        let (target, found) = match t.kind {
            TargetKind::User => (
                Target::User {
                    name: t.name.clone(),
                },
                exists::<S, User>(app, &t.name).await?,
            ),
            TargetKind::Schedule => (
                Target::Schedule {
                    name: t.name.clone(),
                },
                exists::<S, Schedule>(app, &t.name).await?,
            ),
            TargetKind::Team => (
                Target::Team {
                    name: t.name.clone(),
                    mode: match t.mode {
                        Some(TeamModeRequest::RoundRobin) => TeamMode::RoundRobin,
                        Some(TeamModeRequest::All) | None => TeamMode::All,
                    },
                },
                exists::<S, Team>(app, &t.name).await?,
            ),
        };
        if t.mode.is_some() && !matches!(t.kind, TargetKind::Team) {
            return Err(ApiError::bad_request(
                format!("targets[{i}].mode"),
                "only team targets take a mode",
            ));
        }
        if !found {
            return Err(DomainError::invalid(
                format!("targets[{i}].name"),
                format!("no {} named {:?}", t.kind.as_str(), t.name),
            )
            .into());
        }
        out.push(target);
    }
    Ok(out)
}

/// Hand the incident to people, schedules or teams, or to another policy; they are paged now.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/reassign", tag = "paging",
    params(("id" = String, Path, description = "Incident id")),
    request_body = ReassignRequest,
    responses((status = 200, description = "Reassigned and paged", body = IncidentChange),
        (status = 400, description = "Neither or both of targets and policy", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Resolved or closed", body = ErrorBody),
        (status = 422, description = "A target or policy that does not exist", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reassign<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<ReassignRequest>,
) -> Result<axum::Json<IncidentChange>> {
    caller.require_responder()?;
    let to = match (req.targets, req.policy) {
        (Some(t), None) => Reassign::Targets(targets(&app, t).await?),
        (None, Some(policy)) => Reassign::Policy(policy),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "policy",
                "give either targets or policy, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "targets",
                "give targets ([{\"type\":\"user\",\"name\":\"alice\"}]) or policy",
            ))
        }
    };
    let (incident, events) = app.paging.reassign(&id, &caller.name, to).await?;
    Ok(change(&incident, &events))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    /// `step`, `severity_escalation` or `ack_timeout`.
    pub kind: String,
    pub position: i64,
    #[schema(value_type = String, format = DateTime)]
    pub run_at: Timestamp,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EscalationView {
    pub policy: String,
    /// `high` or `low`.
    pub urgency: String,
    /// Counts restarts (re-escalation, reassignment, un-acknowledgement).
    pub generation: i64,
    /// The last step paged (0-based, counting repeats); -1 before the first.
    pub position: i64,
    /// `active`, `acknowledged`, `exhausted` or `reassigned`.
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub pending_jobs: Vec<JobView>,
}

/// The incident's paging state and what is scheduled next.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/escalation", tag = "paging",
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, description = "The escalation", body = EscalationView),
        (status = 404, description = "No such incident, or it was never paged", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn escalation<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<EscalationView>> {
    let incident = app.incidents.get(&id).await?;
    let escalation = app.paging.escalation(&incident.id).await?.ok_or_else(|| {
        ApiError::not_found(format!(
            "{} has never been paged (no escalation policy applied)",
            incident.id
        ))
    })?;
    let jobs = app.paging.pending_jobs(&incident.id).await?;
    Ok(axum::Json(EscalationView {
        policy: escalation.policy,
        urgency: escalation.urgency,
        generation: escalation.generation,
        position: escalation.position,
        state: escalation.state.as_str().to_owned(),
        updated_at: escalation.updated_at,
        pending_jobs: jobs
            .into_iter()
            .map(|j| JobView {
                kind: j.kind.as_str().to_owned(),
                position: j.position,
                run_at: j.run_at,
            })
            .collect(),
    }))
}

/// One outbound message (its body, which may hold an acknowledge link, is not shown).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    /// The incident it is about; `null` for test and verification messages.
    pub incident_id: Option<String>,
    /// `page`, `initial_notification`, `status_update`, `resolution_notice`,
    /// `reminder`, `verification` or `test`.
    pub purpose: String,
    pub user: Option<String>,
    pub contact_method: Option<String>,
    /// A contact kind (`email`, `sms`, `voice`, ...) for pages, else a
    /// channel name from the playbook.
    pub channel: String,
    pub destination: String,
    pub subject: String,
    /// `queued`, `sending`, `sent`, `failed`, `dead` or `cancelled`.
    pub state: String,
    pub attempts: i64,
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub provider_answer: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Timestamp>,
}

impl From<MessageRecord> for MessageView {
    fn from(m: MessageRecord) -> Self {
        MessageView {
            id: m.id,
            incident_id: m.incident_id,
            purpose: m.purpose,
            user: m.user_name,
            contact_method: m.contact_method,
            channel: m.channel,
            destination: m.destination,
            subject: m.subject,
            state: m.state.as_str().to_owned(),
            attempts: m.attempts,
            next_attempt_at: m.run_at,
            last_error: m.last_error,
            provider_answer: m.provider_answer,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageList {
    pub messages: Vec<MessageView>,
}

/// The pages sent (or queued) for the incident, oldest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/messages", tag = "paging",
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, description = "Messages", body = MessageList),
        (status = 404, description = "No such incident", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn messages<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<MessageList>> {
    let incident = app.incidents.get(&id).await?;
    let messages = app.paging.messages(&incident.id).await?;
    Ok(axum::Json(MessageList {
        messages: messages.into_iter().map(MessageView::from).collect(),
    }))
}
