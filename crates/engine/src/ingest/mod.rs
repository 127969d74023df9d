//! Alert ingestion: dedup, silences, grouping into incidents, auto-resolve.
//!
//! `apply` turns one request's signals into alert, incident and timeline
//! writes inside a transaction. The single writer (`writer.rs`) runs it for
//! many requests per transaction (group commit), either before answering
//! (`Ingestor::submit`) or just after the journal appender (`appender.rs`)
//! has journaled them (`Ingestor::accept`, `journal.rs`): either way nobody
//! gets a 2xx before their alerts are on disk.

mod appender;
pub mod dead_letters;
mod journal;
mod touched;
mod writer;

pub use dead_letters::DeadLetters;
pub use touched::Touched;
pub use writer::Ingestor;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use warroom_domain::alert::{AlertAction, AlertSignal, AlertStatus};
use warroom_domain::alerting::{first_inhibitor, GroupingRule, InhibitRule, SeverityMap, Silence};
use warroom_domain::playbook::AlertsResolved;
use warroom_domain::timeline::{AlertRef, ResolvedAlert, TriggeredAlert};
use warroom_domain::{AlertChange, Declaration, Incident, Playbook, Status};
use warroom_store::{
    AlertGroup, AlertRecord, BumpedAlert, Repeat, SilenceRecord, Store, StoreError, WriteTx,
};

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
    let actor = format!("{INTEGRATION_ACTOR}{}", request.source.integration_name);
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

/// Maintenance windows are silences on the `service` label whose ids start
/// with `mw_`; alerts they mute say so.
fn suppressed_by(silence_id: &str) -> String {
    if silence_id.starts_with(MAINTENANCE_PREFIX) {
        format!("maintenance:{silence_id}")
    } else {
        format!("silence:{silence_id}")
    }
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

/// Id prefix of silences that are maintenance windows.
pub const MAINTENANCE_PREFIX: &str = "mw_";

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

async fn load_silences<T: WriteTx>(tx: &mut T, now: Timestamp) -> Result<Vec<Silence>, StoreError> {
    let records = tx.live_silences(now).await?;
    records.into_iter().map(silence_from_record).collect()
}

/// A stored silence as the domain type. Stored silences were checked when
/// created; an expired pending one has `starts_at == ends_at`, which
/// `Silence::new` would refuse, so this builds it directly.
pub fn silence_from_record(r: SilenceRecord) -> Result<Silence, StoreError> {
    let matchers = serde_json::from_value(r.matchers)
        .map_err(|e| StoreError::Corrupt(format!("silence {} matchers: {e}", r.id)))?;
    Ok(Silence {
        id: r.id,
        matchers,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        created_by: r.created_by,
        comment: r.comment,
    })
}

/// The id of the open incident the alert's group collects, or of a new one.
/// Raises the incident's severity when the alert is worse.
async fn incident_for<T: WriteTx>(
    tx: &mut T,
    touched: &mut Touched,
    rules: &IngestRules,
    alert: &AlertRecord,
    actor: &str,
    now: Timestamp,
) -> Result<String, StoreError> {
    let sender_group = Some(alert.group_key.as_str()).filter(|k| !k.is_empty());
    let group_key = rules
        .grouping
        .group_key(&alert.service, &alert.labels, sender_group);
    if let Some(group) = touched.group(tx, &group_key).await? {
        if now.duration_since(group.last_alert_at) <= rules.grouping.window {
            let (incident, events) = touched.get(tx, &group.incident_id).await?;
            if incident.status.is_open() {
                let pb = &rules.playbook;
                let worse =
                    pb.severity_rank(&alert.severity) < pb.severity_rank(&incident.severity);
                if worse {
                    events.extend(
                        incident
                            .change_severity(
                                pb,
                                &alert.severity,
                                Some(format!("alert {} is {}", alert.dedup_key, alert.severity)),
                                actor,
                                now,
                            )
                            .map_err(StoreError::Rejected)?,
                    );
                }
                let id = incident.id.clone();
                if group.last_alert_at != now {
                    touched.set_group(AlertGroup {
                        last_alert_at: now,
                        ..group
                    });
                }
                return Ok(id);
            }
        }
    }
    let declaration = Declaration {
        title: title_from(&alert.summary),
        summary: alert.summary.clone(),
        severity: alert.severity.clone(),
        services: vec![alert.service.clone()],
        ..Default::default()
    }
    .validate(&rules.playbook, now)
    .map_err(StoreError::Rejected)?;
    let format = rules.playbook.incident_id_format.clone();
    let date = now.to_zoned(TimeZone::UTC).date();
    let playbook = Arc::clone(&rules.playbook);
    let (incident, _) = tx
        .declare_incident(&format.scope_key(date), move |seq| {
            let id = format.render(date, u64::try_from(seq).unwrap_or_default());
            Incident::open(&playbook, declaration, id, seq, actor, now)
        })
        .await?;
    touched.set_group(AlertGroup {
        group_key,
        service: alert.service.clone(),
        incident_id: incident.id.clone(),
        last_alert_at: now,
    });
    let mut paging = crate::paging::start(tx, &rules.playbook, &incident, None, now).await?;
    paging.extend(crate::notify::on_declared(tx, &rules.notify_context(), &incident, now).await?);
    let id = incident.id.clone();
    touched.add_new(incident);
    if !paging.is_empty() {
        let (_, events) = touched.get(tx, &id).await?;
        events.extend(paging);
    }
    Ok(id)
}

/// Puts a newly paging alert on its incident's timeline.
async fn record_triggered<T: WriteTx>(
    tx: &mut T,
    touched: &mut Touched,
    alert: &AlertRecord,
    actor: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(incident_id) = &alert.incident_id else {
        return Ok(());
    };
    let (incident, events) = touched.get(tx, incident_id).await?;
    incident.record_alert_change(
        events,
        AlertChange::Triggered(TriggeredAlert {
            alert_id: alert.id,
            dedup_key: alert.dedup_key.clone(),
            summary: alert.summary.clone(),
            severity: alert.severity.clone(),
            origin: alert.origin.clone(),
        }),
        actor,
        now,
    );
    Ok(())
}

/// Re-checks firing, suppressed alerts: one whose silence or maintenance
/// window has ended, or whose inhibiting alert has resolved, pages now, as
/// Alertmanager notifies once nothing mutes an alert any more.
pub async fn unsuppress_once<S: Store>(
    store: &S,
    rules: &IngestRules,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut tx = store.begin().await?;
    let suppressed = tx.suppressed_firing(500).await?;
    if suppressed.is_empty() {
        return Ok(0);
    }
    let silences = load_silences(&mut tx, now).await?;
    let firing = if rules.inhibit_rules.is_empty() {
        Vec::new()
    } else {
        tx.firing_labels().await?
    };
    let mut touched = Touched::default();
    let mut released = 0;
    for mut alert in suppressed {
        let mut labels = alert.labels.clone();
        labels
            .entry("service".to_owned())
            .or_insert_with(|| alert.service.clone());
        // The alert itself is among `firing`; inhibition never lets an alert inhibit itself.
        let still = if let Some(silence) = silences.iter().find(|s| s.mutes(&labels, now)) {
            Some(suppressed_by(&silence.id))
        } else {
            first_inhibitor(&rules.inhibit_rules, &labels, firing.iter())
                .map(|rule| format!("inhibited:rule {rule}"))
        };
        if still.is_some() {
            if still != alert.suppressed_by {
                alert.suppressed_by = still;
                tx.update_alert(&alert).await?;
            }
            continue;
        }
        alert.suppressed_by = None;
        let incident_id =
            incident_for(&mut tx, &mut touched, rules, &alert, "warroom", now).await?;
        alert.incident_id = Some(incident_id);
        tx.update_alert(&alert).await?;
        record_triggered(&mut tx, &mut touched, &alert, "warroom", now).await?;
        released += 1;
    }
    touched.flush(&mut tx).await?;
    tx.commit().await?;
    Ok(released)
}

/// Incident titles are at most 200 characters; alert summaries up to 1024.
fn title_from(summary: &str) -> String {
    let summary = summary.trim();
    if summary.chars().count() <= warroom_domain::incident::MAX_TITLE {
        return summary.to_owned();
    }
    let mut title: String = summary
        .chars()
        .take(warroom_domain::incident::MAX_TITLE - 1)
        .collect();
    title.push('…');
    title
}

/// Resolves an alert whose time ran out (see `expiry`).
pub(crate) async fn resolve_expired<T: WriteTx>(
    tx: &mut T,
    touched: &mut Touched,
    rules: &IngestRules,
    alert: AlertRecord,
    ends_at: Timestamp,
    now: Timestamp,
) -> Result<(), StoreError> {
    resolve_alert(tx, touched, rules, alert, ends_at, "warroom", now).await
}

/// Marks a firing alert resolved and tells its incident.
async fn resolve_alert<T: WriteTx>(
    tx: &mut T,
    touched: &mut Touched,
    rules: &IngestRules,
    mut alert: AlertRecord,
    ends_at: Timestamp,
    actor: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    alert.status = AlertStatus::Resolved;
    alert.resolved_at = Some(now);
    alert.ends_at = Some(ends_at);
    alert.last_seen_at = now;
    tx.update_alert(&alert).await?;
    touched.add_firing(&alert.service, -1);
    if let Some(id) = &alert.incident_id {
        resolve_in_incident(tx, touched, rules, id, &alert, actor, now).await?;
    }
    Ok(())
}

/// Records the resolution; when it was the last paging alert of an
/// alert-opened incident, moves the incident on as the rules say.
async fn resolve_in_incident<T: WriteTx>(
    tx: &mut T,
    touched: &mut Touched,
    rules: &IngestRules,
    incident_id: &str,
    alert: &AlertRecord,
    actor: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let paging = tx.has_paging_alerts(incident_id).await?;
    let (incident, events) = touched.get(tx, incident_id).await?;
    incident.record_alert_change(
        events,
        AlertChange::Resolved(ResolvedAlert {
            alert_id: alert.id,
            dedup_key: alert.dedup_key.clone(),
            summary: alert.summary.clone(),
        }),
        actor,
        now,
    );
    let auto = incident.declared_by.starts_with(INTEGRATION_ACTOR);
    if auto && incident.status.is_open() && !paging {
        let to = match rules.playbook.when_alerts_resolve(&alert.service) {
            AlertsResolved::Resolve => Status::Resolved,
            AlertsResolved::Monitor => Status::Monitoring,
        };
        if incident.status.check_transition(to).is_ok() {
            let message = Some("every alert of this incident has resolved".to_owned());
            events.extend(
                incident
                    .change_status(to, message, actor, now)
                    .map_err(StoreError::Rejected)?,
            );
            if to == Status::Resolved {
                let resolved = incident.clone();
                let cx = rules.notify_context();
                events.extend(crate::notify::on_resolved(tx, &cx, &resolved, now).await?);
            }
        }
    }
    Ok(())
}

/// Applies one request in its own transaction at `now`: the synchronous path
/// tests drive with a manual clock.
pub async fn ingest_once<S: Store>(
    store: &S,
    rules: &IngestRules,
    now: Timestamp,
    request: &IngestRequest,
) -> Result<Vec<SignalResult>, StoreError> {
    let mut tx = store.begin().await?;
    let mut touched = Touched::default();
    touched
        .prebump(&mut tx, std::iter::once((now, request)))
        .await?;
    let results = apply(&mut tx, rules, now, request, &mut touched).await?;
    touched.flush(&mut tx).await?;
    tx.commit().await?;
    Ok(results)
}
