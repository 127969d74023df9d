//! Validation of a schedule and its overrides before compiling: every error
//! names the field (`layers[1].users[0]`, `overrides[3].end`).

use std::collections::HashSet;

use super::super::directory::MAX_TEXT;
use super::super::{check_handle, check_text, check_time_zone};
use super::{Override, Schedule, ShiftLength};
use crate::DomainError;

pub const MAX_LAYERS: usize = 20;
pub const MAX_LAYER_USERS: usize = 100;
pub const MAX_RESTRICTIONS: usize = 50;
pub const MAX_OVERRIDES: usize = 1000;
pub const MAX_SHIFT_HOURS: u32 = 8784;
pub const MAX_SHIFT_DAYS: u32 = 366;
pub const MAX_SHIFT_WEEKS: u32 = 52;

/// Checks `schedule` and `overrides`; returns the schedule's time zone.
pub(super) fn validate(
    schedule: &Schedule,
    overrides: &[Override],
) -> Result<jiff::tz::TimeZone, DomainError> {
    check_handle("name", &schedule.name)?;
    check_text("description", &schedule.description, MAX_TEXT)?;
    let tz = check_time_zone("time_zone", &schedule.time_zone)?;
    if schedule.layers.is_empty() || schedule.layers.len() > MAX_LAYERS {
        return Err(DomainError::invalid(
            "layers",
            format!("needs 1 to {MAX_LAYERS} layers"),
        ));
    }
    for (i, layer) in schedule.layers.iter().enumerate() {
        let field = format!("layers[{i}]");
        if layer.name.trim().is_empty() {
            return Err(DomainError::invalid(format!("{field}.name"), "is empty"));
        }
        check_text(&format!("{field}.name"), &layer.name, MAX_TEXT)?;
        if layer.users.is_empty() || layer.users.len() > MAX_LAYER_USERS {
            return Err(DomainError::invalid(
                format!("{field}.users"),
                format!("needs 1 to {MAX_LAYER_USERS} users"),
            ));
        }
        for (j, user) in layer.users.iter().enumerate() {
            check_handle(&format!("{field}.users[{j}]"), user)?;
        }
        let (n, max, unit) = match layer.shift {
            ShiftLength::Hours(n) => (n, MAX_SHIFT_HOURS, "hours"),
            ShiftLength::Days(n) => (n, MAX_SHIFT_DAYS, "days"),
            ShiftLength::Weeks(n) => (n, MAX_SHIFT_WEEKS, "weeks"),
        };
        if n == 0 || n > max {
            return Err(DomainError::invalid(
                format!("{field}.shift"),
                format!("must be from 1 to {max} {unit}"),
            ));
        }
        if layer.end.is_some_and(|end| end <= layer.start) {
            return Err(DomainError::invalid(
                format!("{field}.end"),
                "must be after the layer's start",
            ));
        }
        if layer.restrictions.len() > MAX_RESTRICTIONS {
            return Err(DomainError::invalid(
                format!("{field}.restrictions"),
                format!("has more than {MAX_RESTRICTIONS} restrictions"),
            ));
        }
        for (r, restriction) in layer.restrictions.iter().enumerate() {
            let mut seen = HashSet::new();
            if let Some(day) = restriction.days.iter().find(|day| !seen.insert(**day)) {
                return Err(DomainError::invalid(
                    format!("{field}.restrictions[{r}].days"),
                    format!("lists {day:?} twice"),
                ));
            }
        }
    }
    if overrides.len() > MAX_OVERRIDES {
        return Err(DomainError::invalid(
            "overrides",
            format!("has more than {MAX_OVERRIDES} overrides"),
        ));
    }
    let mut ids = HashSet::new();
    for (i, o) in overrides.iter().enumerate() {
        check_handle(&format!("overrides[{i}].id"), &o.id)?;
        if !ids.insert(o.id.as_str()) {
            return Err(DomainError::invalid(
                format!("overrides[{i}].id"),
                format!("{:?} is used by another override", o.id),
            ));
        }
        check_handle(&format!("overrides[{i}].user"), &o.user)?;
        if o.end <= o.start {
            return Err(DomainError::invalid(
                format!("overrides[{i}].end"),
                "must be after start",
            ));
        }
    }
    Ok(tz)
}
