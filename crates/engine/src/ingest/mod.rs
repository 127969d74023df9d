//! Alert ingestion: dedup, silences, grouping into incidents, auto-resolve.
//!
//! `apply` (`apply.rs`) turns one request's signals into alert, incident and
//! timeline writes inside a transaction; `grouping.rs` picks or opens the
//! incident a paging alert joins, `suppression.rs` decides what mutes an
//! alert and `resolve.rs` moves incidents on when their alerts resolve.
//! The single writer (`writer.rs`) runs `apply` for many requests per
//! transaction (group commit, `batch.rs`), either before answering
//! (`Ingestor::submit`) or just after the journal appender (`appender.rs`)
//! has journaled them (`Ingestor::accept`, `journal.rs`): either way nobody
//! gets a 2xx before their alerts are on disk. The two talk through
//! `queue.rs` only.

mod appender;
mod apply;
mod batch;
pub mod dead_letters;
mod grouping;
mod journal;
mod queue;
mod resolve;
mod suppression;
mod touched;
mod writer;

pub use apply::{apply, generated_key, STORM_KEY};
pub use batch::ingest_once;
pub use dead_letters::DeadLetters;
pub(crate) use resolve::resolve_expired;
pub use suppression::{silence_from_record, unsuppress_once, MAINTENANCE_PREFIX};
pub use touched::Touched;
pub use writer::Ingestor;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use warroom_domain::alert::AlertSignal;
use warroom_domain::alerting::{GroupingRule, InhibitRule, SeverityMap};
use warroom_domain::Playbook;

/// Where a request's alerts come from and go to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IngestSource {
    pub integration_id: Option<String>,
    /// Recorded as the actor on incident timelines (`integration:<name>`).
    pub integration_name: String,
    /// A playbook service id.
    pub service: String,
    /// Source severity word to playbook severity, on top of the defaults.
    pub severity_overrides: BTreeMap<String, String>,
    /// For a catch-all integration: the first route whose matchers match an
    /// alert's labels decides its service; unmatched alerts keep `service`.
    pub routes: Vec<Route>,
    /// Who the timelines name instead of `integration:<name>`: the person
    /// who acknowledged or resolved alerts from the web UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

/// Label matchers that send an alert to a service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Route {
    pub matchers: Vec<warroom_domain::alerting::Matcher>,
    /// A playbook service id.
    pub service: String,
}

impl IngestSource {
    /// The service an alert with these labels belongs to.
    pub fn service_for(&self, labels: &BTreeMap<String, String>) -> &str {
        self.routes
            .iter()
            .find(|r| warroom_domain::alerting::matches_all(&r.matchers, labels))
            .map_or(self.service.as_str(), |r| r.service.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IngestRequest {
    pub source: IngestSource,
    pub signals: Vec<AlertSignal>,
}

/// What happened to one signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new alert that pages: attached to an incident (new or grouped).
    Created,
    /// A repeat of a firing alert: counted, pages nobody again.
    Deduplicated,
    /// A new alert that a silence matched: stored, pages nobody.
    Suppressed,
    Acknowledged,
    Resolved,
    /// Acknowledge or resolve of an alert that is not firing: accepted, ignored.
    Ignored,
    /// The service has too many firing alerts: counted in its storm alert instead.
    Folded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignalResult {
    pub dedup_key: String,
    pub outcome: Outcome,
    pub alert_id: Option<i64>,
    pub incident_id: Option<String>,
}

/// How alerts become incidents, from the playbook.
#[derive(Debug, Clone)]
pub struct IngestRules {
    pub playbook: Arc<Playbook>,
    pub grouping: GroupingRule,
    /// Past this many firing alerts in a service, new ones fold into one storm alert.
    pub max_open_alerts_per_service: u32,
    /// Alertmanager API v2 alerts not re-sent within this resolve.
    pub resolve_timeout: jiff::SignedDuration,
    /// Alertmanager-style inhibition: a firing source mutes matching targets.
    pub inhibit_rules: Vec<InhibitRule>,
    /// Base URL of links in the notifications alert-opened incidents send.
    pub public_url: Arc<str>,
    /// The playbook's severity words, built once: every request without
    /// an integration override uses it as is.
    severities: SeverityMap,
}

impl IngestRules {
    pub fn with_public_url(mut self, public_url: &str) -> IngestRules {
        self.public_url = public_url.trim_end_matches('/').into();
        self
    }

    pub(crate) fn notify_context(&self) -> crate::notify::NotifyContext<'_> {
        crate::notify::NotifyContext {
            playbook: &self.playbook,
            public_url: &self.public_url,
        }
    }

    /// The rules the playbook's `alerting:` section declares.
    pub fn new(playbook: Arc<Playbook>) -> IngestRules {
        let alerting = playbook.alerting.clone();
        let severities = SeverityMap::default_for(&playbook);
        IngestRules {
            playbook,
            grouping: alerting.grouping,
            max_open_alerts_per_service: alerting.max_open_alerts_per_service,
            resolve_timeout: alerting.resolve_timeout,
            inhibit_rules: alerting.inhibit_rules,
            public_url: "http://localhost".into(),
            severities,
        }
    }
}

/// Actor prefix of incidents opened by alerts; only those auto-resolve.
pub const INTEGRATION_ACTOR: &str = "integration:";
