//! The signed-in person's account: who they are and a password change.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use warroom_store::Store;

use crate::state::AppState;
use crate::ui::flash;
use crate::ui::form::Posted;
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render_status};
use crate::ui::UiError;

pub async fn page<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let notice = flash::read::<String>(&headers);
    let mut response = account_page(&viewer, StatusCode::OK, None, notice.as_deref());
    if notice.is_some() {
        flash::shown(&app, &mut response, PAGE);
    }
    Ok(response)
}

const PAGE: &str = "/account";

fn account_page(
    viewer: &Viewer,
    status: StatusCode,
    error: Option<String>,
    notice: Option<&str>,
) -> Response {
    render_status(
        status,
        "account.html",
        page_context(viewer, "Your account", "", context! { error, notice }),
    )
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn change_password<S: Store>(
    State(app): State<AppState<S>>,
    Posted { viewer, form }: Posted<PasswordForm>,
) -> Result<Response, UiError> {
    if form.new_password != form.confirm_password {
        return Ok(account_page(
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("The new password and its repetition differ.".to_owned()),
            None,
        ));
    }
    let changed = app
        .accounts
        .change_password(
            viewer.account.id,
            &form.current_password,
            &form.new_password,
            &viewer.secret,
        )
        .await;
    match changed {
        Ok(()) => Ok(flash::redirect(
            &app,
            PAGE,
            &"Password changed; your other sessions are signed out.",
        )),
        Err(e) => {
            let e = UiError::from(e);
            match e.form_message() {
                Some((status, message)) => Ok(account_page(&viewer, status, Some(message), None)),
                None => Err(e),
            }
        }
    }
}
