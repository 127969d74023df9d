//! Outbound messages and notification channels: read and resend a message,
//! send a test message, list the channels, preview a template.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warroom_domain::notify::{AudienceClass, MessageKind};
use warroom_store::Store;

use super::paging::MessageView;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// One outbound message: a page, a notification, a reminder or a test.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "comms",
    params(("id" = i64, Path, description = "Message id")),
    responses((status = 200, description = "The message (never its body)", body = MessageView),
        (status = 400, description = "Not a message id", body = ErrorBody),
        (status = 404, description = "No such message", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn message<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<MessageView>> {
    Ok(axum::Json(app.notifier.message(id).await?.into()))
}

/// Queue a copy of a failed, dead or cancelled message as a new message.
#[utoipa::path(post, path = "/api/v1/messages/{id}/resend", tag = "comms",
    params(("id" = i64, Path, description = "Message id")),
    responses((status = 201, description = "The new message, queued", body = MessageView),
        (status = 404, description = "No such message", body = ErrorBody),
        (status = 409, description = "The message is queued, sending or sent", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resend<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse> {
    caller.require_responder()?;
    let message = app.notifier.resend(id).await?;
    let location = format!("/api/v1/messages/{}", message.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(MessageView::from(message)),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    /// A channel from the playbook's `notifications.channels`.
    #[schema(example = "slack-ops")]
    pub channel: String,
    /// The address or number; required by e-mail (smtp) and SMS (twilio) channels.
    #[serde(default)]
    #[schema(example = "oncall@example.com")]
    pub to: Option<String>,
}

/// Queue a test message on a channel (admin).
#[utoipa::path(post, path = "/api/v1/notify/test", tag = "comms",
    request_body = TestRequest,
    responses((status = 202, description = "Queued; follow it with GET /api/v1/messages/{id}", body = MessageView),
        (status = 403, description = "Not an admin token", body = ErrorBody),
        (status = 422, description = "No such channel, or `to` missing", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn test<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Json(req): Json<TestRequest>,
) -> Result<impl IntoResponse> {
    caller.require_admin()?;
    let to = req.to.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let message = app.notifier.test(&req.channel, to).await?;
    let location = format!("/api/v1/messages/{}", message.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        axum::Json(MessageView::from(message)),
    ))
}

/// A configured channel; its settings (URLs, secrets) are never shown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelView {
    #[schema(example = "slack-ops")]
    pub name: String,
    /// smtp, slack, mattermost, teams, discord, webhook or twilio.
    #[serde(rename = "type")]
    #[schema(example = "slack")]
    pub kind: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelList {
    pub channels: Vec<ChannelView>,
}

/// The notification channels the playbook configures.
#[utoipa::path(get, path = "/api/v1/notify/channels", tag = "comms",
    responses((status = 200, description = "Channels, by name and type", body = ChannelList)),
    security(("bearer" = [])))]
pub async fn channels<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
) -> axum::Json<ChannelList> {
    let channels = app
        .incidents
        .playbook()
        .notifications
        .channels
        .iter()
        .map(|c| ChannelView {
            name: c.name.clone(),
            kind: c.settings.type_name().to_owned(),
        })
        .collect();
    axum::Json(ChannelList { channels })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// page, initial_notification, status_update, resolution_notice or reminder.
    #[schema(value_type = super::enums::MessageKindName)]
    pub kind: MessageKind,
    /// responders, stakeholders or customers.
    #[schema(value_type = super::enums::AudienceName)]
    pub audience: AudienceClass,
    /// A severity from the playbook.
    #[schema(example = "SEV-1")]
    pub severity: String,
}

/// A rendered message.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PreviewView {
    pub subject: String,
    pub text: String,
    /// The e-mail HTML body, when the template has one.
    pub html: Option<String>,
}

/// Render the template a message would use, with a sample incident.
#[utoipa::path(post, path = "/api/v1/notify/preview", tag = "comms",
    request_body = PreviewRequest,
    responses((status = 200, description = "Rendered", body = PreviewView),
        (status = 400, description = "Unknown kind or audience", body = ErrorBody),
        (status = 409, description = "The template does not render", body = ErrorBody),
        (status = 422, description = "Unknown severity", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn preview<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
    Json(req): Json<PreviewRequest>,
) -> Result<axum::Json<PreviewView>> {
    let rendered = app
        .notifier
        .preview(req.kind, req.audience, &req.severity)?;
    Ok(axum::Json(PreviewView {
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
    }))
}
