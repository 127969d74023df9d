//! Stakeholder communications: who must be told what, when. On declaration
//! each audience the severity's `notify` rules name gets its initial
//! notification; a responder's status update goes to the audiences the
//! severity requires; resolution sends a resolution notice; and the
//! severity's `update_every` sets when the next update is due, with a
//! reminder to the Communications Coordinator (or the commander) when it
//! passes.
//!
//! Everything is queued as outbox rows inside the incident's transaction
//! (the `on_*` hooks), rendered from the playbook's templates at that moment,
//! and sent by `delivery`. The reminder is a `paging_jobs` row of kind
//! `update_due` whose generation is the number of updates posted, so an
//! update makes the pending reminder stale.

mod due;
pub mod messages;
mod service;

use jiff::{SignedDuration, Timestamp};
use warroom_domain::notify::MessageKind;
use warroom_domain::{EventKind, Incident, NewEvent, Playbook, Status};
use warroom_store::{CommsRecord, JobKind, NewJob, StoreError, WriteTx};

pub use due::UpdateDue;
use messages::{audience_messages, person_messages, Recipient};
pub use messages::{envelope, incident_url, MessageContextBuilder};
pub use service::Notifier;

use crate::paging::ENGINE_ACTOR;

/// What the hooks need besides the transaction.
pub struct NotifyContext<'a> {
    pub playbook: &'a Playbook,
    /// Base URL for links to the incident.
    pub public_url: &'a str,
}

/// Audiences the severity's rules name that the playbook defines.
fn required_audiences<'p>(playbook: &'p Playbook, severity: &str) -> Vec<&'p str> {
    playbook
        .severity(severity)
        .map(|s| {
            s.notify
                .iter()
                .filter(|rule| playbook.notifications.audience(&rule.audience).is_some())
                .map(|rule| rule.audience.as_str())
                .collect()
        })
        .unwrap_or_default()
}

async fn load_comms<T: WriteTx>(tx: &mut T, incident_id: &str) -> Result<CommsRecord, StoreError> {
    Ok(tx.comms(incident_id).await?.unwrap_or_else(|| CommsRecord {
        incident_id: incident_id.to_owned(),
        ..Default::default()
    }))
}

/// Queues messages to `audiences` and returns the timeline events.
#[allow(clippy::too_many_arguments)] // the hooks differ only in these
async fn tell<T: WriteTx>(
    tx: &mut T,
    cx: &NotifyContext<'_>,
    incident: &Incident,
    audiences: &[&str],
    kind: MessageKind,
    comms: &CommsRecord,
    update: Option<(&Status, &str)>,
    now: Timestamp,
) -> Result<Vec<NewEvent>, StoreError> {
    let mut events = Vec::new();
    for name in audiences {
        let Some(audience) = cx.playbook.notifications.audience(name) else {
            continue;
        };
        let recipient = Recipient::Audience(audience);
        for message in audience_messages(cx, incident, &recipient, kind, comms, update, now)? {
            if let Some(id) = tx.queue_message(&message).await? {
                events.push(queued_event(id, kind, &audience.name, &message, now));
            }
        }
    }
    Ok(events)
}

fn queued_event(
    id: i64,
    kind: MessageKind,
    to: &str,
    message: &warroom_store::NewMessage,
    now: Timestamp,
) -> NewEvent {
    NewEvent {
        at: now,
        actor: ENGINE_ACTOR.to_owned(),
        kind: EventKind::NotificationQueued {
            message_id: id,
            message_kind: kind.as_str().to_owned(),
            to: to.to_owned(),
            channel: message.channel.clone(),
            destination: message.destination.clone(),
        },
    }
}

/// Sets when the next update is due (from `from`) and schedules its reminder.
async fn schedule_cadence<T: WriteTx>(
    tx: &mut T,
    playbook: &Playbook,
    incident: &Incident,
    comms: &mut CommsRecord,
    from: Timestamp,
) -> Result<(), StoreError> {
    let every = playbook
        .severity(&incident.severity)
        .and_then(|s| s.update_every);
    comms.next_update_due = match every {
        Some(every) if incident.status.is_open() => Some(from + every),
        _ => None,
    };
    if let Some(due) = comms.next_update_due {
        tx.schedule_job(&NewJob {
            incident_id: incident.id.clone(),
            kind: JobKind::UpdateDue,
            generation: comms.updates,
            position: comms.reminders,
            run_at: due,
        })
        .await?;
    }
    Ok(())
}

/// A new incident: initial notifications and the update cadence.
pub async fn on_declared<T: WriteTx>(
    tx: &mut T,
    cx: &NotifyContext<'_>,
    incident: &Incident,
    now: Timestamp,
) -> Result<Vec<NewEvent>, StoreError> {
    let mut comms = load_comms(tx, &incident.id).await?;
    let audiences = required_audiences(cx.playbook, &incident.severity);
    schedule_cadence(tx, cx.playbook, incident, &mut comms, now).await?;
    let events = tell(
        tx,
        cx,
        incident,
        &audiences,
        MessageKind::InitialNotification,
        &comms,
        None,
        now,
    )
    .await?;
    comms.notified = audiences.iter().map(|a| (*a).to_owned()).collect();
    tx.put_comms(&comms).await?;
    Ok(events)
}

/// The severity changed: audiences the new level requires that were not
/// told yet get their initial notification, and the cadence follows the new level.
pub async fn on_severity_changed<T: WriteTx>(
    tx: &mut T,
    cx: &NotifyContext<'_>,
    incident: &Incident,
    now: Timestamp,
) -> Result<Vec<NewEvent>, StoreError> {
    let mut comms = load_comms(tx, &incident.id).await?;
    let new: Vec<&str> = required_audiences(cx.playbook, &incident.severity)
        .into_iter()
        .filter(|a| !comms.notified.iter().any(|n| n == a))
        .collect();
    // The next update is due a new-level interval after the last one; a new
    // cadence version makes the old level's reminder stale.
    let from = comms.last_update_at.unwrap_or(incident.declared_at);
    comms.reminders += 1;
    schedule_cadence(tx, cx.playbook, incident, &mut comms, from).await?;
    let events = tell(
        tx,
        cx,
        incident,
        &new,
        MessageKind::InitialNotification,
        &comms,
        None,
        now,
    )
    .await?;
    comms.notified.extend(new.iter().map(|a| (*a).to_owned()));
    tx.put_comms(&comms).await?;
    Ok(events)
}

/// A responder posted an update: it goes to every audience told so far and
/// every audience the severity requires; the next one is due a cadence later.
pub async fn on_update<T: WriteTx>(
    tx: &mut T,
    cx: &NotifyContext<'_>,
    incident: &Incident,
    message: &str,
    now: Timestamp,
) -> Result<Vec<NewEvent>, StoreError> {
    let mut comms = load_comms(tx, &incident.id).await?;
    comms.updates += 1;
    comms.reminders = 0;
    comms.last_update_at = Some(now);
    let mut audiences: Vec<String> = comms.notified.clone();
    for required in required_audiences(cx.playbook, &incident.severity) {
        if !audiences.iter().any(|a| a == required) {
            audiences.push(required.to_owned());
        }
    }
    schedule_cadence(tx, cx.playbook, incident, &mut comms, now).await?;
    let names: Vec<&str> = audiences.iter().map(String::as_str).collect();
    let events = tell(
        tx,
        cx,
        incident,
        &names,
        MessageKind::StatusUpdate,
        &comms,
        Some((&incident.status, message)),
        now,
    )
    .await?;
    comms.notified = audiences;
    tx.put_comms(&comms).await?;
    Ok(events)
}

/// Resolved: the audiences told so far get the resolution notice, with
/// the message the responder resolved it with (`update.message`) when
/// there is one; no more updates are due.
pub async fn on_resolved<T: WriteTx>(
    tx: &mut T,
    cx: &NotifyContext<'_>,
    incident: &Incident,
    message: Option<&str>,
    now: Timestamp,
) -> Result<Vec<NewEvent>, StoreError> {
    let Some(mut comms) = tx.comms(&incident.id).await? else {
        return Ok(Vec::new());
    };
    comms.next_update_due = None;
    comms.updates += 1;
    let names: Vec<String> = comms.notified.clone();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let events = tell(
        tx,
        cx,
        incident,
        &names,
        MessageKind::ResolutionNotice,
        &comms,
        message
            .filter(|m| !m.trim().is_empty())
            .map(|m| (&incident.status, m)),
        now,
    )
    .await?;
    tx.put_comms(&comms).await?;
    Ok(events)
}

/// The `update_due` job: when no update came since it was scheduled, the
/// Communications Coordinator (else the Incident Commander) is reminded,
/// once per missed due time, and the next reminder is a cadence later.
pub async fn remind<T: WriteTx>(
    tx: &mut T,
    cx: &NotifyContext<'_>,
    incident: &Incident,
    generation: i64,
    position: i64,
    now: Timestamp,
) -> Result<Vec<NewEvent>, StoreError> {
    let Some(mut comms) = tx.comms(&incident.id).await? else {
        return Ok(Vec::new());
    };
    let current = comms.updates == generation && comms.reminders == position;
    let Some(due) = comms
        .next_update_due
        .filter(|_| current && incident.status.is_open())
    else {
        return Ok(Vec::new());
    };
    let who = ["Communications Coordinator", "Incident Commander"]
        .iter()
        .find_map(|role| incident.roles.get(*role).map(|r| r.assignee.clone()));
    let mut events = vec![NewEvent {
        at: now,
        actor: ENGINE_ACTOR.to_owned(),
        kind: EventKind::UpdateOverdue {
            due_at: due,
            reminded: who.clone(),
        },
    }];
    if let Some(name) = &who {
        if let Some(user) = crate::paging::targets::load_user(tx, name).await? {
            let recipient = Recipient::Person(&user);
            for message in
                person_messages(cx, incident, &recipient, MessageKind::Reminder, &comms, now)?
            {
                if let Some(id) = tx.queue_message(&message).await? {
                    events.push(queued_event(id, MessageKind::Reminder, name, &message, now));
                }
            }
        }
    }
    comms.reminders += 1;
    comms.missed += 1;
    let every = cx
        .playbook
        .severity(&incident.severity)
        .and_then(|s| s.update_every);
    if let Some(every) = every.filter(|e| e.is_positive()) {
        // After downtime several intervals may have passed: count them as
        // missed, but remind once and schedule the next one from now
        // rather than replaying a reminder per missed interval.
        let mut next = due + every;
        if next <= now {
            let behind = now.duration_since(next).as_millis() / every.as_millis() + 1;
            comms.missed += i64::try_from(behind).unwrap_or(i64::MAX);
            next += SignedDuration::from_millis(
                i64::try_from(every.as_millis() * behind).unwrap_or(i64::MAX),
            );
        }
        comms.next_update_due = Some(next);
        tx.schedule_job(&NewJob {
            incident_id: incident.id.clone(),
            kind: JobKind::UpdateDue,
            generation: comms.updates,
            position: comms.reminders,
            run_at: next,
        })
        .await?;
    }
    tx.put_comms(&comms).await?;
    Ok(events)
}
