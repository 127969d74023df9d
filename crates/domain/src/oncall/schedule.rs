//! Schedules: layers of users rotating on shifts in a named time zone, with
//! restrictions, overrides on top, and the questions asked of them (who is on
//! call at t, the shifts in a range, the gaps). DST rules: see ARCHITECTURE.md.

use jiff::civil;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

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
    // filled in by the implementation
}
