//! One-time messages across a redirect. A form whose answer must show
//! something once (a new integration key, a generated password, "password
//! changed") answers 303 with it in a short-lived cookie scoped to the page
//! it redirects to; that page shows it and clears the cookie. So every
//! successful POST answers 303 and a reload never repeats one.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use warroom_store::Store;

use super::session::{cookie, secure_attribute};
use crate::state::AppState;

const FLASH_COOKIE: &str = "warroom_flash";
/// Long enough for the redirect, short enough that an unread secret goes.
const MAX_AGE_SECS: u32 = 60;

/// 303 to `page` (a path, no query), which shows `flash` once.
pub fn redirect<S: Store, T: Serialize>(app: &AppState<S>, page: &str, flash: &T) -> Response {
    let mut response = Redirect::to(page).into_response();
    let value = serde_json::to_vec(flash)
        .map(hex::encode)
        .unwrap_or_default();
    set(app, &mut response, page, &value, MAX_AGE_SECS);
    response
}

/// The flash the request carries for `T`'s page, if any.
pub fn read<T: DeserializeOwned>(headers: &HeaderMap) -> Option<T> {
    let bytes = hex::decode(cookie(headers, FLASH_COOKIE)?).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// After a page showed its flash: drop the cookie, and keep the page (it
/// may hold a secret) out of every cache.
pub fn shown<S: Store>(app: &AppState<S>, response: &mut Response, page: &str) {
    set(app, response, page, "", 0);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn set<S: Store>(app: &AppState<S>, response: &mut Response, path: &str, value: &str, age: u32) {
    let cookie = format!(
        "{FLASH_COOKIE}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={age}{}",
        secure_attribute(app)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}
