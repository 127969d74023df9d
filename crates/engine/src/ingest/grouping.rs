//! Which incident a paging alert joins: the open incident its group
//! collected within the grouping window (counted from the group's last new
//! alert or the last repeat of one of its incident's firing alerts), or a
//! new one it declares and pages for; and the alert's entry on that
//! incident's timeline.

use std::sync::Arc;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use warroom_domain::timeline::TriggeredAlert;
use warroom_domain::{AlertChange, Declaration, Incident};
use warroom_store::{AlertGroup, AlertRecord, StoreError, WriteTx};

use super::{IngestRules, Touched};

/// The id of the open incident the alert's group collects, or of a new one.
/// Raises the incident's severity when the alert is worse.
pub(super) async fn incident_for<T: WriteTx>(
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
        let mut last_seen = group.last_alert_at;
        if now.duration_since(last_seen) > rules.grouping.window {
            // One outage, one incident: alerts re-sent while they keep
            // firing (a storm repeated every few minutes) keep the group
            // open, though only new alerts move `last_alert_at`. Asked
            // only when the window has lapsed, off the dedup hot path.
            if let Some(seen) = tx.last_firing_seen(&group.incident_id).await? {
                last_seen = last_seen.max(seen);
            }
        }
        if now.duration_since(last_seen) <= rules.grouping.window {
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
pub(super) async fn record_triggered<T: WriteTx>(
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
