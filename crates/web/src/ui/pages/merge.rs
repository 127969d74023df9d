//! The workspace's "Merge into incident…" form: close this incident as a
//! duplicate of another, after the responder confirms it.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use warroom_store::Store;

use crate::state::AppState;
use crate::ui::form::Posted;
use crate::ui::UiError;

#[derive(Debug, Deserialize, Default)]
pub struct MergeForm {
    into: Option<String>,
    /// The confirmation checkbox: `yes` when ticked.
    confirm: Option<String>,
}

/// Merges the incident into `into` and shows the survivor, where its
/// alerts, timeline and pages now are.
pub async fn merge<S: Store>(
    State(app): State<AppState<S>>,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted<MergeForm>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    let into = super::given(&form.into).ok_or_else(|| {
        UiError::bad_request("into", "into: give the id of the incident to merge into")
    })?;
    if form.confirm.as_deref() != Some("yes") {
        return Err(UiError::bad_request(
            "confirm",
            format!("confirm: tick the box to close {id} as a duplicate of {into}"),
        ));
    }
    let merged = app.incidents.merge(&id, &into, viewer.actor()).await?;
    Ok(Redirect::to(&format!("/incidents/{}", merged.survivor.id)).into_response())
}
