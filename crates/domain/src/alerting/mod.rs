//! Alert routing rules: label matchers, silences, maintenance windows,
//! inhibition, grouping and severity mapping.
//!
//! Matchers, silences and inhibit rules follow Prometheus Alertmanager's
//! semantics so that what works there works here. Everything is pure: rules
//! that depend on the time take `now`.

mod grouping;
mod inhibit;
mod maintenance;
mod matcher;
mod parse;
mod severity_map;
mod silence;

pub use grouping::{GroupBy, GroupingRule, DEFAULT_GROUP_WINDOW};
pub use inhibit::{first_inhibitor, InhibitRule};
pub use maintenance::MaintenanceWindow;
pub use matcher::{matches_all, MatchOp, Matcher, MatcherError};
pub use parse::{display_matchers, parse_matchers};
pub use severity_map::{highest, SeverityMap, SeverityMapError};
pub use silence::{Silence, SilenceError, SilenceState};
