//! The playbook: the config-as-code file that declares severities, categories,
//! roles, services, the incident ID format, phase checklists, how alerts
//! become incidents and who is paged for them.
//!
//! These are the validated domain types; `parse` turns YAML into them and
//! reports errors with file, line, column and field.

use jiff::SignedDuration;

use crate::alerting::{GroupingRule, InhibitRule};
use crate::id_format::IdFormat;
use crate::notify::{Audience, ChannelConfig, NotificationsConfig};
use crate::oncall::{EscalationPolicy, Schedule, Team, Urgency, User, Vendor};

mod parse;

pub use parse::PlaybookError;

/// A whole validated playbook. Lookups by name are case-insensitive.
#[derive(Debug, Clone)]
pub struct Playbook {
    pub incident_id_format: IdFormat,
    /// Ordered from most to least severe (index 0 is the worst).
    pub severities: Vec<SeverityLevel>,
    pub categories: Vec<Category>,
    pub roles: Vec<RoleDef>,
    pub services: Vec<ServiceDef>,
    /// Phase checklists in the order they are worked.
    pub phases: Vec<PhaseDef>,
    /// How incoming alerts are grouped, capped, resolved and inhibited.
    pub alerting: AlertingConfig,
    /// Who can be paged, when and in what order.
    pub oncall: OncallConfig,
    /// Where messages go, to whom, and how they read.
    pub notifications: NotificationsConfig,
}

/// One level of the severity scheme, e.g. `SEV-1`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeverityLevel {
    /// Short name used everywhere (`SEV-1`, `P2`); unique.
    pub name: String,
    /// Human label (`Critical`, `High`).
    pub label: String,
    pub description: String,
    /// How quickly someone must respond; `None` means "next business day"-style, no timer.
    pub response_target: Option<SignedDuration>,
    /// How quickly it should be resolved.
    pub resolution_target: Option<SignedDuration>,
    /// How often stakeholders get an update while it is open.
    pub update_every: Option<SignedDuration>,
    /// Escalate to the next level this often while unresolved.
    pub escalate_every: Option<SignedDuration>,
    /// Who must be told, and within how long of declaration.
    pub notify: Vec<NotifyRule>,
    /// Which of the paged users' notification rules apply (`high` when left out).
    pub urgency: Urgency,
    /// The call bridge and chat channel an incident of this level starts with.
    pub bridge: crate::incident::Bridge,
}

/// "Notify management within 15 minutes."
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyRule {
    pub audience: String,
    pub within: SignedDuration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleDef {
    pub name: String,
    pub description: String,
}

/// Something that breaks (API, Database, Payments). `id` is a slug used in URLs and the CLI.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDef {
    pub id: String,
    pub name: String,
    pub description: String,
    /// What an incident opened by alerts does once all of its alerts resolve.
    pub when_alerts_resolve: AlertsResolved,
    /// Name of the escalation policy that pages for this service; `None`
    /// uses [`OncallConfig::default_escalation_policy`].
    pub escalation_policy: Option<String>,
    /// Where a responder looks first (runbook, dashboard, ...), shown with
    /// the service's alerts, in the order written.
    pub links: Vec<ServiceLink>,
}

/// A named http(s) link of a service: `runbook: https://wiki/db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLink {
    pub name: String,
    pub url: String,
}

/// The most links a service may have.
pub const MAX_SERVICE_LINKS: usize = 10;

/// What happens to an incident opened by alerts when every alert of it resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertsResolved {
    /// The incident resolves with its alerts.
    #[default]
    Resolve,
    /// The incident moves to monitoring and a person resolves it.
    Monitor,
}

impl AlertsResolved {
    /// Reads the playbook spelling: `resolve` or `monitor`.
    pub fn parse(text: &str) -> Option<AlertsResolved> {
        match text {
            "resolve" => Some(AlertsResolved::Resolve),
            "monitor" => Some(AlertsResolved::Monitor),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertsResolved::Resolve => "resolve",
            AlertsResolved::Monitor => "monitor",
        }
    }
}

/// The playbook's `alerting:` section. Every key is optional; see [`Default`]
/// for the values of the keys left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertingConfig {
    /// How alerts of one service are grouped into incidents.
    pub grouping: GroupingRule,
    /// Past this many open alerts in one service, new alerts fold into one
    /// storm alert. From 1 to [`AlertingConfig::MAX_OPEN_ALERTS_LIMIT`].
    pub max_open_alerts_per_service: u32,
    /// An alert received through the Alertmanager API v2 resolves when it is
    /// not sent again within this long. Positive.
    pub resolve_timeout: SignedDuration,
    /// Alertmanager-style inhibition, each rule with at least one source and
    /// one target matcher.
    pub inhibit_rules: Vec<InhibitRule>,
}

impl AlertingConfig {
    pub const DEFAULT_MAX_OPEN_ALERTS_PER_SERVICE: u32 = 10_000;
    /// The largest `max_open_alerts_per_service` a playbook may set.
    pub const MAX_OPEN_ALERTS_LIMIT: u32 = 1_000_000;
    pub const DEFAULT_RESOLVE_TIMEOUT: SignedDuration = SignedDuration::from_mins(5);
}

/// Group by service within a 5-minute window, at most 10,000 open alerts per
/// service, a 5-minute resolve timeout and no inhibit rules.
impl Default for AlertingConfig {
    fn default() -> AlertingConfig {
        AlertingConfig {
            grouping: GroupingRule::default(),
            max_open_alerts_per_service: AlertingConfig::DEFAULT_MAX_OPEN_ALERTS_PER_SERVICE,
            resolve_timeout: AlertingConfig::DEFAULT_RESOLVE_TIMEOUT,
            inhibit_rules: Vec::new(),
        }
    }
}

/// The playbook's `oncall:` section: the directory of people, their
/// schedules and the escalation policies that page them. Empty by default.
///
/// As parsed, every name is a valid handle, unique within its kind; every
/// team member, layer user and policy target names a defined user, team or
/// schedule; users and policies pass their `validate()`; and every contact
/// method is verified (the playbook's author vouches for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OncallConfig {
    pub users: Vec<User>,
    pub teams: Vec<Team>,
    pub vendors: Vec<Vendor>,
    pub schedules: Vec<Schedule>,
    pub escalation_policies: Vec<EscalationPolicy>,
    /// The policy of services that do not name one; `None`: such services page nobody.
    pub default_escalation_policy: Option<String>,
    /// An acknowledgement lapses after this long and paging starts again;
    /// `None`: it lasts until the incident resolves.
    pub acknowledge_timeout: Option<SignedDuration>,
    /// How long the acknowledge link in a page keeps working.
    pub ack_link_ttl: SignedDuration,
}

impl OncallConfig {
    pub const DEFAULT_ACK_LINK_TTL: SignedDuration = SignedDuration::from_hours(24);
}

/// Nobody to page, no acknowledge timeout, acknowledge links valid for 24 hours.
impl Default for OncallConfig {
    fn default() -> OncallConfig {
        OncallConfig {
            users: Vec::new(),
            teams: Vec::new(),
            vendors: Vec::new(),
            schedules: Vec::new(),
            escalation_policies: Vec::new(),
            default_escalation_policy: None,
            acknowledge_timeout: None,
            ack_link_ttl: OncallConfig::DEFAULT_ACK_LINK_TTL,
        }
    }
}

/// A phase of the incident checklist (Detection, Notification, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseDef {
    /// Slug, unique (`detection`).
    pub id: String,
    pub name: String,
    /// Free text such as "0-5 min".
    pub target: Option<String>,
    pub items: Vec<String>,
}

impl Playbook {
    pub fn severity(&self, name: &str) -> Option<&SeverityLevel> {
        self.severities
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// 0 is the most severe level.
    pub fn severity_rank(&self, name: &str) -> Option<usize> {
        self.severities
            .iter()
            .position(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// How urgently incidents of this severity page; [`Urgency::High`] for a
    /// severity the playbook does not know, so an unknown level never pages softly.
    pub fn urgency_for(&self, severity: &str) -> Urgency {
        self.severity(severity)
            .map_or_else(Urgency::default, |s| s.urgency)
    }

    pub fn category(&self, name: &str) -> Option<&Category> {
        self.categories
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    pub fn role(&self, name: &str) -> Option<&RoleDef> {
        self.roles
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }

    /// Finds a service by id or by name.
    pub fn service(&self, id_or_name: &str) -> Option<&ServiceDef> {
        self.services.iter().find(|s| {
            s.id.eq_ignore_ascii_case(id_or_name) || s.name.eq_ignore_ascii_case(id_or_name)
        })
    }

    pub fn phase(&self, id: &str) -> Option<&PhaseDef> {
        self.phases.iter().find(|p| p.id.eq_ignore_ascii_case(id))
    }

    /// What an alert-opened incident of this service (found as [`Playbook::service`]
    /// finds it) does when its alerts resolve; [`AlertsResolved::Resolve`] for a
    /// service the playbook does not know.
    pub fn when_alerts_resolve(&self, service_id: &str) -> AlertsResolved {
        self.service(service_id)
            .map_or_else(AlertsResolved::default, |s| s.when_alerts_resolve)
    }

    /// The escalation policy that pages for this service (found as
    /// [`Playbook::service`] finds it): its own, else the default one, else
    /// `None`. A service the playbook does not know gets the default.
    pub fn escalation_policy_for(&self, service_id: &str) -> Option<&EscalationPolicy> {
        let name = self
            .service(service_id)
            .and_then(|s| s.escalation_policy.as_deref())
            .or(self.oncall.default_escalation_policy.as_deref())?;
        self.escalation_policy(name)
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.oncall
            .users
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(name))
    }

    pub fn team(&self, name: &str) -> Option<&Team> {
        self.oncall
            .teams
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }

    pub fn vendor(&self, name: &str) -> Option<&Vendor> {
        self.oncall
            .vendors
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
    }

    pub fn schedule(&self, name: &str) -> Option<&Schedule> {
        self.oncall
            .schedules
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    pub fn escalation_policy(&self, name: &str) -> Option<&EscalationPolicy> {
        self.oncall
            .escalation_policies
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// A channel of `notifications.channels` by name.
    pub fn channel(&self, name: &str) -> Option<&ChannelConfig> {
        self.notifications.channel(name)
    }

    /// An audience of `notifications.audiences` by name (case is ignored).
    pub fn audience(&self, name: &str) -> Option<&Audience> {
        self.notifications.audience(name)
    }
}
