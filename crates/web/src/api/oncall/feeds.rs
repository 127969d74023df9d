//! Calendar feeds: secret URLs (`/ical/<token>.ics`) that calendar apps
//! subscribe to, showing a schedule's or a user's shifts. The token is the
//! only credential of the feed itself, so it is shown once, on creation.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warroom_store::{FeedRecord, Store};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedRequest {
    /// `schedule` or `user`.
    #[schema(example = "schedule")]
    pub kind: String,
    #[schema(example = "primary")]
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedView {
    pub id: String,
    /// `schedule` or `user`.
    pub kind: String,
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

impl From<&FeedRecord> for FeedView {
    fn from(f: &FeedRecord) -> Self {
        FeedView {
            id: f.id.clone(),
            kind: f.kind.clone(),
            name: f.name.clone(),
            created_at: f.created_at,
            revoked_at: f.revoked_at,
        }
    }
}

/// A new feed: `url` holds the secret token and is shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuedFeedView {
    #[serde(flatten)]
    pub feed: FeedView,
    #[schema(example = "https://warroom.example.com/ical/wrcal_0123abcd.ics")]
    pub url: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedList {
    pub feeds: Vec<FeedView>,
}

/// Create a calendar feed of a schedule or a user (admin).
#[utoipa::path(post, path = "/api/v1/oncall/feeds", tag = "oncall",
    operation_id = "create_feed",
    request_body = FeedRequest,
    responses((status = 201, description = "Created; the URL is shown only now", body = IssuedFeedView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such schedule or user", body = ErrorBody),
        (status = 422, description = "Unknown kind", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Json(req): Json<FeedRequest>,
) -> Result<(StatusCode, axum::Json<IssuedFeedView>)> {
    caller.require_admin()?;
    let (feed, token) = app.oncall.create_feed(&req.kind, &req.name).await?;
    let url = format!("{}/ical/{token}.ics", app.paging.public_url());
    Ok((
        StatusCode::CREATED,
        axum::Json(IssuedFeedView {
            feed: FeedView::from(&feed),
            url,
        }),
    ))
}

/// Calendar feeds (never their URLs).
#[utoipa::path(get, path = "/api/v1/oncall/feeds", tag = "oncall",
    operation_id = "list_feeds",
    responses((status = 200, description = "Feeds", body = FeedList)),
    security(("bearer" = [])))]
pub async fn list<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
) -> Result<axum::Json<FeedList>> {
    let feeds = app.oncall.list_feeds().await?;
    Ok(axum::Json(FeedList {
        feeds: feeds.iter().map(FeedView::from).collect(),
    }))
}

/// Revoke a feed; its URL stops working at once (admin).
#[utoipa::path(delete, path = "/api/v1/oncall/feeds/{id}", tag = "oncall",
    operation_id = "revoke_feed",
    params(("id" = String, Path, description = "Feed id")),
    responses((status = 204, description = "Revoked"),
        (status = 404, description = "No live feed with that id", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    caller.require_admin()?;
    app.oncall.revoke_feed(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a feed URL may add: `?days=730` reaches two years ahead. Other
/// parameters (a calendar app's cache-buster) are ignored.
#[derive(Debug, Deserialize)]
pub struct CalendarQuery {
    /// Whole days ahead of today (1 to 1100; default 400).
    #[serde(default)]
    pub days: Option<i64>,
}

/// `GET /ical/<token>.ics[?days=N]`: no bearer token, the URL's token is the
/// secret. Unknown, malformed and revoked tokens all get the same 404.
pub async fn calendar<S: Store>(
    State(app): State<AppState<S>>,
    axum::extract::Path(file): axum::extract::Path<String>,
    Query(query): Query<CalendarQuery>,
) -> Result<Response> {
    let not_found = || ApiError::not_found("no such calendar feed");
    let token = file.strip_suffix(".ics").ok_or_else(not_found)?;
    let body = app
        .oncall
        .calendar(token, query.days)
        .await
        .map_err(|e| match e {
            warroom_store::StoreError::NotFound(_) => not_found(),
            other => ApiError::from(other),
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response())
}
