//! The directory: users with their contact methods, teams, vendors, and
//! (for admins) the sign-in accounts.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use warroom_domain::oncall::{Team, User, Vendor};
use warroom_domain::AccessRole;
use warroom_engine::accounts::{AccountChange, NewAccount};
use warroom_store::Store;

use crate::state::AppState;
use crate::ui::flash;
use crate::ui::form::Posted;
use crate::ui::pages::confirm::{self, Confirm, Confirmed};
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render_status};
use crate::ui::UiError;

pub async fn page<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let Some(shown) = flash::read::<Shown>(&headers) else {
        return people_page(&app, &viewer, Extras::default()).await;
    };
    let extras = Extras {
        created: shown
            .created
            .map(|(email, password)| context! { email, password }),
        notice: shown.notice,
        ..Extras::default()
    };
    let mut response = people_page(&app, &viewer, extras).await?;
    flash::shown(&app, &mut response, PAGE);
    Ok(response)
}

const PAGE: &str = "/people";

/// What the page shows once after a form: a new account's email and
/// generated password, or what was done.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Shown {
    created: Option<(String, Option<String>)>,
    notice: Option<String>,
}

/// A new account's generated password (shown once), or why a change was refused.
#[derive(Default)]
struct Extras {
    status: Option<StatusCode>,
    error: Option<String>,
    notice: Option<String>,
    created: Option<minijinja::Value>,
}

async fn people_page<S: Store>(
    app: &AppState<S>,
    viewer: &Viewer,
    extras: Extras,
) -> Result<Response, UiError> {
    let users: Vec<_> = app
        .oncall
        .list::<User>()
        .await?
        .into_iter()
        .map(|u| {
            let u = u.doc;
            context! {
                name => u.name, full_name => u.full_name, role => u.role, time_zone => u.time_zone,
                contacts => u.contact_methods.iter().map(|c| context! {
                    kind => c.kind.as_str(), address => c.address, verified => c.verified,
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let teams: Vec<_> = app
        .oncall
        .list::<Team>()
        .await?
        .into_iter()
        .map(|t| context! { name => t.doc.name, members => t.doc.members })
        .collect();
    let vendors: Vec<_> = app
        .oncall
        .list::<Vendor>()
        .await?
        .into_iter()
        .map(|v| {
            let v = v.doc;
            context! { name => v.name, provides => v.provides, support_phone => v.support_phone, support_email => v.support_email }
        })
        .collect();
    let accounts: Vec<_> = if viewer.account.role.is_admin() {
        app.accounts
            .list()
            .await?
            .into_iter()
            .map(|a| context! { id => a.id, name => a.name, email => a.email, role => a.role.as_str(), disabled => a.disabled })
            .collect()
    } else {
        Vec::new()
    };
    let ctx = context! {
        users, teams, vendors, accounts,
        error => extras.error,
        notice => extras.notice,
        created => extras.created,
        roles => ["responder", "viewer", "admin"],
    };
    Ok(render_status(
        extras.status.unwrap_or(StatusCode::OK),
        "people.html",
        page_context(viewer, "People", "people", ctx),
    ))
}

#[derive(Debug, Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

/// `POST /people/accounts` (admins): a new account with a generated
/// password, shown once on the page that answers.
pub async fn create_account<S: Store>(
    State(app): State<AppState<S>>,
    Posted { viewer, form }: Posted<AccountForm>,
) -> Result<Response, UiError> {
    viewer.require_admin()?;
    let role = AccessRole::parse(&form.role)
        .ok_or_else(|| UiError::bad_request("role", "role: use admin, responder or viewer"))?;
    let created = app
        .accounts
        .create(NewAccount {
            email: form.email.trim().to_owned(),
            name: form.name.trim().to_owned(),
            role,
            password: None,
        })
        .await;
    match created {
        // The password travels to the page in a one-time cookie: a reload
        // of the page makes no second account.
        Ok((account, password)) => Ok(flash::redirect(
            &app,
            PAGE,
            &Shown {
                created: Some((account.email, password)),
                notice: None,
            },
        )),
        Err(e) => {
            let extras = refused(UiError::from(e))?;
            people_page(&app, &viewer, extras).await
        }
    }
}

/// A user error becomes a message on the page; anything else an error page.
fn refused(e: UiError) -> Result<Extras, UiError> {
    match e.form_message() {
        Some((status, message)) => Ok(Extras {
            status: Some(status),
            error: Some(message),
            ..Extras::default()
        }),
        None => Err(e),
    }
}

/// `GET /people/accounts/{id}/disable` (admins): what disabling does,
/// and the form that does it. Enabling needs no second step.
pub async fn confirm_change_account<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    Path((id, action)): Path<(i64, String)>,
) -> Result<Response, UiError> {
    viewer.require_admin()?;
    if action != "disable" {
        return Err(UiError::not_found(format!(
            "no account action named {action:?} to confirm"
        )));
    }
    let account = app.accounts.get(id).await?;
    let url = format!("/people/accounts/{id}/disable");
    Ok(confirm::page(
        &viewer,
        Confirm {
            question: format!("Disable the account of {}?", account.email),
            consequence: format!(
                "{} is signed out everywhere at once and cannot sign in until an admin enables the account again. Their incidents, notes and on-call shifts stay as they are.",
                account.name
            ),
            action: &url,
            button: "Disable the account",
            cancel: PAGE,
            active: "people",
        },
    ))
}

/// `POST /people/accounts/{id}/disable|enable` (admins); disabling must be
/// confirmed.
pub async fn change_account<S: Store>(
    State(app): State<AppState<S>>,
    Path((id, action)): Path<(i64, String)>,
    Posted { viewer, form }: Posted<Confirmed>,
) -> Result<Response, UiError> {
    viewer.require_admin()?;
    let disabled = match action.as_str() {
        "disable" => true,
        "enable" => false,
        other => {
            return Err(UiError::not_found(format!(
                "no account action named {other:?}"
            )))
        }
    };
    if disabled {
        if let Some(ask) = form.ask_first(&format!("/people/accounts/{id}/disable")) {
            return Ok(ask);
        }
    }
    let change = AccountChange {
        name: None,
        role: None,
        disabled: Some(disabled),
    };
    match app.accounts.update(id, change).await {
        Ok(account) => {
            let done = if disabled { "Disabled" } else { "Enabled" };
            let shown = Shown {
                created: None,
                notice: Some(format!("{done} the account of {}.", account.email)),
            };
            Ok(flash::redirect(&app, PAGE, &shown))
        }
        Err(e) => {
            let extras = refused(UiError::from(e))?;
            people_page(&app, &viewer, extras).await
        }
    }
}
