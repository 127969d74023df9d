//! One escalation step: resolve its targets, queue a page per person and
//! contact method by their notification rules, and say so on the timeline.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use warroom_domain::notify::templates::Rendered;
use warroom_domain::notify::{AudienceClass, MessageKind};
use warroom_domain::oncall::{EscalationPolicy, Target, Urgency, User};
use warroom_domain::{EventKind, Incident, NewEvent, Playbook};
use warroom_store::{DirectoryKind, EscalationRecord, NewMessage, StoreError, WriteTx};

use super::ack_link::{AckClaim, AckLinks};
use super::targets::{self, decode, Lookups};
use super::ENGINE_ACTOR;

/// What a step needs besides the transaction.
pub(crate) struct StepContext<'a> {
    pub playbook: &'a Playbook,
    pub links: &'a AckLinks,
    pub public_url: &'a str,
}

/// Pages the step at `position` (counting repeats) and records it as the
/// escalation's position. Returns the timeline events.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn page_step<T: WriteTx>(
    tx: &mut T,
    cx: &StepContext<'_>,
    lookups: &mut Lookups,
    incident: &Incident,
    escalation: &mut EscalationRecord,
    policy: &EscalationPolicy,
    position: i64,
    reason: Option<String>,
    now: Timestamp,
) -> Result<Vec<NewEvent>, StoreError> {
    let Some(step) = policy.step_at(u32::try_from(position).unwrap_or(u32::MAX)) else {
        return Ok(Vec::new());
    };
    let per_round = policy.steps.len() as i64;
    let resolved = targets::resolve_with(tx, lookups, &step.targets, now).await?;
    let urgency = if escalation.urgency == Urgency::Low.as_str() {
        Urgency::Low
    } else {
        Urgency::High
    };
    let next = next_escalation(policy, position, now);
    let mut pages = Vec::new();
    for user in &resolved.users {
        for (delay, method) in user.rules_for(urgency) {
            let send_at = now + SignedDuration::from_mins(i64::from(delay));
            let page = Page {
                user,
                method,
                position,
                urgency,
                next: next.as_ref(),
                send_at,
            };
            let message = page_message(cx, incident, escalation, &page, now);
            if let Some(id) = tx.queue_message(&message).await? {
                pages.push(NewEvent {
                    at: now,
                    actor: ENGINE_ACTOR.to_owned(),
                    kind: EventKind::PageQueued {
                        message_id: id,
                        user: user.name.clone(),
                        contact_method: method.id.clone(),
                        channel: method.kind.as_str().to_owned(),
                        send_at,
                    },
                });
            }
        }
    }
    escalation.position = position;
    escalation.updated_at = now;
    let mut events = vec![NewEvent {
        at: now,
        actor: ENGINE_ACTOR.to_owned(),
        kind: EventKind::EscalationStep {
            step: u32::try_from(position % per_round + 1).unwrap_or(1),
            round: u32::try_from(position / per_round + 1).unwrap_or(1),
            targets: step.targets.iter().map(|t| t.label()).collect(),
            paged: resolved.users.iter().map(|u| u.name.clone()).collect(),
            problems: resolved.problems,
            reason,
        },
    }];
    events.extend(pages);
    Ok(events)
}

/// When the step after `position` pages, if no one acknowledges, and whom:
/// `(at, "bob, the secondary schedule")`; `None` after the last step.
fn next_escalation(
    policy: &EscalationPolicy,
    position: i64,
    now: Timestamp,
) -> Option<(Timestamp, String)> {
    let position = u32::try_from(position).ok()?;
    let step = policy.step_at(position)?;
    let next = policy.step_at(position + 1)?;
    let to: Vec<String> = next
        .targets
        .iter()
        .map(|target| match target {
            Target::User { name } => name.clone(),
            Target::Schedule { name } => format!("whoever is on call for {name}"),
            Target::Team { name, .. } => format!("team {name}"),
        })
        .collect();
    let at = now + SignedDuration::from_mins(i64::from(step.delay_minutes));
    Some((at, to.join(", ")))
}

/// One page: to whom, how, and what follows it.
struct Page<'a> {
    user: &'a User,
    method: &'a warroom_domain::oncall::ContactMethod,
    position: i64,
    urgency: Urgency,
    /// The next escalation step: when, and to whom.
    next: Option<&'a (Timestamp, String)>,
    send_at: Timestamp,
}

/// The outbox row of one page. Its idempotency key makes re-running the
/// same step (after a crash between send and commit) queue nothing new.
fn page_message(
    cx: &StepContext<'_>,
    incident: &Incident,
    escalation: &EscalationRecord,
    page: &Page<'_>,
    now: Timestamp,
) -> NewMessage {
    let Page {
        user,
        method,
        position,
        urgency,
        next,
        send_at,
    } = *page;
    let expires_at = now + cx.playbook.oncall.ack_link_ttl;
    let token = cx.links.sign(&AckClaim {
        incident_id: incident.id.clone(),
        user: user.name.clone(),
        expires_at,
    });
    let url = crate::notify::incident_url(cx.public_url, &incident.id);
    let acknowledge_url = format!("{}/ack/{token}", cx.public_url);
    // The page template (the playbook's or the built-in one) writes the
    // words; a template that cannot render must not stop the page.
    let ctx = crate::notify::MessageContextBuilder::build(
        cx.playbook,
        cx.public_url,
        incident,
        None,
        None,
        &user.name,
        "responders",
        Some(acknowledge_url.clone()),
        now,
    );
    // Times in the person's own time zone; "escalates in" counts from when
    // this page goes out.
    let tz = crate::notify::messages::time_zone_of(user);
    let started = incident.impact_started_at.unwrap_or(incident.detected_at);
    let mut ctx = ctx.in_time_zone(started, &tz);
    if let Some((at, to)) = next {
        ctx = ctx.with_escalation(*at, to.clone(), &tz, send_at);
    }
    let rendered = cx
        .playbook
        .notifications
        .templates
        .render(
            MessageKind::Page,
            AudienceClass::Responders,
            &incident.severity,
            &ctx,
        )
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the page template failed; sending a plain page");
            Rendered {
                subject: format!(
                    "[{}] {}: {}",
                    incident.severity, incident.id, incident.title
                ),
                text: format!("{}\nAcknowledge: {acknowledge_url}", incident.title),
                html: None,
            }
        });
    let subject = rendered.subject.clone();
    let mut body = json!({
        "type": "page",
        "kind": "page",
        "text": rendered.text,
        "thread": incident.id,
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "summary": incident.summary,
            "severity": incident.severity,
            "status": incident.status,
            "services": incident.services,
            "declared_at": incident.declared_at,
            "url": url,
        },
        "user": user.name,
        "contact_method": {"id": method.id, "kind": method.kind, "address": method.address},
        "urgency": urgency,
        "escalation": {
            "policy": escalation.policy,
            "generation": escalation.generation,
            "position": position,
        },
        "acknowledge_url": acknowledge_url,
        "acknowledge_url_expires_at": expires_at,
    });
    crate::notify::messages::add_bridge(&mut body, incident);
    if let Some(html) = rendered.html {
        body["html"] = html.into();
    }
    NewMessage {
        idempotency_key: format!(
            "page:{}:{}:{}:{}:{}",
            incident.id, escalation.generation, position, user.name, method.id
        ),
        incident_id: Some(incident.id.clone()),
        purpose: "page".to_owned(),
        user_name: Some(user.name.clone()),
        contact_method: Some(method.id.clone()),
        channel: method.kind.as_str().to_owned(),
        destination: method.address.clone(),
        subject,
        body: body.to_string(),
        run_at: send_at,
        created_at: now,
    }
}

/// An API-defined policy from the directory.
pub(crate) async fn load_policy<T: WriteTx>(
    tx: &mut T,
    name: &str,
) -> Result<Option<EscalationPolicy>, StoreError> {
    match tx.directory_doc(DirectoryKind::Policy, name).await? {
        Some(doc) => Ok(Some(decode(&format!("policy {name}"), &doc)?)),
        None => Ok(None),
    }
}

/// "30m", "2h", "1h 30m": durations as the playbook writes them.
pub(crate) fn human_duration(d: SignedDuration) -> String {
    let minutes = d.as_secs() / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}
