//! The directory: users with their contact methods, teams, vendors, and
//! (for admins) the sign-in accounts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;
use warroom_domain::oncall::{Team, User, Vendor};
use warroom_domain::AccessRole;
use warroom_engine::accounts::{AccountChange, NewAccount};
use warroom_store::Store;

use crate::state::AppState;
use crate::ui::form::Posted;
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render_status};
use crate::ui::UiError;

pub async fn page<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
) -> Result<Response, UiError> {
    people_page(&app, &viewer, Extras::default()).await
}

/// A new account's generated password (shown once), or why a change was refused.
#[derive(Default)]
struct Extras {
    status: Option<StatusCode>,
    error: Option<String>,
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
        created => extras.created,
        roles => ["responder", "viewer", "admin"],
    };
    let no_store = extras.created.is_some();
    let mut response = render_status(
        extras.status.unwrap_or(StatusCode::OK),
        "people.html",
        page_context(viewer, "People", "people", ctx),
    );
    if no_store {
        // The page shows a new password: keep it out of every cache.
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    Ok(response)
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
    let extras = match created {
        Ok((account, password)) => Extras {
            created: Some(context! { email => account.email, password => password }),
            ..Extras::default()
        },
        Err(e) => refused(UiError::from(e))?,
    };
    people_page(&app, &viewer, extras).await
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

/// `POST /people/accounts/{id}/disable|enable` (admins).
pub async fn change_account<S: Store>(
    State(app): State<AppState<S>>,
    Path((id, action)): Path<(i64, String)>,
    Posted { viewer, .. }: Posted<serde::de::IgnoredAny>,
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
    let change = AccountChange {
        name: None,
        role: None,
        disabled: Some(disabled),
    };
    match app.accounts.update(id, change).await {
        Ok(_) => Ok(Redirect::to("/people").into_response()),
        Err(e) => {
            let extras = refused(UiError::from(e))?;
            people_page(&app, &viewer, extras).await
        }
    }
}
