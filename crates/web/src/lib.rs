//! Warroom's HTTP edge: the `/api/v1` JSON API, the web UI (`ui`), health
//! probes, the OpenAPI document, calendar feeds and acknowledge-link pages. The only crate that knows HTTP; the app is built as a `Router`
//! without binding a port, so tests can serve it on `127.0.0.1:0`.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use warroom_store::Store;

pub mod ack;
pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
mod health;
pub mod ingest;
pub mod redact;
pub mod serve;
pub mod state;
pub mod text;
pub mod ui;

pub use error::ApiError;
pub use serve::{serve, serve_with, ServeConfig};
pub use state::AppState;

/// Largest request body accepted (the PagerDuty Events API's limit is 512 KB;
/// incidents need far less).
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// The most a request may take, body read included, before it is answered
/// 503; `ServeConfig::body_timeout` must stay under it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole application.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    // Everything but the probes and the alert endpoints first lets the
    // alert writer apply the alerts it has accepted.
    let settled = || middleware::from_fn_with_state(state.clone(), after_accepted_alerts::<S>);
    // Pages, assets and JSON are compressed for a client that accepts it
    // (the default predicate leaves the `/events` stream and tiny bodies
    // alone); the alert endpoints answer a few bytes and stay outside, so
    // ingest pays nothing for it.
    let compressed = Router::new()
        .nest("/api/v1", api::routes::<S>().route_layer(settled()))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz::<S>))
        .merge(ack::routes::<S>().route_layer(settled()))
        .merge(ui::routes::<S>().route_layer(settled()))
        .route("/ical/{file}", get(api::oncall::feeds::calendar::<S>))
        .layer(CompressionLayer::new());
    Router::new()
        .merge(compressed)
        .merge(ingest::routes::<S>())
        .fallback(|| async { ApiError::not_found("no such page") })
        .with_state(state)
        .layer(middleware::from_fn(text::refuse_in_path))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(serve::body::stalled_body_is_408))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Waits until the alerts accepted before this request are applied
/// (`Ingestor::settled`): a client that got a 2xx for an alert and then
/// lists alerts or incidents sees it. Free when nothing is waiting.
async fn after_accepted_alerts<S: Store>(
    State(app): State<AppState<S>>,
    request: Request,
    next: Next,
) -> Response {
    app.ingestor.settled().await;
    next.run(request).await
}

/// The span every request's log lines carry, as tower-http's default one
/// but with the path's secrets redacted (`redact`): at debug level the
/// span's fields go into every line, so the raw URI must never be one.
fn request_span(request: &Request) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        uri = %redact::loggable_uri(request.uri()),
        version = ?request.version(),
    )
}

/// A panic is a bug; the client still gets our JSON error, never a dropped connection.
fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; the server log has details",
    )
    .into_response()
}
