//! The inbound alert endpoints: each authenticates an integration key, parses
//! its format into `AlertSignal`s, and waits for the alert writer to commit
//! them before answering 2xx: applied, for the webhooks whose answer lists
//! each alert's outcome; journaled, for Alertmanager API v2 and PagerDuty,
//! whose answers do not.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::json;
use warroom_domain::alert::AlertSignal;
use warroom_engine::{IngestRequest, IngestSource, SignalResult};
use warroom_store::Store;

use super::config::MappingError;
use super::formats::{self, pagerduty, FormatError};
use super::keys::KnownIntegration;
use super::limit::retry_after_secs;
use crate::error::ApiError;
use crate::extract::{Path, RawBody};
use crate::state::AppState;

pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/v2/enqueue", post(pagerduty_enqueue::<S>))
        .route("/api/v2/alerts", post(api_v2_bearer::<S>))
        .route(
            "/integrations/prometheus/{key}/api/v2/alerts",
            post(api_v2_path::<S>),
        )
        .route(
            "/integrations/{kind}/{key}",
            post(by_kind::<S>).get(by_kind_query::<S>),
        )
}

/// The integration a key names, or `None` when no live one does; read
/// from the key cache when it was looked up in the last few seconds.
async fn integration<S: Store>(
    app: &AppState<S>,
    key: &str,
) -> Result<Option<Arc<KnownIntegration>>, ApiError> {
    let key = key.trim();
    let now = app.incidents.clock().now();
    if let Some(known) = app.integration_keys.get(key, now) {
        return Ok(Some(known));
    }
    let found = app.integrations.authenticate(key).await?;
    Ok(found.map(|integration| app.integration_keys.put(key, integration, now)))
}

fn unknown_key() -> ApiError {
    ApiError::not_found(
        "no live integration has this key; create one with `warroom integration create`",
    )
}

fn source_of(integration: &KnownIntegration) -> IngestSource {
    let record = &integration.record;
    IngestSource {
        integration_id: Some(record.id.clone()),
        integration_name: record.name.clone(),
        service: record.service.clone(),
        severity_overrides: integration.config.severity_map.clone(),
        routes: integration.config.routes.clone(),
        actor: None,
    }
}

/// A 429 with `Retry-After` when the integration is over its rate.
fn throttled<S: Store>(
    app: &AppState<S>,
    integration: &KnownIntegration,
    pagerduty_body: bool,
) -> Option<Response> {
    app.ingest_limit
        .check(&integration.record.id)
        .err()
        .map(|wait| {
            let secs = retry_after_secs(wait).to_string();
            let body = if pagerduty_body {
                axum::Json(
                    serde_json::to_value(pagerduty::EnqueueResponse::throttled())
                        .unwrap_or_default(),
                )
            } else {
                axum::Json(json!({"error": {"code": "rate_limited", "field": null,
                "message": format!("this integration sends too fast; retry in {secs} s")}}))
            };
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, secs)],
                body,
            )
                .into_response()
        })
}

async fn submit<S: Store>(
    app: &AppState<S>,
    integration: &KnownIntegration,
    signals: Vec<AlertSignal>,
) -> Result<Vec<SignalResult>, ApiError> {
    let request = IngestRequest {
        source: source_of(integration),
        signals,
    };
    Ok(app.ingestor.submit(request).await?)
}

/// Journals the signals and returns once they are durable; the writer
/// applies them a moment later (`Ingestor::accept`). For senders whose
/// answer says nothing about what became of each alert.
async fn accept<S: Store>(
    app: &AppState<S>,
    integration: &KnownIntegration,
    signals: Vec<AlertSignal>,
) -> Result<(), ApiError> {
    let request = IngestRequest {
        source: source_of(integration),
        signals,
    };
    Ok(app.ingestor.accept(request).await?)
}

fn format_error(err: FormatError) -> ApiError {
    ApiError::bad_request(err.field.clone(), err.message)
}

/// What the generic endpoints answer: one entry per alert.
fn accepted(results: &[SignalResult]) -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({"status": "success", "alerts": results})),
    )
        .into_response()
}

/// PagerDuty Events API v2, byte for byte what PagerDuty answers.
async fn pagerduty_enqueue<S: Store>(
    State(app): State<AppState<S>>,
    body: Result<RawBody, ApiError>,
) -> Response {
    let invalid_with = |status: StatusCode, errors: Vec<String>| {
        (
            status,
            axum::Json(pagerduty::EnqueueResponse::invalid_event(errors)),
        )
            .into_response()
    };
    let invalid = |errors: Vec<String>| invalid_with(StatusCode::BAD_REQUEST, errors);
    // Over the size limit: its status, in PagerDuty's answer shape.
    let body = match body {
        Ok(RawBody(body)) => body,
        Err(err) => return invalid_with(err.status, vec![err.message]),
    };
    let now = app.incidents.clock().now();
    let event = match pagerduty::parse(&body, now) {
        Ok(event) => event,
        Err(err) => return invalid(vec![err.to_string()]),
    };
    let integration = match integration(&app, &event.routing_key).await {
        Ok(Some(i)) => i,
        Ok(None) => return invalid(vec!["routing_key: no live integration has this key".into()]),
        Err(err) => return err.into_response(),
    };
    if let Some(response) = throttled(&app, &integration, true) {
        return response;
    }
    // A trigger without a key gets one here, as PagerDuty generates it,
    // since the answer carries it before the alert is applied.
    let mut signal = event.signal;
    let key = signal
        .dedup_key
        .get_or_insert_with(warroom_engine::ingest::generated_key)
        .clone();
    match accept(&app, &integration, vec![signal]).await {
        Ok(()) => (
            StatusCode::ACCEPTED,
            axum::Json(pagerduty::EnqueueResponse::accepted(key)),
        )
            .into_response(),
        Err(err) => err.into_response(),
    }
}

/// Alertmanager API v2 with the key as a bearer token (Prometheus
/// `alertmanagers: authorization: credentials: <key>`).
async fn api_v2_bearer<S: Store>(
    State(app): State<AppState<S>>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim().to_owned())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "send the integration key as `Authorization: Bearer <key>`, or post to /integrations/prometheus/<key>/api/v2/alerts",
            )
        })?;
    api_v2(app, &key, &body).await
}

/// Alertmanager API v2 with the key in the path (Prometheus `path_prefix`).
async fn api_v2_path<S: Store>(
    State(app): State<AppState<S>>,
    Path(key): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    api_v2(app, &key, &body).await
}

async fn api_v2<S: Store>(app: AppState<S>, key: &str, body: &[u8]) -> Result<Response, ApiError> {
    let integration = integration(&app, key).await?.ok_or_else(unknown_key)?;
    if let Some(response) = throttled(&app, &integration, false) {
        return Ok(response);
    }
    let now = app.incidents.clock().now();
    let signals = formats::alertmanager::parse_api_v2(body, now).map_err(format_error)?;
    accept(&app, &integration, signals).await?;
    // Alertmanager answers 200 with an empty body; Prometheus expects a 2xx.
    Ok(StatusCode::OK.into_response())
}

/// `GET /integrations/{kind}/{key}?...`: senders that put the alert in the
/// query string of a GET (UptimeRobot); other formats need a POST body.
async fn by_kind_query<S: Store>(
    State(app): State<AppState<S>>,
    Path((kind, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if kind != "uptimerobot" {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("the {kind} format is sent with POST; only uptimerobot may use GET with the alert in the query string"),
        ));
    }
    by_kind(
        State(app),
        Path((kind, key)),
        RawQuery(query),
        headers,
        RawBody(Default::default()),
    )
    .await
}

/// `/integrations/{kind}/{key}`: webhooks whose format the path names.
async fn by_kind<S: Store>(
    State(app): State<AppState<S>>,
    Path((kind, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let integration = integration(&app, &key).await?.ok_or_else(unknown_key)?;
    if let Some(response) = throttled(&app, &integration, false) {
        return Ok(response);
    }
    let now = app.incidents.clock().now();
    let signals = match kind.as_str() {
        "alertmanager" => formats::alertmanager::parse_webhook(&body, now),
        "grafana" => formats::grafana::parse(&body, now),
        "sentry" => {
            let resource = headers
                .get(formats::sentry::RESOURCE_HEADER)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            formats::sentry::parse_hook(&body, resource.as_deref(), now).map(|s| vec![s])
        }
        "uptimerobot" => {
            let is_form = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            let body = if is_form {
                formats::uptimerobot::Body::Form(&body)
            } else {
                formats::uptimerobot::Body::Json(&body)
            };
            formats::uptimerobot::parse_request(query.as_deref().unwrap_or(""), body, now)
                .map(|s| vec![s])
        }
        "generic" => {
            let mapping = integration.config.mapping.as_ref().map_err(|e| {
                let message = match e {
                    MappingError::Missing => {
                        "this generic integration has no `mapping` in its config".to_owned()
                    }
                    MappingError::Invalid(e) => {
                        format!("this integration's mapping is invalid: {e}")
                    }
                };
                ApiError::new(StatusCode::CONFLICT, "not_configured", message)
            })?;
            formats::generic::parse(&body, mapping, now)
        }
        other => {
            return Err(ApiError::not_found(format!(
                "no integration format `{other}`; use alertmanager, grafana, sentry, uptimerobot or generic"
            )))
        }
    }
    .map_err(format_error)?;
    let results = submit(&app, &integration, signals).await?;
    Ok(accepted(&results))
}
