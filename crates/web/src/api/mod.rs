//! The JSON API under `/api/v1`, and its OpenAPI document generated from the handlers.

use std::sync::OnceLock;

use axum::routing::{get, post, put};
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use warroom_store::Store;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::state::AppState;
use common_responses::CommonResponses;

pub mod accounts;
pub mod alerts;
pub mod catalog;
mod common_responses;
pub mod comms;
mod enums;
pub mod incidents;
pub mod integrations;
pub mod maintenance;
pub mod notify;
pub mod oncall;
pub mod paging;
mod route_list;
pub mod status;
pub mod tokens;
pub mod types;

pub use route_list::Routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Warroom API",
        description = "Declare and run incidents. Every route needs `Authorization: Bearer <token>`; viewers may only read. Errors are `{\"error\":{\"code\",\"message\",\"field\"}}`."
    ),
    paths(
        incidents::declare, incidents::list, incidents::get, incidents::update,
        incidents::timeline, incidents::acknowledge, incidents::status, incidents::severity,
        incidents::resolve, incidents::close, incidents::reopen, incidents::assign_role,
        incidents::unassign_role, incidents::checklist, incidents::note, incidents::merge,
        catalog::severities, catalog::categories, catalog::roles, catalog::services,
        catalog::phases, tokens::create, tokens::list, tokens::revoke,
        integrations::create, integrations::list, integrations::revoke, integrations::rotate,
        alerts::list, alerts::get, alerts::create_silence, alerts::list_silences,
        alerts::expire_silence, maintenance::create, maintenance::list, maintenance::end,
        paging::escalate, paging::reassign, paging::escalation, paging::messages,
        comms::post_update, comms::comms, notify::message, notify::resend, notify::test,
        notify::channels, notify::preview, accounts::create, accounts::list, accounts::get,
        accounts::update, accounts::reset_password, status::status, status::list_dead_letters,
        status::get_dead_letter, status::retry_dead_letter, status::drop_dead_letter,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth, &Oncall, &CommonResponses),
    tags(
        (name = "incidents", description = "Declare, list and run incidents"),
        (name = "playbook", description = "What the playbook declares"),
        (name = "tokens", description = "API tokens (admin only)"),
        (name = "accounts", description = "Sign-in accounts for the web UI (admin only)"),
        (name = "alerts", description = "Integrations, alerts and silences"),
        (name = "oncall", description = "The on-call directory, schedules, overrides and calendar feeds"),
        (name = "paging", description = "Escalation, reassignment and the pages sent for an incident"),
        (name = "comms", description = "Status updates, their cadence, messages and notification channels"),
        (name = "status", description = "The server's own health and the alerts it could not apply"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Adds the on-call routes, documented in their own module.
struct Oncall;

impl Modify for Oncall {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(oncall::OncallDoc::openapi());
    }
}

/// The OpenAPI 3 document.
async fn openapi_json(_caller: Caller) -> axum::Json<&'static utoipa::openapi::OpenApi> {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    axum::Json(DOC.get_or_init(ApiDoc::openapi))
}

async fn no_route() -> ApiError {
    ApiError::not_found("no such API route; see /api/v1/openapi.json")
}

async fn wrong_method() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method; see /api/v1/openapi.json",
    )
}

pub fn routes<S: Store>() -> Router<AppState<S>> {
    documented_routes::<S>()
        .router
        .route("/openapi.json", get(openapi_json))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
}

/// The path of every route under `/api/v1` that the OpenAPI document must
/// describe (all but the document itself).
pub fn route_paths<S: Store>() -> Vec<&'static str> {
    documented_routes::<S>().paths
}

fn documented_routes<S: Store>() -> Routes<S> {
    use incidents as i;
    Routes::new()
        .route("/incidents", post(i::declare::<S>).get(i::list::<S>))
        .route("/incidents/{id}", get(i::get::<S>).patch(i::update::<S>))
        .route("/incidents/{id}/timeline", get(i::timeline::<S>))
        .route("/incidents/{id}/acknowledge", post(i::acknowledge::<S>))
        .route("/incidents/{id}/status", post(i::status::<S>))
        .route("/incidents/{id}/severity", post(i::severity::<S>))
        .route("/incidents/{id}/resolve", post(i::resolve::<S>))
        .route("/incidents/{id}/close", post(i::close::<S>))
        .route("/incidents/{id}/reopen", post(i::reopen::<S>))
        .route(
            "/incidents/{id}/roles/{role}",
            put(i::assign_role::<S>).delete(i::unassign_role::<S>),
        )
        .route(
            "/incidents/{id}/checklist/{phase}/{item}",
            put(i::checklist::<S>),
        )
        .route("/incidents/{id}/notes", post(i::note::<S>))
        .route("/incidents/{id}/merge", post(i::merge::<S>))
        .route("/severities", get(catalog::severities::<S>))
        .route("/categories", get(catalog::categories::<S>))
        .route("/roles", get(catalog::roles::<S>))
        .route("/services", get(catalog::services::<S>))
        .route("/phases", get(catalog::phases::<S>))
        .route("/tokens", post(tokens::create::<S>).get(tokens::list::<S>))
        .route("/tokens/{name}", axum::routing::delete(tokens::revoke::<S>))
        .route(
            "/accounts",
            post(accounts::create::<S>).get(accounts::list::<S>),
        )
        .route(
            "/accounts/{id}",
            get(accounts::get::<S>).patch(accounts::update::<S>),
        )
        .route(
            "/accounts/{id}/password",
            post(accounts::reset_password::<S>),
        )
        .route(
            "/integrations",
            post(integrations::create::<S>).get(integrations::list::<S>),
        )
        .route(
            "/integrations/{id}",
            axum::routing::delete(integrations::revoke::<S>),
        )
        .route("/integrations/{id}/rotate", post(integrations::rotate::<S>))
        .route("/alerts", get(alerts::list::<S>))
        .route("/alerts/{id}", get(alerts::get::<S>))
        .route(
            "/silences",
            post(alerts::create_silence::<S>).get(alerts::list_silences::<S>),
        )
        .route(
            "/silences/{id}",
            axum::routing::delete(alerts::expire_silence::<S>),
        )
        .route(
            "/maintenance",
            post(maintenance::create::<S>).get(maintenance::list::<S>),
        )
        .route(
            "/maintenance/{id}",
            axum::routing::delete(maintenance::end::<S>),
        )
        .route("/incidents/{id}/escalate", post(paging::escalate::<S>))
        .route("/incidents/{id}/reassign", post(paging::reassign::<S>))
        .route("/incidents/{id}/escalation", get(paging::escalation::<S>))
        .route("/incidents/{id}/messages", get(paging::messages::<S>))
        .route("/incidents/{id}/updates", post(comms::post_update::<S>))
        .route("/incidents/{id}/comms", get(comms::comms::<S>))
        .route("/messages/{id}", get(notify::message::<S>))
        .route("/messages/{id}/resend", post(notify::resend::<S>))
        .route("/notify/test", post(notify::test::<S>))
        .route("/notify/channels", get(notify::channels::<S>))
        .route("/notify/preview", post(notify::preview::<S>))
        .route("/status", get(status::status::<S>))
        .route("/ingest/dead-letters", get(status::list_dead_letters::<S>))
        .route(
            "/ingest/dead-letters/{id}",
            get(status::get_dead_letter::<S>).delete(status::drop_dead_letter::<S>),
        )
        .route(
            "/ingest/dead-letters/{id}/retry",
            post(status::retry_dead_letter::<S>),
        )
        .merge(oncall::routes::<S>())
}
