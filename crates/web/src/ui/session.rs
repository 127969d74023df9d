//! Who is looking: the session cookie, sign-in and sign-out, and the CSRF
//! check every state-changing form goes through.
//!
//! The cookie holds a 256-bit secret (HttpOnly, SameSite=Lax, Secure when
//! the public URL is https); the server keeps only its hash. Each session
//! has its own CSRF token, put in every form as `csrf` and compared in
//! constant time; a POST whose `Sec-Fetch-Site` says cross-site is refused
//! even before that. The sign-in form, before any session, carries its own
//! token in a cookie and a field (double submit), and failed sign-ins are
//! limited by `sign_in_limit`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, State};
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
use super::{LOGIN_CSRF_COOKIE, SESSION_COOKIE};
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

/// Where a `next` is resolved to tell a path on this site from anything
/// else; the host is reserved (RFC 6761), so nothing real can match it.
const NEXT_BASE: &str = "http://warroom.invalid/";

/// Only a path on this site survives as `next`, so it cannot send anyone
/// elsewhere; anything else becomes `/`.
///
/// Browsers read a `Location` by the URL standard, which drops tabs and
/// newlines and treats `\` like `/`: `/\t/evil.example` is
/// `//evil.example` to them. So `next` is refused if it holds an ASCII
/// control character or a backslash, then parsed the same way against a
/// fixed base and kept only if it stays on that origin. What is returned is
/// the parsed path, query and fragment, percent-encoded, so it is always a
/// valid header value and means the same to every browser.
pub fn safe_next(next: Option<&str>) -> String {
    let home = || "/".to_owned();
    let Some(next) = next else {
        return home();
    };
    if !next.starts_with('/') || next.chars().any(|c| c.is_ascii_control() || c == '\\') {
        return home();
    }
    let base = url::Url::parse(NEXT_BASE).expect("the base is a valid URL");
    match base.join(next) {
        Ok(url) if url.origin() == base.origin() => url[url::Position::BeforePath..].to_owned(),
        _ => home(),
    }
}

/// A 303 to `to`, or to `/` if `to` cannot be a header value, which
/// `Redirect::to` would answer with a panic.
fn redirect(to: &str) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// The client's IP address, from the `ConnectInfo` the server attaches to
/// each connection; `None` when it attaches none (then all clients share
/// one sign-in budget key).
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let info = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(ClientAddr(info.map(|ConnectInfo(addr)| addr.ip())))
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

/// The sign-in form, with a CSRF token in a cookie and in the form
/// (double submit): there is no session to tie one to yet, and another
/// site can neither read the cookie nor set it, so it cannot sign a
/// browser in to an account of its choosing.
pub async fn login_form<S: Store>(
    State(app): State<AppState<S>>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Response {
    // Keep a token already set, so two open sign-in tabs both work.
    let token = cookie(&headers, LOGIN_CSRF_COOKIE)
        .filter(|t| is_login_token(t))
        .map_or_else(random_token, str::to_owned);
    let mut response = login_page(
        StatusCode::OK,
        &LoginPage {
            email: "",
            next: &safe_next(q.next.as_deref()),
            csrf: &token,
            error: None,
        },
    );
    let cookie = format!(
        "{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict{}",
        secure_attribute(&app)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn is_login_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

struct LoginPage<'a> {
    email: &'a str,
    next: &'a str,
    csrf: &'a str,
    error: Option<&'a str>,
}

fn login_page(status: StatusCode, page: &LoginPage<'_>) -> Response {
    render_status(
        status,
        "login.html",
        anonymous_context(
            "Sign in",
            context! {
                email => page.email,
                next => page.next,
                // `csrf` is the session's token, empty on anonymous pages.
                login_csrf => page.csrf,
                error => page.error,
            },
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
    #[serde(default)]
    csrf: String,
}

pub async fn login<S: Store>(
    State(app): State<AppState<S>>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Result<Response, UiError> {
    check_same_site(&headers)?;
    let cookie_token = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie_token.is_empty() || !same_secret(&form.csrf, cookie_token) {
        return Err(UiError::forbidden(
            "the sign-in form's CSRF token is missing or stale; reload the sign-in page and try again",
        ));
    }
    let next = safe_next(form.next.as_deref());
    let page = |error| LoginPage {
        email: &form.email,
        next: &next,
        csrf: &form.csrf,
        error: Some(error),
    };
    if form.email.trim().is_empty() || form.password.is_empty() {
        return Ok(login_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page("Enter your email and password."),
        ));
    }
    let now = app.incidents.clock().now();
    let attempt = match app.sign_in_limit.attempt(&form.email, address, now) {
        Ok(attempt) => attempt,
        Err(refusal) => {
            let mut response = login_page(StatusCode::TOO_MANY_REQUESTS, &page(&refusal.message()));
            let secs = u64::try_from(refusal.retry_after().as_secs())
                .unwrap_or(0)
                .max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            return Ok(response);
        }
    };
    let Some(signed_in) = app
        .accounts
        .sign_in(form.email.trim(), &form.password)
        .await?
    else {
        app.sign_in_limit.failed(attempt);
        return Ok(login_page(
            StatusCode::UNAUTHORIZED,
            &page("That email and password do not match an active account."),
        ));
    };
    app.sign_in_limit.succeeded(attempt);
    let mut response = redirect(&next);
    set_session_cookie(
        &app,
        &mut response,
        &signed_in.secret,
        SESSION_MAX.as_secs(),
    );
    // The sign-in form's token has done its job.
    let spent = format!("{LOGIN_CSRF_COOKIE}=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&spent) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
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

/// `; Secure` when people reach this server over https.
pub fn secure_attribute<S: Store>(app: &AppState<S>) -> &'static str {
    if app.paging.public_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

/// `max_age` 0 deletes the cookie.
fn set_session_cookie<S: Store>(
    app: &AppState<S>,
    response: &mut Response,
    secret: &str,
    max_age: i64,
) {
    let value = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        secure_attribute(app)
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_keeps_only_paths_on_this_site() {
        for (next, want) in [
            ("/incidents?q=db", "/incidents?q=db"),
            (
                "/incidents/INC-2026-0001#notes",
                "/incidents/INC-2026-0001#notes",
            ),
            ("/a/../b", "/b"),
            ("/caf\u{e9}?q=a b", "/caf%C3%A9?q=a%20b"),
            ("/%09/evil.example", "/%09/evil.example"),
            // Browsers drop tabs and newlines and read `\` as `/`.
            ("/\t/evil.example", "/"),
            ("/\n/evil.example", "/"),
            ("/x\r\nSet-Cookie: a=b", "/"),
            ("/x\0", "/"),
            ("/\\evil.example", "/"),
            ("//evil.example", "/"),
            ("///evil.example", "/"),
            ("https://evil.example/", "/"),
            ("http://warroom.invalid/x", "/"),
            ("evil.example", "/"),
            ("", "/"),
        ] {
            assert_eq!(safe_next(Some(next)), want, "{next:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
