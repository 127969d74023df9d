//! The rules applied to each signal of a request: dedup against firing
//! alerts, the storm cap, silences and inhibition, and what acknowledge and
//! resolve do to an alert and its incident.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rand::RngCore;
use warroom_domain::alert::{AlertAction, AlertSignal, AlertStatus};
use warroom_domain::alerting::{first_inhibitor, SeverityMap};
use warroom_domain::timeline::AlertRef;
use warroom_domain::{AlertChange, Status};
use warroom_store::{AlertRecord, BumpedAlert, Repeat, StoreError, WriteTx};

use super::grouping::{incident_for, record_triggered};
use super::resolve::resolve_alert;
use super::suppression::suppressed_by;
use super::{
    IngestRequest, IngestRules, IngestSource, Outcome, SignalResult, Touched, INTEGRATION_ACTOR,
};

/// Applies one request's signals inside `tx`, collecting incident changes
/// in `touched`. Neither flushes nor commits.
pub async fn apply<T: WriteTx>(
    tx: &mut T,
    rules: &IngestRules,
    now: Timestamp,
    request: &IngestRequest,
    touched: &mut Touched,
) -> Result<Vec<SignalResult>, StoreError> {
    let overridden;
    let severities = if request.source.severity_overrides.is_empty() {
        &rules.severities
    } else {
        overridden = SeverityMap::with_overrides(
            rules.severities.clone(),
            request.source.severity_overrides.clone(),
        )
        .map_err(|e| StoreError::Database(format!("integration severity map: {e}")))?;
        &overridden
    };
    // Labels of firing alerts, loaded only when inhibition rules exist.
    let mut firing: Option<Vec<BTreeMap<String, String>>> = None;
    let actor = request
        .source
        .actor
        .clone()
        .unwrap_or_else(|| format!("{INTEGRATION_ACTOR}{}", request.source.integration_name));
    let mut results = Vec::with_capacity(request.signals.len());
    for signal in &request.signals {
        let service = request.source.service_for(&signal.labels);
        let dedup_key = signal.dedup_key.clone().unwrap_or_else(generated_key);
        let mut result = SignalResult {
            dedup_key: dedup_key.clone(),
            outcome: Outcome::Ignored,
            alert_id: None,
            incident_id: None,
        };
        if signal.action == AlertAction::Trigger {
            // The hot path: Prometheus re-sends every firing alert on each evaluation.
            let key = (service.to_owned(), dedup_key.clone());
            let known = if let Some((id, incident_id)) = touched.prebumped.get(&key) {
                Some((*id, incident_id.clone()))
            } else {
                touched
                    .bump_pending(&key, signal, now)
                    .map(|a| (a.id, a.incident_id.clone()))
            };
            if let Some((id, incident_id)) = known {
                result.outcome = Outcome::Deduplicated;
                result.alert_id = Some(id);
                result.incident_id = incident_id;
                results.push(result);
                continue;
            }
            let repeat = Repeat {
                service,
                dedup_key: &dedup_key,
                times: 1,
                now,
                summary: &signal.summary,
                details: &signal.details,
                links: &signal.links,
                ends_at: signal.ends_at,
            };
            let stored = if touched.absent.contains(&key) {
                None
            } else {
                tx.bump_open_alerts(&[repeat]).await?.pop()
            };
            if let Some(BumpedAlert {
                id, incident_id, ..
            }) = stored
            {
                result.outcome = Outcome::Deduplicated;
                result.alert_id = Some(id);
                result.incident_id = incident_id;
                results.push(result);
                continue;
            }
        }
        let open = match signal.action {
            AlertAction::Trigger => None,
            _ => {
                touched.flush_alerts(tx).await?;
                tx.open_alert(service, &dedup_key).await?
            }
        };
        match (signal.action, open) {
            (AlertAction::Trigger, None) => {
                let count = touched.firing(tx, service).await?;
                if count >= i64::from(rules.max_open_alerts_per_service) && dedup_key != STORM_KEY {
                    let storm =
                        fold_into_storm(tx, touched, rules, &request.source, service, signal, now)
                            .await?;
                    result.outcome = Outcome::Folded;
                    result.alert_id = Some(storm.id);
                    result.incident_id = storm.incident_id;
                    results.push(result);
                    continue;
                }
                touched.add_firing(service, 1);
                let severity = severities.map(signal.severity.as_deref());
                let mut alert =
                    new_alert(&request.source, service, signal, dedup_key, severity, now);
                let silences = touched.silences(tx, now).await?;
                // Matchers see the alert's labels plus `service`; most
                // alerts meet no silence and no inhibition rule, so the
                // copy is made only when something could mute them.
                let labels = if silences.is_empty() && rules.inhibit_rules.is_empty() {
                    None
                } else {
                    let mut labels = alert.labels.clone();
                    labels
                        .entry("service".to_owned())
                        .or_insert_with(|| service.to_owned());
                    Some(labels)
                };
                let labels = labels.as_ref();
                let inhibited_by = match labels {
                    Some(labels) if !rules.inhibit_rules.is_empty() => {
                        let firing = match &mut firing {
                            Some(f) => f,
                            None => {
                                touched.flush_alerts(tx).await?;
                                firing.insert(tx.firing_labels().await?)
                            }
                        };
                        let rule = first_inhibitor(&rules.inhibit_rules, labels, firing.iter());
                        firing.push(labels.clone());
                        rule
                    }
                    _ => None,
                };
                let silence = labels.and_then(|labels| {
                    touched
                        .silences
                        .as_deref()
                        .unwrap_or_default()
                        .iter()
                        .find(|s| s.mutes(labels, now))
                        .map(|s| suppressed_by(&s.id))
                });
                alert.id = touched.next_alert_id(tx).await?;
                if let Some(silence) = silence {
                    alert.suppressed_by = Some(silence);
                    result.outcome = Outcome::Suppressed;
                } else if let Some(rule) = inhibited_by {
                    alert.suppressed_by = Some(format!("inhibited:rule {rule}"));
                    result.outcome = Outcome::Suppressed;
                } else {
                    let incident_id = incident_for(tx, touched, rules, &alert, &actor, now).await?;
                    alert.incident_id = Some(incident_id);
                    record_triggered(tx, touched, &alert, &actor, now).await?;
                    result.outcome = Outcome::Created;
                }
                result.alert_id = Some(alert.id);
                result.incident_id.clone_from(&alert.incident_id);
                touched.queue_alert(alert);
            }
            (AlertAction::Acknowledge, Some(mut alert)) => {
                alert.acknowledged_at.get_or_insert(now);
                alert.last_seen_at = now;
                tx.update_alert(&alert).await?;
                if let Some(id) = &alert.incident_id {
                    let (incident, events) = touched.get(tx, id).await?;
                    incident.record_alert_change(
                        events,
                        AlertChange::Acknowledged(AlertRef {
                            alert_id: alert.id,
                            dedup_key: alert.dedup_key.clone(),
                        }),
                        &actor,
                        now,
                    );
                    if incident.status == Status::Triggered {
                        events.extend(
                            incident
                                .acknowledge(&actor, now)
                                .map_err(StoreError::Rejected)?,
                        );
                    }
                }
                result.outcome = Outcome::Acknowledged;
                result.alert_id = Some(alert.id);
                result.incident_id = alert.incident_id;
            }
            (AlertAction::Resolve, Some(alert)) => {
                let ends_at = signal.ends_at.unwrap_or(now);
                result.alert_id = Some(alert.id);
                result.incident_id.clone_from(&alert.incident_id);
                resolve_alert(tx, touched, rules, alert, ends_at, &actor, now).await?;
                result.outcome = Outcome::Resolved;
            }
            // PagerDuty: acknowledge or resolve of an unknown key is accepted and ignored.
            (AlertAction::Acknowledge | AlertAction::Resolve, None) => {}
            // Triggers took the bump path above and never load the open alert;
            // were one here, it would be a repeat.
            (AlertAction::Trigger, Some(alert)) => {
                result.outcome = Outcome::Deduplicated;
                result.alert_id = Some(alert.id);
                result.incident_id = alert.incident_id;
            }
        }
        results.push(result);
    }
    Ok(results)
}

/// The dedup key of a service's storm alert, which counts the alerts that
/// arrived past `max_open_alerts_per_service` rather than drop them silently.
pub const STORM_KEY: &str = "warroom-alert-storm";

/// Counts an alert past the cap in the service's storm alert, opening it
/// (and paging, like any new alert) the first time.
async fn fold_into_storm<T: WriteTx>(
    tx: &mut T,
    touched: &mut Touched,
    rules: &IngestRules,
    source: &IngestSource,
    service: &str,
    signal: &AlertSignal,
    now: Timestamp,
) -> Result<AlertRecord, StoreError> {
    let actor = &format!("{INTEGRATION_ACTOR}{}", source.integration_name);
    let cap = rules.max_open_alerts_per_service;
    let folded = serde_json::json!({
        "dedup_key": signal.dedup_key,
        "summary": signal.summary,
        "labels": signal.labels,
    });
    touched.flush_alerts(tx).await?;
    if let Some(mut storm) = tx.open_alert(service, STORM_KEY).await? {
        storm.event_count += 1;
        storm.last_seen_at = now;
        storm.summary = format!(
            "Alert storm: {} alerts arrived past the cap of {cap} open alerts",
            storm.event_count
        );
        storm.details.insert("last_folded".into(), folded);
        tx.update_alert(&storm).await?;
        return Ok(storm);
    }
    let mut details = serde_json::Map::new();
    details.insert("last_folded".into(), folded);
    let storm_signal = AlertSignal {
        action: AlertAction::Trigger,
        dedup_key: Some(STORM_KEY.to_owned()),
        summary: format!("Alert storm: 1 alert arrived past the cap of {cap} open alerts"),
        severity: signal.severity.clone(),
        source: "warroom".to_owned(),
        labels: BTreeMap::from([("alertname".to_owned(), "AlertStorm".to_owned())]),
        details,
        links: Vec::new(),
        starts_at: Some(now),
        ends_at: None,
        generator_url: None,
        group_key: signal.group_key.clone(),
        origin: "warroom".to_owned(),
    };
    let severity = rules.severities.map(storm_signal.severity.as_deref());
    let mut storm = new_alert(
        source,
        service,
        &storm_signal,
        STORM_KEY.to_owned(),
        severity,
        now,
    );
    let incident_id = incident_for(tx, touched, rules, &storm, actor, now).await?;
    storm.incident_id = Some(incident_id);
    storm.id = touched.next_alert_id(tx).await?;
    touched.add_firing(service, 1);
    record_triggered(tx, touched, &storm, actor, now).await?;
    touched.queue_alert(storm.clone());
    Ok(storm)
}

/// A 32-hex-digit key like PagerDuty generates for triggers without one.
pub fn generated_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn new_alert(
    source: &IngestSource,
    service: &str,
    signal: &AlertSignal,
    dedup_key: String,
    severity: String,
    now: Timestamp,
) -> AlertRecord {
    AlertRecord {
        id: 0,
        service: service.to_owned(),
        dedup_key,
        status: AlertStatus::Firing,
        summary: signal.summary.clone(),
        severity,
        source_severity: signal.severity.clone(),
        source: signal.source.clone(),
        origin: signal.origin.clone(),
        integration_id: source.integration_id.clone(),
        labels: signal.labels.clone(),
        details: signal.details.clone(),
        links: signal.links.clone(),
        generator_url: signal.generator_url.clone(),
        group_key: signal.group_key.clone().unwrap_or_default(),
        incident_id: None,
        suppressed_by: None,
        event_count: 1,
        starts_at: signal.starts_at,
        ends_at: signal.ends_at,
        first_seen_at: now,
        last_seen_at: now,
        acknowledged_at: None,
        resolved_at: None,
    }
}
