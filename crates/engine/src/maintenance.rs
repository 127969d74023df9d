//! Planned maintenance windows. A window is a silence on the `service` label
//! whose id starts with `mw_`, so alerts of those services are stored and
//! listed but page nobody until it ends.

use std::sync::Arc;

use jiff::Timestamp;
use warroom_domain::alerting::{MatchOp, Matcher, Silence};
use warroom_domain::{DomainError, Playbook};
use warroom_store::{AlertStore, StoreError};

use crate::ingest::MAINTENANCE_PREFIX;
use crate::silences::{NewSilence, Silences};

/// A window to schedule: playbook service ids (from `Maintenance::services`)
/// from `starts_at` to `ends_at`.
#[derive(Debug, Clone)]
pub struct NewWindow {
    pub services: Vec<String>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub description: String,
}

/// Maintenance windows over the silences they are made of.
#[derive(Clone)]
pub struct Maintenance<S> {
    silences: Silences<S>,
    playbook: Arc<Playbook>,
}

impl<S: AlertStore> Maintenance<S> {
    pub fn new(silences: Silences<S>, playbook: Arc<Playbook>) -> Maintenance<S> {
        Maintenance { silences, playbook }
    }

    /// The playbook ids of services given by id or name; `services[i]`
    /// names one the playbook lacks, and a window needs at least one.
    pub fn services(&self, names: &[String]) -> Result<Vec<String>, DomainError> {
        let mut services = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let def = self.playbook.service(name.trim()).ok_or_else(|| {
                DomainError::invalid(
                    format!("services[{i}]"),
                    format!("unknown service `{name}`"),
                )
            })?;
            services.push(def.id.clone());
        }
        if services.is_empty() {
            return Err(DomainError::invalid(
                "services",
                "name at least one service",
            ));
        }
        Ok(services)
    }

    /// Stores the window as a silence on its services.
    pub async fn schedule(&self, window: NewWindow, now: Timestamp) -> Result<Silence, StoreError> {
        // Service ids are slugs, so joining them is a safe regex alternation.
        let matcher = Matcher::new("service", MatchOp::Re, window.services.join("|"))
            .map_err(|e| DomainError::invalid("services", e.to_string()))?;
        let new = NewSilence {
            matchers: vec![matcher],
            starts_at: window.starts_at,
            ends_at: window.ends_at,
            created_by: window.created_by,
            comment: window.description,
        };
        self.silences.insert(MAINTENANCE_PREFIX, new, now).await
    }

    /// Windows that have not ended by `now`, newest first.
    pub async fn list(&self, now: Timestamp) -> Result<Vec<Silence>, StoreError> {
        self.silences
            .list_prefixed(MAINTENANCE_PREFIX, Some(now))
            .await
    }

    /// Ends a window at `now`. An ordinary silence's id is not found here,
    /// so this never ends one.
    pub async fn end(&self, id: &str, now: Timestamp) -> Result<Silence, StoreError> {
        if !id.starts_with(MAINTENANCE_PREFIX) {
            return Err(StoreError::NotFound(format!("maintenance window {id}")));
        }
        self.silences.expire(id, now).await
    }
}

/// The services a window covers: the alternatives of its `service` matcher.
pub fn window_services(window: &Silence) -> Vec<String> {
    window
        .matchers
        .iter()
        .find(|m| m.name() == "service")
        .map(|m| m.value().split('|').map(str::to_owned).collect())
        .unwrap_or_default()
}
