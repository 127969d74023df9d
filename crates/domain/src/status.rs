//! The incident status lifecycle and which jumps between statuses are legal.
//!
//! `triggered -> acknowledged -> investigating -> identified -> monitoring -> resolved -> closed`,
//! with the shortcuts responders need: declare straight into `investigating`,
//! resolve from any open status, step back from `monitoring` when the fix did not
//! hold, un-acknowledge back to `triggered`, and reopen a resolved incident.
//! `closed` is final: the post-mortem has been written against it.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Triggered,
    Acknowledged,
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Triggered,
        Status::Acknowledged,
        Status::Investigating,
        Status::Identified,
        Status::Monitoring,
        Status::Resolved,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Triggered => "triggered",
            Status::Acknowledged => "acknowledged",
            Status::Investigating => "investigating",
            Status::Identified => "identified",
            Status::Monitoring => "monitoring",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Open means someone may still need to act: everything before `resolved`.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed)
    }

    /// Statuses an incident may be declared in. A person declaring it is
    /// already on it, so anything open is fine; `resolved`/`closed` are not.
    pub fn can_declare_as(self) -> bool {
        self.is_open()
    }

    /// Whether `self -> to` is a legal jump, and if not, a hint for the responder.
    pub fn check_transition(self, to: Status) -> Result<(), &'static str> {
        use Status::*;
        if self == to {
            return Err("it is already in that status");
        }
        match (self, to) {
            (Closed, _) => Err("closed incidents are final; declare a follow-up incident instead"),
            (_, Closed) if self != Resolved => Err("resolve the incident before closing it"),
            (Resolved, Closed) => Ok(()),
            // Reopen: a resolved incident goes back to being worked on.
            (Resolved, Triggered | Acknowledged | Investigating | Identified | Monitoring) => Ok(()),
            // Un-acknowledge: only from acknowledged (e.g. the acknowledgement timed out).
            (_, Triggered) if self != Acknowledged => Err(
                "only an acknowledged incident can go back to triggered; set it to investigating instead",
            ),
            (Investigating | Identified | Monitoring, Acknowledged) => {
                Err("work has already started; acknowledgement is implied")
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    #[test]
    fn the_main_path_is_legal() {
        let path = [
            Triggered,
            Acknowledged,
            Investigating,
            Identified,
            Monitoring,
            Resolved,
            Closed,
        ];
        for pair in path.windows(2) {
            assert_eq!(pair[0].check_transition(pair[1]), Ok(()), "{pair:?}");
        }
    }

    #[test]
    fn shortcuts_responders_need() {
        assert!(Triggered.check_transition(Investigating).is_ok());
        assert!(Triggered.check_transition(Resolved).is_ok());
        assert!(Monitoring.check_transition(Investigating).is_ok());
        assert!(Identified.check_transition(Investigating).is_ok());
        assert!(Acknowledged.check_transition(Triggered).is_ok());
        assert!(Resolved.check_transition(Investigating).is_ok());
    }

    #[test]
    fn illegal_jumps_explain_themselves() {
        assert!(Closed.check_transition(Investigating).is_err());
        assert!(Investigating.check_transition(Closed).is_err());
        assert!(Investigating.check_transition(Triggered).is_err());
        assert!(Monitoring.check_transition(Acknowledged).is_err());
        assert!(Resolved.check_transition(Resolved).is_err());
    }

    #[test]
    fn parse_round_trips() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("Resolved"), Some(Resolved));
        assert_eq!(Status::parse("fixed"), None);
    }
}
