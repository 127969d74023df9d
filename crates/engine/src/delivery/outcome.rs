//! Recording what happened to one delivery attempt, in one transaction: the
//! message's new state, its timeline event, and, when a page dies, the same
//! page to the person's next verified contact method.

use jiff::Timestamp;
use warroom_domain::{EventKind, NewEvent};
use warroom_store::{
    IncidentStore, IncidentTx, MessageRecord, MessageState, MessageUpdate, NewMessage, PagingTx,
    StoreError, WriteTx,
};

use crate::paging::ENGINE_ACTOR;

pub(super) enum Outcome {
    Sent {
        answer: String,
    },
    /// `retry_at: None` means no more attempts: the message is dead.
    Failed {
        error: String,
        retry_at: Option<Timestamp>,
    },
    /// Not sent, and never will be (the incident moved on).
    Cancelled(String),
    /// Not attempted yet: a throttle is full until `until`.
    Throttled {
        until: Timestamp,
        why: String,
    },
}

pub(super) async fn record<S: IncidentStore>(
    store: &S,
    message: &MessageRecord,
    outcome: Outcome,
    now: Timestamp,
) -> Result<(), StoreError> {
    let attempt = message.attempts + 1;
    let attempt_u32 = u32::try_from(attempt).unwrap_or(u32::MAX);
    let mut update = MessageUpdate {
        id: message.id,
        state: message.state,
        attempts: attempt,
        run_at: message.run_at,
        last_error: None,
        provider_answer: None,
        sent_at: None,
    };
    let mut events = Vec::new();
    let mut died = false;
    match outcome {
        Outcome::Sent { answer } => {
            update.state = MessageState::Sent;
            update.provider_answer = Some(answer);
            update.sent_at = Some(now);
            events.push(sent_event(message, attempt_u32));
        }
        Outcome::Failed { error, retry_at } => {
            died = retry_at.is_none();
            update.state = if died {
                MessageState::Dead
            } else {
                MessageState::Failed
            };
            update.run_at = retry_at.unwrap_or(message.run_at);
            events.push(failed_event(message, attempt_u32, &error, died));
            update.last_error = Some(error);
        }
        Outcome::Cancelled(reason) => {
            update.state = MessageState::Cancelled;
            update.attempts = message.attempts;
            update.last_error = Some(reason);
        }
        Outcome::Throttled { until, why } => {
            update.state = MessageState::Queued;
            update.attempts = message.attempts;
            update.run_at = until;
            update.last_error = Some(why);
        }
    }
    let mut tx = store.begin().await?;
    tx.update_message(&update).await?;
    if died && message.purpose == "page" {
        events.extend(next_contact_method(&mut tx, message, now).await?);
    }
    if let (Some(incident_id), false) = (&message.incident_id, events.is_empty()) {
        let incident = tx.lock_incident(incident_id).await?;
        let events = events
            .into_iter()
            .map(|kind| NewEvent {
                at: now,
                actor: ENGINE_ACTOR.to_owned(),
                kind,
            })
            .collect();
        tx.save_incident(&incident, events).await?;
    }
    tx.commit().await
}

/// Who a message was for, as the timeline names them.
fn recipient(message: &MessageRecord) -> String {
    message
        .user_name
        .clone()
        .unwrap_or_else(|| message.destination.clone())
}

fn sent_event(message: &MessageRecord, attempt: u32) -> EventKind {
    if message.purpose == "page" {
        EventKind::PageDelivered {
            message_id: message.id,
            user: recipient(message),
            channel: message.channel.clone(),
            attempt,
        }
    } else {
        EventKind::NotificationSent {
            message_id: message.id,
            message_kind: message.purpose.clone(),
            to: recipient(message),
            channel: message.channel.clone(),
            attempt,
        }
    }
}

fn failed_event(message: &MessageRecord, attempt: u32, error: &str, gave_up: bool) -> EventKind {
    if message.purpose == "page" {
        EventKind::PageFailed {
            message_id: message.id,
            user: recipient(message),
            channel: message.channel.clone(),
            attempt,
            error: error.to_owned(),
            gave_up,
        }
    } else {
        EventKind::NotificationFailed {
            message_id: message.id,
            message_kind: message.purpose.clone(),
            to: recipient(message),
            channel: message.channel.clone(),
            attempt,
            error: error.to_owned(),
            gave_up,
        }
    }
}

/// A page that died moves on to the person's next verified contact method
/// (in the order they listed them) not yet paged for the same step: the
/// idempotency key of a page ends in its method, so each method is tried once.
async fn next_contact_method<T: WriteTx>(
    tx: &mut T,
    message: &MessageRecord,
    now: Timestamp,
) -> Result<Vec<EventKind>, StoreError> {
    let (Some(user_name), Some(dead_method)) = (&message.user_name, &message.contact_method) else {
        return Ok(Vec::new());
    };
    let Some((prefix, _)) = message.idempotency_key.rsplit_once(':') else {
        return Ok(Vec::new());
    };
    let Some(user) = crate::paging::targets::load_user(tx, user_name).await? else {
        return Ok(Vec::new());
    };
    let mut body: serde_json::Value = serde_json::from_str(&message.body).unwrap_or_default();
    for method in user
        .contact_methods
        .iter()
        .filter(|m| m.verified && &m.id != dead_method)
    {
        body["contact_method"] = serde_json::json!({
            "id": method.id, "kind": method.kind, "address": method.address,
        });
        let next = NewMessage {
            idempotency_key: format!("{prefix}:{}", method.id),
            incident_id: message.incident_id.clone(),
            purpose: message.purpose.clone(),
            user_name: Some(user.name.clone()),
            contact_method: Some(method.id.clone()),
            channel: method.kind.as_str().to_owned(),
            destination: method.address.clone(),
            subject: message.subject.clone(),
            body: body.to_string(),
            run_at: now,
            created_at: now,
        };
        if let Some(id) = tx.queue_message(&next).await? {
            return Ok(vec![EventKind::PageQueued {
                message_id: id,
                user: user.name.clone(),
                contact_method: method.id.clone(),
                channel: method.kind.as_str().to_owned(),
                send_at: now,
            }]);
        }
    }
    Ok(Vec::new())
}
