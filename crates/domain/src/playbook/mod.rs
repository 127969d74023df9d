//! The playbook: the config-as-code file that declares severities, categories,
//! roles, services, the incident ID format and phase checklists.
//!
//! These are the validated domain types; `parse` turns YAML into them and
//! reports errors with file, line, column and field.

use jiff::SignedDuration;

use crate::id_format::IdFormat;

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
}
