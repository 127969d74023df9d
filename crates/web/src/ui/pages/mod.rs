//! One module per page (or group of pages): each gathers what its template
//! shows and handles the forms it posts.

pub mod account;
pub mod alerts;
pub mod bridge;
pub mod confirm;
pub mod incidents;
pub mod merge;
pub mod now;
pub mod oncall;
pub mod people;
pub mod playbook;
pub mod services;
pub mod silences;
pub mod workspace;

use serde::Serialize;
use warroom_domain::Playbook;

use super::view::severity_rank;

/// The playbook's severities as forms and filters list them.
#[derive(Debug, Serialize)]
pub struct SeverityOption {
    pub name: String,
    pub label: String,
    pub description: String,
    pub rank: usize,
}

pub fn severity_options(playbook: &Playbook) -> Vec<SeverityOption> {
    playbook
        .severities
        .iter()
        .map(|s| SeverityOption {
            name: s.name.clone(),
            label: s.label.clone(),
            description: s.description.clone(),
            rank: severity_rank(playbook, &s.name).min(4),
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct ServiceOption {
    pub id: String,
    pub name: String,
}

pub fn service_options(playbook: &Playbook) -> Vec<ServiceOption> {
    playbook
        .services
        .iter()
        .map(|s| ServiceOption {
            id: s.id.clone(),
            name: s.name.clone(),
        })
        .collect()
}

/// An empty form field is "not given".
pub fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}
