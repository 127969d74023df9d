//! The web UI: server-rendered pages a responder runs an incident from,
//! signed in with an account and a session cookie.
//!
//! Every page is HTML rendered on the server from minijinja templates
//! compiled into the binary (`templates.rs`); the stylesheet and the one
//! small script are embedded too (`assets.rs`), so nothing is fetched from a
//! CDN and there is no build step. Forms post normally and redirect; the
//! script only adds live refresh (`live.rs`, Server-Sent Events), local
//! times, running clocks and keyboard shortcuts.

use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use warroom_store::Store;

use crate::state::AppState;

mod alert_links;
mod assets;
mod error;
mod flash;
mod form;
pub mod live;
mod pages;
mod paging_view;
pub mod session;
pub mod sign_in_limit;
mod templates;
mod timeline_view;
mod view;

pub use error::UiError;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "warroom_session";
/// The name of the cookie holding the sign-in form's CSRF token (before
/// there is a session).
pub const LOGIN_CSRF_COOKIE: &str = "warroom_login_csrf";

pub fn routes<S: Store>() -> Router<AppState<S>> {
    use pages::*;
    Router::new()
        .route("/", get(now::page::<S>))
        .route(
            "/login",
            get(session::login_form::<S>).post(session::login::<S>),
        )
        .route("/logout", post(session::logout::<S>))
        .route(
            "/account",
            get(account::page::<S>).post(account::change_password::<S>),
        )
        .route(
            "/incidents",
            get(incidents::list::<S>).post(incidents::declare::<S>),
        )
        .route("/incidents/new", get(incidents::new_form::<S>))
        .route("/incidents/{id}", get(workspace::page::<S>))
        .route("/incidents/{id}/merge", post(merge::merge::<S>))
        .route("/incidents/{id}/bridge", post(bridge::set::<S>))
        .route("/incidents/{id}/{action}", post(workspace::act::<S>))
        .route("/alerts", get(alerts::list::<S>))
        .route("/alerts/bulk", post(alerts::bulk::<S>))
        .route(
            "/silences",
            get(silences::silences::<S>).post(silences::create_silence::<S>),
        )
        .route("/silences/new", get(silences::new_silence::<S>))
        .route(
            "/silences/{id}/expire",
            get(silences::confirm_expire::<S>).post(silences::expire_silence::<S>),
        )
        .route("/oncall", get(oncall::page::<S>))
        .route("/oncall/overrides", post(oncall::create_override::<S>))
        .route(
            "/oncall/overrides/{schedule}/{id}/delete",
            get(oncall::confirm_delete_override::<S>).post(oncall::delete_override::<S>),
        )
        .route("/services", get(services::page::<S>))
        .route(
            "/services/integrations",
            post(services::create_integration::<S>),
        )
        .route(
            "/services/integrations/{id}/{action}",
            get(services::confirm_integration::<S>).post(services::change_integration::<S>),
        )
        .route("/people", get(people::page::<S>))
        .route("/people/accounts", post(people::create_account::<S>))
        .route(
            "/people/accounts/{id}/{action}",
            get(people::confirm_change_account::<S>).post(people::change_account::<S>),
        )
        .route("/playbook", get(playbook::page::<S>))
        .route("/events", get(live::events::<S>))
        .route("/assets/{file}", get(assets::serve))
        // Scripts, styles and images only from this server (no inline
        // script), no framing, no MIME sniffing, and no referrer leaking
        // incident URLs to other sites.
        .layer(header_layer(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "same-origin"))
}

fn header_layer(
    name: header::HeaderName,
    value: &'static str,
) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
