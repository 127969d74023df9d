//! RFC 5545 calendar feed of shifts: one VEVENT per shift someone is on call,
//! times in UTC so every client shows them in its own zone.

use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};

use super::Shift;
use crate::DomainError;

/// Whole days a feed reaches back from today.
pub const DAYS_BACK: i64 = 30;
/// Whole days a feed reaches ahead of today unless its URL asks otherwise
/// (`?days=`): a year and a month, so next year's holidays are in it.
pub const DAYS_AHEAD: i64 = 400;
/// The most days ahead a feed may ask for (about three years).
pub const MAX_DAYS_AHEAD: i64 = 1100;
/// How far before the window shifts are looked for, so a shift that began
/// before it keeps its real start (and UID) rather than the window's.
pub const LOOKBACK: SignedDuration = SignedDuration::from_hours(7 * 24);

const DAY: i64 = 86_400;

/// The range a feed covers at `now`: from the start of the UTC day
/// [`DAYS_BACK`] days ago to the start of the UTC day `days_ahead` days
/// ahead (default [`DAYS_AHEAD`]). Bounds are whole days, so every fetch on
/// one day asks the same range and a shift cut by a bound is cut the same
/// way: its `DTSTART` and `UID` do not move between fetches. `days_ahead`
/// outside 1..=[`MAX_DAYS_AHEAD`] is refused, naming `days`.
pub fn window(
    now: Timestamp,
    days_ahead: Option<i64>,
) -> Result<(Timestamp, Timestamp), DomainError> {
    let ahead = days_ahead.unwrap_or(DAYS_AHEAD);
    if !(1..=MAX_DAYS_AHEAD).contains(&ahead) {
        return Err(DomainError::invalid(
            "days",
            format!("is {ahead}; a feed covers 1 to {MAX_DAYS_AHEAD} days ahead"),
        ));
    }
    let today = now.as_second().div_euclid(DAY) * DAY;
    let at = |second: i64| {
        Timestamp::from_second(second)
            .map_err(|_| DomainError::invalid("days", "reaches past the supported time range"))
    };
    Ok((at(today - DAYS_BACK * DAY)?, at(today + ahead * DAY)?))
}

/// Joins `next` onto `shifts`: a shift that continues one already there
/// (same schedule, user and source, starting where it ends), as happens
/// where a long range was asked in pieces, extends it instead.
pub fn append_joined(shifts: &mut Vec<(String, Shift)>, next: (String, Shift)) {
    let (schedule, shift) = &next;
    let continued = shifts.iter_mut().rev().find(|(s, prev)| {
        s == schedule
            && prev.end == shift.start
            && prev.user == shift.user
            && prev.source == shift.source
    });
    match continued {
        Some((_, prev)) => prev.end = shift.end,
        None => shifts.push(next),
    }
}

/// Longest content line in octets, line break excluded (RFC 5545 3.1).
const MAX_LINE_OCTETS: usize = 75;

/// Renders a VCALENDAR: CRLF line endings, lines folded at 75 octets, text
/// escaped, `PRODID:-//Warroom//On-call//EN`, `VERSION:2.0`,
/// `X-WR-CALNAME`, and one VEVENT per shift with a user (gaps are left out).
///
/// Each `(schedule name, shift)` becomes an event with `SUMMARY`
/// `On call: <user> (<schedule name>)`, `DTSTART`/`DTEND` in UTC form
/// (`20260308T070000Z`, sub-seconds dropped), `DTSTAMP` = `now`, and a
/// `UID` derived from the calendar name, schedule name, shift start and
/// user: the same shift keeps its UID from one feed to the next (if its end
/// moves, clients update the event). A shift cut at the start of the range
/// asked for has that cut as its start, so feeds use [`window`]'s
/// whole-day bounds (and look back [`LOOKBACK`]) to keep UIDs stable.
pub fn render_calendar(calendar_name: &str, shifts: &[(String, Shift)], now: Timestamp) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Warroom//On-call//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(calendar_name)));
    let stamp = utc(now);
    for (schedule, shift) in shifts {
        let Some(user) = &shift.user else { continue };
        let start = utc(shift.start);
        line(&mut out, "BEGIN:VEVENT");
        line(
            &mut out,
            &format!("UID:{}", uid(calendar_name, schedule, &start, user)),
        );
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(&mut out, &format!("DTSTART:{start}"));
        line(&mut out, &format!("DTEND:{}", utc(shift.end)));
        line(
            &mut out,
            &format!(
                "SUMMARY:{}",
                escape(&format!("On call: {user} ({schedule})"))
            ),
        );
        line(&mut out, "TRANSP:TRANSPARENT");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// `20260308T070000Z`.
fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// A UID stable for one shift: a 64-bit FNV-1a hash of what identifies it,
/// with the start and user kept readable.
fn uid(calendar: &str, schedule: &str, start: &str, user: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [calendar, schedule, start, user] {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{start}-{user}-{hash:016x}@warroom")
}

/// Escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and
/// newline; other control characters, which TEXT does not allow, are dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so no line passes 75 octets (a
/// continuation line starts with a space, which counts), never inside a
/// UTF-8 sequence, each ended by CRLF.
fn line(out: &mut String, content: &str) {
    let mut budget = MAX_LINE_OCTETS;
    let mut used = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if used + len > budget {
            out.push_str("\r\n ");
            budget = MAX_LINE_OCTETS - 1;
            used = 0;
        }
        out.push(c);
        used += len;
    }
    let _ = write!(out, "\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn escapes_folds_and_ends_lines_with_crlf() {
        let shift = Shift {
            user: Some("alice".into()),
            start: ts("2026-03-08T07:00:00Z"),
            end: ts("2026-03-09T13:00:00Z"),
            source: None,
        };
        let gap = Shift {
            user: None,
            ..shift.clone()
        };
        let name = "Ops; DBA, \"core\"\\night\nshift — très très très long nom de calendrier ✓✓✓✓✓";
        let ics = render_calendar(
            name,
            &[("primary".into(), shift.clone()), ("primary".into(), gap)],
            ts("2026-03-01T12:34:56.789Z"),
        );
        // CRLF everywhere, no bare LF or CR.
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert_eq!(ics.matches('\n').count(), ics.matches("\r\n").count());
        assert_eq!(ics.matches('\r').count(), ics.matches("\r\n").count());
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "line of {} octets: {l:?}", l.len());
        }
        assert!(
            ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Warroom//On-call//EN\r\n")
        );
        // Unfold (RFC 5545 3.1) and read the calendar name back.
        let unfolded = ics.replace("\r\n ", "");
        let calname = unfolded
            .split("\r\n")
            .find_map(|l| l.strip_prefix("X-WR-CALNAME:"))
            .unwrap();
        assert_eq!(
            calname,
            "Ops\\; DBA\\, \"core\"\\\\night\\nshift — très très très long nom de calendrier ✓✓✓✓✓"
        );
        assert!(ics.contains("X-WR-CALNAME:Ops\\; DBA\\, \"core\"\\\\night\\nshift — tr"));
        // Folded lines never split a UTF-8 sequence: every line is a str already,
        // and the continuation starts with exactly one space.
        assert!(ics.contains("\r\n "));
        // One event: the gap is left out.
        assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 1);
        assert!(unfolded.contains("\r\nDTSTAMP:20260301T123456Z\r\n"));
        assert!(unfolded.contains("\r\nDTSTART:20260308T070000Z\r\n"));
        assert!(unfolded.contains("\r\nDTEND:20260309T130000Z\r\n"));
        assert!(unfolded.contains("\r\nSUMMARY:On call: alice (primary)\r\n"));
        // The UID is stable: the same shift, rendered later, keeps it.
        let uid_of = |ics: &str| {
            ics.replace("\r\n ", "")
                .split("\r\n")
                .find_map(|l| l.strip_prefix("UID:").map(str::to_owned))
                .unwrap()
        };
        let later = render_calendar(
            name,
            &[("primary".into(), shift.clone())],
            ts("2026-03-02T00:00:00Z"),
        );
        assert_eq!(uid_of(&ics), uid_of(&later));
        let other = render_calendar(
            "Other",
            &[("primary".into(), shift)],
            ts("2026-03-02T00:00:00Z"),
        );
        assert_ne!(uid_of(&ics), uid_of(&other));
    }

    #[test]
    fn the_window_is_whole_days_and_at_least_a_year_ahead() {
        let morning = ts("2026-03-08T00:00:01Z");
        let night = ts("2026-03-08T23:59:59.999Z");
        let (from, to) = window(morning, None).unwrap();
        assert_eq!(window(night, None).unwrap(), (from, to));
        assert_eq!(from, ts("2026-02-06T00:00:00Z"));
        assert_eq!(to, ts("2027-04-12T00:00:00Z"));
        assert!(to.duration_since(night) >= SignedDuration::from_hours(365 * 24));
        let (_, to) = window(morning, Some(730)).unwrap();
        assert_eq!(to, ts("2028-03-07T00:00:00Z"));
        for bad in [0, -1, MAX_DAYS_AHEAD + 1] {
            let err = window(morning, Some(bad)).unwrap_err();
            assert!(
                matches!(&err, DomainError::Invalid { field, .. } if field == "days"),
                "{bad}: {err}"
            );
        }
        // Before 1970 the day still starts at midnight.
        let (from, _) = window(ts("1969-12-31T12:00:00Z"), Some(1)).unwrap();
        assert_eq!(from, ts("1969-12-01T00:00:00Z"));
    }

    #[test]
    fn pieces_of_a_shift_join() {
        let shift = |user: &str, start: &str, end: &str| Shift {
            user: Some(user.into()),
            start: ts(start),
            end: ts(end),
            source: None,
        };
        let mut all = Vec::new();
        for next in [
            (
                "a",
                shift("alice", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z"),
            ),
            (
                "b",
                shift("bob", "2026-01-02T00:00:00Z", "2026-01-05T00:00:00Z"),
            ),
            (
                "a",
                shift("alice", "2026-01-05T00:00:00Z", "2026-01-08T00:00:00Z"),
            ),
            (
                "a",
                shift("carol", "2026-01-08T00:00:00Z", "2026-01-09T00:00:00Z"),
            ),
            (
                "b",
                shift("bob", "2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z"),
            ),
        ] {
            append_joined(&mut all, (next.0.to_owned(), next.1));
        }
        let spans: Vec<(&str, &str, Timestamp, Timestamp)> = all
            .iter()
            .map(|(s, x)| (s.as_str(), x.user.as_deref().unwrap(), x.start, x.end))
            .collect();
        assert_eq!(
            spans,
            [
                (
                    "a",
                    "alice",
                    ts("2026-01-01T00:00:00Z"),
                    ts("2026-01-08T00:00:00Z")
                ),
                (
                    "b",
                    "bob",
                    ts("2026-01-02T00:00:00Z"),
                    ts("2026-01-05T00:00:00Z")
                ),
                (
                    "a",
                    "carol",
                    ts("2026-01-08T00:00:00Z"),
                    ts("2026-01-09T00:00:00Z")
                ),
                (
                    "b",
                    "bob",
                    ts("2026-01-06T00:00:00Z"),
                    ts("2026-01-07T00:00:00Z")
                ),
            ]
        );
    }

    #[test]
    fn folds_exactly_at_75_octets() {
        let mut out = String::new();
        line(&mut out, &"a".repeat(75));
        assert_eq!(out, format!("{}\r\n", "a".repeat(75)));
        let mut out = String::new();
        line(&mut out, &"a".repeat(76 + 74));
        assert_eq!(
            out,
            format!("{}\r\n {}\r\n a\r\n", "a".repeat(75), "a".repeat(74))
        );
        // A 3-octet character that would cross the limit moves to the next line.
        let mut out = String::new();
        line(&mut out, &format!("{}€", "a".repeat(73)));
        assert_eq!(out, format!("{}\r\n €\r\n", "a".repeat(73)));
    }
}
