//! Schedules: layers of users rotating on shifts in a named time zone, with
//! restrictions, overrides on top, and the questions asked of them (who is on
//! call at t, the shifts in a range, the gaps).
//!
//! # Rules
//!
//! - `Layer.start` is a civil datetime in the schedule's zone: the first
//!   hand-off. Shift k (k = 0, 1, ...) goes to `users[k % users.len()]`.
//!   Before its start, and from its `end` on (also local time), a layer has
//!   no one.
//! - Hours shifts are elapsed time: hand-off k = instant(start) + k hours.
//! - Days and weeks shifts are calendar arithmetic in the zone: hand-off k =
//!   civil(start) + k * N days (a week is 7 days), then mapped to an instant.
//!   A daily 09:00 hand-off stays at 09:00 local across DST (that shift lasts
//!   23 or 25 hours) and a weekly rotation keeps its weekday.
//! - A local time that does not exist (spring-forward gap) happens at the
//!   first instant after the gap, the transition itself: New York
//!   2026-03-08 02:30 is 03:00 EDT, 07:00Z (not jiff's "compatible" 03:30).
//! - A local time that occurs twice (fall-back fold) happens at its first
//!   occurrence (the earlier offset): New York 2026-11-01 01:30 is 05:30Z.
//! - Restrictions are read in the schedule's zone: within a shift the user is
//!   on call only inside restriction windows. A window `from`..`to` with
//!   `to <= from` runs past midnight into the next day (`to == from`: 24
//!   local hours); `days` are the days a window starts on (empty: every
//!   day). Window bounds in a gap or fold follow the same two rules.
//! - Overrides replace whoever is on call, gaps included, for [start, end);
//!   where overrides overlap, the latest-starting one wins (on a tie, the
//!   later one in the list given to `compile`).
//! - Above them, the highest (last) layer with someone on call at t wins;
//!   where no layer and no override has anyone, there is a gap.
//! - Ranges: a reversed or empty range gives nothing; a range longer than
//!   `MAX_RANGE` (400 days) is cut to its first 400 days; a result holds at
//!   most `MAX_SHIFTS` (20,000) shifts, the earliest ones.

use jiff::civil;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

mod flatten;
mod layer;
mod local;
mod validate;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use layer::CompiledLayer;
pub use validate::{
    MAX_LAYERS, MAX_LAYER_USERS, MAX_OVERRIDES, MAX_RESTRICTIONS, MAX_SHIFT_DAYS, MAX_SHIFT_HOURS,
    MAX_SHIFT_WEEKS,
};

use crate::DomainError;

/// Longest range a question about shifts covers: longer ranges are cut.
pub const MAX_RANGE: SignedDuration = SignedDuration::from_hours(400 * 24);
/// Most shifts one answer holds.
pub const MAX_SHIFTS: usize = 20_000;

/// A schedule as defined by a person (playbook, API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// IANA time zone in which hand-off times and restrictions are read.
    pub time_zone: String,
    /// Bottom first: a later layer wins over an earlier one wherever it has someone on call.
    pub layers: Vec<Layer>,
}

/// One rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub name: String,
    /// User handles in rotation order; the first takes the shift starting at `start`.
    pub users: Vec<String>,
    pub shift: ShiftLength,
    /// Local date and time (in the schedule's zone) of the first hand-off;
    /// its time of day is the daily hand-off time.
    pub start: civil::DateTime,
    /// When set, the layer ends (local time, exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<civil::DateTime>,
    /// When non-empty, the layer only has someone on call inside these windows.
    #[serde(default)]
    pub restrictions: Vec<Restriction>,
}

/// Shift length: `{"hours": 12}`, `{"days": 1}`, `{"weeks": 1}`.
/// Hours are elapsed time; days and weeks are calendar days in the schedule's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum ShiftLength {
    Hours(u32),
    Days(u32),
    Weeks(u32),
}

/// A window of local time in which a restricted layer is on call:
/// `{"days": ["mon","tue"], "from": "09:00", "to": "17:00"}`. `to` at or
/// before `from` runs past midnight into the next day. No days: every day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restriction {
    #[serde(default)]
    pub days: Vec<Day>,
    pub from: civil::Time,
    pub to: civil::Time,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// Someone replacing whoever is on call for a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub id: String,
    pub user: String,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Where a shift comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ShiftSource {
    Layer { index: usize, name: String },
    Override { id: String },
}

/// A stretch of time one user is on call (`user: None` is a gap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    pub user: Option<String>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub source: Option<ShiftSource>,
}

/// The answer to "who is on call at t".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnCall {
    pub user: String,
    pub source: ShiftSource,
}

/// A validated schedule with its overrides, ready to answer questions fast.
#[derive(Debug, Clone)]
pub struct CompiledSchedule {
    schedule: Schedule,
    tz: TimeZone,
    layers: Vec<CompiledLayer>,
    /// Sorted by start, ties in the order given.
    overrides: Vec<Override>,
    /// `max_end[i]`: the latest end among `overrides[..=i]`.
    max_end: Vec<Timestamp>,
}

impl Schedule {
    /// Validates the schedule and its overrides and precomputes what the
    /// questions need.
    ///
    /// Checks: `name` and every user and override handle (`check_handle`),
    /// the time zone, 1 to 20 layers, 1 to 100 users a layer, a shift length
    /// from 1 to 8784 hours, 366 days or 52 weeks, a layer `end` after its
    /// `start`, at most 50 restrictions a layer with no day listed twice, at
    /// most 1000 overrides with distinct ids, each ending after it starts.
    pub fn compile(&self, overrides: Vec<Override>) -> Result<CompiledSchedule, DomainError> {
        let tz = validate::validate(self, &overrides)?;
        let layers = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, layer)| CompiledLayer::new(&tz, i, layer))
            .collect();
        let mut overrides = overrides;
        overrides.sort_by_key(|o| o.start);
        let max_end = overrides
            .iter()
            .scan(Timestamp::MIN, |max, o| {
                *max = (*max).max(o.end);
                Some(*max)
            })
            .collect();
        Ok(CompiledSchedule {
            schedule: self.clone(),
            tz,
            layers,
            overrides,
            max_end,
        })
    }
}

impl CompiledSchedule {
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The overrides, sorted by start.
    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// Who is on call at `t`: an override covering `t` wins (the
    /// latest-starting one if several), else the highest (last) layer with
    /// someone on call at `t` (restrictions, start and end applied), else
    /// no one (a gap).
    pub fn on_call_at(&self, t: Timestamp) -> Option<OnCall> {
        if let Some(o) = self.override_at(t) {
            return Some(OnCall {
                user: o.user.clone(),
                source: ShiftSource::Override { id: o.id.clone() },
            });
        }
        self.layers.iter().rev().find_map(|layer| {
            layer.user_at(&self.tz, t).map(|user| OnCall {
                user: user.to_owned(),
                source: layer.source.clone(),
            })
        })
    }

    fn override_at(&self, t: Timestamp) -> Option<&Override> {
        let started = self.overrides.partition_point(|o| o.start <= t);
        for i in (0..started).rev() {
            if self.max_end[i] <= t {
                return None;
            }
            if self.overrides[i].end > t {
                return Some(&self.overrides[i]);
            }
        }
        None
    }

    /// The final, flattened timeline over [from, to): consecutive pieces,
    /// without overlap, covering [from, to) exactly (gaps as
    /// `Shift { user: None, source: None }`), adjacent pieces with the same
    /// user and source merged. Reversed or empty ranges give nothing; see
    /// the module's rules for long ranges.
    pub fn shifts(&self, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        match clamp(from, to) {
            Some(to) => self.flatten(from, to),
            None => Vec::new(),
        }
    }

    /// Layer `layer`'s own shifts, cut by its restrictions, that intersect
    /// [from, to), with their full bounds (not cut to the range), in order.
    /// Not merged: each piece is one shift (or the part of one in a
    /// restriction window). An unknown layer gives nothing.
    pub fn layer_shifts(&self, layer: usize, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        let (Some(compiled), Some(to)) = (self.layers.get(layer), clamp(from, to)) else {
            return Vec::new();
        };
        compiled
            .pieces(&self.tz, from, to, false)
            .into_iter()
            .map(|piece| Shift {
                user: Some(compiled.user(piece.k).to_owned()),
                start: piece.start,
                end: piece.end,
                source: Some(compiled.source.clone()),
            })
            .collect()
    }

    /// The gaps (no one on call) in [from, to), cut to the range.
    pub fn gaps(&self, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp)> {
        self.shifts(from, to)
            .into_iter()
            .filter(|shift| shift.user.is_none())
            .map(|shift| (shift.start, shift.end))
            .collect()
    }

    /// The final shifts of `user` in [from, to), cut to the range.
    pub fn user_shifts(&self, user: &str, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        self.shifts(from, to)
            .into_iter()
            .filter(|shift| shift.user.as_deref() == Some(user))
            .collect()
    }
}

/// The end of the range actually answered: `None` when empty or reversed,
/// at most `MAX_RANGE` after `from`.
fn clamp(from: Timestamp, to: Timestamp) -> Option<Timestamp> {
    if to <= from {
        return None;
    }
    Some(
        from.checked_add(MAX_RANGE)
            .map_or(to, |limit| to.min(limit)),
    )
}
