//! Plain-text views for `--output table`: the incident list, one incident's
//! summary and its timeline. Pure functions from wire types to strings.

use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value};

use super::wire::{Event, Incident, Phase, Role};

/// Lines of the list table fit in this many terminal columns.
pub(super) const TABLE_WIDTH: usize = 100;
/// The title column never shrinks below this, even if other columns are wide.
const MIN_TITLE_WIDTH: usize = 16;
pub(super) const GAP: &str = "  ";
/// Old and new values of a changed field are cut to this many columns.
const FIELD_VALUE_WIDTH: usize = 60;

/// The incident list: ID, SEV, STATUS, DECLARED (UTC), TITLE, with titles
/// cut so that each line fits in `width` columns.
pub(super) fn incident_table(incidents: &[Incident], width: usize) -> String {
    let rows: Vec<[String; 4]> = incidents
        .iter()
        .map(|i| {
            [
                clean(&i.id),
                clean(&i.severity),
                clean(&i.status),
                minute(i.declared_at),
            ]
        })
        .collect();
    let header = ["ID", "SEV", "STATUS", "DECLARED"];
    let mut widths = header.map(text_width);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(text_width(cell));
        }
    }
    let used: usize = widths.iter().map(|w| w + GAP.len()).sum();
    let title_width = width.saturating_sub(used).max(MIN_TITLE_WIDTH);

    let mut out = String::new();
    let mut line = |cells: &[String; 4], title: &str| {
        for (cell, w) in cells.iter().zip(widths) {
            out.push_str(&pad(cell, w));
            out.push_str(GAP);
        }
        out.push_str(&truncate(title, title_width));
        out.push('\n');
    };
    line(&header.map(str::to_owned), "TITLE");
    for (row, incident) in rows.iter().zip(incidents) {
        line(row, &clean(&incident.title));
    }
    out
}

/// `show`: everything about one incident a responder looks for, top to
/// bottom. Checklist items are listed for the first unfinished phase only,
/// or for every phase with `all_items`.
pub(super) fn incident_details(i: &Incident, all_items: bool) -> String {
    let mut out = format!("{}  {}\n", clean(&i.id), clean(&i.title));
    let mut field = |label: &str, value: &str| {
        let _ = writeln!(out, "  {:<14}{value}", format!("{label}:"));
    };
    field("Status", &clean(&i.status));
    field("Severity", &clean(&i.severity));
    if let Some(url) = &i.bridge_url {
        field("Bridge", &clean(url));
    }
    if let Some(url) = &i.chat_url {
        field("Chat", &clean(url));
    }
    if !i.services.is_empty() {
        let services: Vec<String> = i.services.iter().map(|s| clean(s)).collect();
        field("Services", &services.join(", "));
    }
    if let Some(category) = &i.category {
        field("Category", &clean(category));
    }
    field("Impact", &impact(i));
    if let Some(at) = i.impact_started_at {
        field("Impact began", &format!("{} UTC", minute(at)));
    }
    if let Some(at) = i.detected_at {
        field("Detected", &format!("{} UTC", minute(at)));
    }
    field(
        "Declared",
        &format!("{} UTC by {}", minute(i.declared_at), clean(&i.declared_by)),
    );
    for (label, at) in [
        ("Acknowledged", i.acknowledged_at),
        ("Mitigated", i.mitigated_at),
        ("Resolved", i.resolved_at),
        ("Closed", i.closed_at),
    ] {
        if let Some(at) = at {
            let after = elapsed(at.duration_since(i.declared_at));
            field(label, &format!("{} UTC (declared +{after})", minute(at)));
        }
    }
    if !i.summary.trim().is_empty() {
        out.push_str("\nSummary:\n");
        for text in i.summary.trim().lines() {
            let _ = writeln!(out, "  {}", clean(text));
        }
    }
    if !i.roles.is_empty() {
        out.push_str("\nRoles:\n");
        let widest = |f: fn(&Role) -> &str| i.roles.iter().map(|r| text_width(&clean(f(r)))).max();
        let role_width = widest(|r| &r.role).unwrap_or(0);
        let who_width = widest(|r| &r.assignee).unwrap_or(0);
        for role in &i.roles {
            let (name, who) = (clean(&role.role), clean(&role.assignee));
            let line = match role.since {
                Some(t) => format!(
                    "{}  {}  since {}",
                    pad(&name, role_width),
                    pad(&who, who_width),
                    minute(t)
                ),
                None => format!("{}  {who}", pad(&name, role_width)),
            };
            let _ = writeln!(out, "  {line}");
        }
    }
    if !i.checklist.is_empty() {
        out.push_str("\nChecklist:\n");
        let next = i.checklist.iter().position(|p| p.done < p.total);
        for (n, phase) in i.checklist.iter().enumerate() {
            checklist_phase(&mut out, phase, all_items || next == Some(n));
        }
    }
    out
}

/// A phase's progress line and, with `items`, its items with the numbers
/// `warroom incident check` takes.
fn checklist_phase(out: &mut String, phase: &Phase, items: bool) {
    let name = clean(&phase.name);
    let id = if phase.id.eq_ignore_ascii_case(&phase.name) {
        String::new()
    } else {
        format!(" [{}]", clean(&phase.id))
    };
    let target = phase
        .target
        .as_deref()
        .map(|t| format!("  (target {})", clean(t)))
        .unwrap_or_default();
    let _ = writeln!(out, "  {name}{id} {}/{}{target}", phase.done, phase.total);
    if !items {
        return;
    }
    for item in &phase.items {
        let mark = if item.done { 'x' } else { ' ' };
        let by = match (&item.done_by, item.done_at) {
            (Some(who), Some(at)) => format!("  ({}, {})", clean(who), minute(at)),
            (Some(who), None) => format!("  ({})", clean(who)),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "    [{mark}] {:>2}. {}{by}",
            item.item,
            clean(&item.text)
        );
    }
}

fn impact(i: &Incident) -> String {
    let facing = if i.customer_facing {
        "customer-facing"
    } else {
        "not customer-facing"
    };
    match i.users_affected {
        Some(1) => format!("{facing}, 1 user affected"),
        Some(n) => format!("{facing}, {n} users affected"),
        None => facing.to_owned(),
    }
}

/// One line per event (`14:03:10 alice  status_changed triggered -> acknowledged`),
/// with a date line whenever the UTC day changes. Multi-line notes continue
/// under their first line.
pub(super) fn timeline(events: &[Event]) -> String {
    let actor_width = events
        .iter()
        .map(|e| text_width(&clean(&e.actor)))
        .max()
        .unwrap_or(0);
    let indent = " ".repeat(9 + actor_width + GAP.len());
    let mut out = String::new();
    let mut day = String::new();
    for event in events {
        let today = event.at.strftime("%Y-%m-%d").to_string();
        if today != day {
            let _ = writeln!(out, "{today} (UTC)");
            day = today;
        }
        let mut lines = describe(event).into_iter();
        let first = lines.next().unwrap_or_default();
        let _ = writeln!(
            out,
            "{} {}{GAP}{first}",
            event.at.strftime("%H:%M:%S"),
            pad(&clean(&event.actor), actor_width)
        );
        for more in lines {
            let _ = writeln!(out, "{indent}{more}");
        }
    }
    out
}

/// The kind and its details; more than one line only for multi-line text.
fn describe(event: &Event) -> Vec<String> {
    let d = &event.data;
    let kind = clean(&event.kind);
    let (head, text) = match event.kind.as_str() {
        "declared" => (
            format!("{kind} {} {}", s(d, "severity"), s(d, "status")),
            get(d, "title"),
        ),
        "status_changed" => (
            format!("{kind} {} -> {}", s(d, "from"), s(d, "to")),
            get(d, "message"),
        ),
        "severity_changed" => (
            format!(
                "{kind} {} -> {} ({})",
                s(d, "from"),
                s(d, "to"),
                s(d, "direction")
            ),
            get(d, "reason"),
        ),
        "field_changed" => {
            let value = |key| d.get(key).map_or("(none)".to_owned(), json_value);
            let line = format!(
                "{kind} {}: {} -> {}",
                s(d, "field"),
                value("from"),
                value("to")
            );
            return vec![line];
        }
        "role_assigned" => (
            format!("{kind} {} -> {}", s(d, "role"), s(d, "assignee")),
            None,
        ),
        "role_handed_off" => (
            format!(
                "{kind} {}: {} -> {}",
                s(d, "role"),
                s(d, "from"),
                s(d, "to")
            ),
            None,
        ),
        "role_unassigned" => (
            format!("{kind} {} (was {})", s(d, "role"), s(d, "from")),
            None,
        ),
        "checklist_item" => {
            let done = if d.get("done") == Some(&Value::Bool(true)) {
                "done"
            } else {
                "undone"
            };
            let item = d.get("item").map_or("?".to_owned(), json_value);
            let text = get(d, "text").map(|t| format!(": {}", clean(t)));
            let line = format!(
                "{kind} {} {item} {done}{}",
                s(d, "phase"),
                text.unwrap_or_default()
            );
            return vec![line];
        }
        "note" => (kind, get(d, "text")),
        "alert_triggered" => {
            return alert_lines(&kind, d, |a| {
                let line = format!(
                    "{} {} from {}",
                    s(a, "dedup_key"),
                    s(a, "severity"),
                    s(a, "origin")
                );
                with_text(line, get(a, "summary"))
            })
        }
        "alert_acknowledged" => return alert_lines(&kind, d, |a| s(a, "dedup_key")),
        "alert_resolved" => {
            return alert_lines(&kind, d, |a| {
                with_text(s(a, "dedup_key"), get(a, "summary"))
            })
        }
        "escalation_started" => (
            format!(
                "{kind} policy {} ({} urgency)",
                s(d, "policy"),
                s(d, "urgency")
            ),
            get(d, "reason"),
        ),
        "escalation_step" => {
            let list = |key: &str| -> Vec<String> {
                d.get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(clean)
                    .collect()
            };
            let paged = list("paged");
            let who = if paged.is_empty() {
                "nobody".to_owned()
            } else {
                paged.join(", ")
            };
            let mut head = format!(
                "{kind} {} round {}: paged {who}",
                d.get("step").map_or("?".to_owned(), json_value),
                d.get("round").map_or("?".to_owned(), json_value)
            );
            let problems = list("problems");
            if !problems.is_empty() {
                head.push_str(&format!(" ({})", problems.join("; ")));
            }
            (head, get(d, "reason"))
        }
        "escalation_exhausted" => (
            format!("{kind}: policy {} ran out of steps", s(d, "policy")),
            None,
        ),
        "page_queued" => (
            format!(
                "{kind} {} via {} ({})",
                s(d, "user"),
                s(d, "channel"),
                s(d, "contact_method")
            ),
            None,
        ),
        "page_delivered" => (
            format!(
                "{kind} {} via {} (attempt {})",
                s(d, "user"),
                s(d, "channel"),
                d.get("attempt").map_or("?".to_owned(), json_value)
            ),
            None,
        ),
        "page_failed" => (
            format!(
                "{kind} {} via {} (attempt {}{})",
                s(d, "user"),
                s(d, "channel"),
                d.get("attempt").map_or("?".to_owned(), json_value),
                if d.get("gave_up") == Some(&Value::Bool(true)) {
                    ", gave up"
                } else {
                    ", will retry"
                }
            ),
            get(d, "error"),
        ),
        _ => (kind, get(d, "text").or_else(|| get(d, "message"))),
    };
    let Some(text) = text else { return vec![head] };
    let mut lines: Vec<String> = text.lines().map(clean).collect();
    match lines.first_mut() {
        Some(first) => *first = format!("{head}: {first}"),
        None => lines.push(head),
    }
    lines
}

/// An alert event's lines: `KIND ALERT` for one alert, else `KIND N
/// alerts` and a line per alert. Events list their alerts under `alerts`;
/// a server from before that sends one alert's fields in the event itself.
fn alert_lines(
    kind: &str,
    data: &Map<String, Value>,
    line: impl Fn(&Map<String, Value>) -> String,
) -> Vec<String> {
    let alerts: Vec<&Map<String, Value>> = match data.get("alerts").and_then(Value::as_array) {
        Some(list) => list.iter().filter_map(Value::as_object).collect(),
        None => vec![data],
    };
    match alerts.as_slice() {
        [one] => vec![format!("{kind} {}", line(one))],
        many => std::iter::once(format!("{kind} {} alerts", many.len()))
            .chain(many.iter().map(|a| line(a)))
            .collect(),
    }
}

/// `head: text` on one line (the text's first line, cleaned), or `head`.
fn with_text(head: String, text: Option<&str>) -> String {
    match text.and_then(|t| t.lines().next()) {
        Some(first) => format!("{head}: {}", clean(first)),
        None => head,
    }
}

fn get<'a>(data: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    data.get(key)
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
}

fn s(data: &Map<String, Value>, key: &str) -> String {
    get(data, key).map_or_else(|| "?".to_owned(), clean)
}

/// A changed field's value: text in quotes, `null` as `(none)`; long
/// values (a rewritten summary) are cut to keep the timeline one line each.
fn json_value(value: &Value) -> String {
    let text = match value {
        Value::Null => return "(none)".to_owned(),
        Value::String(text) => format!("{:?}", clean(text)),
        other => clean(&other.to_string()),
    };
    truncate(&text, FIELD_VALUE_WIDTH)
}

/// `2026-11-25 14:03`, in UTC.
pub(super) fn minute(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M").to_string()
}

/// `45s`, `12m`, `3h 05m`, `2d 4h`.
pub(super) fn elapsed(d: SignedDuration) -> String {
    let secs = d.as_secs().max(0);
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m:02}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// Server text made safe for one terminal line: control characters (escape
/// sequences, newlines, tabs) become spaces.
pub(super) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Columns a character takes in a terminal: 0 for combining marks and
/// joiners, 2 for East Asian wide characters and emoji, else 1. An
/// approximation of Unicode's East Asian Width, good enough for tables.
fn char_width(c: char) -> usize {
    match u32::from(c) {
        0x0300..=0x036F
        | 0x1AB0..=0x1AFF
        | 0x1DC0..=0x1DFF
        | 0x200B..=0x200F
        | 0x20D0..=0x20FF
        | 0xFE00..=0xFE0F
        | 0xFE20..=0xFE2F => 0,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

pub(super) fn text_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// `text` padded with spaces to `width` columns.
pub(super) fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text_width(text));
    format!("{text}{}", " ".repeat(fill))
}

/// `text` cut to at most `width` columns, ending in `…` when cut. Never
/// splits a character; combining marks stay with their base.
pub(super) fn truncate(text: &str, width: usize) -> String {
    if text_width(text) <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_width(c);
        if used + w > width.saturating_sub(1) {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests;
