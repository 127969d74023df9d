//! Alerts: one signal from a monitoring source, normalized at the edge from
//! whatever format it arrived in (PagerDuty Events v2, Alertmanager, Grafana,
//! Sentry, UptimeRobot, generic JSON), and the limits every signal obeys.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The most a signal may carry; beyond these an edge parser refuses it (4xx).
pub mod limits {
    /// PagerDuty truncates summaries at 1024 characters; we refuse longer ones.
    pub const SUMMARY: usize = 1024;
    pub const DEDUP_KEY: usize = 255;
    pub const SOURCE: usize = 255;
    pub const LABELS: usize = 64;
    pub const LABEL_NAME: usize = 128;
    pub const LABEL_VALUE: usize = 1024;
    pub const LINKS: usize = 16;
    pub const URL: usize = 2048;
}

/// What the sender wants done with the alert identified by its dedup key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// It is firing (new, or still firing: a repeat bumps the counter).
    Trigger,
    /// Someone is on it (PagerDuty's `acknowledge`).
    Acknowledge,
    /// It stopped.
    Resolve,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertLink {
    pub href: String,
    #[serde(default)]
    pub text: String,
}

/// One normalized inbound alert event, as every edge parser produces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSignal {
    pub action: AlertAction,
    /// Identifies the alert within its service. `None` on a trigger means
    /// "generate one" (PagerDuty semantics); ack/resolve always carry one.
    pub dedup_key: Option<String>,
    pub summary: String,
    /// The source's own severity word (`critical`, `error`, `warning`,
    /// `info`, a `severity` label, ...); mapped into the playbook's scheme later.
    pub severity: Option<String>,
    /// Where it came from: host, job, tool.
    pub source: String,
    /// Identifying labels (Alertmanager labels, PagerDuty component/group/class).
    pub labels: BTreeMap<String, String>,
    /// Free-form details (Alertmanager annotations, PagerDuty custom_details).
    pub details: serde_json::Map<String, serde_json::Value>,
    pub links: Vec<AlertLink>,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub generator_url: Option<String>,
    /// Keeps alerts together in one incident (Alertmanager's `groupKey`).
    pub group_key: Option<String>,
    /// Which tool sent it: `pagerduty`, `alertmanager`, `prometheus`, `grafana`, ...
    pub origin: String,
}
