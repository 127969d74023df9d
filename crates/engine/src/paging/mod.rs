//! The paging engine: an incident that becomes `triggered` starts its
//! service's escalation policy; each step pages its targets by their
//! notification rules (as outbox messages); no acknowledgement within the
//! step's delay moves to the next step; acknowledging stops escalation (and
//! lapses after the playbook's `acknowledge_timeout`); resolving stops
//! everything.
//!
//! Every pending step is a `paging_jobs` row with `run_at` and a lease.
//! `Paging::run_once(now)` runs what is due; the task in `spawn` sleeps until
//! the next row is due or `wake` is notified. Restarting loses nothing: the
//! rows are still there, and overdue ones run at once.
//!
//! Paging starts and acknowledgements are recorded in the same transaction
//! as the incident change that caused them (`start`, `acknowledged`), so a
//! 2xx for a declared incident means its first page is scheduled.

pub mod ack_link;
mod step;
pub mod targets;

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;
use warroom_domain::oncall::{EscalationPolicy, Target};
use warroom_domain::{DomainError, EventKind, Incident, NewEvent, Playbook, Status, TimelineEvent};
use warroom_store::{
    EscalationRecord, EscalationState, IncidentStore, IncidentTx, JobKind, JobRecord,
    MessageRecord, NewJob, PagingTx, QueueStore, StoreError, WriteTx,
};

use crate::clock::Clock;
pub use ack_link::{AckClaim, AckLinkError, AckLinks};
use step::{page_step, StepContext};
use targets::Lookups;

/// The actor of everything the engine does on its own.
pub const ENGINE_ACTOR: &str = "warroom";

/// How long a claimed job is leased: a node that dies mid-job gives it back after this.
const LEASE: SignedDuration = SignedDuration::from_secs(60);
/// Jobs claimed per round.
const BATCH: u32 = 64;
/// The longest the task sleeps, so it notices rows written by another node.
const MAX_SLEEP: Duration = Duration::from_secs(10);

/// The policy that pages an incident: that of its first service naming
/// one, else the playbook's default.
pub fn policy_for<'p>(playbook: &'p Playbook, incident: &Incident) -> Option<&'p EscalationPolicy> {
    let named = incident
        .services
        .iter()
        .filter_map(|s| playbook.service(s))
        .find_map(|s| s.escalation_policy.as_deref())
        .or(playbook.oncall.default_escalation_policy.as_deref())?;
    playbook.escalation_policy(named)
}

/// Starts (or restarts, as a new generation) paging for an incident that
/// just became `triggered`, inside the caller's transaction. Returns the
/// events to append to the incident; none when no policy applies.
pub async fn start<T: WriteTx>(
    tx: &mut T,
    playbook: &Playbook,
    incident: &Incident,
    reason: Option<String>,
    now: Timestamp,
) -> Result<Vec<NewEvent>, StoreError> {
    let Some(policy) = policy_for(playbook, incident) else {
        return Ok(Vec::new());
    };
    start_policy(tx, playbook, incident, policy, reason, now).await
}

async fn start_policy<T: WriteTx>(
    tx: &mut T,
    playbook: &Playbook,
    incident: &Incident,
    policy: &EscalationPolicy,
    reason: Option<String>,
    now: Timestamp,
) -> Result<Vec<NewEvent>, StoreError> {
    let generation = next_generation(tx, &incident.id).await?;
    let urgency = playbook.urgency_for(&incident.severity);
    let policy_doc = serde_json::to_string(policy)
        .map_err(|e| StoreError::Database(format!("encoding policy: {e}")))?;
    tx.put_escalation(&EscalationRecord {
        incident_id: incident.id.clone(),
        policy: policy.name.clone(),
        policy_doc,
        urgency: urgency.as_str().to_owned(),
        generation,
        position: -1,
        state: EscalationState::Active,
        updated_at: now,
    })
    .await?;
    schedule(tx, &incident.id, JobKind::Step, generation, 0, now).await?;
    if let Some(every) = playbook
        .severity(&incident.severity)
        .and_then(|s| s.escalate_every)
    {
        schedule(
            tx,
            &incident.id,
            JobKind::SeverityEscalation,
            generation,
            1,
            now + every,
        )
        .await?;
    }
    Ok(vec![NewEvent {
        at: now,
        actor: ENGINE_ACTOR.to_owned(),
        kind: EventKind::EscalationStarted {
            policy: policy.name.clone(),
            urgency: urgency.as_str().to_owned(),
            reason,
        },
    }])
}

async fn next_generation<T: WriteTx>(tx: &mut T, incident_id: &str) -> Result<i64, StoreError> {
    Ok(tx
        .escalation(incident_id)
        .await?
        .map_or(1, |e| e.generation + 1))
}

async fn schedule<T: WriteTx>(
    tx: &mut T,
    incident_id: &str,
    kind: JobKind,
    generation: i64,
    position: i64,
    run_at: Timestamp,
) -> Result<(), StoreError> {
    tx.schedule_job(&NewJob {
        incident_id: incident_id.to_owned(),
        kind,
        generation,
        position,
        run_at,
    })
    .await
}

/// Records an acknowledgement inside the caller's transaction: escalation
/// stops, and with an `acknowledge_timeout` a job un-acknowledges later.
pub async fn acknowledged<T: WriteTx>(
    tx: &mut T,
    playbook: &Playbook,
    incident_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(mut escalation) = tx.escalation(incident_id).await? else {
        return Ok(());
    };
    escalation.state = EscalationState::Acknowledged;
    escalation.updated_at = now;
    tx.put_escalation(&escalation).await?;
    if let Some(timeout) = playbook.oncall.acknowledge_timeout {
        // One job per generation: an incident is acknowledged at most once
        // per generation, since un-acknowledging (by hand or by this
        // timeout) restarts paging as a new generation.
        schedule(
            tx,
            incident_id,
            JobKind::AckTimeout,
            escalation.generation,
            0,
            now + timeout,
        )
        .await?;
    }
    Ok(())
}

/// What a manual reassignment pages.
#[derive(Debug, Clone, PartialEq)]
pub enum Reassign {
    /// These targets, now; the policy stops.
    Targets(Vec<Target>),
    /// Another policy, from its first step.
    Policy(String),
}

/// The paging service: runs due jobs and the manual actions. Cheap to clone.
#[derive(Clone)]
pub struct Paging<S> {
    store: S,
    playbook: Arc<Playbook>,
    clock: Arc<dyn Clock>,
    links: AckLinks,
    /// Base URL of this Warroom as people reach it, for links in pages.
    public_url: Arc<str>,
    wake: Arc<Notify>,
    /// Notified after a job queued messages, so they go out at once.
    delivery_wake: Option<Arc<Notify>>,
}

impl<S: IncidentStore + QueueStore + Clone + 'static> Paging<S> {
    pub fn new(
        store: S,
        playbook: Arc<Playbook>,
        clock: Arc<dyn Clock>,
        links: AckLinks,
        public_url: &str,
        wake: Arc<Notify>,
    ) -> Paging<S> {
        Paging {
            store,
            playbook,
            clock,
            links,
            public_url: public_url.trim_end_matches('/').into(),
            wake,
            delivery_wake: None,
        }
    }

    pub fn with_delivery_wake(mut self, wake: Arc<Notify>) -> Paging<S> {
        self.delivery_wake = Some(wake);
        self
    }

    fn wake_delivery(&self) {
        if let Some(wake) = &self.delivery_wake {
            wake.notify_one();
        }
    }

    pub fn links(&self) -> &AckLinks {
        &self.links
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Paging jobs and messages due now and not yet done.
    pub async fn queue_depths(&self) -> Result<warroom_store::QueueDepths, StoreError> {
        self.store.queue_depths(self.clock.now()).await
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The incident's paging state; `None` if it was never paged.
    pub async fn escalation(
        &self,
        incident_id: &str,
    ) -> Result<Option<EscalationRecord>, StoreError> {
        self.store.get_escalation(incident_id).await
    }

    /// The incident's paging work not done yet, soonest first.
    pub async fn pending_jobs(&self, incident_id: &str) -> Result<Vec<JobRecord>, StoreError> {
        self.store.pending_jobs(incident_id).await
    }

    /// The messages sent (or queued) for the incident, oldest first.
    pub async fn messages(&self, incident_id: &str) -> Result<Vec<MessageRecord>, StoreError> {
        self.store.list_messages(incident_id).await
    }

    /// Tells the task new work may be due (after a commit that scheduled some).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn context(&self) -> StepContext<'_> {
        StepContext {
            playbook: &self.playbook,
            links: &self.links,
            public_url: &self.public_url,
        }
    }

    /// Runs every job due at `now` (up to a batch). Returns how many ran.
    /// A job that fails stays leased and is retried when its lease lapses.
    ///
    /// The round's jobs run in one transaction, so a round costs one commit
    /// (one fsync on SQLite) however many steps it pages, like the ingest
    /// group commit. If that transaction fails, its jobs run again one per
    /// transaction, so one bad job does not hold back the others.
    pub async fn run_once(&self, now: Timestamp) -> Result<usize, StoreError> {
        let jobs = self.store.claim_jobs(now, now + LEASE, BATCH).await?;
        if jobs.is_empty() {
            return Ok(0);
        }
        let ran = match self.run_jobs(&jobs, now).await {
            Ok(()) => jobs.len(),
            Err(e) => {
                tracing::debug!(error = %e, jobs = jobs.len(), "paging round failed; running its jobs one by one");
                let mut ran = 0;
                for job in &jobs {
                    match self.run_jobs(std::slice::from_ref(job), now).await {
                        Ok(()) => ran += 1,
                        Err(e) => tracing::warn!(
                            error = %e, incident = %job.incident_id, kind = job.kind.as_str(),
                            "paging job failed; it is retried when its lease lapses"
                        ),
                    }
                }
                ran
            }
        };
        if ran > 0 {
            self.wake_delivery();
        }
        Ok(ran)
    }

    /// Runs `jobs` in one transaction.
    async fn run_jobs(&self, jobs: &[JobRecord], now: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.store.begin().await?;
        let mut lookups = Lookups::default();
        for job in jobs {
            self.run_job(&mut tx, &mut lookups, job, now).await?;
        }
        let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
        tx.finish_jobs(&ids, now).await?;
        tx.commit().await
    }

    async fn run_job(
        &self,
        tx: &mut S::Tx,
        lookups: &mut Lookups,
        job: &JobRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut incident = tx.lock_incident(&job.incident_id).await?;
        if job.kind == JobKind::UpdateDue {
            // Update reminders share the job table and this worker.
            let cx = crate::notify::NotifyContext {
                playbook: &self.playbook,
                public_url: &self.public_url,
            };
            let events =
                crate::notify::remind(tx, &cx, &incident, job.generation, job.position, now)
                    .await?;
            if !events.is_empty() {
                tx.save_incident(&incident, events).await?;
            }
            return Ok(());
        }
        let escalation = tx.escalation(&job.incident_id).await?;
        let mut events = Vec::new();
        if let Some(mut escalation) = escalation.filter(|e| e.generation == job.generation) {
            let policy: EscalationPolicy =
                targets::decode("escalation policy", &escalation.policy_doc)?;
            match job.kind {
                JobKind::Step if incident.status == Status::Triggered => {
                    events = page_step(
                        tx,
                        &self.context(),
                        lookups,
                        &incident,
                        &mut escalation,
                        &policy,
                        job.position,
                        None,
                        now,
                    )
                    .await?;
                    let step = policy.step_at(u32::try_from(job.position).unwrap_or(u32::MAX));
                    let next = job.position + 1;
                    match step {
                        Some(step) if next < i64::from(policy.total_steps()) => {
                            let delay = SignedDuration::from_mins(i64::from(step.delay_minutes));
                            schedule(
                                tx,
                                &incident.id,
                                JobKind::Step,
                                job.generation,
                                next,
                                now + delay,
                            )
                            .await?;
                        }
                        _ => {
                            escalation.state = EscalationState::Exhausted;
                            events.push(NewEvent {
                                at: now,
                                actor: ENGINE_ACTOR.to_owned(),
                                kind: EventKind::EscalationExhausted {
                                    policy: policy.name.clone(),
                                },
                            });
                        }
                    }
                    tx.put_escalation(&escalation).await?;
                }
                JobKind::SeverityEscalation if incident.status.is_open() => {
                    let severity = self.playbook.severity(&incident.severity);
                    if let Some(every) = severity.and_then(|s| s.escalate_every) {
                        let last = i64::from(policy.total_steps()) - 1;
                        let position = (escalation.position + 1).min(last);
                        let reason = format!(
                            "{} unresolved for {}",
                            incident.severity,
                            crate::paging::step::human_duration(
                                every * i32::try_from(job.position).unwrap_or(1)
                            )
                        );
                        events = page_step(
                            tx,
                            &self.context(),
                            lookups,
                            &incident,
                            &mut escalation,
                            &policy,
                            position,
                            Some(reason),
                            now,
                        )
                        .await?;
                        tx.put_escalation(&escalation).await?;
                        schedule(
                            tx,
                            &incident.id,
                            JobKind::SeverityEscalation,
                            job.generation,
                            job.position + 1,
                            now + every,
                        )
                        .await?;
                    }
                }
                JobKind::AckTimeout if incident.status == Status::Acknowledged => {
                    let timeout = self
                        .playbook
                        .oncall
                        .acknowledge_timeout
                        .unwrap_or(SignedDuration::ZERO);
                    let message = format!(
                        "acknowledgement timed out after {}; paging again",
                        step::human_duration(timeout)
                    );
                    events = incident
                        .change_status(Status::Triggered, Some(message), ENGINE_ACTOR, now)
                        .map_err(StoreError::Rejected)?;
                    let restart = start_policy(
                        tx,
                        &self.playbook,
                        &incident,
                        &policy,
                        Some("acknowledgement timed out".to_owned()),
                        now,
                    )
                    .await?;
                    events.extend(restart);
                }
                // The incident moved on (acknowledged, resolved): nothing to do.
                _ => {}
            }
        }
        if !events.is_empty() {
            tx.save_incident(&incident, events).await?;
        }
        Ok(())
    }

    /// Pages the next step now (or step `to_step`, counting from 1), as a
    /// new generation; an acknowledged incident becomes triggered again.
    pub async fn escalate(
        &self,
        incident_id: &str,
        actor: &str,
        to_step: Option<u32>,
    ) -> Result<(Incident, Vec<TimelineEvent>), StoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut incident = tx.lock_incident(incident_id).await?;
        require_open(&incident)?;
        let Some(mut escalation) = tx.escalation(incident_id).await? else {
            return Err(DomainError::Conflict(format!(
                "{incident_id} has no escalation policy to escalate; reassign it to someone instead"
            ))
            .into());
        };
        let policy: EscalationPolicy =
            targets::decode("escalation policy", &escalation.policy_doc)?;
        let steps = policy.steps.len() as i64;
        let position = match to_step {
            Some(0) => return Err(DomainError::invalid("to_step", "steps count from 1").into()),
            Some(n) if i64::from(n) > steps => {
                return Err(DomainError::invalid(
                    "to_step",
                    format!("policy {} has {steps} steps", policy.name),
                )
                .into())
            }
            Some(n) => i64::from(n) - 1,
            None => ((escalation.position + 1) % steps).max(0),
        };
        let mut events = self.retrigger(&mut incident, actor, "re-escalated", now)?;
        escalation.generation += 1;
        escalation.state = EscalationState::Active;
        events.extend(
            page_step(
                &mut tx,
                &self.context(),
                &mut Lookups::default(),
                &incident,
                &mut escalation,
                &policy,
                position,
                Some(format!("re-escalated by {actor}")),
                now,
            )
            .await?,
        );
        if let Some(step) = policy.step_at(u32::try_from(position).unwrap_or(0)) {
            if position + 1 < i64::from(policy.total_steps()) {
                let delay = SignedDuration::from_mins(i64::from(step.delay_minutes));
                schedule(
                    &mut tx,
                    incident_id,
                    JobKind::Step,
                    escalation.generation,
                    position + 1,
                    now + delay,
                )
                .await?;
            }
        }
        tx.put_escalation(&escalation).await?;
        let stored = tx.save_incident(&incident, events).await?;
        tx.commit().await?;
        self.wake();
        self.wake_delivery();
        Ok((incident, stored))
    }

    /// Hands the incident to other people or another policy, paging them now.
    pub async fn reassign(
        &self,
        incident_id: &str,
        actor: &str,
        to: Reassign,
    ) -> Result<(Incident, Vec<TimelineEvent>), StoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut incident = tx.lock_incident(incident_id).await?;
        require_open(&incident)?;
        let mut events = self.retrigger(&mut incident, actor, "reassigned", now)?;
        match to {
            Reassign::Policy(name) => {
                let policy = self.playbook.escalation_policy(&name).cloned();
                let policy = match policy {
                    Some(p) => p,
                    None => step::load_policy(&mut tx, &name).await?.ok_or_else(|| {
                        DomainError::invalid(
                            "policy",
                            format!("no escalation policy named {name:?}"),
                        )
                    })?,
                };
                events.extend(
                    start_policy(
                        &mut tx,
                        &self.playbook,
                        &incident,
                        &policy,
                        Some(format!("reassigned by {actor}")),
                        now,
                    )
                    .await?,
                );
            }
            Reassign::Targets(targets) => {
                if targets.is_empty() {
                    return Err(DomainError::invalid("targets", "name at least one target").into());
                }
                let policy = EscalationPolicy {
                    name: "reassignment".to_owned(),
                    description: format!("reassigned by {actor}"),
                    steps: vec![warroom_domain::oncall::EscalationStep {
                        delay_minutes: 30,
                        targets,
                    }],
                    repeat: 0,
                };
                let generation = next_generation(&mut tx, incident_id).await?;
                let urgency = self.playbook.urgency_for(&incident.severity);
                let mut escalation = EscalationRecord {
                    incident_id: incident_id.to_owned(),
                    policy: policy.name.clone(),
                    policy_doc: serde_json::to_string(&policy)
                        .map_err(|e| StoreError::Database(format!("encoding policy: {e}")))?,
                    urgency: urgency.as_str().to_owned(),
                    generation,
                    position: -1,
                    state: EscalationState::Reassigned,
                    updated_at: now,
                };
                events.extend(
                    page_step(
                        &mut tx,
                        &self.context(),
                        &mut Lookups::default(),
                        &incident,
                        &mut escalation,
                        &policy,
                        0,
                        Some(format!("reassigned by {actor}")),
                        now,
                    )
                    .await?,
                );
                tx.put_escalation(&escalation).await?;
            }
        }
        let stored = tx.save_incident(&incident, events).await?;
        tx.commit().await?;
        self.wake();
        self.wake_delivery();
        Ok((incident, stored))
    }

    /// An acknowledged incident goes back to `triggered` so the new pages count.
    fn retrigger(
        &self,
        incident: &mut Incident,
        actor: &str,
        why: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, StoreError> {
        if incident.status == Status::Acknowledged {
            Ok(incident
                .change_status(
                    Status::Triggered,
                    Some(format!("{why} by {actor}")),
                    actor,
                    now,
                )
                .map_err(StoreError::Rejected)?)
        } else {
            Ok(Vec::new())
        }
    }

    /// The worker's loop: runs what is due whenever the next row is due or
    /// `wake` is called, until `task.shutdown`; the supervisor starts it
    /// (`App::start_workers`).
    pub async fn run(self, task: crate::supervisor::TaskContext) {
        let (clock, wake) = (Arc::clone(&self.clock), Arc::clone(&self.wake));
        crate::worker::run(
            "paging",
            task,
            clock,
            wake,
            BATCH as usize,
            MAX_SLEEP,
            |now| self.run_once(now),
            || self.store.next_job_at(),
        )
        .await;
    }
}

fn require_open(incident: &Incident) -> Result<(), StoreError> {
    if incident.status.is_open() {
        Ok(())
    } else {
        Err(DomainError::Conflict(format!(
            "{} is {}; reopen it before paging anyone",
            incident.id, incident.status
        ))
        .into())
    }
}
