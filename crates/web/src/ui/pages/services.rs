//! Services with their open incidents and policies, and integrations:
//! an admin creates a key here and sees it once, with ready-to-paste
//! Alertmanager and curl examples.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use warroom_domain::Status;
use warroom_engine::integrations::KINDS;
use warroom_store::{IncidentFilter, Store, MAX_PAGE};

use crate::api::integrations::endpoints;
use crate::state::AppState;
use crate::ui::form::Posted;
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render_status};
use crate::ui::UiError;

pub async fn page<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    services_page(&app, &viewer, &headers, None, None).await
}

/// Where senders reach this server: the public URL, else the Host the browser used.
fn base_url<S: Store>(app: &AppState<S>, headers: &HeaderMap) -> String {
    let public = app.paging.public_url();
    if public != "http://localhost" {
        return public.trim_end_matches('/').to_owned();
    }
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| public.to_owned(), |host| format!("http://{host}"))
}

async fn services_page<S: Store>(
    app: &AppState<S>,
    viewer: &Viewer,
    headers: &HeaderMap,
    issued: Option<minijinja::Value>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, UiError> {
    let playbook = app.incidents.playbook();
    let open = app
        .incidents
        .list(&IncidentFilter {
            statuses: Status::ALL.into_iter().filter(|s| s.is_open()).collect(),
            limit: MAX_PAGE,
            ..IncidentFilter::default()
        })
        .await?
        .incidents;
    let default_policy = playbook.oncall.default_escalation_policy.clone();
    let services: Vec<_> = playbook
        .services
        .iter()
        .map(|s| {
            context! {
                id => s.id, name => s.name, description => s.description,
                open => open.iter().filter(|i| i.services.contains(&s.id)).count(),
                policy => s.escalation_policy.clone().or(default_policy.clone()).unwrap_or_else(|| "none".to_owned()),
                when_alerts_resolve => format!("{:?}", s.when_alerts_resolve).to_lowercase(),
            }
        })
        .collect();
    let integrations: Vec<_> = app
        .integrations
        .list()
        .await?
        .into_iter()
        .map(|i| {
            context! {
                id => i.id, name => i.name, kind => i.kind, service => i.service, key_hint => i.key_hint,
                revoked => i.revoked_at.is_some(),
            }
        })
        .collect();
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let ctx = context! {
        services,
        integrations,
        issued,
        base_url => base_url(app, headers),
        // A generic integration needs a field mapping: the API and CLI make those.
        kinds => KINDS.iter().filter(|k| **k != "generic").collect::<Vec<_>>(),
        error => error.map(|(_, m)| m),
        notice => None::<String>,
    };
    Ok(render_status(
        status,
        "services.html",
        page_context(viewer, "Services", "services", ctx),
    ))
}

#[derive(Debug, serde::Deserialize)]
pub struct IntegrationForm {
    #[serde(default)]
    service: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

pub async fn create_integration<S: Store>(
    State(app): State<AppState<S>>,
    headers: HeaderMap,
    Posted { viewer, form }: Posted<IntegrationForm>,
) -> Result<Response, UiError> {
    viewer.require_admin()?;
    let created = app
        .integrations
        .create(
            &form.service,
            form.name.trim(),
            &form.kind,
            serde_json::json!({}),
        )
        .await;
    match created {
        Ok(issued) => {
            let shown = context! {
                key => issued.key,
                service => issued.integration.service,
                endpoints => endpoints(&issued.integration.kind, &issued.key),
            };
            // No redirect: the key exists only in this response.
            let mut response = services_page(&app, &viewer, &headers, Some(shown), None).await?;
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(response)
        }
        Err(e) => {
            let e = UiError::from(e);
            match e.form_message() {
                Some(message) => services_page(&app, &viewer, &headers, None, Some(message)).await,
                None => Err(e),
            }
        }
    }
}

/// `POST /services/integrations/{id}/rotate|revoke` (admins): a new key,
/// shown once, or no key at all; the old key stops working at once.
pub async fn change_integration<S: Store>(
    State(app): State<AppState<S>>,
    headers: HeaderMap,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
    Posted { viewer, .. }: Posted<serde::de::IgnoredAny>,
) -> Result<Response, UiError> {
    viewer.require_admin()?;
    match action.as_str() {
        "rotate" => {
            let issued = app.integrations.rotate(&id).await?;
            app.integration_keys.forget_all();
            let shown = context! {
                key => issued.key,
                service => issued.integration.service,
                endpoints => endpoints(&issued.integration.kind, &issued.key),
            };
            let mut response = services_page(&app, &viewer, &headers, Some(shown), None).await?;
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(response)
        }
        "revoke" => {
            app.integrations.revoke(&id).await?;
            app.integration_keys.forget_all();
            Ok(axum::response::Redirect::to("/services").into_response())
        }
        other => Err(UiError::not_found(format!(
            "no integration action named {other:?}"
        ))),
    }
}
