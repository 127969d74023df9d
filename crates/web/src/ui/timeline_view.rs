//! Timeline events in words for the workspace: a category (for the filter
//! and the marker), a headline and, for notes and messages, the text; and
//! the timeline as shown, where runs of alert and delivery entries fold
//! into one expandable group so notes, status changes and pages stand out.

use jiff::Timestamp;
use serde::Serialize;
use warroom_domain::timeline::TriggeredAlert;
use warroom_domain::{EventKind, TimelineEvent};

use super::view::{time, TimeView};

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub seq: i64,
    pub at: TimeView,
    pub actor: String,
    /// `note`, `status`, `alert`, `page`, `message`, `role`, `checklist`, `change`.
    pub category: &'static str,
    pub headline: String,
    pub text: Option<String>,
    /// Failures are marked so they stand out.
    pub problem: bool,
    /// Where the headline leads: the other incident of a merge.
    pub link: Option<String>,
}

/// Headline and text of an `alert_triggered` event: one alert as before
/// events listed several, several one line each.
fn triggered_words(alerts: &[TriggeredAlert]) -> (String, String) {
    match alerts {
        [one] => (
            format!(
                "Alert fired: {} from {} ({})",
                one.severity, one.origin, one.dedup_key
            ),
            one.summary.clone(),
        ),
        many => {
            let mut origins: Vec<&str> = many.iter().map(|a| a.origin.as_str()).collect();
            origins.sort_unstable();
            origins.dedup();
            (
                format!("{} alerts fired from {}", many.len(), origins.join(", ")),
                lines(
                    many.iter()
                        .map(|a| format!("{} {}: {}", a.severity, a.dedup_key, a.summary)),
                ),
            )
        }
    }
}

fn lines(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join("\n")
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "nobody".to_owned()
    } else {
        names.join(", ")
    }
}

/// The categories a person can narrow the timeline to (`?show=`).
pub const FILTERS: [&str; 6] = ["all", "note", "status", "alert", "page", "message"];

/// Kinds that come in bulk and fold into a group when two or more follow
/// each other: alerts from senders, and message and page deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bulk {
    Alerts,
    Deliveries,
}

fn bulk(kind: &EventKind) -> Option<Bulk> {
    use EventKind::*;
    match kind {
        AlertTriggered(_) | AlertAcknowledged(_) | AlertResolved(_) => Some(Bulk::Alerts),
        PageQueued { .. }
        | PageDelivered { .. }
        | PageFailed { .. }
        | NotificationQueued { .. }
        | NotificationSent { .. }
        | NotificationFailed { .. } => Some(Bulk::Deliveries),
        _ => None,
    }
}

/// A folded run of bulk entries, newest first like the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    pub category: &'static str,
    pub headline: String,
    /// The oldest and newest entry's time.
    pub from: TimeView,
    pub to: TimeView,
    pub problem: bool,
    pub events: Vec<EventView>,
}

/// One line of the timeline as shown: an entry or a group of them.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineItem {
    pub event: Option<EventView>,
    pub group: Option<GroupView>,
}

/// The timeline as the workspace shows it: `events` newest first, only
/// those of `show`'s category (unless `all`), with bulk runs folded.
pub fn timeline_items(events: &[TimelineEvent], show: &str) -> Vec<TimelineItem> {
    let mut items = Vec::new();
    let mut run: Vec<&TimelineEvent> = Vec::new();
    let flush = |run: &mut Vec<&TimelineEvent>, items: &mut Vec<TimelineItem>| {
        match run.len() {
            0 => {}
            1 => items.push(TimelineItem {
                event: Some(event_view(run[0])),
                group: None,
            }),
            _ => items.push(TimelineItem {
                event: None,
                group: Some(group_view(run)),
            }),
        }
        run.clear();
    };
    for e in events {
        let view_category = event_view(e).category;
        if show != "all" && view_category != show {
            continue;
        }
        let kind = bulk(&e.kind);
        if kind.is_none() || run.first().and_then(|r| bulk(&r.kind)) != kind {
            flush(&mut run, &mut items);
        }
        if kind.is_some() {
            run.push(e);
        } else {
            items.push(TimelineItem {
                event: Some(event_view(e)),
                group: None,
            });
        }
    }
    flush(&mut run, &mut items);
    items
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "88 alerts from api-prom, 3 resolved" or "38 messages delivered, 2 failed".
fn group_view(run: &[&TimelineEvent]) -> GroupView {
    use EventKind::*;
    let events: Vec<EventView> = run.iter().map(|e| event_view(e)).collect();
    let (mut fired, mut acknowledged, mut resolved) = (0, 0, 0);
    let mut origins: Vec<&str> = Vec::new();
    let (mut queued, mut delivered, mut failed) = (0, 0, 0);
    for e in run {
        match &e.kind {
            AlertTriggered(list) => {
                fired += list.alerts.len();
                origins.extend(list.alerts.iter().map(|a| a.origin.as_str()));
            }
            AlertAcknowledged(list) => acknowledged += list.alerts.len(),
            AlertResolved(list) => resolved += list.alerts.len(),
            PageQueued { .. } | NotificationQueued { .. } => queued += 1,
            PageDelivered { .. } | NotificationSent { .. } => delivered += 1,
            PageFailed { .. } | NotificationFailed { .. } => failed += 1,
            _ => {}
        }
    }
    origins.sort_unstable();
    origins.dedup();
    let alerts = bulk(&run[0].kind) == Some(Bulk::Alerts);
    let mut parts = Vec::new();
    if alerts {
        if fired > 0 {
            parts.push(format!(
                "{} from {}",
                plural(fired, "alert", "alerts"),
                origins.join(", ")
            ));
        }
        if acknowledged > 0 {
            parts.push(format!(
                "{} acknowledged at the source",
                plural(acknowledged, "alert", "alerts")
            ));
        }
        if resolved > 0 {
            parts.push(format!("{} resolved", plural(resolved, "alert", "alerts")));
        }
    } else {
        if delivered > 0 || failed == 0 {
            parts.push(format!(
                "{} delivered",
                plural(delivered, "message", "messages")
            ));
        }
        if failed > 0 {
            parts.push(format!("{failed} failed"));
        }
        if queued > delivered + failed {
            parts.push(format!("{} queued", queued - delivered - failed));
        }
    }
    GroupView {
        category: events[0].category,
        headline: parts.join(", "),
        from: time(run[run.len() - 1].at),
        to: time(run[0].at),
        problem: failed > 0,
        events,
    }
}

pub fn event_view(e: &TimelineEvent) -> EventView {
    use EventKind::*;
    let (category, headline, text, problem) = match &e.kind {
        Declared {
            title,
            severity,
            status,
        } => (
            "status",
            format!("Declared {severity}, {status}"),
            Some(title.clone()),
            false,
        ),
        StatusChanged { from, to, message } => (
            "status",
            format!("Status {from} → {to}"),
            message.clone(),
            false,
        ),
        SeverityChanged {
            from,
            to,
            direction,
            reason,
        } => (
            "status",
            format!("Severity {from} → {to} ({})", direction_word(direction)),
            reason.clone(),
            false,
        ),
        FieldChanged { field, from, to } => (
            "change",
            format!("{field}: {} → {}", value_text(from), value_text(to)),
            None,
            false,
        ),
        RoleAssigned { role, assignee } => ("role", format!("{assignee} is {role}"), None, false),
        RoleHandedOff { role, from, to } => (
            "role",
            format!("{role} handed off from {from} to {to}"),
            None,
            false,
        ),
        RoleUnassigned { role, from } => {
            ("role", format!("{from} is no longer {role}"), None, false)
        }
        ChecklistItem {
            phase,
            item,
            text,
            done,
        } => (
            "checklist",
            format!(
                "{} {phase} item {}",
                if *done { "Ticked" } else { "Unticked" },
                item
            ),
            Some(text.clone()),
            false,
        ),
        Note { text } => ("note", "Note".to_owned(), Some(text.clone()), false),
        AlertTriggered(list) => {
            let (headline, text) = triggered_words(&list.alerts);
            ("alert", headline, Some(text), false)
        }
        AlertAcknowledged(list) => match list.alerts.as_slice() {
            [one] => (
                "alert",
                format!("Alert acknowledged at the source ({})", one.dedup_key),
                None,
                false,
            ),
            many => (
                "alert",
                format!("{} alerts acknowledged at the source", many.len()),
                Some(lines(many.iter().map(|a| a.dedup_key.clone()))),
                false,
            ),
        },
        AlertResolved(list) => match list.alerts.as_slice() {
            [one] => (
                "alert",
                format!("Alert resolved ({})", one.dedup_key),
                Some(one.summary.clone()),
                false,
            ),
            many => (
                "alert",
                format!("{} alerts resolved", many.len()),
                Some(lines(
                    many.iter()
                        .map(|a| format!("{}: {}", a.dedup_key, a.summary)),
                )),
                false,
            ),
        },
        EscalationStarted {
            policy,
            urgency,
            reason,
        } => (
            "page",
            format!("Escalation policy {policy} started ({urgency} urgency)"),
            reason.clone(),
            false,
        ),
        EscalationStep {
            step,
            round,
            paged,
            problems,
            reason,
            ..
        } => (
            "page",
            format!("Step {step}, round {round}: paged {}", list(paged)),
            reason
                .clone()
                .or_else(|| (!problems.is_empty()).then(|| problems.join("; "))),
            paged.is_empty(),
        ),
        EscalationExhausted { policy } => (
            "page",
            format!("Policy {policy} ran out of steps with nobody acknowledging"),
            None,
            true,
        ),
        PageQueued {
            user,
            contact_method,
            channel,
            ..
        } => (
            "page",
            format!("Page queued for {user} by {channel} ({contact_method})"),
            None,
            false,
        ),
        PageDelivered {
            user,
            channel,
            attempt,
            ..
        } => (
            "page",
            format!("Page delivered to {user} by {channel} (attempt {attempt})"),
            None,
            false,
        ),
        PageFailed {
            user,
            channel,
            attempt,
            error,
            gave_up,
            ..
        } => (
            "page",
            format!(
                "Page to {user} by {channel} failed (attempt {attempt}{})",
                if *gave_up {
                    ", gave up"
                } else {
                    ", will retry"
                }
            ),
            Some(error.clone()),
            true,
        ),
        UpdatePosted { status, message } => (
            "message",
            format!("Update posted ({status})"),
            Some(message.clone()),
            false,
        ),
        NotificationQueued {
            message_kind,
            to,
            channel,
            ..
        } => (
            "message",
            format!("{} queued for {to} by {channel}", kind_words(message_kind)),
            None,
            false,
        ),
        NotificationSent {
            message_kind,
            to,
            channel,
            ..
        } => (
            "message",
            format!("{} sent to {to} by {channel}", kind_words(message_kind)),
            None,
            false,
        ),
        NotificationFailed {
            message_kind,
            to,
            channel,
            error,
            gave_up,
            ..
        } => (
            "message",
            format!(
                "{} to {to} by {channel} failed{}",
                kind_words(message_kind),
                if *gave_up {
                    ", gave up"
                } else {
                    ", will retry"
                }
            ),
            Some(error.clone()),
            true,
        ),
        MergedInto { into } => (
            "status",
            format!("Closed as a duplicate of {into}: its alerts, pages and timeline went there"),
            None,
            false,
        ),
        MergedFrom {
            from,
            title,
            alerts,
            events,
            messages,
        } => (
            "status",
            format!("Merged {from} into this incident"),
            Some(format!(
                "{title}\nFrom it: {alerts} alerts, {events} timeline events, {messages} messages"
            )),
            false,
        ),
        UpdateOverdue { due_at, reminded } => (
            "message",
            format!("Stakeholder update overdue (due {})", short(*due_at)),
            reminded.as_ref().map(|r| format!("Reminded {r}")),
            true,
        ),
    };
    EventView {
        seq: e.seq,
        at: time(e.at),
        actor: e.actor.clone(),
        category,
        headline,
        text,
        problem,
        link: merge_link(&e.kind),
    }
}

/// The page of the other incident of a merge event.
fn merge_link(kind: &EventKind) -> Option<String> {
    match kind {
        EventKind::MergedInto { into: other } | EventKind::MergedFrom { from: other, .. } => {
            Some(format!("/incidents/{other}"))
        }
        _ => None,
    }
}

fn short(t: Timestamp) -> String {
    super::view::short_utc(t)
}

fn direction_word(d: &warroom_domain::timeline::SeverityDirection) -> &'static str {
    match d {
        warroom_domain::timeline::SeverityDirection::Raised => "raised",
        warroom_domain::timeline::SeverityDirection::Lowered => "lowered",
    }
}

fn kind_words(kind: &str) -> String {
    let words = kind.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => words,
    }
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "(none)".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) if items.is_empty() => "(none)".to_owned(),
        serde_json::Value::Array(items) => {
            items.iter().map(value_text).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use warroom_domain::timeline::{Alerts, TriggeredAlert};

    use super::*;

    fn triggered(alerts: &[(&str, &str, &str)]) -> TimelineEvent {
        TimelineEvent {
            incident_id: "INC-1".into(),
            seq: 3,
            at: Timestamp::from_second(1_795_000_000).unwrap(),
            actor: "integration:prom".into(),
            kind: EventKind::AlertTriggered(Alerts {
                alerts: alerts
                    .iter()
                    .enumerate()
                    .map(|(i, (key, severity, origin))| TriggeredAlert {
                        alert_id: i as i64,
                        dedup_key: (*key).into(),
                        summary: format!("{key} is down"),
                        severity: (*severity).into(),
                        origin: (*origin).into(),
                    })
                    .collect(),
            }),
        }
    }

    #[test]
    fn one_alert_reads_as_before_and_several_get_a_line_each() {
        let one = event_view(&triggered(&[("db-1", "critical", "prometheus")]));
        assert_eq!(one.category, "alert");
        assert_eq!(one.headline, "Alert fired: critical from prometheus (db-1)");
        assert_eq!(one.text.as_deref(), Some("db-1 is down"));
        let three = event_view(&triggered(&[
            ("db-1", "critical", "prometheus"),
            ("db-2", "error", "pagerduty"),
            ("db-3", "error", "prometheus"),
        ]));
        assert_eq!(three.headline, "3 alerts fired from pagerduty, prometheus");
        assert_eq!(
            three.text.as_deref(),
            Some("critical db-1: db-1 is down\nerror db-2: db-2 is down\nerror db-3: db-3 is down")
        );
    }

    fn at(seq: i64, kind: EventKind) -> TimelineEvent {
        TimelineEvent {
            incident_id: "INC-1".into(),
            seq,
            at: Timestamp::from_second(1_795_000_000 + seq * 10).unwrap(),
            actor: "ada".into(),
            kind,
        }
    }

    #[test]
    fn bulk_runs_fold_into_groups_and_people_stand_out() {
        let mut events = Vec::new();
        for n in 0..88 {
            let mut e = triggered(&[("db", "critical", "api-prom")]);
            e.seq = n;
            events.push(e);
        }
        events.push(at(
            100,
            EventKind::Note {
                text: "rolled back".into(),
            },
        ));
        for n in 0..40 {
            events.push(at(
                200 + n,
                if n < 2 {
                    EventKind::NotificationFailed {
                        message_id: n,
                        message_kind: "status_update".into(),
                        to: "execs".into(),
                        channel: "email".into(),
                        attempt: 3,
                        error: "refused".into(),
                        gave_up: true,
                    }
                } else {
                    EventKind::NotificationSent {
                        message_id: n,
                        message_kind: "status_update".into(),
                        to: "execs".into(),
                        channel: "email".into(),
                        attempt: 1,
                    }
                },
            ));
        }
        events.reverse();
        let items = timeline_items(&events, "all");
        assert_eq!(items.len(), 3);
        let deliveries = items[0].group.as_ref().unwrap();
        assert_eq!(deliveries.headline, "38 messages delivered, 2 failed");
        assert!(deliveries.problem);
        assert_eq!(deliveries.events.len(), 40);
        assert_eq!(items[1].event.as_ref().unwrap().headline, "Note");
        let alerts = items[2].group.as_ref().unwrap();
        assert_eq!(alerts.headline, "88 alerts from api-prom");
        assert_eq!(alerts.from.iso, "2026-11-18T11:06:40Z");
        // Narrowed to notes, only the note is left.
        let notes = timeline_items(&events, "note");
        assert_eq!(notes.len(), 1);
        assert!(notes[0].event.is_some());
    }
}
