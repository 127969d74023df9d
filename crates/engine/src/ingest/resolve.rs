//! The resolution path: an alert resolves (by its sender or because its
//! time ran out), its incident's timeline says so, and an alert-opened
//! incident whose last paging alert resolved moves on as the playbook says.

use jiff::Timestamp;
use warroom_domain::alert::AlertStatus;
use warroom_domain::playbook::AlertsResolved;
use warroom_domain::timeline::ResolvedAlert;
use warroom_domain::{AlertChange, Status};
use warroom_store::{AlertRecord, StoreError, WriteTx};

use super::{IngestRules, Touched, INTEGRATION_ACTOR};

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
pub(super) async fn resolve_alert<T: WriteTx>(
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
            const MESSAGE: &str = "Every alert of this incident has resolved.";
            events.extend(
                incident
                    .change_status(to, Some(MESSAGE.to_owned()), actor, now)
                    .map_err(StoreError::Rejected)?,
            );
            if to == Status::Resolved {
                let resolved = incident.clone();
                let cx = rules.notify_context();
                events.extend(
                    crate::notify::on_resolved(tx, &cx, &resolved, Some(MESSAGE), now).await?,
                );
            }
        }
    }
    Ok(())
}
