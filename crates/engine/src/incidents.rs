//! Declaring and changing incidents: validate against the playbook, stamp
//! with the clock and actor, and let the store apply it atomically.

use std::sync::Arc;

use jiff::tz::TimeZone;
use tokio::sync::Notify;
use warroom_domain::{Declaration, DetailsPatch, Incident, Playbook, Status, TimelineEvent};
use warroom_store::{IncidentFilter, IncidentPage, IncidentStore, IncidentTx, StoreError, WriteTx};

use crate::clock::Clock;

/// One change a responder can make to an incident.
#[derive(Debug, Clone, PartialEq)]
pub enum IncidentOp {
    Acknowledge,
    Status {
        to: Status,
        message: Option<String>,
    },
    Severity {
        to: String,
        reason: Option<String>,
    },
    Details(DetailsPatch),
    AssignRole {
        role: String,
        assignee: String,
    },
    UnassignRole {
        role: String,
    },
    Checklist {
        phase: String,
        item: usize,
        done: bool,
    },
    Note {
        text: String,
    },
    Resolve {
        message: Option<String>,
    },
    Close,
    Reopen {
        to: Option<Status>,
        message: Option<String>,
    },
    /// A status update for stakeholders (optionally changing the status).
    PostUpdate {
        status: Option<Status>,
        message: String,
    },
}

/// The incident application service. Cheap to clone.
#[derive(Clone)]
pub struct Incidents<S> {
    store: S,
    playbook: Arc<Playbook>,
    clock: Arc<dyn Clock>,
    paging_wake: Arc<Notify>,
    delivery_wake: Arc<Notify>,
    /// Base URL of links in notifications.
    public_url: Arc<str>,
}

impl<S: IncidentStore> Incidents<S> {
    pub fn new(store: S, playbook: Arc<Playbook>, clock: Arc<dyn Clock>) -> Incidents<S> {
        Incidents {
            store,
            playbook,
            clock,
            paging_wake: Arc::new(Notify::new()),
            delivery_wake: Arc::new(Notify::new()),
            public_url: "http://localhost".into(),
        }
    }

    /// Links in notifications point here.
    pub fn with_public_url(mut self, public_url: &str) -> Incidents<S> {
        self.public_url = public_url.trim_end_matches('/').into();
        self
    }

    /// Notified after a change scheduled paging work, so the paging worker
    /// runs it at once.
    pub fn with_paging_wake(mut self, wake: Arc<Notify>) -> Incidents<S> {
        self.paging_wake = wake;
        self
    }

    /// Notified after a change queued messages, so the sender sends them at once.
    pub fn with_delivery_wake(mut self, wake: Arc<Notify>) -> Incidents<S> {
        self.delivery_wake = wake;
        self
    }

    /// The handle `with_delivery_wake` set.
    pub fn delivery_wake(&self) -> Arc<Notify> {
        Arc::clone(&self.delivery_wake)
    }

    fn notify_context(&self) -> crate::notify::NotifyContext<'_> {
        crate::notify::NotifyContext {
            playbook: &self.playbook,
            public_url: &self.public_url,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn playbook(&self) -> &Playbook {
        &self.playbook
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    pub fn shared_playbook(&self) -> Arc<Playbook> {
        Arc::clone(&self.playbook)
    }

    pub fn shared_clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }

    /// Declares an incident; its ID comes from the playbook's format and the
    /// declaration date in UTC.
    pub async fn declare(
        &self,
        actor: &str,
        declaration: Declaration,
    ) -> Result<(Incident, Vec<TimelineEvent>), StoreError> {
        let now = self.clock.now();
        let declaration = declaration.validate(&self.playbook, now)?;
        let format = self.playbook.incident_id_format.clone();
        let date = now.to_zoned(TimeZone::UTC).date();
        let playbook = Arc::clone(&self.playbook);
        let actor = actor.to_owned();
        let mut tx = self.store.begin().await?;
        let (incident, mut stored) = tx
            .declare_incident(&format.scope_key(date), move |seq| {
                let id = format.render(date, u64::try_from(seq).unwrap_or_default());
                Incident::open(&playbook, declaration, id, seq, &actor, now)
            })
            .await?;
        let mut more = Vec::new();
        if incident.status == Status::Triggered {
            more = crate::paging::start(&mut tx, &self.playbook, &incident, None, now).await?;
        }
        more.extend(
            crate::notify::on_declared(&mut tx, &self.notify_context(), &incident, now).await?,
        );
        if !more.is_empty() {
            stored.extend(tx.save_incident(&incident, more).await?);
        }
        tx.commit().await?;
        self.wake_paging();
        self.delivery_wake.notify_one();
        Ok((incident, stored))
    }

    /// Applies one change; the returned events are those appended (none when
    /// the change was already in effect, e.g. ticking a ticked item).
    pub async fn apply(
        &self,
        id: &str,
        actor: &str,
        op: IncidentOp,
    ) -> Result<(Incident, Vec<TimelineEvent>), StoreError> {
        let now = self.clock.now();
        let pb = &*self.playbook;
        let mut tx = self.store.begin().await?;
        let mut incident = tx.lock_incident(id).await?;
        let before = incident.status;
        let before_severity = incident.severity.clone();
        let op_kind = op.clone();
        let i = &mut incident;
        let mut events = match op {
            IncidentOp::Acknowledge => i.acknowledge(actor, now),
            IncidentOp::Status { to, message } => i.change_status(to, message, actor, now),
            IncidentOp::Severity { to, reason } => i.change_severity(pb, &to, reason, actor, now),
            IncidentOp::Details(patch) => i.update_details(pb, patch, actor, now),
            IncidentOp::AssignRole { role, assignee } => {
                i.assign_role(pb, &role, &assignee, actor, now)
            }
            IncidentOp::UnassignRole { role } => i.unassign_role(pb, &role, actor, now),
            IncidentOp::Checklist { phase, item, done } => {
                i.set_checklist_item(&phase, item, done, actor, now)
            }
            IncidentOp::Note { text } => i.add_note(&text, actor, now),
            IncidentOp::Resolve { message } => i.resolve(message, actor, now),
            IncidentOp::Close => i.close(actor, now),
            IncidentOp::Reopen { to, message } => i.reopen(to, message, actor, now),
            IncidentOp::PostUpdate {
                status,
                ref message,
            } => i.post_update(status, message, actor, now),
        }?;
        if events.is_empty() {
            // Nothing changed: leave the row (and updated_at) alone.
            return Ok((incident, Vec::new()));
        }
        let mut paging_changed = false;
        if incident.status == Status::Triggered && before != Status::Triggered {
            // Reopened or un-acknowledged: nobody is on it, so page again.
            let reason = format!("{before} -> triggered by {actor}");
            events.extend(crate::paging::start(&mut tx, pb, &incident, Some(reason), now).await?);
            paging_changed = true;
        } else if incident.status == Status::Acknowledged && before == Status::Triggered {
            crate::paging::acknowledged(&mut tx, pb, id, now).await?;
            paging_changed = true;
        }
        let cx = self.notify_context();
        if incident.status == Status::Resolved && before != Status::Resolved {
            let message = match &op_kind {
                IncidentOp::Resolve { message } | IncidentOp::Status { message, .. } => {
                    message.as_deref()
                }
                IncidentOp::PostUpdate { message, .. } => Some(message.as_str()),
                _ => None,
            };
            events.extend(crate::notify::on_resolved(&mut tx, &cx, &incident, message, now).await?);
        } else if let IncidentOp::PostUpdate { message, .. } = &op_kind {
            events.extend(crate::notify::on_update(&mut tx, &cx, &incident, message, now).await?);
        } else if incident.severity != before_severity {
            events.extend(crate::notify::on_severity_changed(&mut tx, &cx, &incident, now).await?);
        }
        let stored = tx.save_incident(&incident, events).await?;
        tx.commit().await?;
        if paging_changed {
            self.wake_paging();
        }
        self.delivery_wake.notify_one();
        Ok((incident, stored))
    }

    fn wake_paging(&self) {
        self.paging_wake.notify_one();
    }

    /// Notified when a change schedules paging work, so the paging task runs it at once.
    pub fn paging_wake(&self) -> Arc<Notify> {
        Arc::clone(&self.paging_wake)
    }

    /// Incidents whose timeline grew since `since`, at most `limit`: what
    /// the web UI's live feed polls for.
    pub async fn changed_since(
        &self,
        since: jiff::Timestamp,
        limit: u32,
    ) -> Result<Vec<warroom_store::IncidentChange>, StoreError> {
        self.store
            .incidents_changed_since(since.as_millisecond(), limit)
            .await
    }

    pub async fn get(&self, id: &str) -> Result<Incident, StoreError> {
        self.store.get_incident(id).await
    }

    pub async fn list(&self, filter: &IncidentFilter) -> Result<IncidentPage, StoreError> {
        self.store.list_incidents(filter).await
    }

    /// The incident's last `limit` timeline events, oldest first.
    pub async fn timeline_tail(
        &self,
        id: &str,
        limit: u32,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        self.store.timeline_tail(id, limit).await
    }

    pub async fn timeline(
        &self,
        id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        self.store.timeline(id, after, limit).await
    }
}
