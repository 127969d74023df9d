//! Parses Sentry alert webhooks: the legacy "WebHooks" plugin
//! (<https://docs.sentry.io/organization/integrations/notification-incidents/webhooks/legacy-webhooks/>)
//! and the integration platform's `event_alert` and `issue` resources
//! (<https://docs.sentry.io/organization/integrations/integration-platform/webhooks/>).
//!
//! All three key the alert by Sentry's issue (group) id, `sentry-{id}`, so an
//! issue alert and a later "issue resolved" webhook meet on the same alert.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};
use warroom_domain::alert::{limits, AlertAction, AlertLink, AlertSignal};

use super::{check_len, check_required, from_json, from_value, FormatError};

/// Parses any of the three formats, told apart by shape: a body with
/// `action` and `data` comes from the integration platform (with
/// `data.event`: an issue alert; with `data.issue`: an issue change), one
/// with `id` from the legacy plugin.
///
/// Legacy alerts and `event_alert` (`action: triggered`) trigger. Issue
/// changes map as: `created`, `unresolved` → trigger; `assigned` →
/// acknowledge; `resolved`, `archived` (and the older `ignored`) → resolve
/// (Sentry sends `unresolved` when an archived issue escalates). `now` is
/// unused; every parser takes it.
pub fn parse(bytes: &[u8], _now: Timestamp) -> Result<AlertSignal, FormatError> {
    let body: Value = from_json(bytes)?;
    let Some(object) = body.as_object() else {
        return Err(FormatError::body("the body must be a JSON object"));
    };
    if object.contains_key("action") || object.contains_key("data") {
        platform(from_value(body)?)
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
    triggered_rule: Option<String>,
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
    issue_id: (String, String),
    summary: Option<(String, String)>,
    level: Option<Level>,
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
        issue_id: ("id".into(), body.id.into_string()),
        summary,
        level: body.level.or(event.level),
        project: non_empty(body.project_slug).or(non_empty(body.project)),
        url: non_empty(body.url).map(|u| ("url".into(), u)),
        starts_at: event.datetime,
        details,
    }
    .into_signal()
}

fn platform(body: Platform) -> Result<AlertSignal, FormatError> {
    if let Some(mut event) = body.data.event {
        if body.action != "triggered" {
            return Err(FormatError::new(
                "action",
                format!(
                    "unknown issue alert action `{}`; expected `triggered`",
                    body.action
                ),
            ));
        }
        let issue_id = match event.issue_id.take().map(Id::into_string) {
            Some(id) => ("data.event.issue_id".to_string(), id),
            None => match event.issue_url.as_deref().and_then(issue_id_from_url) {
                Some(id) => ("data.event.issue_url".to_string(), id),
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
        insert(&mut details, "triggered_rule", body.data.triggered_rule);
        return Draft {
            action: AlertAction::Trigger,
            issue_id,
            summary,
            level: event.level,
            project: None,
            url: non_empty(event.web_url).map(|u| ("data.event.web_url".into(), u)),
            starts_at: event.datetime,
            details,
        }
        .into_signal();
    }
    let Some(issue) = body.data.issue else {
        return Err(FormatError::new(
            "data",
            "expected `event` (an issue alert) or `issue` (an issue change)",
        ));
    };
    let action = match body.action.as_str() {
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
        issue_id: ("data.issue.id".into(), issue.id.into_string()),
        summary: non_empty(issue.title).map(|t| ("data.issue.title".into(), t)),
        level: issue.level,
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
        let (id_field, id) = self.issue_id;
        check_required(&id_field, &id, limits::DEDUP_KEY - "sentry-".len())?;
        let summary = match (self.summary, self.action) {
            (Some((field, summary)), _) => {
                check_len(&field, &summary, limits::SUMMARY)?;
                summary
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
            dedup_key: Some(format!("sentry-{id}")),
            summary,
            severity: self.level.map(|l| l.as_str().to_string()),
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
