//! `Posted<T>`: a form post from a signed-in person, its CSRF token checked
//! and its fields parsed, with errors that name the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use serde::de::DeserializeOwned;
use warroom_store::Store;

use super::error::UiError;
use super::session::{check_same_site, same_secret, Viewer};
use crate::state::AppState;

/// The form field that carries the session's CSRF token.
pub const CSRF_FIELD: &str = "csrf";

pub struct Posted<T> {
    pub viewer: Viewer,
    pub form: T,
}

impl<S: Store, T: DeserializeOwned> FromRequest<AppState<S>> for Posted<T> {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &AppState<S>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        check_same_site(&parts.headers)?;
        let viewer = Viewer::from_request_parts(&mut parts, state)
            .await
            .map_err(|e| match e {
                // A form posted after the session ended: sign in again, then
                // come back to the page, not to the POST-only URL.
                UiError::SignIn { .. } => UiError::SignIn {
                    next: referer_path(&parts.headers).unwrap_or_else(|| "/".to_owned()),
                },
                other => other,
            })?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| match crate::serve::body::body_timed_out(&e) {
                Some(timed_out) => crate::serve::body::request_timeout(timed_out).into(),
                None => UiError::bad_request("", format!("cannot read the form: {e}")),
            })?;
        if let Some((field, c)) = crate::text::find_in_pairs(&bytes) {
            return Err(UiError::bad_request(
                &field,
                format!("{field}: {}", warroom_domain::text::refusal(c)),
            ));
        }
        let token = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if !same_secret(&token, &viewer.csrf_token) {
            return Err(UiError::forbidden(
                "the form's CSRF token is missing or stale; reload the page and try again",
            ));
        }
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(&bytes));
        let form = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            UiError::bad_request(&field, format!("{field}: {}", e.inner()))
        })?;
        Ok(Posted { viewer, form })
    }
}

fn referer_path(headers: &axum::http::HeaderMap) -> Option<String> {
    let referer = headers.get(axum::http::header::REFERER)?.to_str().ok()?;
    let after_scheme = referer.split_once("://")?.1;
    let path = &after_scheme[after_scheme.find('/')?..];
    Some(super::session::safe_next(Some(path)))
}
