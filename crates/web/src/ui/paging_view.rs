//! "Who is paged right now" for the top of the workspace: the escalation
//! step being paged, each person paged there and whether the page reached
//! them, or a plain "paging reached nobody" when the policy ran out or its
//! targets had no one (or no way) to reach.

use serde::Serialize;
use warroom_domain::{EventKind, Incident, Status, TimelineEvent};
use warroom_store::{EscalationRecord, EscalationState, MessageRecord, MessageState};

#[derive(Debug, Clone, Serialize)]
pub struct PagedPerson {
    pub name: String,
    /// `delivered`, `sending`, `retrying`, `failed` or `cancelled`.
    pub state: &'static str,
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PagingView {
    pub policy: Option<String>,
    /// `paging`, `acknowledged`, `exhausted`, `reassigned` or `none`.
    pub state: &'static str,
    /// The step paged last and its round, counting from 1.
    pub step: Option<u32>,
    pub round: Option<u32>,
    pub steps: Option<usize>,
    pub people: Vec<PagedPerson>,
    /// Why a target reached nobody.
    pub problems: Vec<String>,
    /// Shown in red: the incident waits for someone and nobody was reached.
    pub reached_nobody: bool,
    /// Who acknowledged, when the incident is acknowledged.
    pub acknowledged_by: Option<String>,
}

fn person_state(pages: &[&MessageRecord]) -> &'static str {
    let has = |s: MessageState| pages.iter().any(|m| m.state == s);
    if has(MessageState::Sent) {
        "delivered"
    } else if has(MessageState::Queued) || has(MessageState::Sending) {
        "sending"
    } else if has(MessageState::Failed) {
        "retrying"
    } else if has(MessageState::Dead) {
        "failed"
    } else if has(MessageState::Cancelled) {
        "cancelled"
    } else {
        "sending"
    }
}

/// `newest_first` is the timeline tail the workspace shows; the step paged
/// last is normally in it (bulk alert entries are batched), and when it is
/// not the escalation record still names the policy and state.
pub fn paging_view(
    incident: &Incident,
    escalation: Option<&EscalationRecord>,
    newest_first: &[TimelineEvent],
    messages: &[MessageRecord],
) -> PagingView {
    let waiting = incident.status == Status::Triggered;
    let last_step = newest_first.iter().find_map(|e| match &e.kind {
        EventKind::EscalationStep {
            step,
            round,
            paged,
            problems,
            ..
        } => Some((e.at, *step, *round, paged, problems)),
        _ => None,
    });
    let acknowledged_by = (incident.status.is_open() && incident.status != Status::Triggered)
        .then(|| {
            newest_first.iter().find_map(|e| match &e.kind {
                EventKind::StatusChanged {
                    to: Status::Acknowledged,
                    ..
                } => Some(e.actor.clone()),
                _ => None,
            })
        })
        .flatten();
    let Some(escalation) = escalation else {
        return PagingView {
            policy: None,
            state: "none",
            step: None,
            round: None,
            steps: None,
            people: Vec::new(),
            problems: Vec::new(),
            reached_nobody: waiting,
            acknowledged_by,
        };
    };
    let steps = serde_json::from_str::<serde_json::Value>(&escalation.policy_doc)
        .ok()
        .and_then(|doc| doc["steps"].as_array().map(Vec::len));
    let mut people = Vec::new();
    let mut problems = Vec::new();
    let (mut step, mut round) = (None, None);
    if let Some((at, s, r, paged, step_problems)) = last_step {
        step = Some(s);
        round = Some(r);
        problems.clone_from(step_problems);
        for name in paged {
            let pages: Vec<&MessageRecord> = messages
                .iter()
                .filter(|m| {
                    m.purpose == "page"
                        && m.created_at >= at
                        && m.user_name.as_deref() == Some(name.as_str())
                })
                .collect();
            let mut channels: Vec<String> = pages.iter().map(|m| m.channel.clone()).collect();
            channels.dedup();
            people.push(PagedPerson {
                name: name.clone(),
                state: person_state(&pages),
                channels,
            });
        }
    } else if let Some(n) = steps.filter(|n| *n > 0 && escalation.position >= 0) {
        let position = usize::try_from(escalation.position).unwrap_or(0);
        step = u32::try_from(position % n + 1).ok();
        round = u32::try_from(position / n + 1).ok();
    }
    let state = match escalation.state {
        EscalationState::Active => "paging",
        EscalationState::Acknowledged => "acknowledged",
        EscalationState::Exhausted => "exhausted",
        EscalationState::Reassigned => "reassigned",
    };
    let nobody_reached =
        last_step.is_some() && (people.is_empty() || people.iter().all(|p| p.state == "failed"));
    PagingView {
        policy: Some(escalation.policy.clone()),
        state,
        step,
        round,
        steps,
        people,
        problems,
        reached_nobody: waiting
            && (escalation.state == EscalationState::Exhausted || nobody_reached),
        acknowledged_by,
    }
}
