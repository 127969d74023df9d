//! Services with their open incidents and policies, and integrations:
//! an admin creates a key here and sees it once, with ready-to-paste
//! Alertmanager and curl examples.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use warroom_domain::Status;
use warroom_engine::integrations::KINDS;
use warroom_store::{IncidentFilter, Store, MAX_PAGE};

use crate::api::integrations::endpoints;
use crate::state::AppState;
use crate::ui::flash;
use crate::ui::form::Posted;
use crate::ui::pages::confirm::{self, segment, Confirm, Confirmed};
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render_status};
use crate::ui::UiError;

pub async fn page<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let Some(shown) = flash::read::<Shown>(&headers) else {
        return services_page(&app, &viewer, &headers, None, None, None).await;
    };
    let issued = shown.key.map(|k| {
        context! {
            key => k.key, service => k.service, endpoints => endpoints(&k.kind, &k.key),
        }
    });
    let mut response = services_page(&app, &viewer, &headers, issued, None, shown.notice).await?;
    flash::shown(&app, &mut response, PAGE);
    Ok(response)
}

const PAGE: &str = "/services";

/// What the page shows once after a form: a new key, or what was done.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Shown {
    key: Option<IssuedKey>,
    notice: Option<String>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct IssuedKey {
    key: String,
    service: String,
    kind: String,
}

impl IssuedKey {
    fn of(issued: &warroom_engine::integrations::IssuedIntegration) -> IssuedKey {
        IssuedKey {
            key: issued.key.clone(),
            service: issued.integration.service.clone(),
            kind: issued.integration.kind.clone(),
        }
    }
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
    notice: Option<String>,
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
        notice,
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
        // The key travels to the page in a one-time cookie: a reload of
        // the page makes no second integration.
        Ok(issued) => Ok(flash::redirect(
            &app,
            PAGE,
            &Shown {
                key: Some(IssuedKey::of(&issued)),
                notice: None,
            },
        )),
        Err(e) => {
            let e = UiError::from(e);
            match e.form_message() {
                Some(message) => {
                    services_page(&app, &viewer, &headers, None, Some(message), None).await
                }
                None => Err(e),
            }
        }
    }
}

/// `GET /services/integrations/{id}/rotate|revoke` (admins): what the
/// action does, and the form that does it.
pub async fn confirm_integration<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
) -> Result<Response, UiError> {
    viewer.require_admin()?;
    let integration = app
        .integrations
        .list()
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| UiError::not_found(format!("no integration with id {id:?}")))?;
    let name = &integration.name;
    let (question, consequence, button) = match action.as_str() {
        "rotate" => (
            format!("Give {name} a new key?"),
            format!(
                "The current key (…{}) stops working at once: alerts sent with it are refused until {} sends with the new key, shown once on the next page.",
                integration.key_hint, integration.name
            ),
            "Make a new key",
        ),
        "revoke" => (
            format!("Revoke the key of {name}?"),
            format!(
                "Its key (…{}) stops working at once and for good: alerts sent with it to {} are refused. This cannot be undone; make a new integration to receive them again.",
                integration.key_hint, integration.service
            ),
            "Revoke the key",
        ),
        other => {
            return Err(UiError::not_found(format!(
                "no integration action named {other:?}"
            )))
        }
    };
    let action_url = format!("/services/integrations/{}/{action}", segment(&id));
    Ok(confirm::page(
        &viewer,
        Confirm {
            question,
            consequence,
            action: &action_url,
            button,
            cancel: PAGE,
            active: "services",
        },
    ))
}

/// `POST /services/integrations/{id}/rotate|revoke` (admins), confirmed:
/// a new key, shown once, or no key at all; the old key stops working at once.
pub async fn change_integration<S: Store>(
    State(app): State<AppState<S>>,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
    Posted { viewer, form }: Posted<Confirmed>,
) -> Result<Response, UiError> {
    viewer.require_admin()?;
    let again = format!(
        "/services/integrations/{}/{}",
        segment(&id),
        segment(&action)
    );
    if let Some(ask) = form.ask_first(&again) {
        return Ok(ask);
    }
    match action.as_str() {
        "rotate" => {
            let issued = app.integrations.rotate(&id).await?;
            app.integration_keys.forget_all();
            let shown = Shown {
                key: Some(IssuedKey::of(&issued)),
                notice: None,
            };
            Ok(flash::redirect(&app, PAGE, &shown))
        }
        "revoke" => {
            let revoked = app.integrations.revoke(&id).await?;
            app.integration_keys.forget_all();
            let shown = Shown {
                key: None,
                notice: Some(format!("Revoked the key of {}.", revoked.name)),
            };
            Ok(flash::redirect(&app, PAGE, &shown))
        }
        other => Err(UiError::not_found(format!(
            "no integration action named {other:?}"
        ))),
    }
}
