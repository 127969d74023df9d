//! `Touched`: what one batch of alerts has read and changed, kept in memory
//! and written once at its end.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;
use warroom_domain::alert::{AlertAction, AlertSignal};
use warroom_domain::alerting::Silence;
use warroom_domain::Incident;
use warroom_store::{AlertGroup, AlertRecord, BumpedAlert, Repeat, StoreError, WriteTx};

use super::suppression::load_silences;
use super::IngestRequest;

/// Incidents a batch has touched, each loaded once and written once at the
/// end: a storm of alerts into one incident rewrites its row once per batch,
/// not once per alert.
#[derive(Default)]
pub struct Touched {
    pub(super) incidents: BTreeMap<String, (Incident, Vec<warroom_domain::NewEvent>)>,
    /// Each loaded incident as it was stored, to skip rewriting rows whose
    /// only change is `updated_at` (one alert event after another).
    pub(super) loaded: HashMap<String, Incident>,
    /// Alert groups read or changed in this batch; `true` when changed.
    pub(super) groups: BTreeMap<String, (AlertGroup, bool)>,
    /// Firing alerts per service: (stored count, if read yet; change in this batch).
    pub(super) firing: BTreeMap<String, (Option<i64>, i64)>,
    /// Incidents opened in this batch.
    pub(super) created: usize,
    /// Repeats of firing alerts the batch counted up front in one statement
    /// (`prebump`), by (service, dedup key): alert id and incident.
    pub(super) prebumped: HashMap<AlertKey, (i64, Option<String>)>,
    /// Keys `prebump` found not firing, and not created since: a trigger
    /// for one of them skips the lookup.
    pub(super) absent: HashSet<AlertKey>,
    /// New alerts, written by one multi-row insert at `flush_alerts`.
    pub(super) pending: Vec<AlertRecord>,
    pub(super) pending_by_key: HashMap<AlertKey, usize>,
    /// Alert ids reserved and not used yet.
    pub(super) ids: Vec<i64>,
    /// How many ids to reserve at once: the batch's triggers.
    pub(super) triggers: u32,
    /// Silences live at the batch's `now`, loaded once.
    pub(super) silences: Option<Vec<Silence>>,
}

/// An alert's identity while it fires: (service, dedup key).
type AlertKey = (String, String);

impl Touched {
    pub(super) async fn get<T: WriteTx>(
        &mut self,
        tx: &mut T,
        id: &str,
    ) -> Result<&mut (Incident, Vec<warroom_domain::NewEvent>), StoreError> {
        if !self.incidents.contains_key(id) {
            let incident = tx.lock_incident(id).await?;
            self.loaded.insert(id.to_owned(), incident.clone());
            self.incidents.insert(id.to_owned(), (incident, Vec::new()));
        }
        Ok(self.incidents.get_mut(id).expect("just inserted"))
    }

    pub(super) async fn group<T: WriteTx>(
        &mut self,
        tx: &mut T,
        key: &str,
    ) -> Result<Option<AlertGroup>, StoreError> {
        if let Some((group, _)) = self.groups.get(key) {
            return Ok(Some(group.clone()));
        }
        let group = tx.alert_group(key).await?;
        if let Some(g) = &group {
            self.groups.insert(key.to_owned(), (g.clone(), false));
        }
        Ok(group)
    }

    /// Firing alerts of the service now, as this batch has changed them.
    pub(super) async fn firing<T: WriteTx>(
        &mut self,
        tx: &mut T,
        service: &str,
    ) -> Result<i64, StoreError> {
        if let Some((Some(count), delta)) = self.firing.get(service) {
            return Ok(count + delta);
        }
        let count = tx.count_firing(service).await?;
        let entry = self.firing.entry(service.to_owned()).or_insert((None, 0));
        entry.0 = Some(count);
        Ok(count + entry.1)
    }

    /// Counts an alert starting (+1) or stopping (-1) to fire; written at flush.
    pub(super) fn add_firing(&mut self, service: &str, delta: i64) {
        self.firing.entry(service.to_owned()).or_insert((None, 0)).1 += delta;
    }

    pub(super) fn set_group(&mut self, group: AlertGroup) {
        self.groups.insert(group.group_key.clone(), (group, true));
    }

    pub(super) fn add_new(&mut self, incident: Incident) {
        self.created += 1;
        self.incidents
            .insert(incident.id.clone(), (incident, Vec::new()));
    }

    /// Counts, in one statement, every trigger of `requests` that repeats a
    /// firing alert, so the hot dedup path (Prometheus re-sending) costs one
    /// statement per batch instead of one per alert. Keys the batch also
    /// acknowledges or resolves are left to `apply`, which keeps their order.
    /// Each request comes with the time it is applied at.
    pub async fn prebump<'r, T: WriteTx>(
        &mut self,
        tx: &mut T,
        requests: impl Iterator<Item = (Timestamp, &'r IngestRequest)>,
    ) -> Result<(), StoreError> {
        // Per key: how many triggers, the latest one and its time, and the
        // latest `ends_at`.
        let mut wanted: HashMap<AlertKey, (i64, &AlertSignal, Timestamp, Option<Timestamp>)> =
            HashMap::new();
        let mut order = Vec::new();
        let mut mixed = HashSet::new();
        for (now, request) in requests {
            for signal in &request.signals {
                let Some(dedup_key) = &signal.dedup_key else {
                    if signal.action == AlertAction::Trigger {
                        self.triggers += 1;
                    }
                    continue;
                };
                let key = (
                    request.source.service_for(&signal.labels).to_owned(),
                    dedup_key.clone(),
                );
                if signal.action != AlertAction::Trigger {
                    mixed.insert(key);
                    continue;
                }
                self.triggers += 1;
                let entry = wanted.entry(key).or_insert_with_key(|key| {
                    order.push(key.clone());
                    (0, signal, now, None)
                });
                entry.0 += 1;
                entry.1 = signal;
                entry.2 = now;
                entry.3 = signal.ends_at.or(entry.3);
            }
        }
        order.retain(|key| !mixed.contains(key));
        if order.is_empty() {
            return Ok(());
        }
        let repeats: Vec<Repeat<'_>> = order
            .iter()
            .map(|key| {
                let (times, signal, now, ends_at) = wanted[key];
                Repeat {
                    service: &key.0,
                    dedup_key: &key.1,
                    times,
                    now,
                    summary: &signal.summary,
                    details: &signal.details,
                    links: &signal.links,
                    ends_at,
                }
            })
            .collect();
        let bumped = tx.bump_open_alerts(&repeats).await?;
        for BumpedAlert {
            service,
            dedup_key,
            id,
            incident_id,
        } in bumped
        {
            self.prebumped
                .insert((service, dedup_key), (id, incident_id));
        }
        self.absent = order
            .into_iter()
            .filter(|key| !self.prebumped.contains_key(key))
            .collect();
        Ok(())
    }

    /// Counts a repeat of an alert created earlier in this batch, if it was.
    pub(super) fn bump_pending(
        &mut self,
        key: &AlertKey,
        signal: &AlertSignal,
        now: Timestamp,
    ) -> Option<&AlertRecord> {
        let alert = &mut self.pending[*self.pending_by_key.get(key)?];
        alert.event_count += 1;
        alert.last_seen_at = now;
        alert.summary.clone_from(&signal.summary);
        alert.details.clone_from(&signal.details);
        alert.links.clone_from(&signal.links);
        if signal.ends_at.is_some() {
            alert.ends_at = signal.ends_at;
        }
        Some(alert)
    }

    /// An id for a new alert, from the range reserved for this batch.
    /// Every id handed out must reach `queue_alert` in the same batch.
    pub(super) async fn next_alert_id<T: WriteTx>(
        &mut self,
        tx: &mut T,
    ) -> Result<i64, StoreError> {
        if self.ids.is_empty() {
            // The trait's contract: use (insert) reserved ids before reserving more.
            self.flush_alerts(tx).await?;
            let mut ids = tx.reserve_alert_ids(self.triggers.clamp(16, 4096)).await?;
            ids.reverse();
            self.ids = ids;
        }
        Ok(self.ids.pop().expect("just reserved"))
    }

    /// Queues a new alert (its id from `next_alert_id`) for `flush_alerts`.
    pub(super) fn queue_alert(&mut self, alert: AlertRecord) {
        let key = (alert.service.clone(), alert.dedup_key.clone());
        self.absent.remove(&key);
        self.pending_by_key.insert(key, self.pending.len());
        self.pending.push(alert);
    }

    /// Writes the queued new alerts; reads of stored alerts come after this.
    pub(super) async fn flush_alerts<T: WriteTx>(&mut self, tx: &mut T) -> Result<(), StoreError> {
        if !self.pending.is_empty() {
            tx.insert_alerts(&self.pending).await?;
            self.pending.clear();
            self.pending_by_key.clear();
        }
        Ok(())
    }

    pub(super) async fn silences<T: WriteTx>(
        &mut self,
        tx: &mut T,
        now: Timestamp,
    ) -> Result<&[Silence], StoreError> {
        if self.silences.is_none() {
            self.silences = Some(load_silences(tx, now).await?);
        }
        Ok(self.silences.as_deref().unwrap_or_default())
    }

    /// Writes every changed alert, count, group, incident and event.
    /// Afterwards what `self` holds is what is stored, so a writer that
    /// alone writes until its next commit (`WriteTx::commit_and_continue`) may keep
    /// it for the next batch (`next_batch`) instead of reading it again.
    pub async fn flush<T: WriteTx>(&mut self, tx: &mut T) -> Result<(), StoreError> {
        self.flush_alerts(tx).await?;
        let mut written = BTreeMap::new();
        for (service, (stored, delta)) in std::mem::take(&mut self.firing) {
            if delta != 0 {
                tx.add_firing(&service, delta).await?;
            }
            // A count never read stays unknown: only the change was written.
            if let Some(count) = stored {
                written.insert(service, (Some(count + delta), 0));
            }
        }
        self.firing = written;
        for (group, changed) in self.groups.values_mut() {
            if *changed {
                tx.put_alert_group(group).await?;
                *changed = false;
            }
        }
        for (id, (incident, events)) in &mut self.incidents {
            if events.is_empty() {
                continue;
            }
            let events = std::mem::take(events);
            // Compared with `updated_at` set aside, without copying the incident.
            let unchanged = self.loaded.get(id).is_some_and(|before| {
                let updated_at = std::mem::replace(&mut incident.updated_at, before.updated_at);
                let same = *incident == *before;
                incident.updated_at = updated_at;
                same
            });
            if unchanged {
                tx.append_incident_events(incident, events).await?;
            } else {
                tx.save_incident(incident, events).await?;
            }
            self.loaded.insert(id.clone(), incident.clone());
        }
        Ok(())
    }

    /// Readies a flushed `Touched` for the next batch of the same run,
    /// keeping what it read: incidents, groups, counts, silences and
    /// reserved ids.
    pub(super) fn next_batch(&mut self) {
        self.created = 0;
        self.prebumped.clear();
        self.absent.clear();
        self.triggers = 0;
    }
}
