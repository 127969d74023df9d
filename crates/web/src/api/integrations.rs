//! `/api/v1/integrations`: admins create, list and revoke integration keys.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warroom_store::{IntegrationRecord, Store};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::ingest::config::MappingError;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationRequest {
    /// Service id from the playbook.
    #[schema(example = "api")]
    pub service: String,
    #[schema(example = "prometheus-prod")]
    pub name: String,
    #[schema(value_type = super::enums::IntegrationKindName)]
    pub kind: String,
    /// `{"severity_map": {"page": "SEV-1"}}`; generic integrations also take `mapping`.
    #[serde(default = "empty_object")]
    #[schema(value_type = IntegrationConfig)]
    pub config: serde_json::Value,
}

/// The schema of an integration's `config`. It is stored as sent; `mapping`
/// and `routes` are checked here, on create, and the whole config is parsed
/// into `ingest::config::IntegrationConfig` when its key is loaded.
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used.
pub struct IntegrationConfig {
    /// The sender's severity words to playbook severities.
    #[schema(example = json!({"page": "SEV-1"}))]
    severity_map: Option<std::collections::BTreeMap<String, String>>,
    /// How a generic integration reads its JSON (required for `generic`).
    mapping: Option<crate::ingest::formats::generic::GenericMapping>,
    /// Catch-all integrations: the first route whose matchers match an
    /// alert's labels picks its service.
    routes: Option<Vec<IntegrationRoute>>,
}

#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used.
pub struct IntegrationRoute {
    /// Label matchers, e.g. `team="db", env=~"prod.*"`.
    matchers: String,
    /// A service id from the playbook.
    service: String,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntegrationView {
    pub id: String,
    pub service: String,
    pub name: String,
    pub kind: String,
    /// The key's first characters.
    pub key_hint: String,
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<jiff::Timestamp>,
}

/// A new integration: the key is shown this once, with where to send alerts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuedIntegrationView {
    #[serde(flatten)]
    pub integration: IntegrationView,
    pub key: String,
    /// Paths (relative to this server) that accept this integration's alerts.
    pub endpoints: Vec<String>,
}

impl From<&IntegrationRecord> for IntegrationView {
    fn from(i: &IntegrationRecord) -> Self {
        IntegrationView {
            id: i.id.clone(),
            service: i.service.clone(),
            name: i.name.clone(),
            kind: i.kind.clone(),
            key_hint: i.key_hint.clone(),
            config: i.config.clone(),
            created_at: i.created_at,
            revoked_at: i.revoked_at,
        }
    }
}

/// Where a tool of `kind` sends its alerts with `key`.
pub fn endpoints(kind: &str, key: &str) -> Vec<String> {
    match kind {
        "pagerduty" => vec!["/v2/enqueue (routing_key = the key)".to_owned()],
        "alertmanager" => vec![
            format!("/integrations/alertmanager/{key}"),
            "/v2/enqueue (pagerduty_configs with routing_key = the key)".to_owned(),
        ],
        "prometheus" => vec![
            format!("/integrations/prometheus/{key}/api/v2/alerts"),
            "/api/v2/alerts (Authorization: Bearer <key>)".to_owned(),
        ],
        other => vec![format!("/integrations/{other}/{key}")],
    }
}

/// A generic integration is useless without a valid field mapping: refuse it up front.
fn check_generic_mapping(config: &serde_json::Value) -> Result<(), ApiError> {
    let invalid = |message: String| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("config.mapping: {message}"),
        )
        .with_field("config.mapping")
    };
    let mapping = crate::ingest::mapping_of(config).map_err(|e| match e {
        MappingError::Missing => invalid("a generic integration needs a field mapping, e.g. {\"dedup_key\": \"/id\", \"summary\": \"/title\"}".into()),
        MappingError::Invalid(message) => invalid(message),
    })?;
    mapping.validate().map_err(|e| invalid(e.to_string()))
}

/// Routes of a catch-all integration must parse and name playbook services.
fn check_routes(
    playbook: &warroom_domain::Playbook,
    config: &serde_json::Value,
) -> Result<(), ApiError> {
    let invalid = |message: String| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("config.{message}"),
        )
        .with_field("config.routes")
    };
    let routes = crate::ingest::routes_of(config).map_err(invalid)?;
    for route in &routes {
        if playbook.services.iter().all(|s| s.id != route.service) {
            return Err(invalid(format!(
                "routes: unknown service `{}` (use a service id from the playbook)",
                route.service
            )));
        }
    }
    Ok(())
}

/// Create an integration and its key.
#[utoipa::path(post, path = "/api/v1/integrations", tag = "alerts",
    operation_id = "create_integration",
    request_body = IntegrationRequest,
    responses((status = 201, description = "Created", body = IssuedIntegrationView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Unknown service or kind", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Json(req): Json<IntegrationRequest>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_admin()?;
    if req.kind == "generic" {
        check_generic_mapping(&req.config)?;
    }
    check_routes(app.incidents.playbook(), &req.config)?;
    let issued = app
        .integrations
        .create(&req.service, &req.name, &req.kind, req.config)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(IssuedIntegrationView {
            integration: IntegrationView::from(&issued.integration),
            endpoints: endpoints(&issued.integration.kind, &issued.key),
            key: issued.key,
        }),
    ))
}

/// Give an integration a new key (shown once); the old key stops working at once.
#[utoipa::path(post, path = "/api/v1/integrations/{id}/rotate", tag = "alerts",
    params(("id" = String, Path, description = "Integration id")),
    responses((status = 200, description = "Rotated", body = IssuedIntegrationView),
        (status = 404, description = "No live integration with that id", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rotate<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<IssuedIntegrationView>, ApiError> {
    caller.require_admin()?;
    let issued = app.integrations.rotate(&id).await?;
    app.integration_keys.forget_all();
    Ok(axum::Json(IssuedIntegrationView {
        integration: IntegrationView::from(&issued.integration),
        endpoints: endpoints(&issued.integration.kind, &issued.key),
        key: issued.key,
    }))
}

/// All integrations (never their keys).
#[utoipa::path(get, path = "/api/v1/integrations", tag = "alerts",
    operation_id = "list_integrations",
    responses((status = 200, description = "Integrations", body = Vec<IntegrationView>)),
    security(("bearer" = [])))]
pub async fn list<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
) -> Result<axum::Json<Vec<IntegrationView>>, ApiError> {
    let all = app.integrations.list().await?;
    Ok(axum::Json(all.iter().map(IntegrationView::from).collect()))
}

/// Revoke an integration; its key stops working at once.
#[utoipa::path(delete, path = "/api/v1/integrations/{id}", tag = "alerts",
    operation_id = "revoke_integration",
    params(("id" = String, Path, description = "Integration id")),
    responses((status = 200, description = "Revoked", body = IntegrationView),
        (status = 404, description = "No live integration with that id", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<IntegrationView>, ApiError> {
    caller.require_admin()?;
    let revoked = app.integrations.revoke(&id).await?;
    app.integration_keys.forget_all();
    Ok(axum::Json(IntegrationView::from(&revoked)))
}
