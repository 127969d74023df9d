//! Silences: the list, the form (filled from the labels the chosen alerts
//! share, with a preview of how many firing alerts it matches now, before
//! it is created), and expiring one.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use warroom_domain::alerting::{parse_matchers, Matcher};
use warroom_engine::silences::NewSilence;
use warroom_store::Store;

use crate::api::alerts::{silence_view, window};
use crate::state::AppState;
use crate::ui::flash;
use crate::ui::form::Posted;
use crate::ui::pages::confirm::{self, segment, Confirm, Confirmed};
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render, render_status};
use crate::ui::view::{time, TimeView};
use crate::ui::UiError;

/// The most alerts the form is filled from.
const FILL_MAX: usize = 500;

#[derive(Serialize)]
struct SilenceRow {
    id: String,
    matchers: Vec<String>,
    state: String,
    starts_at: TimeView,
    ends_at: TimeView,
    created_by: String,
    comment: String,
}

pub async fn silences<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
) -> Result<Response, UiError> {
    let notice = flash::read::<String>(&headers);
    let shown = notice.is_some();
    let mut response = silences_page(&app, &viewer, notice).await?;
    if shown {
        flash::shown(&app, &mut response, SILENCES);
    }
    Ok(response)
}

const SILENCES: &str = "/silences";

async fn silences_page<S: Store>(
    app: &AppState<S>,
    viewer: &Viewer,
    notice: Option<String>,
) -> Result<Response, UiError> {
    let now = app.silences.now();
    // Live ones, and those that ended in the last week for context.
    let since = now - jiff::SignedDuration::from_hours(24 * 7);
    let mut rows = Vec::new();
    for silence in app.silences.list(Some(since)).await? {
        let view = silence_view(&silence, now);
        rows.push(SilenceRow {
            id: view.id,
            matchers: silence
                .matchers
                .iter()
                .map(|m| warroom_domain::alerting::display_matchers(std::slice::from_ref(m)))
                .collect(),
            state: view.state,
            starts_at: time(view.starts_at),
            ends_at: time(view.ends_at),
            created_by: view.created_by,
            comment: view.comment,
        });
    }
    Ok(render(
        "silences.html",
        page_context(
            viewer,
            "Silences",
            "alerts",
            context! { silences => rows, notice, error => None::<String> },
        ),
    ))
}

#[derive(Debug, Deserialize, Serialize, Default)]
pub struct SilenceForm {
    #[serde(default)]
    matchers: String,
    #[serde(default)]
    duration: String,
    #[serde(default)]
    comment: String,
    /// Set by the "Preview" button: count, do not create.
    #[serde(default, skip_serializing)]
    preview: Option<String>,
}

/// The form; `?alert=ID` (repeatable) fills it with the labels every one of
/// those alerts has (and their service, if they share it), and shows how
/// many firing alerts that matches now.
pub async fn new_silence<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    let mut form = SilenceForm {
        duration: "2h".to_owned(),
        ..SilenceForm::default()
    };
    let mut ids = Vec::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if key == "alert" {
            let id: i64 = value.parse().map_err(|_| {
                UiError::bad_request("alert", format!("alert: {value:?} is not an alert id"))
            })?;
            ids.push(id);
        }
    }
    if ids.len() > FILL_MAX {
        return Err(UiError::bad_request(
            "alert",
            format!("alert: at most {FILL_MAX} alerts at once"),
        ));
    }
    if ids.is_empty() {
        return Ok(silence_form_page(&viewer, &form, None, None));
    }
    let mut shared: Option<BTreeMap<String, String>> = None;
    for id in ids {
        let alert = app.alerts.get(id).await?;
        let mut labels = alert.labels;
        labels.entry("service".to_owned()).or_insert(alert.service);
        shared = Some(match shared {
            None => labels,
            Some(mut common) => {
                common.retain(|k, v| labels.get(k) == Some(v));
                common
            }
        });
    }
    let shared = shared.unwrap_or_default();
    if shared.is_empty() {
        let error = "The chosen alerts share no label; write the matchers yourself.".to_owned();
        return Ok(silence_form_page(
            &viewer,
            &form,
            None,
            Some((StatusCode::OK, error)),
        ));
    }
    form.matchers = shared
        .iter()
        .map(|(k, v)| format!("{k}={}", quoted(v)))
        .collect::<Vec<_>>()
        .join("\n");
    let matching = match matchers_of(&form) {
        Ok(matchers) => Some(app.silences.count_matching(&matchers).await?),
        Err(_) => None,
    };
    Ok(silence_form_page(&viewer, &form, matching, None))
}

fn quoted(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn silence_form_page(
    viewer: &Viewer,
    form: &SilenceForm,
    matching: Option<usize>,
    error: Option<(StatusCode, String)>,
) -> Response {
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    render_status(
        status,
        "silence_new.html",
        page_context(
            viewer,
            "New silence",
            "alerts",
            context! { form, matching, error => error.map(|(_, m)| m) },
        ),
    )
}

/// Creates the silence, or with `preview` only shows how many firing
/// alerts it would match now.
pub async fn create_silence<S: Store>(
    State(app): State<AppState<S>>,
    Posted { viewer, form }: Posted<SilenceForm>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    let outcome = if form.preview.is_some() {
        preview(&app, &form).await
    } else {
        create(&app, &viewer, &form).await.map(|()| None)
    };
    match outcome {
        Ok(None) => Ok(Redirect::to("/silences").into_response()),
        Ok(Some(matching)) => Ok(silence_form_page(&viewer, &form, Some(matching), None)),
        Err(e) => match e.form_message() {
            Some(message) => Ok(silence_form_page(&viewer, &form, None, Some(message))),
            None => Err(e),
        },
    }
}

/// The matchers of the form, one per line, checked.
fn matchers_of(form: &SilenceForm) -> Result<Vec<Matcher>, UiError> {
    let text = form
        .matchers
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(",");
    if text.is_empty() {
        return Err(UiError::bad_request(
            "matchers",
            "matchers: give at least one matcher",
        ));
    }
    parse_matchers(&text).map_err(|e| UiError::bad_request("matchers", format!("matchers: {e}")))
}

async fn preview<S: Store>(
    app: &AppState<S>,
    form: &SilenceForm,
) -> Result<Option<usize>, UiError> {
    let matchers = matchers_of(form)?;
    Ok(Some(app.silences.count_matching(&matchers).await?))
}

async fn create<S: Store>(
    app: &AppState<S>,
    viewer: &Viewer,
    form: &SilenceForm,
) -> Result<(), UiError> {
    let now = app.silences.now();
    let matchers = matchers_of(form)?;
    let (starts_at, ends_at) = window(now, None, None, Some(&form.duration))?;
    let new = NewSilence {
        matchers,
        starts_at,
        ends_at,
        created_by: viewer.actor().to_owned(),
        comment: form.comment.clone(),
    };
    app.silences.create(new, now).await?;
    Ok(())
}

/// `GET /silences/{id}/expire`: what expiring it does, and the form.
pub async fn confirm_expire<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    let silence = app
        .silences
        .list(None)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| UiError::not_found(format!("no silence with id {id:?}")))?;
    let matchers = warroom_domain::alerting::display_matchers(&silence.matchers);
    let action = format!("/silences/{}/expire", segment(&id));
    Ok(confirm::page(
        &viewer,
        Confirm {
            question: format!("Expire the silence {matchers}?"),
            consequence: format!(
                "Alerts matching {matchers} page again from now on, including those firing now. ({})",
                silence.comment
            ),
            action: &action,
            button: "Expire the silence",
            cancel: SILENCES,
            active: "alerts",
        },
    ))
}

/// `POST /silences/{id}/expire`, confirmed.
pub async fn expire_silence<S: Store>(
    State(app): State<AppState<S>>,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted<Confirmed>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    if let Some(ask) = form.ask_first(&format!("/silences/{}/expire", segment(&id))) {
        return Ok(ask);
    }
    app.silences.expire(&id, app.silences.now()).await?;
    Ok(flash::redirect(
        &app,
        SILENCES,
        &format!("Expired silence {id}."),
    ))
}
