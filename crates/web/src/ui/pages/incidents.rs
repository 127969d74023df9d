//! The incident list (filters, full-text search, paging) and the declare form.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use warroom_domain::{Declaration, Status};
use warroom_store::{IncidentFilter, PageCursor, Store};

use super::{given, service_options, severity_options};
use crate::state::AppState;
use crate::ui::form::Posted;
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render, render_status};
use crate::ui::view::{incident_row, statuses};
use crate::ui::UiError;

/// Incidents per page of the list.
pub const PAGE_SIZE: u32 = 50;

#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    severity: Option<String>,
    service: Option<String>,
    after: Option<String>,
}

pub async fn list<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Result<Response, UiError> {
    let playbook = app.incidents.playbook();
    let now = app.incidents.clock().now();
    let status = given(&query.status);
    let statuses_wanted = match status.as_deref() {
        None => Vec::new(),
        Some("open") => Status::ALL.into_iter().filter(|s| s.is_open()).collect(),
        Some(s) => vec![Status::parse(s).ok_or_else(|| {
            UiError::bad_request("status", format!("status: no status named {s:?}"))
        })?],
    };
    let after = match given(&query.after) {
        Some(cursor) => Some(PageCursor::decode(&cursor).ok_or_else(|| {
            UiError::bad_request("after", "after: not a page position from this list")
        })?),
        None => None,
    };
    let filter = IncidentFilter {
        statuses: statuses_wanted,
        severities: given(&query.severity).into_iter().collect(),
        service: given(&query.service),
        text: given(&query.q),
        limit: PAGE_SIZE,
        after,
        ..IncidentFilter::default()
    };
    let page = app.incidents.list(&filter).await?;
    let rows: Vec<_> = page
        .incidents
        .iter()
        .map(|i| incident_row(playbook, i, now))
        .collect();
    let next = page.next.map(|cursor| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("q", &query.q),
            ("status", &query.status),
            ("severity", &query.severity),
            ("service", &query.service),
        ] {
            if let Some(v) = given(value) {
                q.append_pair(key, &v);
            }
        }
        q.append_pair("after", &cursor.encode());
        format!("/incidents?{}", q.finish())
    });
    Ok(render(
        "incidents.html",
        page_context(
            &viewer,
            "Incidents",
            "incidents",
            context! {
                rows,
                next,
                q => given(&query.q).unwrap_or_default(),
                status => status.unwrap_or_default(),
                severity => given(&query.severity).unwrap_or_default(),
                service => given(&query.service).unwrap_or_default(),
                statuses => statuses(),
                severities => severity_options(playbook),
                services => service_options(playbook),
            },
        ),
    ))
}

#[derive(Debug, Deserialize, Serialize, Default)]
pub struct DeclareForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    severity: String,
    service: Option<String>,
    category: Option<String>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    customer_facing: Option<String>,
}

pub async fn new_form<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    Ok(declare_page(&app, &viewer, &DeclareForm::default(), None))
}

fn declare_page<S: Store>(
    app: &AppState<S>,
    viewer: &Viewer,
    form: &DeclareForm,
    error: Option<(StatusCode, String)>,
) -> Response {
    let playbook = app.incidents.playbook();
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    render_status(
        status,
        "declare.html",
        page_context(
            viewer,
            "Declare an incident",
            "incidents",
            context! {
                form,
                error => error.map(|(_, m)| m),
                severities => severity_options(playbook),
                services => service_options(playbook),
                categories => playbook.categories.iter().map(|c| context!{ name => c.name }).collect::<Vec<_>>(),
            },
        ),
    )
}

pub async fn declare<S: Store>(
    State(app): State<AppState<S>>,
    Posted { viewer, form }: Posted<DeclareForm>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    let declaration = Declaration {
        title: form.title.clone(),
        summary: form.summary.clone(),
        severity: form.severity.clone(),
        category: given(&form.category),
        services: given(&form.service).into_iter().collect(),
        customer_facing: form.customer_facing.as_deref() == Some("true"),
        ..Declaration::default()
    };
    match app.incidents.declare(viewer.actor(), declaration).await {
        Ok((incident, _)) => {
            Ok(Redirect::to(&format!("/incidents/{}", incident.id)).into_response())
        }
        Err(e) => {
            let e = UiError::from(e);
            match e.form_message() {
                Some(message) => Ok(declare_page(&app, &viewer, &form, Some(message))),
                None => Err(e),
            }
        }
    }
}
