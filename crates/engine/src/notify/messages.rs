//! Rendering outbox messages: the template context of an incident, the
//! JSON envelope every channel reads, and the rows for an audience or a
//! person.

use jiff::Timestamp;
use serde_json::json;
use warroom_domain::notify::templates::{
    format_utc, in_words, ContactVars, IncidentVars, MessageContext, NextUpdateVars, Rendered,
    UpdateVars,
};
use warroom_domain::notify::{Audience, AudienceClass, MessageKind};
use warroom_domain::oncall::{Urgency, User};
use warroom_domain::{Incident, Status};
use warroom_store::{CommsRecord, NewMessage, StoreError};

use super::NotifyContext;

/// Who a message is for.
pub(crate) enum Recipient<'a> {
    Audience(&'a Audience),
    Person(&'a User),
}

/// The link to an incident in every message: its page in the web UI (a
/// person who is not signed in signs in and comes back to it), never the
/// JSON API, which a phone's browser cannot use.
pub fn incident_url(public_url: &str, incident_id: &str) -> String {
    format!("{public_url}/incidents/{incident_id}")
}

/// A person's time zone from the directory; UTC when it names none this
/// build knows (the directory checks it when the person is saved).
pub fn time_zone_of(user: &User) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&user.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Builds the variables a template sees.
pub struct MessageContextBuilder;

impl MessageContextBuilder {
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        playbook: &warroom_domain::Playbook,
        public_url: &str,
        incident: &Incident,
        next_update_due: Option<Timestamp>,
        update: Option<(&Status, &str)>,
        recipient: &str,
        audience: &str,
        acknowledge_url: Option<String>,
        now: Timestamp,
    ) -> MessageContext {
        let contact = ["Communications Coordinator", "Incident Commander"]
            .iter()
            .find_map(|role| {
                incident.roles.get(*role).map(|r| ContactVars {
                    name: r.assignee.clone(),
                    detail: (*role).to_owned(),
                })
            });
        let mut vars = IncidentVars::from_incident(
            incident,
            playbook,
            &incident_url(public_url, &incident.id),
        );
        if let Some(n) = incident.users_affected {
            vars.impact = format!("{n} users affected");
        }
        MessageContext {
            incident: vars,
            update: update.map(|(status, message)| UpdateVars {
                status: status.as_str().to_owned(),
                message: message.to_owned(),
                at: format_utc(now),
            }),
            next_update: next_update_due.map(|due| NextUpdateVars {
                at: format_utc(due),
                in_words: in_words(due.duration_since(now)),
            }),
            contact,
            acknowledge_url,
            escalation: None,
            recipient: recipient.to_owned(),
            audience: audience.to_owned(),
        }
    }
}

/// The JSON every channel reads (see `delivery::envelope`): the rendered
/// text and HTML, the incident, and the thread (the incident id) that
/// e-mail uses to keep one conversation per incident.
pub fn envelope(
    kind: &str,
    rendered: &Rendered,
    incident: &Incident,
    url: &str,
    acknowledge_url: Option<&str>,
) -> String {
    let mut body = json!({
        "kind": kind,
        "text": rendered.text,
        "thread": incident.id,
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "severity": incident.severity,
            "status": incident.status,
            "url": url,
        },
    });
    add_bridge(&mut body, incident);
    if let Some(html) = &rendered.html {
        body["html"] = html.clone().into();
    }
    if let Some(ack) = acknowledge_url {
        body["acknowledge_url"] = ack.into();
    }
    body.to_string()
}

/// `incident.bridge_url` and `incident.chat_url` of an envelope, when set:
/// chat messages show them as buttons, webhooks pass them on.
pub(crate) fn add_bridge(body: &mut serde_json::Value, incident: &Incident) {
    for (key, url) in [
        ("bridge_url", &incident.bridge.bridge_url),
        ("chat_url", &incident.bridge.chat_url),
    ] {
        if let Some(url) = url {
            body["incident"][key] = url.clone().into();
        }
    }
}

fn render(
    cx: &NotifyContext<'_>,
    kind: MessageKind,
    class: AudienceClass,
    incident: &Incident,
    ctx: &MessageContext,
) -> Result<Rendered, StoreError> {
    cx.playbook
        .notifications
        .templates
        .render(kind, class, &incident.severity, ctx)
        .map_err(|e| {
            StoreError::Rejected(warroom_domain::DomainError::Conflict(format!(
                "cannot render the {} template: {e}",
                kind.as_str()
            )))
        })
}

/// One message per channel of the audience, and per address on e-mail and
/// SMS channels. The idempotency key names the incident, audience,
/// destination and update number, so a retried transaction queues nothing twice.
pub(crate) fn audience_messages(
    cx: &NotifyContext<'_>,
    incident: &Incident,
    recipient: &Recipient<'_>,
    kind: MessageKind,
    comms: &CommsRecord,
    update: Option<(&Status, &str)>,
    now: Timestamp,
) -> Result<Vec<NewMessage>, StoreError> {
    let Recipient::Audience(audience) = recipient else {
        return Ok(Vec::new());
    };
    let ctx = MessageContextBuilder::build(
        cx.playbook,
        cx.public_url,
        incident,
        comms.next_update_due,
        update,
        &audience.name,
        &audience.name,
        None,
        now,
    );
    let rendered = render(cx, kind, audience.class, incident, &ctx)?;
    let url = incident_url(cx.public_url, &incident.id);
    let body = envelope(kind.as_str(), &rendered, incident, &url, None);
    let mut messages = Vec::new();
    for target in &audience.targets {
        let destinations = if target.to.is_empty() {
            vec![target.channel.clone()]
        } else {
            target.to.clone()
        };
        for destination in destinations {
            messages.push(NewMessage {
                idempotency_key: format!(
                    "{}:{}:{}:{}:{}:{}",
                    kind.as_str(),
                    incident.id,
                    audience.name,
                    target.channel,
                    destination,
                    comms.updates
                ),
                incident_id: Some(incident.id.clone()),
                purpose: kind.as_str().to_owned(),
                user_name: None,
                contact_method: None,
                channel: target.channel.clone(),
                destination,
                subject: rendered.subject.clone(),
                body: body.clone(),
                run_at: now,
                created_at: now,
            });
        }
    }
    Ok(messages)
}

/// A message to one person on each of their verified contact methods (by
/// their high-urgency rules), as reminders go.
pub(crate) fn person_messages(
    cx: &NotifyContext<'_>,
    incident: &Incident,
    recipient: &Recipient<'_>,
    kind: MessageKind,
    comms: &CommsRecord,
    now: Timestamp,
) -> Result<Vec<NewMessage>, StoreError> {
    let Recipient::Person(user) = recipient else {
        return Ok(Vec::new());
    };
    let ctx = MessageContextBuilder::build(
        cx.playbook,
        cx.public_url,
        incident,
        comms.next_update_due,
        None,
        &user.name,
        "responders",
        None,
        now,
    )
    .in_time_zone(
        incident.impact_started_at.unwrap_or(incident.detected_at),
        &time_zone_of(user),
    );
    let rendered = render(cx, kind, AudienceClass::Responders, incident, &ctx)?;
    let url = incident_url(cx.public_url, &incident.id);
    let body = envelope(kind.as_str(), &rendered, incident, &url, None);
    Ok(user
        .rules_for(Urgency::High)
        .into_iter()
        .map(|(delay, method)| NewMessage {
            idempotency_key: format!(
                "{}:{}:{}:{}:{}:{}",
                kind.as_str(),
                incident.id,
                user.name,
                method.id,
                comms.updates,
                comms.reminders
            ),
            incident_id: Some(incident.id.clone()),
            purpose: kind.as_str().to_owned(),
            user_name: Some(user.name.clone()),
            contact_method: Some(method.id.clone()),
            channel: method.kind.as_str().to_owned(),
            destination: method.address.clone(),
            subject: rendered.subject.clone(),
            body: body.clone(),
            run_at: now + jiff::SignedDuration::from_mins(i64::from(delay)),
            created_at: now,
        })
        .collect())
}
