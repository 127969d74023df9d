//! Plain-text views for `warroom integration|alert|silence`: tables, one
//! alert's fields, and the ready-to-paste setup shown with a new integration
//! key. Pure functions from wire types to strings.

use std::fmt::Write as _;

use jiff::Timestamp;
use serde_json::Value;
use url::Url;

use super::alerting_wire::{Alert, Integration, IssuedIntegration, Silence};
use super::render::{clean, elapsed, minute, pad, text_width, truncate, GAP};

/// The last column of a table never shrinks below this.
const MIN_LAST_WIDTH: usize = 16;

/// A table with a header line; every column but the last is padded to its
/// widest cell, and the last is cut so lines fit in `width` columns.
pub(super) fn table<const N: usize>(
    header: [&str; N],
    rows: &[[String; N]],
    width: usize,
) -> String {
    let mut widths = header.map(text_width);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(text_width(cell));
        }
    }
    let used: usize = widths[..N - 1].iter().map(|w| w + GAP.len()).sum();
    let last_width = width.saturating_sub(used).max(MIN_LAST_WIDTH);
    let mut out = String::new();
    for row in std::iter::once(&header.map(str::to_owned)).chain(rows) {
        for (cell, w) in row[..N - 1].iter().zip(widths) {
            out.push_str(&pad(cell, w));
            out.push_str(GAP);
        }
        out.push_str(&truncate(&row[N - 1], last_width));
        out.push('\n');
    }
    out
}

fn minute_or_dash(at: Option<Timestamp>) -> String {
    at.map_or_else(|| "-".to_owned(), minute)
}

/// `integration list`: ID, SERVICE, NAME, KIND, KEY, CREATED, REVOKED.
pub(super) fn integration_table(integrations: &[Integration], width: usize) -> String {
    let rows: Vec<[String; 7]> = integrations
        .iter()
        .map(|i| {
            [
                clean(&i.id),
                clean(&i.service),
                clean(&i.name),
                clean(&i.kind),
                format!("{}…", clean(&i.key_hint)),
                minute(i.created_at),
                minute_or_dash(i.revoked_at),
            ]
        })
        .collect();
    let header = ["ID", "SERVICE", "NAME", "KIND", "KEY", "CREATED", "REVOKED"];
    table(header, &rows, width)
}

/// What `integration create` prints: the key, prominently, then how to
/// send alerts to it from a tool of the integration's kind.
pub(super) fn issued_integration(issued: &IssuedIntegration, server: &Url) -> String {
    let i = &issued.integration;
    let (kind, key) = (clean(&i.kind), clean(&issued.key));
    format!(
        "Created integration {}: {} ({kind}) for service {}\n\n\
         Integration key (shown only this once; store it now):\n\n    {key}\n\n{}",
        clean(&i.id),
        clean(&i.name),
        clean(&i.service),
        integration_setup(server, &kind, &clean(&i.name), &key)
    )
}

/// Ready-to-paste configuration for sending alerts of `kind` to `server`.
pub(super) fn integration_setup(server: &Url, kind: &str, name: &str, key: &str) -> String {
    match kind {
        "alertmanager" => {
            let webhook = ingest_url(server, &["integrations", "alertmanager", key]);
            let enqueue = ingest_url(server, &["v2", "enqueue"]);
            format!(
                "Alertmanager (alertmanager.yml): add a receiver and name it in a route.\n\n\
                 receivers:\n  - name: warroom-{name}\n    webhook_configs:\n      \
                 - url: {webhook}\n        send_resolved: true\n\n\
                 Or, through Alertmanager's PagerDuty integration:\n\n\
                 receivers:\n  - name: warroom-{name}\n    pagerduty_configs:\n      \
                 - routing_key: {key}\n        url: {enqueue}\n"
            )
        }
        "prometheus" => {
            let prefix = ingest_url(server, &["integrations", "prometheus", key, ""]);
            let prefix_path = prefix.path();
            let host = server.host_str().unwrap_or("localhost");
            let port = server.port_or_known_default().unwrap_or(80);
            format!(
                "Prometheus (prometheus.yml): send alerts straight to Warroom, which takes\n\
                 Alertmanager's place. Prometheus posts them to\n  {prefix}api/v2/alerts\n\n\
                 alerting:\n  alertmanagers:\n    - scheme: {}\n      path_prefix: {prefix_path}\n      \
                 static_configs:\n        - targets: ['{host}:{port}']\n",
                server.scheme()
            )
        }
        "pagerduty" => {
            let enqueue = ingest_url(server, &["v2", "enqueue"]);
            format!(
                "PagerDuty Events API v2 senders: use this events URL and routing key.\n\n  \
                 Events URL:  {enqueue}\n  Routing key: {key}\n\n\
                 Try it (send \"event_action\": \"resolve\" with the same dedup_key to resolve):\n\n\
                 curl -sS -X POST {} \\\n  -H 'Content-Type: application/json' \\\n  -d '{{\n  \
                 \"routing_key\": \"{key}\",\n  \"event_action\": \"trigger\",\n  \
                 \"dedup_key\": \"warroom-test\",\n  \"payload\": {{\"summary\": \"Test event from \
                 warroom\", \"source\": \"warroom-cli\", \"severity\": \"warning\"}}\n}}'\n",
                shell_quote(enqueue.as_str())
            )
        }
        other => {
            let url = ingest_url(server, &["integrations", other, key]);
            let (how, body) = match other {
                "grafana" => (
                    "Grafana: Alerting > Contact points > Add contact point, integration\n\
                     Webhook, with this URL.",
                    "a body in Grafana's webhook format",
                ),
                "sentry" => (
                    "Sentry: give this URL as a WebHooks plugin callback URL or as an\n\
                     internal integration's webhook URL.",
                    "a body in Sentry's webhook format",
                ),
                "uptimerobot" => (
                    "UptimeRobot: add an alert contact of type Webhook with this URL to notify.",
                    "a body in UptimeRobot's webhook format",
                ),
                "generic" => (
                    "Any tool that can POST JSON: send it to this URL; the integration's\n\
                     `mapping` config says where each field is.",
                    "a JSON body the mapping understands",
                ),
                _ => ("Send alerts to this URL.", "an alert body"),
            };
            format!(
                "{how}\n\n  URL: {url}\n\nTry it with {body} in alert.json:\n\n\
                 curl -sS -X POST {} \\\n  -H 'Content-Type: application/json' \\\n  \
                 --data @alert.json\n",
                shell_quote(url.as_str())
            )
        }
    }
}

/// `{server}/{path...}` (outside `/api/v1`), each segment percent-encoded;
/// an empty last segment gives a trailing slash.
fn ingest_url(server: &Url, path: &[&str]) -> Url {
    let mut url = server.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(path);
    }
    url
}

/// `text` in single quotes for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `firing`, `resolved`, or `suppressed (silence:sil_…)` for a firing alert
/// something keeps from paging.
fn alert_status(a: &Alert) -> String {
    match &a.suppressed_by {
        Some(by) if a.status == "firing" => format!("suppressed ({})", clean(by)),
        _ => clean(&a.status),
    }
}

/// `alert list`: ID, SERVICE, SEV, STATUS, COUNT, INCIDENT, LAST SEEN, SUMMARY.
pub(super) fn alert_table(alerts: &[Alert], width: usize) -> String {
    let rows: Vec<[String; 8]> = alerts
        .iter()
        .map(|a| {
            [
                a.id.to_string(),
                clean(&a.service),
                clean(&a.severity),
                alert_status(a),
                a.event_count.to_string(),
                a.incident_id
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), clean),
                minute(a.last_seen_at),
                clean(&a.summary),
            ]
        })
        .collect();
    let header = [
        "ID",
        "SERVICE",
        "SEV",
        "STATUS",
        "COUNT",
        "INCIDENT",
        "LAST SEEN",
        "SUMMARY",
    ];
    table(header, &rows, width)
}

/// `alert show`: every field, then labels (one per line, in matcher
/// syntax), details and links.
pub(super) fn alert_details(a: &Alert) -> String {
    let mut out = format!("Alert {}  {}\n", a.id, clean(&a.summary));
    let mut field = |label: &str, value: String| {
        let _ = writeln!(out, "  {:<14}{value}", format!("{label}:"));
    };
    field("Service", clean(&a.service));
    field("Status", alert_status(a));
    let severity = match &a.source_severity {
        Some(s) => format!("{} (source: {})", clean(&a.severity), clean(s)),
        None => clean(&a.severity),
    };
    field("Severity", severity);
    let incident = a
        .incident_id
        .as_deref()
        .map_or_else(|| "-".to_owned(), clean);
    field("Incident", incident);
    if let (Some(by), "resolved") = (&a.suppressed_by, a.status.as_str()) {
        field("Suppressed by", clean(by));
    }
    field("Dedup key", clean(&a.dedup_key));
    field("Source", clean(&a.source));
    field("Origin", clean(&a.origin));
    field("Events", a.event_count.to_string());
    for (label, at) in [
        ("Starts", a.starts_at),
        ("Ends", a.ends_at),
        ("First seen", Some(a.first_seen_at)),
        ("Last seen", Some(a.last_seen_at)),
        ("Acknowledged", a.acknowledged_at),
        ("Resolved", a.resolved_at),
    ] {
        if let Some(at) = at {
            field(label, format!("{} UTC", minute(at)));
        }
    }
    if let Some(url) = &a.generator_url {
        field("Generator", clean(url));
    }
    if !a.labels.is_empty() {
        out.push_str("\nLabels:\n");
        for (name, value) in &a.labels {
            let _ = writeln!(out, "  {}=\"{}\"", clean(name), quoted(value));
        }
    }
    if !a.details.is_empty() {
        out.push_str("\nDetails:\n");
        for (name, value) in &a.details {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let mut lines = text.lines();
            let first = lines.next().map(clean).unwrap_or_default();
            let _ = writeln!(out, "  {}: {first}", clean(name));
            for more in lines {
                let _ = writeln!(out, "    {}", clean(more));
            }
        }
    }
    if !a.links.is_empty() {
        out.push_str("\nLinks:\n");
        for link in &a.links {
            let _ = match link.text.trim() {
                "" => writeln!(out, "  {}", clean(&link.href)),
                text => writeln!(out, "  {}: {}", clean(text), clean(&link.href)),
            };
        }
    }
    out
}

/// A label value escaped as in Alertmanager matchers (`\"`, `\\`, `\n`).
fn quoted(value: &str) -> String {
    let escaped = value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n");
    clean(&escaped)
}

/// `silence list`: ID, STATE, STARTS, ENDS, BY, MATCHERS, COMMENT.
pub(super) fn silence_table(silences: &[Silence], width: usize) -> String {
    let rows: Vec<[String; 7]> = silences
        .iter()
        .map(|s| {
            [
                clean(&s.id),
                clean(&s.state),
                minute(s.starts_at),
                minute(s.ends_at),
                clean(&s.created_by),
                clean(&s.matchers),
                clean(&s.comment),
            ]
        })
        .collect();
    let header = ["ID", "STATE", "STARTS", "ENDS", "BY", "MATCHERS", "COMMENT"];
    table(header, &rows, width)
}

/// What `silence create` prints: the id and the window.
pub(super) fn created_silence(s: &Silence) -> String {
    let length = elapsed(s.ends_at.duration_since(s.starts_at));
    format!(
        "Created silence {} ({}): {}\n  From:  {} UTC\n  Until: {} UTC ({length})",
        clean(&s.id),
        clean(&s.state),
        clean(&s.matchers),
        minute(s.starts_at),
        minute(s.ends_at),
    )
}

#[cfg(test)]
mod tests;
