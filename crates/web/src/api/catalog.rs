//! Read-only views of the playbook: severities, categories, roles, services and phases.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warroom_store::Store;

use crate::auth::Caller;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SeverityView {
    #[schema(example = "SEV-1")]
    pub name: String,
    #[schema(example = "Major")]
    pub label: String,
    pub description: String,
    /// 0 is the most severe.
    pub rank: usize,
    /// Seconds; absent when there is no timer.
    pub response_target_secs: Option<i64>,
    pub resolution_target_secs: Option<i64>,
    pub update_every_secs: Option<i64>,
    pub escalate_every_secs: Option<i64>,
    pub notify: Vec<NotifyView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotifyView {
    #[schema(example = "management")]
    pub audience: String,
    pub within_secs: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NamedView {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceView {
    #[schema(example = "api")]
    pub id: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PhaseTemplateView {
    #[schema(example = "detection")]
    pub id: String,
    pub name: String,
    pub target: Option<String>,
    pub items: Vec<String>,
}

fn secs(d: Option<jiff::SignedDuration>) -> Option<i64> {
    d.map(|d| d.as_secs())
}

/// The severity scheme, most severe first.
#[utoipa::path(get, path = "/api/v1/severities", tag = "playbook",
    responses((status = 200, description = "Severity levels", body = Vec<SeverityView>)),
    security(("bearer" = [])))]
pub async fn severities<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
) -> axum::Json<Vec<SeverityView>> {
    let levels = app.incidents.playbook().severities.iter().enumerate();
    axum::Json(
        levels
            .map(|(rank, s)| SeverityView {
                name: s.name.clone(),
                label: s.label.clone(),
                description: s.description.clone(),
                rank,
                response_target_secs: secs(s.response_target),
                resolution_target_secs: secs(s.resolution_target),
                update_every_secs: secs(s.update_every),
                escalate_every_secs: secs(s.escalate_every),
                notify: s
                    .notify
                    .iter()
                    .map(|n| NotifyView {
                        audience: n.audience.clone(),
                        within_secs: n.within.as_secs(),
                    })
                    .collect(),
            })
            .collect(),
    )
}

/// Incident categories.
#[utoipa::path(get, path = "/api/v1/categories", tag = "playbook",
    responses((status = 200, description = "Categories", body = Vec<NamedView>)),
    security(("bearer" = [])))]
pub async fn categories<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
) -> axum::Json<Vec<NamedView>> {
    let categories = &app.incidents.playbook().categories;
    axum::Json(
        categories
            .iter()
            .map(|c| NamedView {
                name: c.name.clone(),
                description: c.description.clone(),
            })
            .collect(),
    )
}

/// Incident roles.
#[utoipa::path(get, path = "/api/v1/roles", tag = "playbook",
    responses((status = 200, description = "Roles", body = Vec<NamedView>)),
    security(("bearer" = [])))]
pub async fn roles<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
) -> axum::Json<Vec<NamedView>> {
    let roles = &app.incidents.playbook().roles;
    axum::Json(
        roles
            .iter()
            .map(|r| NamedView {
                name: r.name.clone(),
                description: r.description.clone(),
            })
            .collect(),
    )
}

/// Services.
#[utoipa::path(get, path = "/api/v1/services", tag = "playbook",
    responses((status = 200, description = "Services", body = Vec<ServiceView>)),
    security(("bearer" = [])))]
pub async fn services<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
) -> axum::Json<Vec<ServiceView>> {
    let services = &app.incidents.playbook().services;
    axum::Json(
        services
            .iter()
            .map(|s| ServiceView {
                id: s.id.clone(),
                name: s.name.clone(),
                description: s.description.clone(),
            })
            .collect(),
    )
}

/// The checklist every new incident starts with.
#[utoipa::path(get, path = "/api/v1/phases", tag = "playbook",
    responses((status = 200, description = "Checklist phases", body = Vec<PhaseTemplateView>)),
    security(("bearer" = [])))]
pub async fn phases<S: Store>(
    State(app): State<AppState<S>>,
    _caller: Caller,
) -> axum::Json<Vec<PhaseTemplateView>> {
    let phases = &app.incidents.playbook().phases;
    axum::Json(
        phases
            .iter()
            .map(|p| PhaseTemplateView {
                id: p.id.clone(),
                name: p.name.clone(),
                target: p.target.clone(),
                items: p.items.clone(),
            })
            .collect(),
    )
}
