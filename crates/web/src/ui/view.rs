//! View models: what templates show, computed once in Rust (times as
//! ISO text for the script to localize, durations in words, clock states).

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use warroom_domain::{Incident, Playbook, Status};

/// `2026-11-25T19:57:16Z`: what `<time datetime>` and the script read.
pub fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `Nov 25 19:57 UTC`: shown until the script puts it in the viewer's zone.
pub fn short_utc(t: Timestamp) -> String {
    t.strftime("%b %d %H:%M UTC").to_string()
}

/// A time both ways, for `{{ m.time(t) }}`.
#[derive(Debug, Clone, Serialize)]
pub struct TimeView {
    pub iso: String,
    pub text: String,
}

pub fn time(t: Timestamp) -> TimeView {
    TimeView {
        iso: iso(t),
        text: short_utc(t),
    }
}

pub fn time_opt(t: Option<Timestamp>) -> Option<TimeView> {
    t.map(time)
}

/// `2d 3h`, `3h 12m`, `12m`, `45s`: the two largest units.
pub fn duration_words(d: SignedDuration) -> String {
    let secs = d.as_secs().unsigned_abs();
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if days > 0 && hours > 0 {
        format!("{days}d {hours}h")
    } else if days > 0 {
        format!("{days}d")
    } else if hours > 0 && mins > 0 {
        format!("{hours}h {mins}m")
    } else if hours > 0 {
        format!("{hours}h")
    } else if mins > 0 {
        format!("{mins}m")
    } else {
        format!("{secs}s")
    }
}

/// Index of a severity in the playbook (0 is the worst); unknown ones sort last.
pub fn severity_rank(playbook: &Playbook, name: &str) -> usize {
    playbook
        .severities
        .iter()
        .position(|s| s.name == name)
        .unwrap_or(playbook.severities.len())
}

#[derive(Debug, Clone, Serialize)]
pub struct SeverityView {
    pub name: String,
    pub label: String,
    /// 0 for the worst; picks the colour, never the only cue.
    pub rank: usize,
}

pub fn severity(playbook: &Playbook, name: &str) -> SeverityView {
    let level = playbook.severities.iter().find(|s| s.name == name);
    SeverityView {
        name: name.to_owned(),
        label: level.map_or(String::new(), |l| l.label.clone()),
        rank: severity_rank(playbook, name).min(4),
    }
}

/// A response or resolution target and where the incident stands against it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetClock {
    pub label: &'static str,
    /// When the clock started and when the target falls.
    pub start: String,
    pub due: String,
    /// When it was met; the clock stops there.
    pub met: Option<String>,
    /// `ok`, `amber` (three quarters used), `red` (missed) or `met`.
    pub state: &'static str,
    pub text: String,
}

fn target_clock(
    label: &'static str,
    start: Timestamp,
    target: SignedDuration,
    met_at: Option<Timestamp>,
    now: Timestamp,
) -> TargetClock {
    let due = start + target;
    let until = met_at.unwrap_or(now);
    let used = until.duration_since(start);
    let (state, text) = match met_at {
        Some(_) if until <= due => ("met", format!("met in {}", duration_words(used))),
        Some(_) => (
            "red",
            format!("met {} late", duration_words(until.duration_since(due))),
        ),
        None if now > due => (
            "red",
            format!("{} over", duration_words(now.duration_since(due))),
        ),
        None if used.as_secs() * 4 >= target.as_secs() * 3 => (
            "amber",
            format!("{} left", duration_words(due.duration_since(now))),
        ),
        None => (
            "ok",
            format!("{} left", duration_words(due.duration_since(now))),
        ),
    };
    TargetClock {
        label,
        start: iso(start),
        due: iso(due),
        met: met_at.map(iso),
        state,
        text,
    }
}

/// An incident as lists and headers show it.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentRow {
    pub id: String,
    pub title: String,
    pub severity: SeverityView,
    pub status: &'static str,
    pub open: bool,
    pub services: Vec<String>,
    pub category: Option<String>,
    pub declared_at: TimeView,
    pub age: String,
    pub commander: Option<String>,
    pub clocks: Vec<TargetClock>,
}

pub fn incident_row(playbook: &Playbook, i: &Incident, now: Timestamp) -> IncidentRow {
    let level = playbook.severities.iter().find(|s| s.name == i.severity);
    let mut clocks = Vec::new();
    if let Some(level) = level {
        if let Some(target) = level.response_target {
            clocks.push(target_clock(
                "Response",
                i.declared_at,
                target,
                i.acknowledged_at.or(i.resolved_at),
                now,
            ));
        }
        if let Some(target) = level.resolution_target {
            clocks.push(target_clock(
                "Resolution",
                i.declared_at,
                target,
                i.resolved_at,
                now,
            ));
        }
    }
    let end = i.resolved_at.unwrap_or(now);
    IncidentRow {
        id: i.id.clone(),
        title: i.title.clone(),
        severity: severity(playbook, &i.severity),
        status: i.status.as_str(),
        open: i.status.is_open(),
        services: i.services.clone(),
        category: i.category.clone(),
        declared_at: time(i.declared_at),
        age: duration_words(end.duration_since(i.declared_at)),
        commander: i
            .roles
            .iter()
            .find(|(role, _)| role.to_ascii_lowercase().contains("commander"))
            .map(|(_, a)| a.assignee.clone()),
        clocks,
    }
}

/// The statuses a person may pick in a form, in lifecycle order.
pub fn statuses() -> Vec<&'static str> {
    Status::ALL.iter().map(|s| s.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn durations_read_as_the_two_largest_units() {
        let words = |secs| duration_words(SignedDuration::from_secs(secs));
        assert_eq!(words(45), "45s");
        assert_eq!(words(12 * 60 + 5), "12m");
        assert_eq!(words(3600), "1h");
        assert_eq!(words(3 * 3600 + 12 * 60), "3h 12m");
        assert_eq!(words(86_400), "1d");
        assert_eq!(words(2 * 86_400 + 3 * 3600 + 59), "2d 3h");
        assert_eq!(words(-90), "1m");
    }

    #[test]
    fn a_clock_turns_amber_at_three_quarters_and_red_past_the_target() {
        let start = t("2026-11-25T10:00:00Z");
        let target = SignedDuration::from_mins(20);
        let at = |mins: i64| start + SignedDuration::from_mins(mins);
        let state = |now, met| target_clock("Response", start, target, met, now).state;
        assert_eq!(state(at(14), None), "ok");
        assert_eq!(state(at(15), None), "amber");
        assert_eq!(state(at(21), None), "red");
        assert_eq!(state(at(30), Some(at(10))), "met");
        assert_eq!(state(at(30), Some(at(25))), "red");
        let late = target_clock("Response", start, target, None, at(26));
        assert_eq!(late.text, "6m over");
        assert_eq!(late.due, "2026-11-25T10:20:00Z");
    }
}
