//! `/api/v1/oncall`: the on-call directory (users, teams, vendors,
//! schedules, escalation policies), who is on call, overrides, warnings,
//! contact-method verification and calendar feeds.

use axum::routing::{delete, get, post};
use utoipa::OpenApi;
use warroom_store::Store;

use super::Routes;

mod bodies;
pub mod directory;
pub mod feeds;
pub mod schedules;

/// The on-call part of the OpenAPI document, merged into `ApiDoc`.
#[derive(OpenApi)]
#[openapi(paths(
    directory::users::list,
    directory::users::create,
    directory::users::get,
    directory::users::replace,
    directory::users::delete,
    directory::teams::list,
    directory::teams::create,
    directory::teams::get,
    directory::teams::replace,
    directory::teams::delete,
    directory::vendors::list,
    directory::vendors::create,
    directory::vendors::get,
    directory::vendors::replace,
    directory::vendors::delete,
    directory::schedules::list,
    directory::schedules::create,
    directory::schedules::get,
    directory::schedules::replace,
    directory::schedules::delete,
    directory::policies::list,
    directory::policies::create,
    directory::policies::get,
    directory::policies::replace,
    directory::policies::delete,
    schedules::on_call,
    schedules::now,
    schedules::shifts,
    schedules::user_shifts,
    schedules::list_overrides,
    schedules::create_override,
    schedules::delete_override,
    schedules::warnings,
    schedules::start_verification,
    schedules::verify,
    feeds::create,
    feeds::list,
    feeds::revoke,
))]
pub struct OncallDoc;

pub fn routes<S: Store>() -> Routes<S> {
    use schedules as s;
    Routes::new()
        .merge(directory::users::routes::<S>())
        .merge(directory::teams::routes::<S>())
        .merge(directory::vendors::routes::<S>())
        .merge(directory::schedules::routes::<S>())
        .merge(directory::policies::routes::<S>())
        .route("/oncall/now", get(s::now::<S>))
        .route("/oncall/warnings", get(s::warnings::<S>))
        .route("/oncall/schedules/{name}/on-call", get(s::on_call::<S>))
        .route("/oncall/schedules/{name}/shifts", get(s::shifts::<S>))
        .route(
            "/oncall/schedules/{name}/overrides",
            get(s::list_overrides::<S>).post(s::create_override::<S>),
        )
        .route(
            "/oncall/schedules/{name}/overrides/{id}",
            delete(s::delete_override::<S>),
        )
        .route("/oncall/users/{name}/shifts", get(s::user_shifts::<S>))
        .route(
            "/oncall/users/{name}/contact-methods/{id}/verification",
            post(s::start_verification::<S>),
        )
        .route(
            "/oncall/users/{name}/contact-methods/{id}/verify",
            post(s::verify::<S>),
        )
        .route(
            "/oncall/feeds",
            post(feeds::create::<S>).get(feeds::list::<S>),
        )
        .route("/oncall/feeds/{id}", delete(feeds::revoke::<S>))
}
