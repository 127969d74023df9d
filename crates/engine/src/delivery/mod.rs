//! The outbox sender: claims due messages with a lease, sends each through
//! its channel, and records the outcome (and, for pages, a timeline event)
//! in one transaction. Temporary failures retry with exponential backoff
//! and jitter; after `max_attempts`, or on a permanent refusal, the message
//! is `dead`. A page whose incident was acknowledged or resolved before it
//! went out is cancelled instead of sent.
//!
//! Delivery is at least once: a crash between the send and the commit sends
//! again after the lease lapses, with the same `Idempotency-Key` header so
//! the receiver can drop the repeat.
//!
//! The channels themselves: `channels` (`ChannelSet`, routing a message to a
//! configured channel or a contact method), `envelope` (what a message body
//! holds), `email` (SMTP), `chat` (Slack, Mattermost, Teams, Discord
//! payloads), `webhook` (the signed generic webhook and `verify_signature`),
//! `twilio` (SMS and voice), `http` (shared HTTP handling and the relay
//! fallback `HttpChannels`).

mod channels;
mod chat;
mod email;
pub mod envelope;
mod http;
mod secret;
mod twilio;
pub mod webhook;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use tokio::sync::Notify;
use warroom_domain::{EventKind, NewEvent, Status};
use warroom_store::oncall::{message_state, MessageRecord, MessageUpdate};
use warroom_store::{PagingTx, Store, StoreError, WriteTx};

use crate::clock::Clock;
use crate::paging::ENGINE_ACTOR;

pub use channels::ChannelSet;
pub use email::{message_id, thread_root_id};
pub use envelope::Envelope;
pub use http::HttpChannels;
pub use twilio::SMS_MAX_CHARS;
pub use webhook::verify_signature;

const LEASE: SignedDuration = SignedDuration::from_secs(60);
const BATCH: u32 = 16;
const MAX_SLEEP: Duration = Duration::from_secs(10);
/// The first retry waits this long; each later one twice the last.
const FIRST_RETRY: SignedDuration = SignedDuration::from_secs(30);
const MAX_RETRY: SignedDuration = SignedDuration::from_mins(30);

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// Worth retrying (network trouble, 5xx, 429); otherwise the message is dead.
    pub temporary: bool,
    pub message: String,
}

/// Sends a message through its channel; `Ok` carries the provider's answer.
pub trait Channels: Send + Sync + 'static {
    fn send(
        &self,
        message: &MessageRecord,
    ) -> impl Future<Output = Result<String, SendError>> + Send;
}

/// The outbox sender. Cheap to clone.
pub struct Delivery<S, C> {
    store: S,
    channels: Arc<C>,
    clock: Arc<dyn Clock>,
    max_attempts: i64,
    wake: Arc<Notify>,
}

impl<S: Clone, C> Clone for Delivery<S, C> {
    fn clone(&self) -> Self {
        Delivery {
            store: self.store.clone(),
            channels: Arc::clone(&self.channels),
            clock: Arc::clone(&self.clock),
            max_attempts: self.max_attempts,
            wake: Arc::clone(&self.wake),
        }
    }
}

impl<S: Store, C: Channels> Delivery<S, C> {
    pub fn new(store: S, channels: Arc<C>, clock: Arc<dyn Clock>, max_attempts: u32) -> Self {
        Delivery {
            store,
            channels,
            clock,
            max_attempts: i64::from(max_attempts.max(1)),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn wake_handle(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Sends what is due at `now` (up to a batch). Returns how many were handled.
    pub async fn deliver_once(&self, now: Timestamp) -> Result<usize, StoreError> {
        let messages = self.store.claim_messages(now, now + LEASE, BATCH).await?;
        let count = messages.len();
        for message in messages {
            if let Err(e) = self.deliver(message, now).await {
                tracing::warn!(error = %e, "recording a delivery failed; it is retried when its lease lapses");
            }
        }
        Ok(count)
    }

    async fn deliver(&self, message: MessageRecord, now: Timestamp) -> Result<(), StoreError> {
        if message.purpose == "page" {
            if let Some(incident_id) = &message.incident_id {
                let incident = self.store.get_incident(incident_id).await?;
                if incident.status != Status::Triggered {
                    let mut tx = self.store.begin().await?;
                    tx.update_message(&MessageUpdate {
                        id: message.id,
                        state: message_state::CANCELLED.to_owned(),
                        attempts: message.attempts,
                        run_at: message.run_at,
                        last_error: Some(format!("not sent: the incident is {}", incident.status)),
                        provider_answer: None,
                        sent_at: None,
                    })
                    .await?;
                    return tx.commit().await;
                }
            }
        }
        let attempt = message.attempts + 1;
        let outcome = self.channels.send(&message).await;
        let user = message.user_name.clone().unwrap_or_default();
        let attempt_u32 = u32::try_from(attempt).unwrap_or(u32::MAX);
        let (update, event) = match outcome {
            Ok(answer) => (
                MessageUpdate {
                    id: message.id,
                    state: message_state::SENT.to_owned(),
                    attempts: attempt,
                    run_at: message.run_at,
                    last_error: None,
                    provider_answer: Some(answer),
                    sent_at: Some(now),
                },
                EventKind::PageDelivered {
                    message_id: message.id,
                    user,
                    channel: message.channel.clone(),
                    attempt: attempt_u32,
                },
            ),
            Err(error) => {
                let gave_up = !error.temporary || attempt >= self.max_attempts;
                let state = if gave_up {
                    message_state::DEAD
                } else {
                    message_state::FAILED
                };
                (
                    MessageUpdate {
                        id: message.id,
                        state: state.to_owned(),
                        attempts: attempt,
                        run_at: if gave_up {
                            message.run_at
                        } else {
                            now + backoff(attempt)
                        },
                        last_error: Some(error.message.clone()),
                        provider_answer: None,
                        sent_at: None,
                    },
                    EventKind::PageFailed {
                        message_id: message.id,
                        user,
                        channel: message.channel.clone(),
                        attempt: attempt_u32,
                        error: error.message,
                        gave_up,
                    },
                )
            }
        };
        let mut tx = self.store.begin().await?;
        tx.update_message(&update).await?;
        if let (Some(incident_id), "page") = (&message.incident_id, message.purpose.as_str()) {
            let incident = tx.lock_incident(incident_id).await?;
            let event = NewEvent {
                at: now,
                actor: ENGINE_ACTOR.to_owned(),
                kind: event,
            };
            tx.save_incident(&incident, vec![event]).await?;
        }
        tx.commit().await
    }

    /// Sends whenever the next message is due or `wake` is called, until dropped.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let now = self.clock.now();
                let handled = match self.deliver_once(now).await {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(error = %e, "delivery round failed; retrying");
                        0
                    }
                };
                if handled as u32 >= BATCH {
                    continue;
                }
                let sleep = match self.store.next_message_at().await {
                    Ok(Some(due)) => {
                        let wait = due
                            .duration_since(self.clock.now())
                            .max(SignedDuration::ZERO);
                        Duration::try_from(wait).unwrap_or(MAX_SLEEP).min(MAX_SLEEP)
                    }
                    Ok(None) => MAX_SLEEP,
                    Err(_) => Duration::from_secs(1),
                };
                tokio::select! {
                    () = tokio::time::sleep(sleep) => {}
                    () = self.wake.notified() => {}
                }
            }
        })
    }
}

/// 30 s, 1 min, 2 min, ... up to 30 min, each ±20 % so retries of many
/// messages to one struggling receiver spread out.
pub fn backoff(attempt: i64) -> SignedDuration {
    let doublings = u32::try_from((attempt - 1).clamp(0, 16)).unwrap_or(16);
    let base = FIRST_RETRY
        .checked_mul(2_i32.saturating_pow(doublings))
        .unwrap_or(MAX_RETRY)
        .min(MAX_RETRY);
    let jitter = rand::rng().random_range(0.8..1.2);
    SignedDuration::from_secs_f64(base.as_secs_f64() * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for (attempt, secs) in [(1, 30.0), (2, 60.0), (3, 120.0), (10, 1800.0), (40, 1800.0)] {
            let d = backoff(attempt).as_secs_f64();
            assert!(d >= secs * 0.8 && d <= secs * 1.2, "attempt {attempt}: {d}");
        }
    }
}
