//! Parses Grafana unified alerting webhook notifications (contact point type
//! webhook, payload version 1,
//! <https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/>).
//!
//! The payload is Alertmanager's webhook payload (Grafana's alerting is built
//! on Alertmanager) plus Grafana's own fields; each alert becomes one signal
//! exactly as in [`super::alertmanager::parse_webhook`], with Grafana's
//! `values`/`valueString` added to the details and its silence, dashboard,
//! panel and image URLs as links.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use warroom_domain::alert::{limits, AlertLink, AlertSignal};

use super::alertmanager::{check_version, non_empty, not_zero, AlertParts, Status};
use super::{check_len, check_links, from_json, join, string_map, FormatError};

/// Parses a Grafana webhook notification: one signal per alert, in order.
///
/// `now` is unused (the payload says whether each alert fires); every parser
/// takes it.
pub fn parse(bytes: &[u8], _now: Timestamp) -> Result<Vec<AlertSignal>, FormatError> {
    let message: Message = from_json(bytes)?;
    check_version(
        message.version.as_deref(),
        "1",
        "Alertmanager sends version 4; use the Alertmanager format",
    )?;
    let group_key = non_empty(message.group_key);
    message
        .alerts
        .into_iter()
        .enumerate()
        .map(|(i, alert)| {
            let path = format!("alerts[{i}]");
            let mut links = Vec::new();
            for (name, url, text) in [
                ("dashboardURL", alert.dashboard_url, "Dashboard"),
                ("panelURL", alert.panel_url, "Panel"),
                ("silenceURL", alert.silence_url, "Silence"),
                ("imageURL", alert.image_url, "Image"),
            ] {
                if let Some(href) = non_empty(url) {
                    check_len(&join(&path, name), &href, limits::URL)?;
                    links.push(AlertLink {
                        href,
                        text: text.to_string(),
                    });
                }
            }
            check_links(&path, &links)?;
            let mut signal = AlertParts {
                path: path.clone(),
                resolved: alert.status == Status::Resolved,
                labels: alert.labels,
                annotations: alert.annotations,
                starts_at: not_zero(alert.starts_at),
                ends_at: not_zero(alert.ends_at),
                generator_url: alert.generator_url,
                fingerprint: alert.fingerprint,
                group_key: group_key.clone(),
                origin: "grafana",
            }
            .into_signal()?;
            signal.links = links;
            // Annotations come first; Grafana's values never overwrite one.
            for (key, value) in [
                ("values", alert.values),
                ("valueString", non_empty(alert.value_string).map(Into::into)),
            ] {
                if let Some(value) = value.filter(|v| !v.is_null()) {
                    signal.details.entry(key).or_insert(value);
                }
            }
            Ok(signal)
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    group_key: Option<String>,
    alerts: Vec<Alert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Alert {
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
    #[serde(default, rename = "silenceURL")]
    silence_url: Option<String>,
    #[serde(default, rename = "dashboardURL")]
    dashboard_url: Option<String>,
    #[serde(default, rename = "panelURL")]
    panel_url: Option<String>,
    #[serde(default, rename = "imageURL")]
    image_url: Option<String>,
    /// Grafana sends numbers, or `null` for a query that returned none.
    #[serde(default)]
    values: Option<serde_json::Value>,
    /// Older Grafana versions (9.x) send this instead of `values`.
    #[serde(default)]
    value_string: Option<String>,
}

#[cfg(test)]
mod tests {
    use warroom_domain::alert::AlertAction;

    use super::super::alertmanager::fingerprint;
    use super::*;

    fn now() -> Timestamp {
        "2021-10-12T10:00:00Z".parse().unwrap()
    }

    /// The example of Grafana's webhook notifier documentation.
    const DOCS_EXAMPLE: &str = r#"{
      "receiver": "My Super Webhook",
      "status": "firing",
      "orgId": 1,
      "alerts": [
        {
          "status": "firing",
          "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
          "annotations": {
            "description": "The system has high memory usage",
            "runbook_url": "https://myrunbook.com/runbook/1234",
            "summary": "This alert was triggered for zone us-1"
          },
          "startsAt": "2021-10-12T09:51:03.157076+02:00",
          "endsAt": "0001-01-01T00:00:00Z",
          "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
          "fingerprint": "c6eadffa33fcdf37",
          "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
          "dashboardURL": "",
          "panelURL": "",
          "values": {"B": 44.23943737541908, "C": 1}
        },
        {
          "status": "firing",
          "labels": {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
          "annotations": {
            "description": "The system has high CPU usage",
            "runbook_url": "https://myrunbook.com/runbook/1234",
            "summary": "This alert was triggered for zone eu-1"
          },
          "startsAt": "2021-10-12T09:56:03.157076+02:00",
          "endsAt": "0001-01-01T00:00:00Z",
          "generatorURL": "https://play.grafana.org/alerting/d1rdpdv7k/edit",
          "fingerprint": "bc97ff14869b13e3",
          "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1",
          "dashboardURL": "",
          "panelURL": "",
          "values": {"B": 44.23943737541908, "C": 1}
        }
      ],
      "groupLabels": {},
      "commonLabels": {"team": "blue"},
      "commonAnnotations": {},
      "externalURL": "https://play.grafana.org/",
      "version": "1",
      "groupKey": "{}:{}",
      "truncatedAlerts": 0,
      "title": "[FIRING:2]  (blue)",
      "state": "alerting",
      "message": "**Firing**\n\nLabels:\n - alertname = T2\n - team = blue\n - zone = us-1\n"
    }"#;

    #[test]
    fn docs_example() {
        let signals = parse(DOCS_EXAMPLE.as_bytes(), now()).unwrap();
        assert_eq!(signals.len(), 2);
        let s = &signals[0];
        assert_eq!(s.action, AlertAction::Trigger);
        assert_eq!(s.dedup_key.as_deref(), Some("c6eadffa33fcdf37"));
        assert_eq!(s.summary, "This alert was triggered for zone us-1");
        assert_eq!(s.severity, None);
        assert_eq!(s.source, "grafana");
        assert_eq!(s.group_key.as_deref(), Some("{}:{}"));
        assert_eq!(
            s.starts_at,
            Some("2021-10-12T07:51:03.157076Z".parse().unwrap())
        );
        assert_eq!(s.ends_at, None);
        assert_eq!(
            s.generator_url.as_deref(),
            Some("https://play.grafana.org/alerting/1afz29v7z/edit")
        );
        assert_eq!(s.links.len(), 1);
        assert_eq!(s.links[0].text, "Silence");
        assert_eq!(s.details["values"]["B"], 44.23943737541908);
        assert_eq!(
            s.details["runbook_url"],
            "https://myrunbook.com/runbook/1234"
        );
        assert_eq!(s.origin, "grafana");
        assert_eq!(signals[1].dedup_key.as_deref(), Some("bc97ff14869b13e3"));
    }

    #[test]
    fn grafana_9_resolved_with_value_string_and_no_fingerprint() {
        let body = r#"{"version": "1", "alerts": [{
            "status": "resolved",
            "labels": {"alertname": "DatasourceNoData", "grafana_folder": "ops", "severity": "warning"},
            "annotations": {},
            "startsAt": "2021-10-12T09:51:03Z",
            "endsAt": "2021-10-12T09:58:03Z",
            "valueString": "[ metric='' labels={} value=14151.331895396988 ]",
            "imageURL": "https://grafana.example.com/public/img/attachments/abc.png"
        }]}"#;
        let s = &parse(body.as_bytes(), now()).unwrap()[0];
        assert_eq!(s.action, AlertAction::Resolve);
        assert_eq!(s.summary, "DatasourceNoData");
        assert_eq!(s.severity.as_deref(), Some("warning"));
        assert_eq!(s.dedup_key, Some(fingerprint(&s.labels)));
        assert_eq!(s.ends_at, Some("2021-10-12T09:58:03Z".parse().unwrap()));
        assert_eq!(s.links[0].text, "Image");
        assert!(s.details["valueString"].as_str().unwrap().contains("14151"));
    }

    #[test]
    fn malformed_notifications_name_the_field() {
        let alert = |fields: &str| {
            format!(
                r#"{{"version": "1", "alerts": [{{"status": "firing", "labels": {{"alertname": "A"}}{fields}}}]}}"#
            )
        };
        let long_url = format!("https://{}", "u".repeat(limits::URL));
        let cases = [
            ("{".to_string(), ""),
            (r#"{"version": "4", "alerts": []}"#.to_string(), "version"),
            (
                r#"{"alerts": [{"status": "alerting", "labels": {}}]}"#.to_string(),
                "alerts[0].status",
            ),
            (
                r#"{"alerts": [{"status": "firing"}]}"#.to_string(),
                "alerts[0].labels",
            ),
            (
                r#"{"alerts": [{"status": "firing", "labels": {"a": null}}]}"#.to_string(),
                "alerts[0].labels.a",
            ),
            (r#"{"orgId": 1}"#.to_string(), "alerts"),
            (
                alert(r#", "values": {"B": 1}, "panelURL": 3"#),
                "alerts[0].panelURL",
            ),
            (
                alert(&format!(r#", "silenceURL": "{long_url}""#)),
                "alerts[0].silenceURL",
            ),
            (alert(r#", "endsAt": "soon""#), "alerts[0].endsAt"),
            (
                alert(&format!(
                    r#", "annotations": {{"summary": "{}"}}"#,
                    "s".repeat(limits::SUMMARY + 1)
                )),
                "alerts[0].annotations.summary",
            ),
            (format!("{}{}", "{\"a\":".repeat(40), "}".repeat(40)), ""),
        ];
        for (body, field) in cases {
            let err = parse(body.as_bytes(), now()).unwrap_err();
            assert_eq!(err.field, field, "{body}: {err}");
        }
    }
}
