//! Who is looking: the session cookie, sign-in and sign-out, and the CSRF
//! check every state-changing form goes through.
//!
//! The cookie holds a 256-bit secret (HttpOnly, SameSite=Lax, Secure when
//! the public URL is https); the server keeps only its hash. Each session
//! has its own CSRF token, put in every form as `csrf` and compared in
//! constant time; a POST whose `Sec-Fetch-Site` says cross-site is refused
//! even before that.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;
use warroom_engine::accounts::{Account, SESSION_MAX};
use warroom_store::Store;

use super::error::UiError;
use super::form::Posted;
use super::templates::{anonymous_context, render_status};
use super::SESSION_COOKIE;
use crate::state::AppState;

/// A signed-in person and their session.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub account: Account,
    pub csrf_token: String,
    /// The cookie's secret, to keep this session when others are ended.
    pub secret: String,
}

impl Viewer {
    /// The name written on the timeline for what this person does.
    pub fn actor(&self) -> &str {
        &self.account.name
    }

    pub fn require_responder(&self) -> Result<(), UiError> {
        if self.account.role.can_work_incidents() {
            Ok(())
        } else {
            Err(UiError::forbidden(format!(
                "your account has the {} role, which is read-only; ask an admin for the responder role",
                self.account.role
            )))
        }
    }

    pub fn require_admin(&self) -> Result<(), UiError> {
        if self.account.role.is_admin() {
            Ok(())
        } else {
            Err(UiError::forbidden(format!(
                "your account has the {} role; this needs admin",
                self.account.role
            )))
        }
    }
}

/// The value of one cookie in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

impl<S: Store> FromRequestParts<AppState<S>> for Viewer {
    type Rejection = UiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S>,
    ) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.as_str().to_owned());
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(UiError::SignIn { next });
        };
        match state.accounts.session(secret).await? {
            Some(session) => Ok(Viewer {
                account: session.account,
                csrf_token: session.csrf_token,
                secret: secret.to_owned(),
            }),
            None => Err(UiError::SignIn { next }),
        }
    }
}

/// Refuses a state-changing request that the browser says came from another site.
pub fn check_same_site(headers: &HeaderMap) -> Result<(), UiError> {
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if site == "cross-site" {
        return Err(UiError::forbidden(
            "this form was sent from another site; Warroom only accepts forms from its own pages",
        ));
    }
    Ok(())
}

/// Compares two secrets without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Only a path on this site, so `next` cannot send anyone elsewhere.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_form(axum::extract::Query(q): axum::extract::Query<LoginQuery>) -> Response {
    login_page(StatusCode::OK, "", &safe_next(q.next.as_deref()), None)
}

fn login_page(status: StatusCode, email: &str, next: &str, error: Option<&str>) -> Response {
    render_status(
        status,
        "login.html",
        anonymous_context(
            "Sign in",
            context! { email => email, next => next, error => error },
        ),
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn login<S: Store>(
    State(app): State<AppState<S>>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Result<Response, UiError> {
    check_same_site(&headers)?;
    let next = safe_next(form.next.as_deref());
    if form.email.trim().is_empty() || form.password.is_empty() {
        return Ok(login_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form.email,
            &next,
            Some("Enter your email and password."),
        ));
    }
    let Some(signed_in) = app
        .accounts
        .sign_in(form.email.trim(), &form.password)
        .await?
    else {
        return Ok(login_page(
            StatusCode::UNAUTHORIZED,
            &form.email,
            &next,
            Some("That email and password do not match an active account."),
        ));
    };
    let mut response = Redirect::to(&next).into_response();
    set_session_cookie(
        &app,
        &mut response,
        &signed_in.secret,
        SESSION_MAX.as_secs(),
    );
    Ok(response)
}

pub async fn logout<S: Store>(
    State(app): State<AppState<S>>,
    Posted { viewer, .. }: Posted<serde::de::IgnoredAny>,
) -> Result<Response, UiError> {
    app.accounts.sign_out(&viewer.secret).await?;
    let mut response = Redirect::to("/login").into_response();
    set_session_cookie(&app, &mut response, "", 0);
    Ok(response)
}

/// `max_age` 0 deletes the cookie.
fn set_session_cookie<S: Store>(
    app: &AppState<S>,
    response: &mut Response,
    secret: &str,
    max_age: i64,
) {
    let secure = if app.paging.public_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}
