//! `Notifier`: the communications actions people take outside an incident
//! change: resend a message, send a test message to a channel, preview a
//! template, read an incident's cadence.

use std::sync::Arc;

use tokio::sync::Notify;
use warroom_domain::notify::templates::{MessageContext, Rendered};
use warroom_domain::notify::{AudienceClass, ChannelSettings, MessageKind};
use warroom_domain::{DomainError, Playbook};
use warroom_store::{
    CommsRecord, IncidentStore, MessageRecord, MessageState, NewMessage, PagingTx, QueueStore,
    StoreError, WriteTx,
};

use crate::clock::Clock;

/// Cheap to clone.
#[derive(Clone)]
pub struct Notifier<S> {
    store: S,
    playbook: Arc<Playbook>,
    clock: Arc<dyn Clock>,
    delivery_wake: Arc<Notify>,
}

impl<S: IncidentStore + QueueStore> Notifier<S> {
    pub fn new(
        store: S,
        playbook: Arc<Playbook>,
        clock: Arc<dyn Clock>,
        delivery_wake: Arc<Notify>,
    ) -> Notifier<S> {
        Notifier {
            store,
            playbook,
            clock,
            delivery_wake,
        }
    }

    /// Queues a copy of a message that failed, died or was cancelled, as a new
    /// message (a new idempotency key: the receiver should show it again).
    pub async fn resend(&self, id: i64) -> Result<MessageRecord, StoreError> {
        let old = self.store.get_message(id).await?;
        let resendable = [
            MessageState::Failed,
            MessageState::Dead,
            MessageState::Cancelled,
        ];
        if !resendable.contains(&old.state) {
            return Err(DomainError::Conflict(format!(
                "message {id} is {}; only failed, dead or cancelled messages are resent",
                old.state.as_str()
            ))
            .into());
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let new_id = tx
            .queue_message(&NewMessage {
                idempotency_key: format!("{}:resend:{}", old.idempotency_key, now.as_millisecond()),
                incident_id: old.incident_id.clone(),
                purpose: old.purpose.clone(),
                user_name: old.user_name.clone(),
                contact_method: old.contact_method.clone(),
                channel: old.channel.clone(),
                destination: old.destination.clone(),
                subject: old.subject.clone(),
                body: old.body.clone(),
                run_at: now,
                created_at: now,
            })
            .await?
            .ok_or_else(|| DomainError::Conflict(format!("message {id} was just resent")))?;
        tx.commit().await?;
        self.delivery_wake.notify_one();
        self.store.get_message(new_id).await
    }

    /// Queues a test message to a configured channel; e-mail and SMS
    /// channels need `to`.
    pub async fn test(&self, channel: &str, to: Option<&str>) -> Result<MessageRecord, StoreError> {
        let config = self
            .playbook
            .notifications
            .channel(channel)
            .ok_or_else(|| {
                let names: Vec<&str> = self
                    .playbook
                    .notifications
                    .channels
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect();
                DomainError::invalid(
                    "channel",
                    if names.is_empty() {
                        "no channels are configured: add notifications.channels to the playbook"
                            .to_owned()
                    } else {
                        format!(
                            "no channel named {channel:?}; the playbook has {}",
                            names.join(", ")
                        )
                    },
                )
            })?;
        let needs_to = matches!(
            config.settings,
            ChannelSettings::Smtp { .. } | ChannelSettings::Twilio { .. }
        );
        let destination = match (needs_to, to) {
            (true, Some(to)) => to.to_owned(),
            (true, None) => {
                return Err(DomainError::invalid(
                    "to",
                    "an e-mail or SMS channel needs an address to send the test to",
                )
                .into())
            }
            (false, _) => channel.to_owned(),
        };
        let now = self.clock.now();
        let text = format!(
            "This is a test message from Warroom on channel {channel} ({}), sent at {}.",
            config.settings.type_name(),
            warroom_domain::notify::templates::format_utc(now)
        );
        let body = serde_json::json!({ "kind": "test", "text": text }).to_string();
        let mut tx = self.store.begin().await?;
        let id = tx
            .queue_message(&NewMessage {
                idempotency_key: format!("test:{channel}:{destination}:{}", now.as_millisecond()),
                incident_id: None,
                purpose: "test".to_owned(),
                user_name: None,
                contact_method: None,
                channel: channel.to_owned(),
                destination,
                subject: "Warroom test message".to_owned(),
                body,
                run_at: now,
                created_at: now,
            })
            .await?
            .ok_or_else(|| DomainError::Conflict("a test was just sent; try again".into()))?;
        tx.commit().await?;
        self.delivery_wake.notify_one();
        self.store.get_message(id).await
    }

    /// Renders a template against a sample incident.
    pub fn preview(
        &self,
        kind: MessageKind,
        audience: AudienceClass,
        severity: &str,
    ) -> Result<Rendered, StoreError> {
        if self.playbook.severity(severity).is_none() {
            return Err(DomainError::invalid(
                "severity",
                format!("no severity named {severity:?}"),
            )
            .into());
        }
        let mut ctx = MessageContext::sample(kind);
        ctx.incident.severity = severity.to_owned();
        self.playbook
            .notifications
            .templates
            .render(kind, audience, severity, &ctx)
            .map_err(|e| DomainError::Conflict(format!("the template does not render: {e}")).into())
    }

    /// The incident's update cadence, if it has communications yet.
    pub async fn comms(&self, incident_id: &str) -> Result<Option<CommsRecord>, StoreError> {
        self.store.get_incident(incident_id).await?;
        self.store.get_comms(incident_id).await
    }

    /// Every incident with a status update due, soonest first.
    pub async fn updates_due(&self) -> Result<Vec<CommsRecord>, StoreError> {
        self.store.comms_due().await
    }

    pub async fn message(&self, id: i64) -> Result<MessageRecord, StoreError> {
        self.store.get_message(id).await
    }
}
