//! Parses PagerDuty Events API v2 events (`POST /v2/enqueue`,
//! <https://developer.pagerduty.com/docs/send-alert-event>), which is also what
//! Alertmanager's `pagerduty_configs` sends, and builds the responses
//! PagerDuty gives so that senders see what they expect.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use warroom_domain::alert::{limits, AlertAction, AlertLink, AlertSignal};

use super::{check_len, check_links, check_required, from_json, into_details, FormatError};

/// One accepted event: the integration it was sent to and the alert.
#[derive(Debug, Clone, PartialEq)]
pub struct PagerDutyEvent {
    /// Real PagerDuty keys are 32 characters; we accept 1 to 64.
    pub routing_key: String,
    pub signal: AlertSignal,
}

/// Longest routing key accepted.
pub const ROUTING_KEY_MAX: usize = 64;

/// Parses one Events API v2 event.
///
/// `payload` (with `summary`, `source` and `severity`) is required on
/// `trigger`; `dedup_key` on `acknowledge` and `resolve`. A `trigger`
/// without `dedup_key` yields `dedup_key: None`: the caller generates one and
/// returns it in [`EnqueueResponse::accepted`]. `component`, `group` and
/// `class` become labels; `custom_details` the details (an object as-is,
/// anything else under `details`); `client_url` (labelled with `client`, as
/// PagerDuty shows "View in {client}"), `links`, and each image's `src`
/// (labelled with `alt`) the links, in that order; `payload.timestamp` the
/// start of a trigger or the end of a resolve. `now` is unused; every parser
/// takes it.
pub fn parse(bytes: &[u8], _now: Timestamp) -> Result<PagerDutyEvent, FormatError> {
    let event: Event = from_json(bytes)?;
    check_required("routing_key", &event.routing_key, ROUTING_KEY_MAX)?;
    let action = match event.event_action {
        EventAction::Trigger => AlertAction::Trigger,
        EventAction::Acknowledge => AlertAction::Acknowledge,
        EventAction::Resolve => AlertAction::Resolve,
    };
    let dedup_key = event.dedup_key.filter(|key| !key.is_empty());
    match &dedup_key {
        Some(key) => check_len("dedup_key", key, limits::DEDUP_KEY)?,
        None if action != AlertAction::Trigger => {
            return Err(FormatError::new(
                "dedup_key",
                "missing; acknowledge and resolve events need the dedup_key of the alert",
            ))
        }
        None => {}
    }
    let payload = match event.payload {
        Some(payload) => payload,
        None if action == AlertAction::Trigger => {
            return Err(FormatError::new(
                "payload",
                "missing; trigger events need a payload",
            ))
        }
        None => Payload::default(),
    };
    let trigger = action == AlertAction::Trigger;
    let summary = payload.summary.unwrap_or_default();
    let source = payload.source.unwrap_or_default();
    if trigger {
        check_required("payload.summary", &summary, limits::SUMMARY)?;
        check_required("payload.source", &source, limits::SOURCE)?;
        if payload.severity.is_none() {
            return Err(FormatError::new(
                "payload.severity",
                "missing; one of critical, error, warning, info",
            ));
        }
    } else {
        check_len("payload.summary", &summary, limits::SUMMARY)?;
        check_len("payload.source", &source, limits::SOURCE)?;
    }

    let mut labels = std::collections::BTreeMap::new();
    for (name, value) in [
        ("component", payload.component),
        ("group", payload.group),
        ("class", payload.class),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            check_len(&format!("payload.{name}"), &value, limits::LABEL_VALUE)?;
            labels.insert(name.to_string(), value);
        }
    }

    let mut links = Vec::new();
    if let Some(href) = event.client_url.filter(|u| !u.is_empty()) {
        check_len("client_url", &href, limits::URL)?;
        let text = event
            .client
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "client".into());
        links.push(AlertLink { href, text });
    }
    for (i, link) in event.links.unwrap_or_default().into_iter().enumerate() {
        check_required(&format!("links[{i}].href"), &link.href, limits::URL)?;
        links.push(AlertLink {
            href: link.href,
            text: link.text.unwrap_or_default(),
        });
    }
    for (i, image) in event.images.unwrap_or_default().into_iter().enumerate() {
        check_required(&format!("images[{i}].src"), &image.src, limits::URL)?;
        links.push(AlertLink {
            href: image.src,
            text: image.alt.unwrap_or_default(),
        });
    }
    check_links("links", &links)?;

    let signal = AlertSignal {
        action,
        dedup_key,
        summary,
        severity: payload.severity.map(|s| s.as_str().to_string()),
        source,
        labels,
        details: into_details(payload.custom_details.unwrap_or_default()),
        links,
        starts_at: if trigger { payload.timestamp } else { None },
        ends_at: if action == AlertAction::Resolve {
            payload.timestamp
        } else {
            None
        },
        generator_url: None,
        group_key: None,
        origin: "pagerduty".to_string(),
    };
    Ok(PagerDutyEvent {
        routing_key: event.routing_key,
        signal,
    })
}

#[derive(Deserialize)]
struct Event {
    routing_key: String,
    event_action: EventAction,
    #[serde(default)]
    dedup_key: Option<String>,
    #[serde(default)]
    payload: Option<Payload>,
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    client_url: Option<String>,
    #[serde(default)]
    links: Option<Vec<Link>>,
    #[serde(default)]
    images: Option<Vec<Image>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum EventAction {
    Trigger,
    Acknowledge,
    Resolve,
}

#[derive(Deserialize, Default)]
struct Payload {
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    timestamp: Option<Timestamp>,
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    custom_details: Option<serde_json::Value>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Severity {
    Critical,
    Error,
    Warning,
    Info,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Deserialize)]
struct Link {
    href: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct Image {
    src: String,
    #[serde(default)]
    alt: Option<String>,
}

/// The JSON body PagerDuty answers `/v2/enqueue` with, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnqueueResponse {
    pub status: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
}

impl EnqueueResponse {
    /// Sent with `202 Accepted`:
    /// `{"status":"success","message":"Event processed","dedup_key":"..."}`.
    pub fn accepted(dedup_key: impl Into<String>) -> EnqueueResponse {
        EnqueueResponse {
            status: "success".into(),
            message: "Event processed".into(),
            dedup_key: Some(dedup_key.into()),
            errors: None,
        }
    }

    /// Sent with `400 Bad Request`:
    /// `{"status":"invalid event","message":"Event object is invalid","errors":[...]}`.
    pub fn invalid_event(errors: Vec<String>) -> EnqueueResponse {
        EnqueueResponse {
            status: "invalid event".into(),
            message: "Event object is invalid".into(),
            dedup_key: None,
            errors: Some(errors),
        }
    }

    /// Sent with `429 Too Many Requests`.
    pub fn throttled() -> EnqueueResponse {
        EnqueueResponse {
            status: "throttle event".into(),
            message: "Requests for this service are arriving too quickly.  Please retry later."
                .into(),
            dedup_key: None,
            errors: None,
        }
    }
}

impl From<&FormatError> for EnqueueResponse {
    fn from(err: &FormatError) -> EnqueueResponse {
        EnqueueResponse::invalid_event(vec![err.to_string()])
    }
}

#[cfg(test)]
mod tests;
