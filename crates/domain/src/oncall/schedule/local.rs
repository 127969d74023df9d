//! Local (civil) times to instants in a zone, with Warroom's DST rules: a
//! local time skipped by a spring-forward gap happens at the transition (the
//! first instant after the gap), a local time repeated by a fall-back fold
//! happens at its first occurrence.

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

/// The instant of local time `dt` in `tz`.
///
/// Unlike jiff's `Disambiguation::Compatible`, which moves a time in a gap
/// forward by the gap's length (New York 2026-03-08 02:30 -> 03:30 EDT),
/// a time in a gap maps to the transition itself (02:30 -> 03:00 EDT, 07:00Z):
/// every local time in the gap maps to the same instant, so hand-offs and
/// window bounds in it happen as soon as the wall clock resumes. Times
/// outside jiff's range saturate to `Timestamp::MIN`/`MAX`.
pub(crate) fn instant(tz: &TimeZone, dt: DateTime) -> Timestamp {
    match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => at_offset(offset, dt),
        // `before` is the offset in force before the transition: the first occurrence.
        AmbiguousOffset::Fold { before, .. } => at_offset(before, dt),
        AmbiguousOffset::Gap { before, after } => {
            // The transition T satisfies T + before <= dt < T + after, so
            // dt - after < T <= dt - before: it is the first transition after dt - after.
            let earliest = at_offset(after, dt);
            let latest = at_offset(before, dt);
            match tz.following(earliest).next() {
                Some(transition) if transition.timestamp() <= latest => transition.timestamp(),
                _ => latest,
            }
        }
    }
}

fn at_offset(offset: Offset, dt: DateTime) -> Timestamp {
    offset.to_timestamp(dt).unwrap_or(if dt.year() < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// `dt` plus `days` civil days (same local time of day), or `None` out of range.
pub(crate) fn add_days(dt: DateTime, days: i64) -> Option<DateTime> {
    let secs = days.checked_mul(86_400)?;
    dt.checked_add(SignedDuration::from_secs(secs)).ok()
}
