//! Alerts (firing, suppressed, resolved) and silences: create one from an
//! alert's labels, expire one.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use warroom_domain::alert::AlertStatus;
use warroom_domain::alerting::parse_matchers;
use warroom_engine::silences::NewSilence;
use warroom_store::{AlertFilter, Store};

use crate::api::alerts::{silence_view, window};
use crate::state::AppState;
use crate::ui::alert_links::{alert_links, LinkView};
use crate::ui::form::Posted;
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render, render_status};
use crate::ui::view::{time, TimeView};
use crate::ui::UiError;

/// Alerts shown per tab, newest first.
pub const ALERTS_SHOWN: u32 = 200;

#[derive(Debug, Deserialize, Default)]
pub struct AlertsQuery {
    tab: Option<String>,
}

#[derive(Serialize)]
struct AlertRow {
    id: i64,
    status: &'static str,
    severity: String,
    summary: String,
    service: String,
    source: String,
    count: i64,
    labels: BTreeMap<String, String>,
    incident_id: Option<String>,
    suppressed_by: Option<String>,
    last_seen: TimeView,
    links: Vec<LinkView>,
}

pub async fn list<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    Query(q): Query<AlertsQuery>,
) -> Result<Response, UiError> {
    let tab = q.tab.as_deref().unwrap_or("firing");
    let filter = match tab {
        "firing" => AlertFilter {
            status: Some(AlertStatus::Firing),
            suppressed: Some(false),
            ..AlertFilter::default()
        },
        "suppressed" => AlertFilter {
            status: Some(AlertStatus::Firing),
            suppressed: Some(true),
            ..AlertFilter::default()
        },
        "resolved" => AlertFilter {
            status: Some(AlertStatus::Resolved),
            ..AlertFilter::default()
        },
        other => {
            return Err(UiError::bad_request(
                "tab",
                format!("tab: use firing, suppressed or resolved, not {other:?}"),
            ))
        }
    };
    let playbook = app.incidents.playbook();
    let alerts: Vec<AlertRow> = app
        .alerts
        .list(&AlertFilter {
            limit: ALERTS_SHOWN,
            ..filter
        })
        .await?
        .into_iter()
        .map(|a| AlertRow {
            links: alert_links(&a, playbook),
            id: a.id,
            status: a.status.as_str(),
            severity: a.severity,
            summary: a.summary,
            service: a.service,
            source: a.source,
            count: a.event_count,
            labels: a.labels,
            incident_id: a.incident_id,
            suppressed_by: a.suppressed_by,
            last_seen: time(a.last_seen_at),
        })
        .collect();
    let tabs = [
        ("firing", "Firing"),
        ("suppressed", "Suppressed"),
        ("resolved", "Resolved"),
    ]
    .map(|(id, name)| context! { id, name });
    Ok(render(
        "alerts.html",
        page_context(&viewer, "Alerts", "alerts", context! { alerts, tab, tabs }),
    ))
}

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
) -> Result<Response, UiError> {
    silences_page(&app, &viewer, None).await
}

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
}

#[derive(Debug, Deserialize, Default)]
pub struct NewSilenceQuery {
    alert: Option<i64>,
}

/// The form, filled from an alert's labels when `?alert=ID` is given.
pub async fn new_silence<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    Query(q): Query<NewSilenceQuery>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    let mut form = SilenceForm {
        duration: "2h".to_owned(),
        ..SilenceForm::default()
    };
    if let Some(id) = q.alert {
        let alert = app.alerts.get(id).await?;
        let mut lines: Vec<String> = alert
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={}", quoted(v)))
            .collect();
        if !alert.labels.contains_key("service") {
            lines.push(format!("service={}", quoted(&alert.service)));
        }
        form.matchers = lines.join("\n");
    }
    Ok(silence_form_page(&viewer, &form, None))
}

fn quoted(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn silence_form_page(
    viewer: &Viewer,
    form: &SilenceForm,
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
            context! { form, error => error.map(|(_, m)| m) },
        ),
    )
}

pub async fn create_silence<S: Store>(
    State(app): State<AppState<S>>,
    Posted { viewer, form }: Posted<SilenceForm>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    match create(&app, &viewer, &form).await {
        Ok(()) => Ok(Redirect::to("/silences").into_response()),
        Err(e) => match e.form_message() {
            Some(message) => Ok(silence_form_page(&viewer, &form, Some(message))),
            None => Err(e),
        },
    }
}

async fn create<S: Store>(
    app: &AppState<S>,
    viewer: &Viewer,
    form: &SilenceForm,
) -> Result<(), UiError> {
    let now = app.silences.now();
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
    let matchers = parse_matchers(&text)
        .map_err(|e| UiError::bad_request("matchers", format!("matchers: {e}")))?;
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

pub async fn expire_silence<S: Store>(
    State(app): State<AppState<S>>,
    Path(id): Path<String>,
    Posted { viewer, .. }: Posted<serde::de::IgnoredAny>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    app.silences.expire(&id, app.silences.now()).await?;
    silences_page(&app, &viewer, Some(format!("Expired silence {id}."))).await
}
