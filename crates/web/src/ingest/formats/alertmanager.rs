//! Parses Alertmanager's webhook notifications (`webhook_configs`, payload
//! version 4, <https://prometheus.io/docs/alerting/latest/configuration/#webhook_config>)
//! and alerts posted to the Alertmanager API v2 (`POST /api/v2/alerts`, what
//! Prometheus sends, <https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml>).
//!
//! Both give an alert the same dedup key, its label set's Alertmanager
//! [`fingerprint`], so an alert reported by Prometheus directly and later by
//! an Alertmanager webhook lands on the same Warroom alert.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use warroom_domain::alert::{limits, AlertAction, AlertSignal};

use super::{
    check_labels, check_len, check_required, from_json, join, string_details, string_map,
    FormatError,
};

/// The fingerprint Alertmanager gives a label set (`model.LabelSet.Fingerprint()`
/// in `prometheus/common`): FNV-1a 64 over each label name and value in name
/// order, each followed by a `0xff` separator byte, printed as 16 lowercase
/// hex digits.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    const SEPARATOR: u8 = 0xff;
    let mut hash = OFFSET;
    let mut add = |byte: u8| {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    };
    // BTreeMap orders by bytes, as Go's sort.Strings does.
    for (name, value) in labels {
        name.bytes().for_each(&mut add);
        add(SEPARATOR);
        value.bytes().for_each(&mut add);
        add(SEPARATOR);
    }
    format!("{hash:016x}")
}

/// Parses an Alertmanager webhook notification: one signal per alert, in order.
///
/// `now` is unused (the payload says whether each alert fires); it is taken
/// so that every parser has the same shape.
pub fn parse_webhook(bytes: &[u8], _now: Timestamp) -> Result<Vec<AlertSignal>, FormatError> {
    let message: WebhookMessage = from_json(bytes)?;
    check_version(
        message.version.as_deref(),
        "4",
        "Grafana sends version 1; use the Grafana format",
    )?;
    let group_key = non_empty(message.group_key);
    message
        .alerts
        .into_iter()
        .enumerate()
        .map(|(i, alert)| {
            AlertParts {
                path: format!("alerts[{i}]"),
                resolved: alert.status == Status::Resolved,
                labels: alert.labels,
                annotations: alert.annotations,
                starts_at: not_zero(alert.starts_at),
                ends_at: not_zero(alert.ends_at),
                generator_url: alert.generator_url,
                fingerprint: alert.fingerprint,
                group_key: group_key.clone(),
                origin: "alertmanager",
            }
            .into_signal()
        })
        .collect()
}

/// Parses the body of `POST /api/v2/alerts`: a JSON array of alerts, one
/// signal per alert, validated as Alertmanager validates them.
///
/// As in Alertmanager, labels with empty values are dropped (before the
/// fingerprint is taken), at least one label must remain, label names may be
/// any non-empty UTF-8 (Alertmanager's default since 0.27; Prometheus 3 sends
/// such names), a missing `startsAt` becomes `endsAt` or `now`, `endsAt` may
/// not precede `startsAt`, and an alert whose `endsAt` is set and not after
/// `now` is resolved (a firing alert's `endsAt` is only a timeout, so its
/// signal has no `ends_at`).
pub fn parse_api_v2(bytes: &[u8], now: Timestamp) -> Result<Vec<AlertSignal>, FormatError> {
    let alerts: Vec<PostableAlert> = from_json(bytes)?;
    alerts
        .into_iter()
        .enumerate()
        .map(|(i, mut alert)| {
            let path = format!("[{i}]");
            alert.labels.retain(|_, value| !value.is_empty());
            if alert.labels.is_empty() {
                return Err(FormatError::new(
                    join(&path, "labels"),
                    "at least one label pair required",
                ));
            }
            if alert.annotations.keys().any(String::is_empty) {
                return Err(FormatError::new(
                    join(&path, "annotations"),
                    "annotation names must not be empty",
                ));
            }
            let ends_at = not_zero(alert.ends_at);
            let starts_at = not_zero(alert.starts_at).or(ends_at).unwrap_or(now);
            if ends_at.is_some_and(|ends_at| ends_at < starts_at) {
                return Err(FormatError::new(
                    join(&path, "endsAt"),
                    "start time must be before end time",
                ));
            }
            AlertParts {
                resolved: ends_at.is_some_and(|ends_at| ends_at <= now),
                path,
                labels: alert.labels,
                annotations: alert.annotations,
                starts_at: Some(starts_at),
                ends_at,
                generator_url: alert.generator_url,
                fingerprint: None,
                group_key: None,
                origin: "prometheus",
            }
            .into_signal()
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Firing,
    Resolved,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookMessage {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    group_key: Option<String>,
    alerts: Vec<WebhookAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookAlert {
    status: Status,
    #[serde(deserialize_with = "string_map")]
    labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "string_map")]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<Timestamp>,
    #[serde(default)]
    ends_at: Option<Timestamp>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostableAlert {
    #[serde(deserialize_with = "string_map")]
    labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "string_map")]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<Timestamp>,
    #[serde(default)]
    ends_at: Option<Timestamp>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
}

/// Refuses a payload `version` other than `expected` (a missing one is
/// accepted), with a `hint` about who sends other versions.
pub(crate) fn check_version(
    version: Option<&str>,
    expected: &str,
    hint: &str,
) -> Result<(), FormatError> {
    match version {
        None => Ok(()),
        Some(v) if v == expected => Ok(()),
        Some(v) => Err(FormatError::new(
            "version",
            format!("unsupported payload version `{v}`; expected `{expected}` ({hint})"),
        )),
    }
}

/// Refuses a label name Prometheus would never produce: it must match
/// `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn check_label_names(
    field: &str,
    labels: &BTreeMap<String, String>,
) -> Result<(), FormatError> {
    let valid = |name: &str| {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    match labels.keys().find(|name| !valid(name)) {
        Some(name) => Err(FormatError::new(
            field,
            format!(
                "{name:?} is not a valid label name: Prometheus label names match [a-zA-Z_][a-zA-Z0-9_]*"
            ),
        )),
        None => Ok(()),
    }
}

/// Go's zero `time.Time` (`0001-01-01T00:00:00Z`) means "unset".
pub(crate) fn not_zero(at: Option<Timestamp>) -> Option<Timestamp> {
    const GO_ZERO_SECONDS: i64 = -62_135_596_800;
    at.filter(|at| at.as_second() != GO_ZERO_SECONDS || at.subsec_nanosecond() != 0)
}

pub(crate) fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// One Alertmanager-shaped alert (webhook, API v2 or Grafana), deserialized
/// but not yet checked against the limits.
pub(crate) struct AlertParts {
    /// JSON path of the alert, e.g. `alerts[3]`.
    pub path: String,
    pub resolved: bool,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub generator_url: Option<String>,
    pub fingerprint: Option<String>,
    pub group_key: Option<String>,
    pub origin: &'static str,
}

/// Labels that identify where an alert fires, appended to its name when it
/// has no summary.
const IDENTIFYING: [&str; 5] = ["instance", "job", "service", "namespace", "pod"];

impl AlertParts {
    pub(crate) fn into_signal(self) -> Result<AlertSignal, FormatError> {
        let labels_path = join(&self.path, "labels");
        check_labels(&labels_path, &self.labels)?;
        // Grafana's own labels may be any text; Alertmanager's and
        // Prometheus's never are, and matchers rely on that.
        if self.origin != "grafana" {
            check_label_names(&labels_path, &self.labels)?;
        }
        let dedup_key = match non_empty(self.fingerprint) {
            Some(key) => {
                check_len(&join(&self.path, "fingerprint"), &key, limits::DEDUP_KEY)?;
                key
            }
            None => fingerprint(&self.labels),
        };
        let summary = summary(&self.path, &self.labels, &self.annotations)?;
        let source = match ["instance", "job"].into_iter().find_map(|name| {
            self.labels
                .get(name)
                .filter(|v| !v.is_empty())
                .map(|v| (name, v))
        }) {
            Some((name, value)) => {
                check_len(&join(&labels_path, name), value, limits::SOURCE)?;
                value.clone()
            }
            None => self.origin.to_string(),
        };
        let generator_url = non_empty(self.generator_url);
        if let Some(url) = &generator_url {
            check_len(&join(&self.path, "generatorURL"), url, limits::URL)?;
        }
        Ok(AlertSignal {
            action: if self.resolved {
                AlertAction::Resolve
            } else {
                AlertAction::Trigger
            },
            dedup_key: Some(dedup_key),
            summary,
            severity: self
                .labels
                .get("severity")
                .filter(|s| !s.is_empty())
                .cloned(),
            source,
            details: string_details(&self.annotations),
            labels: self.labels,
            links: Vec::new(),
            starts_at: self.starts_at,
            ends_at: if self.resolved { self.ends_at } else { None },
            generator_url,
            group_key: self.group_key,
            origin: self.origin.to_string(),
        })
    }
}

/// The `summary` annotation (refused if too long), else the `description`
/// annotation if it fits (descriptions are prose and often long; they stay in
/// the details in full), else the `alertname` label with identifying labels.
fn summary(
    path: &str,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> Result<String, FormatError> {
    if let Some(summary) = annotations.get("summary").filter(|s| !s.trim().is_empty()) {
        check_required(&join(path, "annotations.summary"), summary, limits::SUMMARY)?;
        return Ok(summary.clone());
    }
    if let Some(description) = annotations
        .get("description")
        .filter(|d| !d.trim().is_empty() && d.chars().count() <= limits::SUMMARY)
    {
        return Ok(description.clone());
    }
    let (mut summary, extra): (String, Vec<(&String, &String)>) = match labels.get("alertname") {
        Some(name) if !name.trim().is_empty() => (
            name.clone(),
            IDENTIFYING
                .iter()
                .filter_map(|k| labels.get_key_value(*k))
                .collect(),
        ),
        _ => ("Alert".to_string(), labels.iter().collect()),
    };
    let mut sep = " (";
    for (name, value) in extra {
        let part = format!("{sep}{name}={value}");
        if summary.chars().count() + part.chars().count() + 1 > limits::SUMMARY {
            break;
        }
        summary.push_str(&part);
        sep = ", ";
    }
    if sep == ", " {
        summary.push(')');
    }
    Ok(summary)
}

#[cfg(test)]
mod tests;
