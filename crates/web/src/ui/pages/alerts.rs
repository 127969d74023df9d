//! The alert list: filtered by status, label, service, incident and
//! integration (GET parameters), grouped by alertname, service or incident
//! with counts, and acknowledged, resolved or silenced in bulk from one
//! form. Silences have their own module (`silences.rs`).

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Serialize;
use warroom_domain::alert::{AlertAction, AlertStatus};
use warroom_engine::alerts::{acknowledge_or_resolve, Suppression};
use warroom_store::{AlertFilter, AlertGrouping, AlertRecord, Store};

use crate::state::AppState;
use crate::ui::alert_links::{alert_links, LinkView};
use crate::ui::form::Posted;
use crate::ui::session::Viewer;
use crate::ui::templates::{page_context, render};
use crate::ui::view::{time, TimeView};
use crate::ui::UiError;

/// Alerts shown per page, newest first.
pub const ALERTS_SHOWN: u32 = 200;

/// The most alerts one bulk action takes.
const BULK_MAX: usize = 500;

/// The list's GET parameters: `status` (`firing`, `suppressed`,
/// `resolved`; `tab` is its old name), `label=NAME=VALUE` (repeatable),
/// `service`, `incident`, `integration` and `group` (`alertname`,
/// `service`, `incident`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AlertsQuery {
    status: String,
    labels: Vec<(String, String)>,
    service: Option<String>,
    incident: Option<String>,
    integration: Option<String>,
    group: Option<String>,
}

impl AlertsQuery {
    /// Reads the query string; a bad value is a 4xx naming the parameter.
    pub fn parse(raw: Option<&str>) -> Result<AlertsQuery, UiError> {
        let mut q = AlertsQuery {
            status: "firing".to_owned(),
            ..AlertsQuery::default()
        };
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let value = value.trim().to_owned();
            if value.is_empty() {
                continue;
            }
            match &*key {
                "status" | "tab" => q.status = value,
                "label" => {
                    let (name, label_value) = value
                        .split_once('=')
                        .map(|(n, v)| (n.trim(), v.trim().trim_matches('"')))
                        .filter(|(n, _)| !n.is_empty())
                        .ok_or_else(|| {
                            UiError::bad_request(
                                "label",
                                format!("label: write NAME=VALUE, e.g. env=prod, not {value:?}"),
                            )
                        })?;
                    q.labels.push((name.to_owned(), label_value.to_owned()));
                }
                "service" => q.service = Some(value),
                "incident" => q.incident = Some(value),
                "integration" => q.integration = Some(value),
                "group" => q.group = Some(value),
                _ => {}
            }
        }
        q.filter()?;
        q.grouping()?;
        Ok(q)
    }

    fn filter(&self) -> Result<AlertFilter, UiError> {
        let (status, suppressed) = match self.status.as_str() {
            "firing" => (Some(AlertStatus::Firing), Some(false)),
            "suppressed" => (Some(AlertStatus::Firing), Some(true)),
            "resolved" => (Some(AlertStatus::Resolved), None),
            other => {
                return Err(UiError::bad_request(
                    "status",
                    format!("status: use firing, suppressed or resolved, not {other:?}"),
                ))
            }
        };
        Ok(AlertFilter {
            status,
            suppressed,
            service: self.service.clone(),
            incident_id: self.incident.clone(),
            labels: self.labels.clone(),
            integration_id: self.integration.clone(),
            limit: ALERTS_SHOWN,
            before_id: None,
        })
    }

    fn grouping(&self) -> Result<Option<AlertGrouping>, UiError> {
        Ok(match self.group.as_deref() {
            None | Some("none") => None,
            Some("alertname") => Some(AlertGrouping::AlertName),
            Some("service") => Some(AlertGrouping::Service),
            Some("incident") => Some(AlertGrouping::Incident),
            Some(other) => {
                return Err(UiError::bad_request(
                    "group",
                    format!("group: use alertname, service or incident, not {other:?}"),
                ))
            }
        })
    }

    /// This query as a link to the list.
    fn href(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        out.append_pair("status", &self.status);
        for (name, value) in &self.labels {
            out.append_pair("label", &format!("{name}={value}"));
        }
        let optional = [
            ("service", &self.service),
            ("incident", &self.incident),
            ("integration", &self.integration),
            ("group", &self.group),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                out.append_pair(key, value);
            }
        }
        format!("/alerts?{}", out.finish())
    }

    /// The link to the list narrowed to one group's alerts.
    fn narrowed_to(&self, by: AlertGrouping, key: &str) -> String {
        let mut q = self.clone();
        match by {
            AlertGrouping::AlertName => q.labels.push(("alertname".to_owned(), key.to_owned())),
            AlertGrouping::Service => q.service = Some(key.to_owned()),
            AlertGrouping::Incident => q.incident = Some(key.to_owned()),
        }
        q.group = None;
        q.href()
    }
}

#[derive(Serialize)]
struct AlertRow {
    id: i64,
    /// `firing`, `acknowledged`, `silenced`, `in maintenance`, `inhibited` or `resolved`.
    badge: &'static str,
    /// The badge's colour class.
    tone: &'static str,
    /// What suppresses it, in words: "silenced by ...", "in maintenance ...".
    suppressed: Option<String>,
    severity: String,
    summary: String,
    service: String,
    source: String,
    count: i64,
    labels: BTreeMap<String, String>,
    incident_id: Option<String>,
    last_seen: TimeView,
    links: Vec<LinkView>,
    group: Option<String>,
}

#[derive(Serialize)]
struct GroupView {
    /// `None`: the alerts without one (no alertname, no incident).
    key: Option<String>,
    count: i64,
    href: Option<String>,
}

#[derive(Serialize)]
struct Chip {
    text: String,
    /// The GET parameter and value that set it, kept when other filters change.
    param: &'static str,
    value: String,
    /// The list without this filter.
    remove: String,
}

fn describe(
    alert: &AlertRecord,
    silences: &[warroom_domain::alerting::Silence],
) -> (&'static str, Option<String>) {
    let named = |what: &str, id: &str, text: &str| {
        if text.is_empty() {
            format!("{what} {id}")
        } else {
            format!("{what} {text} ({id})")
        }
    };
    match (&alert.status, &alert.suppressed_by) {
        (AlertStatus::Resolved, _) => ("resolved", None),
        (AlertStatus::Firing, Some(by)) => match Suppression::of(by, silences) {
            Suppression::Silence { id, comment } => {
                ("silenced", Some(named("silenced by", &id, &comment)))
            }
            Suppression::Maintenance { id, description } => (
                "in maintenance",
                Some(named("in maintenance", &id, &description)),
            ),
            Suppression::Inhibited { rule } => {
                ("inhibited", Some(format!("inhibited by rule {rule}")))
            }
        },
        (AlertStatus::Firing, None) if alert.acknowledged_at.is_some() => ("acknowledged", None),
        (AlertStatus::Firing, None) => ("firing", None),
    }
}

fn group_of(alert: &AlertRecord, by: AlertGrouping) -> Option<String> {
    match by {
        AlertGrouping::AlertName => alert.labels.get("alertname").cloned(),
        AlertGrouping::Service => Some(alert.service.clone()),
        AlertGrouping::Incident => alert.incident_id.clone(),
    }
}

pub async fn list<S: Store>(
    State(app): State<AppState<S>>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let q = AlertsQuery::parse(raw.as_deref())?;
    let filter = q.filter()?;
    let grouping = q.grouping()?;
    let mut alerts = app.alerts.list(&filter).await?;
    let silences = if alerts.iter().any(|a| a.suppressed_by.is_some()) {
        app.silences.list(None).await?
    } else {
        Vec::new()
    };
    let mut groups = Vec::new();
    if let Some(by) = grouping {
        let counted = app.alerts.groups(&filter, by).await?;
        // The rows follow their groups' order: largest group first.
        let rank: BTreeMap<Option<String>, usize> = counted
            .iter()
            .enumerate()
            .map(|(i, g)| (g.key.clone(), i))
            .collect();
        alerts.sort_by_key(|a| rank.get(&group_of(a, by)).copied().unwrap_or(usize::MAX));
        groups = counted
            .into_iter()
            .map(|g| GroupView {
                href: g.key.as_deref().map(|k| q.narrowed_to(by, k)),
                key: g.key,
                count: g.count,
            })
            .collect();
    }
    let playbook = app.incidents.playbook();
    let rows: Vec<AlertRow> = alerts
        .into_iter()
        .map(|a| {
            let (badge, suppressed) = describe(&a, &silences);
            AlertRow {
                links: alert_links(&a, playbook),
                id: a.id,
                badge,
                tone: match badge {
                    "firing" => "red",
                    "acknowledged" => "amber",
                    "resolved" => "green",
                    _ => "",
                },
                suppressed,
                group: grouping.and_then(|by| group_of(&a, by)),
                severity: a.severity,
                summary: a.summary,
                service: a.service,
                source: a.source,
                count: a.event_count,
                labels: a.labels,
                incident_id: a.incident_id,
                last_seen: time(a.last_seen_at),
            }
        })
        .collect();
    let tabs = [
        ("firing", "Firing"),
        ("suppressed", "Suppressed"),
        ("resolved", "Resolved"),
    ]
    .map(|(id, name)| {
        let href = AlertsQuery {
            status: id.to_owned(),
            ..q.clone()
        }
        .href();
        context! { id, name, href }
    });
    let integrations: Vec<_> = app
        .integrations
        .list()
        .await?
        .into_iter()
        .map(|i| context! { id => i.id, name => format!("{} ({})", i.name, i.service) })
        .collect();
    let chips = chips(&q);
    let status = q.status.clone();
    let back = q.href();
    Ok(render(
        "alerts.html",
        page_context(
            &viewer,
            "Alerts",
            "alerts",
            context! {
                alerts => rows, status, tabs, groups, chips, integrations, back,
                group => q.group.clone().unwrap_or_default(),
                integration => q.integration.clone().unwrap_or_default(),
                shown => ALERTS_SHOWN,
            },
        ),
    ))
}

/// The active label, service and incident filters, each with a link that drops it.
fn chips(q: &AlertsQuery) -> Vec<Chip> {
    let mut chips = Vec::new();
    for i in 0..q.labels.len() {
        let mut without = q.clone();
        let (name, value) = without.labels.remove(i);
        chips.push(Chip {
            text: format!("{name}={value}"),
            param: "label",
            value: format!("{name}={value}"),
            remove: without.href(),
        });
    }
    if let Some(service) = &q.service {
        chips.push(Chip {
            text: format!("service {service}"),
            param: "service",
            value: service.clone(),
            remove: AlertsQuery {
                service: None,
                ..q.clone()
            }
            .href(),
        });
    }
    if let Some(incident) = &q.incident {
        chips.push(Chip {
            text: format!("incident {incident}"),
            param: "incident",
            value: incident.clone(),
            remove: AlertsQuery {
                incident: None,
                ..q.clone()
            }
            .href(),
        });
    }
    chips
}

/// Acknowledges, resolves or silences the ticked alerts (`ids`), then
/// goes back to the list it came from (`back`), or to the silence form.
pub async fn bulk<S: Store>(
    State(app): State<AppState<S>>,
    Posted { viewer, form }: Posted<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    viewer.require_responder()?;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut ids = Vec::new();
    for (_, value) in form.iter().filter(|(k, _)| k == "ids") {
        let id: i64 = value.parse().map_err(|_| {
            UiError::bad_request("ids", format!("ids: {value:?} is not an alert id"))
        })?;
        ids.push(id);
    }
    if ids.is_empty() {
        return Err(UiError::bad_request("ids", "ids: tick at least one alert"));
    }
    if ids.len() > BULK_MAX {
        return Err(UiError::bad_request(
            "ids",
            format!("ids: at most {BULK_MAX} alerts at once"),
        ));
    }
    let back = field("back")
        .filter(|b| b.starts_with("/alerts") && !b.starts_with("//"))
        .unwrap_or("/alerts");
    let action = match field("action") {
        Some("acknowledge") => AlertAction::Acknowledge,
        Some("resolve") => AlertAction::Resolve,
        Some("silence") => {
            let mut to = form_urlencoded::Serializer::new(String::new());
            for id in &ids {
                to.append_pair("alert", &id.to_string());
            }
            return Ok(Redirect::to(&format!("/silences/new?{}", to.finish())).into_response());
        }
        other => {
            return Err(UiError::bad_request(
                "action",
                format!(
                    "action: use acknowledge, resolve or silence, not {:?}",
                    other.unwrap_or_default()
                ),
            ))
        }
    };
    let mut alerts = Vec::with_capacity(ids.len());
    for id in ids {
        alerts.push(app.alerts.get(id).await?);
    }
    for request in acknowledge_or_resolve(&alerts, action, viewer.actor()) {
        app.ingestor.submit(request).await?;
    }
    Ok(Redirect::to(back).into_response())
}
