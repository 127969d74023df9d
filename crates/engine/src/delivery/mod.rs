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
mod outcome;
mod secret;
mod twilio;
pub mod webhook;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use tokio::sync::Notify;
use warroom_domain::notify::{ChannelConfig, Throttle};
use warroom_domain::Status;
use warroom_store::{IncidentStore, MessageRecord, QueueStore, StoreError};

use crate::clock::Clock;
use outcome::Outcome;

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

    /// Whether a message to a contact method of this kind (`email`, `sms`,
    /// `voice`, `slack`, `webhook`) has a channel to go through, so a
    /// verification code is refused up front rather than failing in the
    /// outbox. Channels that take everything keep the default.
    fn carries_contact_kind(&self, _kind: &str) -> bool {
        true
    }
}

/// The outbox sender. Cheap to clone.
pub struct Delivery<S, C> {
    store: S,
    channels: Arc<C>,
    clock: Arc<dyn Clock>,
    max_attempts: i64,
    wake: Arc<Notify>,
    throttles: Arc<[Throttle]>,
    /// Configured channel name -> its type, for throttles.
    channel_types: Arc<HashMap<String, String>>,
}

impl<S: Clone, C> Clone for Delivery<S, C> {
    fn clone(&self) -> Self {
        Delivery {
            store: self.store.clone(),
            channels: Arc::clone(&self.channels),
            clock: Arc::clone(&self.clock),
            max_attempts: self.max_attempts,
            wake: Arc::clone(&self.wake),
            throttles: Arc::clone(&self.throttles),
            channel_types: Arc::clone(&self.channel_types),
        }
    }
}

impl<S: IncidentStore + QueueStore + Clone + 'static, C: Channels> Delivery<S, C> {
    pub fn new(store: S, channels: Arc<C>, clock: Arc<dyn Clock>, max_attempts: u32) -> Self {
        Delivery {
            store,
            channels,
            clock,
            max_attempts: i64::from(max_attempts.max(1)),
            wake: Arc::new(Notify::new()),
            throttles: Arc::new([]),
            channel_types: Arc::new(HashMap::new()),
        }
    }

    /// Limits messages per destination per channel type (the playbook's
    /// `notifications.throttle`), so a storm cannot flood a phone.
    pub fn with_throttles(mut self, throttles: Vec<Throttle>, channels: &[ChannelConfig]) -> Self {
        self.throttles = throttles.into();
        self.channel_types = Arc::new(
            channels
                .iter()
                .map(|c| (c.name.clone(), c.settings.type_name().to_owned()))
                .collect(),
        );
        self
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
        if let Some(reason) = self.not_wanted(&message).await? {
            return outcome::record(&self.store, &message, Outcome::Cancelled(reason), now).await;
        }
        if let Some((until, why)) = self.throttled(&message, now).await? {
            return outcome::record(
                &self.store,
                &message,
                Outcome::Throttled { until, why },
                now,
            )
            .await;
        }
        let attempt = message.attempts + 1;
        let result = match self.channels.send(&message).await {
            Ok(answer) => Outcome::Sent { answer },
            Err(error) => {
                let gave_up = !error.temporary || attempt >= self.max_attempts;
                Outcome::Failed {
                    error: error.message,
                    retry_at: (!gave_up).then(|| now + backoff(attempt)),
                }
            }
        };
        outcome::record(&self.store, &message, result, now).await
    }

    /// Why a message should no longer go out: a page (or reminder) whose
    /// incident left `triggered` (or closed) before it was sent.
    async fn not_wanted(&self, message: &MessageRecord) -> Result<Option<String>, StoreError> {
        let Some(incident_id) = &message.incident_id else {
            return Ok(None);
        };
        let status = self.store.get_incident(incident_id).await?.status;
        let unwanted = match message.purpose.as_str() {
            "page" => status != Status::Triggered,
            "reminder" => !status.is_open(),
            _ => false,
        };
        Ok(unwanted.then(|| format!("not sent: the incident is {status}")))
    }

    /// When a throttle for the message's channel type is full for its
    /// destination: when to try again, and why.
    async fn throttled(
        &self,
        message: &MessageRecord,
        now: Timestamp,
    ) -> Result<Option<(Timestamp, String)>, StoreError> {
        let kind = self
            .channel_types
            .get(&message.channel)
            .map_or_else(|| contact_channel_type(&message.channel), String::as_str);
        let Some(throttle) = self.throttles.iter().find(|t| t.channel_type == kind) else {
            return Ok(None);
        };
        let window = self
            .store
            .sent_since(&message.channel, &message.destination, now - throttle.per)
            .await?;
        if window.count < i64::from(throttle.max) {
            return Ok(None);
        }
        let until = window
            .oldest
            .map_or(now + throttle.per, |oldest| oldest + throttle.per);
        let why = format!(
            "throttled: {} messages to {} in the last {} (limit {})",
            window.count,
            message.destination,
            warroom_domain::notify::templates::in_words(throttle.per),
            throttle.max
        );
        Ok(Some((until.max(now + SignedDuration::from_secs(1)), why)))
    }

    /// The worker's loop: runs what is due whenever the next row is due or
    /// `wake` is called, until `task.shutdown`; the supervisor starts it
    /// (`App::start_workers`).
    pub async fn run(self, task: crate::supervisor::TaskContext) {
        let (clock, wake) = (Arc::clone(&self.clock), Arc::clone(&self.wake));
        crate::worker::run(
            "delivery",
            task,
            clock,
            wake,
            BATCH as usize,
            MAX_SLEEP,
            |now| self.deliver_once(now),
            || self.store.next_message_at(),
        )
        .await;
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

/// The channel type a contact kind is sent through (for throttles).
fn contact_channel_type(kind: &str) -> &str {
    match kind {
        "email" => "smtp",
        "sms" | "voice" => "twilio",
        other => other,
    }
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
