//! On-call, pure: the people who can be paged and how (`directory`), who is on
//! call when (`schedule`), whom to page in what order (`policy`), and the
//! calendar feed of a schedule (`ical`).
//!
//! These types are what the playbook's `oncall:` section, the API and the
//! store all speak: they serialize to the same JSON everywhere.

pub mod directory;
pub mod ical;
pub mod policy;
pub mod schedule;

pub use directory::{ContactKind, ContactMethod, NotificationRule, Team, Urgency, User, Vendor};
pub use policy::{EscalationPolicy, EscalationStep, Target, TeamMode};
pub use schedule::{
    CompiledSchedule, Day, Layer, OnCall, Override, Restriction, Schedule, Shift, ShiftLength,
    ShiftSource,
};

use crate::DomainError;

/// Longest handle (user, team, schedule, policy or vendor name).
pub const MAX_HANDLE_LEN: usize = 64;

/// Checks a handle: 1 to 64 of lowercase ASCII letters, digits, `-`, `_`,
/// `.`, starting with a letter or digit. Handles appear in URLs and the CLI.
pub fn check_handle(field: &str, value: &str) -> Result<(), DomainError> {
    let ok_start = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok_rest = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if value.len() > MAX_HANDLE_LEN || !ok_start || !ok_rest {
        return Err(DomainError::invalid(
            field,
            format!(
                "{value:?} is not a handle: use 1 to {MAX_HANDLE_LEN} lowercase letters, digits, '-', '_' or '.', starting with a letter or digit"
            ),
        ));
    }
    Ok(())
}

/// Checks free text: at most `max` characters and no control characters
/// other than newline and tab.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<(), DomainError> {
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(DomainError::invalid(field, "contains control characters"));
    }
    Ok(())
}

/// Checks an IANA time zone name (`Europe/London`) against jiff's database.
pub fn check_time_zone(field: &str, value: &str) -> Result<jiff::tz::TimeZone, DomainError> {
    jiff::tz::TimeZone::get(value).map_err(|_| {
        DomainError::invalid(
            field,
            format!("{value:?} is not an IANA time zone name such as \"Europe/London\" or \"UTC\""),
        )
    })
}
