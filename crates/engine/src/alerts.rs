//! Reading alerts: the list, its groups and their counts, one alert, how
//! many fire, and what suppresses one. Only the ingest writer (`ingest`)
//! changes alerts: acknowledging or resolving them from the web becomes
//! ingest requests (`acknowledge_or_resolve`).

use std::collections::BTreeMap;

use warroom_domain::alert::{AlertAction, AlertSignal};
use warroom_domain::alerting::Silence;
use warroom_store::{
    AlertCounts, AlertFilter, AlertGroupCount, AlertGrouping, AlertRecord, AlertStore, StoreError,
};

use crate::ingest::{IngestRequest, IngestSource, MAINTENANCE_PREFIX};

/// The most groups the alert list counts.
pub const MAX_GROUPS: u32 = 100;

/// Alert reads over one store.
#[derive(Clone)]
pub struct Alerts<S> {
    store: S,
}

impl<S: AlertStore> Alerts<S> {
    pub fn new(store: S) -> Alerts<S> {
        Alerts { store }
    }

    /// Alerts the filter selects, newest first.
    pub async fn list(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        self.store.list_alerts(filter).await
    }

    /// How many alerts the filter selects per group, largest first (at most
    /// `MAX_GROUPS`).
    pub async fn groups(
        &self,
        filter: &AlertFilter,
        by: AlertGrouping,
    ) -> Result<Vec<AlertGroupCount>, StoreError> {
        self.store.count_alert_groups(filter, by, MAX_GROUPS).await
    }

    pub async fn get(&self, id: i64) -> Result<AlertRecord, StoreError> {
        self.store.get_alert(id).await
    }

    /// Firing alerts: those that page and those suppressed.
    pub async fn counts(&self) -> Result<AlertCounts, StoreError> {
        self.store.alert_counts().await
    }
}

/// What keeps a firing alert from paging, in words a responder reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suppression {
    /// A silence: its id and comment.
    Silence { id: String, comment: String },
    /// A maintenance window: its id and description.
    Maintenance { id: String, description: String },
    /// An inhibition rule of the playbook, by number.
    Inhibited { rule: String },
}

impl Suppression {
    /// Reads an alert's `suppressed_by` (`silence:ID`, `maintenance:ID`,
    /// `inhibited:rule N`), naming the silence or window from `silences`
    /// when it is there (one that ended since keeps just its id).
    pub fn of(suppressed_by: &str, silences: &[Silence]) -> Suppression {
        let comment_of = |id: &str| {
            silences
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.comment.clone())
                .unwrap_or_default()
        };
        match suppressed_by.split_once(':') {
            Some(("inhibited", rule)) => Suppression::Inhibited {
                rule: rule.trim_start_matches("rule ").to_owned(),
            },
            Some(("maintenance", id)) => Suppression::Maintenance {
                id: id.to_owned(),
                description: comment_of(id),
            },
            Some((_, id)) if id.starts_with(MAINTENANCE_PREFIX) => Suppression::Maintenance {
                id: id.to_owned(),
                description: comment_of(id),
            },
            Some((_, id)) => Suppression::Silence {
                id: id.to_owned(),
                comment: comment_of(id),
            },
            None => Suppression::Silence {
                id: suppressed_by.to_owned(),
                comment: comment_of(suppressed_by),
            },
        }
    }
}

/// Ingest requests that acknowledge or resolve `alerts` as `actor` did,
/// one per service and integration, as their senders would have: the
/// ingest writer alone changes alerts, and applies the same rules
/// (timelines, an incident acknowledged or resolved with its last alert).
/// Resolved alerts are left out; `action` must not be a trigger.
pub fn acknowledge_or_resolve(
    alerts: &[AlertRecord],
    action: AlertAction,
    actor: &str,
) -> Vec<IngestRequest> {
    debug_assert_ne!(action, AlertAction::Trigger);
    let mut by_source: BTreeMap<(&str, Option<&str>), Vec<AlertSignal>> = BTreeMap::new();
    for alert in alerts.iter().filter(|a| a.resolved_at.is_none()) {
        let key = (alert.service.as_str(), alert.integration_id.as_deref());
        by_source.entry(key).or_default().push(AlertSignal {
            action,
            dedup_key: Some(alert.dedup_key.clone()),
            summary: alert.summary.clone(),
            severity: alert.source_severity.clone(),
            source: alert.source.clone(),
            labels: alert.labels.clone(),
            details: serde_json::Map::new(),
            links: Vec::new(),
            starts_at: None,
            ends_at: None,
            generator_url: None,
            group_key: None,
            origin: "web".to_owned(),
        });
    }
    by_source
        .into_iter()
        .map(|((service, integration_id), signals)| IngestRequest {
            source: IngestSource {
                integration_id: integration_id.map(str::to_owned),
                integration_name: "web".to_owned(),
                service: service.to_owned(),
                severity_overrides: BTreeMap::new(),
                routes: Vec::new(),
                actor: Some(actor.to_owned()),
            },
            signals,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_names_its_silence_or_window() {
        let at: jiff::Timestamp = "2026-12-05T03:00:00Z".parse().unwrap();
        let silence = |id: &str, comment: &str| Silence {
            id: id.to_owned(),
            matchers: Vec::new(),
            starts_at: at,
            ends_at: at,
            created_by: "ann".to_owned(),
            comment: comment.to_owned(),
        };
        let live = [
            silence("sil_1", "disk migration"),
            silence("mw_2", "PostgreSQL upgrade"),
        ];
        let check = [
            (
                "silence:sil_1",
                Suppression::Silence {
                    id: "sil_1".into(),
                    comment: "disk migration".into(),
                },
            ),
            (
                "maintenance:mw_2",
                Suppression::Maintenance {
                    id: "mw_2".into(),
                    description: "PostgreSQL upgrade".into(),
                },
            ),
            (
                "silence:sil_gone",
                Suppression::Silence {
                    id: "sil_gone".into(),
                    comment: String::new(),
                },
            ),
            (
                "inhibited:rule 2",
                Suppression::Inhibited { rule: "2".into() },
            ),
        ];
        for (stored, want) in check {
            assert_eq!(Suppression::of(stored, &live), want, "{stored}");
        }
    }
}
