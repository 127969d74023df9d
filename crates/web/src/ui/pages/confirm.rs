//! The second step of a destructive action (revoke or rotate a key, expire a
//! silence, delete an override, disable an account). The list's button is
//! a link to a page saying what will happen, whose form posts the action
//! with `confirm=yes`; a post without it is sent to that page. Plain HTML:
//! it works without JavaScript.

use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render};

/// What the confirmation page asks.
pub struct Confirm<'a> {
    /// The page title and question: "Revoke the key of prometheus-prod?".
    pub question: String,
    /// What happens, in one or two sentences.
    pub consequence: String,
    /// The URL the action posts to (this page's own URL).
    pub action: &'a str,
    /// The button's label: "Revoke the key".
    pub button: &'a str,
    /// Where Cancel goes back to.
    pub cancel: &'a str,
    /// The navigation entry to highlight.
    pub active: &'a str,
}

pub fn page(viewer: &Viewer, confirm: Confirm<'_>) -> Response {
    let ctx = context! {
        confirm => context! {
            question => confirm.question,
            consequence => confirm.consequence,
            action => confirm.action,
            button => confirm.button,
            cancel => confirm.cancel,
        },
    };
    render(
        "confirm.html",
        page_context(viewer, &confirm.question, confirm.active, ctx),
    )
}

/// The form of a destructive action: only `confirm=yes` does it.
#[derive(Debug, Default, Deserialize)]
pub struct Confirmed {
    #[serde(default)]
    confirm: String,
}

impl Confirmed {
    /// `None` when confirmed; else the answer that asks first: 303 to the
    /// confirmation page at `action`.
    pub fn ask_first(&self, action: &str) -> Option<Response> {
        (self.confirm != "yes").then(|| Redirect::to(action).into_response())
    }
}

/// A path segment as it goes in a URL: everything but letters, digits and
/// `-._~` percent-encoded, so an id taken from a path makes a valid
/// `Location` again.
pub fn segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
