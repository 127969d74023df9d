//! Parses Sentry alert webhooks: the legacy "WebHooks" plugin
//! (<https://docs.sentry.io/organization/integrations/notification-incidents/webhooks/legacy-webhooks/>)
//! and the integration platform's `event_alert`, `metric_alert` and `issue`
//! resources
//! (<https://docs.sentry.io/organization/integrations/integration-platform/webhooks/>).
//!
//! Issue alerts, issue changes and legacy alerts key the alert by Sentry's
//! issue (group) id, `sentry-{id}`, so an issue alert and a later "issue
//! resolved" webhook meet on the same alert. A metric alert is keyed by its
//! Sentry incident, `sentry-metric-{id}`, which its `critical`, `warning`
//! and `resolved` webhooks share.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};
use warroom_domain::alert::{limits, AlertAction, AlertLink, AlertSignal};

use super::{check_len, check_required, from_json, from_value, FormatError};

/// The header the integration platform names a webhook's resource in.
pub const RESOURCE_HEADER: &str = "Sentry-Hook-Resource";

/// The integration platform's resources that open, change or resolve alerts.
const SUPPORTED: &str = "event_alert (issue alerts), metric_alert (metric alerts) and issue";

/// Parses a body told apart by shape alone, as [`parse_hook`] without a
/// `Sentry-Hook-Resource` header.
pub fn parse(bytes: &[u8], now: Timestamp) -> Result<AlertSignal, FormatError> {
    parse_hook(bytes, None, now)
}

/// Parses any of the formats. With `resource` (the `Sentry-Hook-Resource`
/// header, sent by the integration platform) the resource decides:
/// `event_alert`, `metric_alert` and `issue` are read, and every other
/// resource Sentry documents (`installation`, `error`, `comment`,
/// `activity_alert`, `seer`, ...) is refused as not supported. Without it,
/// the shape decides: a body with `action` and `data` comes from the
/// integration platform (with `data.event`: an issue alert; with
/// `data.metric_alert`: a metric alert; with `data.issue`: an issue
/// change), one with `id` from the legacy plugin.
///
/// Legacy alerts and `event_alert` (`action: triggered`) trigger. Metric
/// alerts map `critical` and `warning` to a trigger of that severity and
/// `resolved` to a resolve. Issue changes map as: `created`, `unresolved` →
/// trigger; `assigned` → acknowledge; `resolved`, `archived` (and the older
/// `ignored`) → resolve (Sentry sends `unresolved` when an archived issue
/// escalates). `now` is unused; every parser takes it.
pub fn parse_hook(
    bytes: &[u8],
    resource: Option<&str>,
    _now: Timestamp,
) -> Result<AlertSignal, FormatError> {
    let resource = resource.map(str::trim).filter(|r| !r.is_empty());
    if let Some(resource) = resource {
        if !matches!(resource, "event_alert" | "metric_alert" | "issue") {
            return Err(FormatError::new(
                RESOURCE_HEADER,
                format!(
                    "resource `{resource}` is not supported; Warroom reads {SUPPORTED}: \
                     subscribe the integration to those only"
                ),
            ));
        }
    }
    let body: Value = from_json(bytes)?;
    let Some(object) = body.as_object() else {
        return Err(FormatError::body("the body must be a JSON object"));
    };
    if resource.is_some() || object.contains_key("action") || object.contains_key("data") {
        platform(from_value(body)?, resource)
    } else if object.contains_key("id") {
        legacy(from_value(body)?)
    } else {
        Err(FormatError::body(
            "not a Sentry webhook: expected `action` and `data` (integration platform) or `id` (legacy WebHooks plugin)",
        ))
    }
}

#[derive(Deserialize)]
struct Legacy {
    id: Id,
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    project_name: Option<String>,
    #[serde(default)]
    project_slug: Option<String>,
    #[serde(default)]
    culprit: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    level: Option<Level>,
    #[serde(default)]
    event: Option<Event>,
    #[serde(default)]
    triggering_rules: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Platform {
    action: String,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    event: Option<Event>,
    #[serde(default)]
    issue: Option<Issue>,
    #[serde(default)]
    metric_alert: Option<MetricAlert>,
    #[serde(default)]
    triggered_rule: Option<String>,
    /// A metric alert's title (`Critical: Too many errors`).
    #[serde(default)]
    description_title: Option<String>,
    /// A metric alert's description (`1000 events in the last 10 minutes`).
    #[serde(default)]
    description_text: Option<String>,
    /// A metric alert's page in Sentry.
    #[serde(default)]
    web_url: Option<String>,
}

/// A metric alert's Sentry incident: its id stays the same from `critical`
/// through `warning` to `resolved`.
#[derive(Deserialize)]
struct MetricAlert {
    id: Id,
    #[serde(default)]
    identifier: Option<Id>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    date_started: Option<Timestamp>,
    #[serde(default)]
    projects: Option<Vec<String>>,
    #[serde(default)]
    alert_rule: Option<AlertRule>,
}

#[derive(Deserialize)]
struct AlertRule {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    aggregate: Option<String>,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    environment: Option<String>,
}

/// The fields of a Sentry event we use; the rest (stack traces, request,
/// breadcrumbs) stays in Sentry.
#[derive(Deserialize, Default)]
struct Event {
    #[serde(default)]
    issue_id: Option<Id>,
    #[serde(default)]
    issue_url: Option<String>,
    #[serde(default)]
    web_url: Option<String>,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    culprit: Option<String>,
    #[serde(default)]
    level: Option<Level>,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    datetime: Option<Timestamp>,
    #[serde(default)]
    tags: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Issue {
    id: Id,
    #[serde(default)]
    short_id: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    culprit: Option<String>,
    #[serde(default)]
    level: Option<Level>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    substatus: Option<String>,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    first_seen: Option<Timestamp>,
    /// Snake case, unlike the issue's other fields.
    #[serde(default, rename = "web_url")]
    web_url: Option<String>,
    #[serde(default)]
    permalink: Option<String>,
    #[serde(default)]
    project: Option<Project>,
}

#[derive(Deserialize)]
struct Project {
    #[serde(default)]
    slug: Option<String>,
}

/// Sentry sends issue ids as strings, event payloads sometimes as numbers.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(u64),
}

impl Id {
    fn into_string(self) -> String {
        match self {
            Id::Text(text) => text,
            Id::Number(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Level {
    Fatal,
    Error,
    Warning,
    Info,
    Debug,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Fatal => "fatal",
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

/// What every format fills in, before the limits are checked.
struct Draft {
    action: AlertAction,
    /// The field the id was read from, the id, and the dedup key's prefix.
    key: (String, String, &'static str),
    summary: Option<(String, String)>,
    severity: Option<&'static str>,
    project: Option<String>,
    url: Option<(String, String)>,
    starts_at: Option<Timestamp>,
    details: Map<String, Value>,
}

fn legacy(body: Legacy) -> Result<AlertSignal, FormatError> {
    let event = body.event.unwrap_or_default();
    let summary = [
        ("event.title", event.title.clone()),
        ("message", body.message),
        ("culprit", body.culprit.clone()),
    ]
    .into_iter()
    .find_map(|(field, value)| non_empty(value).map(|v| (field.to_string(), v)));
    let mut details = event_details(&event);
    insert(&mut details, "culprit", body.culprit);
    insert(&mut details, "project_name", body.project_name);
    if let Some(rules) = body.triggering_rules {
        details.insert("triggering_rules".into(), rules.into());
    }
    Draft {
        action: AlertAction::Trigger,
        key: ("id".into(), body.id.into_string(), ISSUE_PREFIX),
        summary,
        severity: body.level.or(event.level).map(Level::as_str),
        project: non_empty(body.project_slug).or(non_empty(body.project)),
        url: non_empty(body.url).map(|u| ("url".into(), u)),
        starts_at: event.datetime,
        details,
    }
    .into_signal()
}

/// Dedup key prefixes: issues (and their alerts), and metric alerts.
const ISSUE_PREFIX: &str = "sentry-";
const METRIC_PREFIX: &str = "sentry-metric-";

fn platform(body: Platform, resource: Option<&str>) -> Result<AlertSignal, FormatError> {
    let Platform { action, data } = body;
    let resource = match resource {
        Some(resource) => resource,
        None if data.event.is_some() => "event_alert",
        None if data.metric_alert.is_some() => "metric_alert",
        None if data.issue.is_some() => "issue",
        None => {
            return Err(FormatError::new(
                "data",
                "expected `event` (an issue alert), `metric_alert` (a metric alert) or `issue` (an issue change)",
            ))
        }
    };
    match resource {
        "event_alert" => event_alert(&action, data),
        "metric_alert" => metric_alert(&action, data),
        _ => issue_change(&action, data),
    }
}

fn event_alert(action: &str, data: Data) -> Result<AlertSignal, FormatError> {
    let Some(mut event) = data.event else {
        return Err(FormatError::new("data.event", "missing"));
    };
    if action != "triggered" {
        return Err(FormatError::new(
            "action",
            format!("unknown issue alert action `{action}`; expected `triggered`"),
        ));
    }
    let issue_id = match event.issue_id.take().map(Id::into_string) {
        Some(id) => ("data.event.issue_id".to_string(), id, ISSUE_PREFIX),
        None => match event.issue_url.as_deref().and_then(issue_id_from_url) {
            Some(id) => ("data.event.issue_url".to_string(), id, ISSUE_PREFIX),
            None => return Err(FormatError::new("data.event.issue_id", "missing")),
        },
    };
    let summary = [
        ("data.event.title", event.title.clone()),
        ("data.event.message", event.message.clone()),
        ("data.event.culprit", event.culprit.clone()),
    ]
    .into_iter()
    .find_map(|(field, value)| non_empty(value).map(|v| (field.to_string(), v)));
    let mut details = event_details(&event);
    insert(&mut details, "culprit", event.culprit.clone());
    insert(&mut details, "triggered_rule", data.triggered_rule);
    Draft {
        action: AlertAction::Trigger,
        key: issue_id,
        summary,
        severity: event.level.map(Level::as_str),
        project: None,
        url: non_empty(event.web_url).map(|u| ("data.event.web_url".into(), u)),
        starts_at: event.datetime,
        details,
    }
    .into_signal()
}

/// A metric alert rule crossed (or fell back below) a threshold.
fn metric_alert(action: &str, data: Data) -> Result<AlertSignal, FormatError> {
    let Some(metric) = data.metric_alert else {
        return Err(FormatError::new("data.metric_alert", "missing"));
    };
    let (action, severity) = match action {
        "critical" => (AlertAction::Trigger, Some("critical")),
        "warning" => (AlertAction::Trigger, Some("warning")),
        "resolved" => (AlertAction::Resolve, None),
        other => {
            return Err(FormatError::new(
                "action",
                format!(
                    "unknown metric alert action `{other}`; expected critical, warning or resolved"
                ),
            ))
        }
    };
    let rule = metric.alert_rule.unwrap_or(AlertRule {
        name: None,
        aggregate: None,
        query: None,
        environment: None,
    });
    let summary = [
        ("data.description_title", data.description_title),
        ("data.metric_alert.title", metric.title),
        ("data.metric_alert.alert_rule.name", rule.name.clone()),
    ]
    .into_iter()
    .find_map(|(field, value)| non_empty(value).map(|v| (field.to_string(), v)));
    let mut details = Map::new();
    for (key, value) in [
        ("description", data.description_text),
        ("alert_rule", rule.name),
        ("aggregate", rule.aggregate),
        ("query", rule.query),
        ("environment", rule.environment),
        ("identifier", metric.identifier.map(Id::into_string)),
    ] {
        insert(&mut details, key, value);
    }
    let projects = metric.projects.unwrap_or_default();
    Draft {
        action,
        key: (
            "data.metric_alert.id".into(),
            metric.id.into_string(),
            METRIC_PREFIX,
        ),
        summary,
        severity,
        // One project is the alert's project; a rule over several has none.
        project: match projects.as_slice() {
            [one] => non_empty(Some(one.clone())),
            _ => None,
        },
        url: non_empty(data.web_url).map(|u| ("data.web_url".into(), u)),
        starts_at: metric.date_started,
        details,
    }
    .into_signal()
}

fn issue_change(action: &str, data: Data) -> Result<AlertSignal, FormatError> {
    let Some(issue) = data.issue else {
        return Err(FormatError::new("data.issue", "missing"));
    };
    let action = match action {
        "created" | "unresolved" => AlertAction::Trigger,
        "assigned" => AlertAction::Acknowledge,
        "resolved" | "archived" | "ignored" => AlertAction::Resolve,
        other => {
            return Err(FormatError::new(
                "action",
                format!("unknown issue action `{other}`; expected created, unresolved, assigned, resolved or archived"),
            ))
        }
    };
    let mut details = Map::new();
    for (key, value) in [
        ("short_id", issue.short_id),
        ("culprit", issue.culprit),
        ("status", issue.status),
        ("substatus", issue.substatus),
        ("platform", issue.platform),
    ] {
        insert(&mut details, key, value);
    }
    Draft {
        action,
        key: ("data.issue.id".into(), issue.id.into_string(), ISSUE_PREFIX),
        summary: non_empty(issue.title).map(|t| ("data.issue.title".into(), t)),
        severity: issue.level.map(Level::as_str),
        project: issue.project.and_then(|p| non_empty(p.slug)),
        url: [
            ("data.issue.web_url", issue.web_url),
            ("data.issue.permalink", issue.permalink),
        ]
        .into_iter()
        .find_map(|(field, url)| non_empty(url).map(|u| (field.to_string(), u))),
        starts_at: issue.first_seen,
        details,
    }
    .into_signal()
}

impl Draft {
    fn into_signal(self) -> Result<AlertSignal, FormatError> {
        let (id_field, id, prefix) = self.key;
        check_required(&id_field, &id, limits::DEDUP_KEY - prefix.len())?;
        let summary = match (self.summary, self.action) {
            (Some((field, summary)), _) => {
                check_len(&field, &summary, limits::SUMMARY)?;
                summary
            }
            (None, AlertAction::Trigger) if prefix == METRIC_PREFIX => {
                format!("Sentry metric alert {id}")
            }
            (None, AlertAction::Trigger) => format!("Sentry issue {id}"),
            (None, _) => String::new(),
        };
        let mut labels = BTreeMap::new();
        if let Some(project) = &self.project {
            check_len("project_slug", project, limits::LABEL_VALUE)?;
            labels.insert("project".to_string(), project.clone());
        }
        let source = match self.project {
            Some(project) if project.chars().count() <= limits::SOURCE => project,
            _ => "sentry".to_string(),
        };
        let mut links = Vec::new();
        if let Some((field, href)) = self.url {
            check_len(&field, &href, limits::URL)?;
            links.push(AlertLink {
                href,
                text: "View in Sentry".into(),
            });
        }
        Ok(AlertSignal {
            action: self.action,
            dedup_key: Some(format!("{prefix}{id}")),
            summary,
            severity: self.severity.map(str::to_owned),
            source,
            labels,
            details: self.details,
            links,
            starts_at: self.starts_at,
            ends_at: None,
            generator_url: None,
            group_key: None,
            origin: "sentry".into(),
        })
    }
}

/// The few event fields worth keeping next to the alert.
fn event_details(event: &Event) -> Map<String, Value> {
    let mut details = Map::new();
    for (key, value) in [
        ("event_id", &event.event_id),
        ("platform", &event.platform),
        ("environment", &event.environment),
        ("release", &event.release),
    ] {
        insert(&mut details, key, value.clone());
    }
    if let Some(tags) = event.tags.clone().filter(|t| !t.is_null()) {
        details.insert("tags".into(), tags);
    }
    details
}

fn insert(details: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(value) = non_empty(value) {
        details.insert(key.to_string(), Value::String(value));
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// `https://sentry.io/api/0/issues/1117540176/` → `1117540176`.
fn issue_id_from_url(url: &str) -> Option<String> {
    let (_, rest) = url.rsplit_once("/issues/")?;
    let id = rest.trim_end_matches('/');
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_string())
}

#[cfg(test)]
mod tests;
