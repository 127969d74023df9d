//! The links shown with an alert, runbook first: the `runbook_url` its
//! sender gave (an Alertmanager or Grafana annotation, a PagerDuty custom
//! detail), the links it sent (Grafana dashboard and panel, Sentry issue,
//! ...), its generator (the Prometheus graph, the Grafana rule), then its
//! service's `links:` from the playbook. Only http(s) URLs are shown, each once.

use serde::Serialize;
use warroom_domain::Playbook;
use warroom_store::AlertRecord;

/// One link as the templates show it (`macros.html`, `alert_links`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkView {
    pub text: String,
    pub href: String,
}

/// The links of `alert`, in the order a responder wants them.
pub fn alert_links(alert: &AlertRecord, playbook: &Playbook) -> Vec<LinkView> {
    let mut links: Vec<LinkView> = Vec::new();
    let mut add = |text: &str, href: &str| {
        let href = href.trim();
        let web = href.starts_with("https://") || href.starts_with("http://");
        if web && !links.iter().any(|l| l.href == href) {
            let text = match text.trim() {
                "" => "Link",
                text => text,
            };
            links.push(LinkView {
                text: text.to_owned(),
                href: href.to_owned(),
            });
        }
    };
    if let Some(runbook) = alert.details.get("runbook_url").and_then(|v| v.as_str()) {
        add("Runbook", runbook);
    }
    for link in &alert.links {
        add(&link.text, &link.href);
    }
    if let Some(url) = &alert.generator_url {
        let text = match alert.origin.as_str() {
            "grafana" => "Alert rule",
            "prometheus" | "alertmanager" => "Prometheus graph",
            _ => "Source",
        };
        add(text, url);
    }
    if let Some(service) = playbook.service(&alert.service) {
        for link in &service.links {
            add(&link.name, &link.url);
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;
    use warroom_domain::alert::{AlertLink, AlertStatus};

    fn alert(origin: &str) -> AlertRecord {
        let at = "2026-01-01T00:00:00Z".parse().unwrap();
        AlertRecord {
            id: 1,
            service: "database".into(),
            dedup_key: "k".into(),
            status: AlertStatus::Firing,
            summary: "Disk full".into(),
            severity: "SEV-2".into(),
            source_severity: None,
            source: "db-1".into(),
            origin: origin.into(),
            integration_id: None,
            labels: Default::default(),
            details: Default::default(),
            links: Vec::new(),
            generator_url: None,
            group_key: String::new(),
            incident_id: None,
            suppressed_by: None,
            event_count: 1,
            starts_at: None,
            ends_at: None,
            first_seen_at: at,
            last_seen_at: at,
            acknowledged_at: None,
            resolved_at: None,
        }
    }

    fn texts(links: &[LinkView]) -> Vec<(&str, &str)> {
        links
            .iter()
            .map(|l| (l.text.as_str(), l.href.as_str()))
            .collect()
    }

    #[test]
    fn runbook_first_then_sender_generator_and_service_links() {
        let playbook = warroom_domain::Playbook::parse(
            "p.yaml",
            "services:\n  - id: database\n    name: Database\n    links:\n      runbook: https://wiki/db\n      dashboard: https://grafana/d/pg\n",
        )
        .unwrap();
        let mut a = alert("grafana");
        a.details
            .insert("runbook_url".into(), "https://runbooks/disk".into());
        a.links = vec![
            AlertLink {
                href: "https://grafana/d/pg".into(),
                text: "Dashboard".into(),
            },
            AlertLink {
                href: "javascript:alert(1)".into(),
                text: "Click".into(),
            },
            AlertLink {
                href: "https://img".into(),
                text: String::new(),
            },
        ];
        a.generator_url = Some("https://grafana/alerting/grafana/abc/view".into());
        assert_eq!(
            texts(&alert_links(&a, &playbook)),
            [
                ("Runbook", "https://runbooks/disk"),
                ("Dashboard", "https://grafana/d/pg"),
                ("Link", "https://img"),
                ("Alert rule", "https://grafana/alerting/grafana/abc/view"),
                ("runbook", "https://wiki/db"),
            ]
        );
        let mut b = alert("prometheus");
        b.generator_url = Some("http://prometheus:9090/graph?g0.expr=up".into());
        b.service = "web".into();
        assert_eq!(
            texts(&alert_links(&b, &playbook)),
            [(
                "Prometheus graph",
                "http://prometheus:9090/graph?g0.expr=up"
            )]
        );
    }
}
