//! Playbook durations ("5m", "1h 30m", "1d", "1 week") as positive `SignedDuration`s.

use jiff::{SignedDuration, Span, SpanRelativeTo};

/// Parses a target or cadence such as `5m`, `1h 30m`, `90s`, `1d` or `1 week`.
///
/// Accepts jiff's "friendly" format and ISO 8601 (`PT5M`). Days are 24 hours
/// and weeks are 7 days; months and years are refused because they have no
/// fixed length. Zero and negative durations are refused. The error is a
/// message for the user, without location.
pub(super) fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    let text = text.trim();
    let span: Span = text.parse().map_err(|_| {
        format!(
            "{text:?} is not a duration; write it like \"15m\", \"1h 30m\", \"1d\" or \"1 week\""
        )
    })?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(format!(
            "{text:?}: months and years have no fixed length; use days or weeks, e.g. \"30d\""
        ));
    }
    let duration = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| format!("{text:?} is too long a duration"))?;
    if !duration.is_positive() {
        return Err(format!("{text:?}: the duration must be positive"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_friendly_and_calendar_units() {
        let cases = [
            ("5m", SignedDuration::from_mins(5)),
            ("90s", SignedDuration::from_secs(90)),
            ("1h 30m", SignedDuration::from_mins(90)),
            ("1.5h", SignedDuration::from_mins(90)),
            ("1 hour", SignedDuration::from_hours(1)),
            ("15 minutes", SignedDuration::from_mins(15)),
            ("24h", SignedDuration::from_hours(24)),
            ("1d", SignedDuration::from_hours(24)),
            ("2 days", SignedDuration::from_hours(48)),
            ("1w", SignedDuration::from_hours(7 * 24)),
            ("1 week", SignedDuration::from_hours(7 * 24)),
            ("PT5M", SignedDuration::from_mins(5)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn refuses_bad_zero_negative_and_calendar_lengths() {
        let cases = [
            ("soon", "not a duration"),
            ("", "not a duration"),
            ("15", "not a duration"),
            ("0s", "must be positive"),
            ("-5m", "must be positive"),
            ("5m ago", "must be positive"),
            ("1 month", "no fixed length"),
            ("1y", "no fixed length"),
        ];
        for (text, want) in cases {
            let err = parse_duration(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
