//! The incident's call bridge and chat channel: the workspace header's
//! form that sets or clears them (`bridge.html`).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use warroom_domain::DetailsPatch;
use warroom_engine::IncidentOp;
use warroom_store::Store;

use crate::state::AppState;
use crate::ui::error::UiError;
use crate::ui::form::Posted;

/// An empty field clears its link.
#[derive(Debug, Deserialize)]
pub struct BridgeForm {
    #[serde(default)]
    bridge_url: String,
    #[serde(default)]
    chat_url: String,
}

/// `POST /incidents/{id}/bridge`: back to the incident, or a page naming
/// the field that is not an http(s) link.
pub async fn set<S: Store>(
    State(app): State<AppState<S>>,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted<BridgeForm>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    let patch = DetailsPatch {
        bridge_url: Some(Some(form.bridge_url)),
        chat_url: Some(Some(form.chat_url)),
        ..DetailsPatch::default()
    };
    app.incidents
        .apply(&id, viewer.actor(), IncidentOp::Details(patch))
        .await?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}
