//! The page templates, compiled into the binary and parsed once. HTML
//! templates auto-escape every value; only values built with
//! `Value::from_safe_string` (none from user input) skip escaping.

use std::sync::OnceLock;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{context, Environment, Value};

use super::session::Viewer;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../ui/templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates![
    "base.html",
    "macros.html",
    "login.html",
    "error.html",
    "now.html",
    "incidents.html",
    "declare.html",
    "workspace.html",
    "timeline_entry.html",
    "bridge.html",
    "alerts.html",
    "silences.html",
    "silence_new.html",
    "oncall.html",
    "services.html",
    "people.html",
    "playbook.html",
    "account.html",
    "confirm.html",
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            // A broken template is a bug caught by every UI test; fail loudly.
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e:#}"));
        }
        env
    })
}

/// Renders a template with `ctx`; a rendering error is a bug, logged and
/// shown as a 500 page rather than a half-written page.
pub fn render(template: &str, ctx: Value) -> Response {
    render_status(StatusCode::OK, template, ctx)
}

pub fn render_status(status: StatusCode, template: &str, ctx: Value) -> Response {
    let result = env().get_template(template).and_then(|t| t.render(ctx));
    match result {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template, error = %format!("{e:#}"), "template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><p>This page failed to render; the server log has details.</p>"),
            )
                .into_response()
        }
    }
}

/// What every signed-in page's layout needs: who is looking, what they may
/// do, the CSRF token for its forms and which tab is active.
pub fn page_context(viewer: &Viewer, title: &str, active: &str, ctx: Value) -> Value {
    context! {
        title => title,
        active => active,
        asset_version => super::assets::version(),
        viewer => context! {
            name => viewer.account.name,
            email => viewer.account.email,
            role => viewer.account.role.as_str(),
            can_write => viewer.account.role.can_work_incidents(),
            is_admin => viewer.account.role.is_admin(),
        },
        csrf => viewer.csrf_token,
        ..ctx
    }
}

/// Context for pages shown without a session (sign-in, errors).
pub fn anonymous_context(title: &str, ctx: Value) -> Value {
    context! {
        title => title,
        active => "",
        asset_version => super::assets::version(),
        viewer => Value::from(()),
        csrf => "",
        ..ctx
    }
}
