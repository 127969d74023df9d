//! Silences, maintenance windows and inhibition: how a muted alert is
//! labelled, and releasing suppressed alerts once nothing mutes them.

use jiff::Timestamp;
use warroom_domain::alerting::{first_inhibitor, Silence};
use warroom_store::{AlertTx, SilenceRecord, StoreError, TxStore, WriteTx};

use super::grouping::{incident_for, record_triggered};
use super::{IngestRules, Touched};

/// Maintenance windows are silences on the `service` label whose ids start
/// with `mw_`; alerts they mute say so.
pub(super) fn suppressed_by(silence_id: &str) -> String {
    if silence_id.starts_with(MAINTENANCE_PREFIX) {
        format!("maintenance:{silence_id}")
    } else {
        format!("silence:{silence_id}")
    }
}

/// Id prefix of silences that are maintenance windows.
pub const MAINTENANCE_PREFIX: &str = "mw_";

pub(super) async fn load_silences<T: WriteTx>(
    tx: &mut T,
    now: Timestamp,
) -> Result<Vec<Silence>, StoreError> {
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

/// Re-checks firing, suppressed alerts: one whose silence or maintenance
/// window has ended, or whose inhibiting alert has resolved, pages now, as
/// Alertmanager notifies once nothing mutes an alert any more.
pub async fn unsuppress_once<S: TxStore>(
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
