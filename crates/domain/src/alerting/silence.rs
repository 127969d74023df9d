//! Silences: label matchers that mute matching alerts for a period, with
//! Alertmanager's rules for what a silence may be and how it expires.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::matcher::{matches_all, Matcher};
use super::parse::display_matchers;
use crate::error::DomainError;
use crate::incident::{MAX_NAME, MAX_TEXT};

/// Where a silence is in its life, given `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SilenceState {
    /// `now < starts_at`.
    Pending,
    /// `starts_at <= now < ends_at`: matching alerts are muted.
    Active,
    /// `ends_at <= now`.
    Expired,
}

impl SilenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Pending => "pending",
            SilenceState::Active => "active",
            SilenceState::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    /// A value the caller gave is not acceptable; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("silence {id} has already expired")]
    AlreadyExpired { id: String },
}

impl From<SilenceError> for DomainError {
    fn from(err: SilenceError) -> DomainError {
        match err {
            SilenceError::Invalid { field, message } => DomainError::invalid(field, message),
            err @ SilenceError::AlreadyExpired { .. } => DomainError::Conflict(err.to_string()),
        }
    }
}

/// Mutes the alerts whose labels match every matcher while it is active.
///
/// [`Silence::new`] checks a new silence; the fields are public so storage can
/// load one back (an expired pending silence has `starts_at == ends_at`, which
/// `new` would refuse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub comment: String,
}

impl Silence {
    /// Checks a new silence as Alertmanager does: at least one matcher, and
    /// not every matcher may match the empty string (so a silence never
    /// mutes every alert by accident); `ends_at` after `starts_at`;
    /// `created_by` and `comment` not blank.
    pub fn new(
        id: impl Into<String>,
        matchers: Vec<Matcher>,
        starts_at: Timestamp,
        ends_at: Timestamp,
        created_by: impl Into<String>,
        comment: impl Into<String>,
    ) -> Result<Silence, SilenceError> {
        let invalid = |field, message: String| SilenceError::Invalid { field, message };
        if matchers.is_empty() {
            return Err(invalid(
                "matchers",
                "at least one matcher is required".to_owned(),
            ));
        }
        if matchers.iter().all(Matcher::matches_empty) {
            return Err(invalid(
                "matchers",
                format!(
                    "{} would also match alerts without those labels; at least one matcher \
                     must not match the empty string (for example alertname=\"...\")",
                    display_matchers(&matchers)
                ),
            ));
        }
        if ends_at <= starts_at {
            return Err(invalid(
                "ends_at",
                format!("must be after starts_at ({starts_at}), got {ends_at}"),
            ));
        }
        let created_by = required_text("created_by", created_by.into(), MAX_NAME)?;
        let comment = required_text("comment", comment.into(), MAX_TEXT)?;
        Ok(Silence {
            id: id.into(),
            matchers,
            starts_at,
            ends_at,
            created_by,
            comment,
        })
    }

    pub fn state(&self, now: Timestamp) -> SilenceState {
        if now < self.starts_at {
            SilenceState::Pending
        } else if now < self.ends_at {
            SilenceState::Active
        } else {
            SilenceState::Expired
        }
    }

    /// Whether every matcher matches the labels (whatever the time).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        matches_all(&self.matchers, labels)
    }

    /// Whether the silence is active at `now` and matches the labels.
    pub fn mutes(&self, labels: &BTreeMap<String, String>, now: Timestamp) -> bool {
        self.state(now) == SilenceState::Active && self.matches(labels)
    }

    /// Ends the silence at `now`: an active one gets `ends_at = now`; a pending
    /// one gets `starts_at = ends_at = now`, so it never mutes anything. An
    /// expired one is an error and is left unchanged.
    pub fn expire(&mut self, now: Timestamp) -> Result<(), SilenceError> {
        match self.state(now) {
            SilenceState::Expired => Err(SilenceError::AlreadyExpired {
                id: self.id.clone(),
            }),
            SilenceState::Pending => {
                self.starts_at = now;
                self.ends_at = now;
                Ok(())
            }
            SilenceState::Active => {
                self.ends_at = now;
                Ok(())
            }
        }
    }
}

fn required_text(field: &'static str, text: String, max: usize) -> Result<String, SilenceError> {
    let trimmed = text.trim();
    let message = if trimmed.is_empty() {
        "must not be empty".to_owned()
    } else if trimmed.chars().count() > max {
        format!("must be at most {max} characters")
    } else {
        return Ok(trimmed.to_owned());
    };
    Err(SilenceError::Invalid { field, message })
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use proptest::prelude::*;

    use super::*;
    use crate::alerting::MatchOp;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn m(name: &str, op: MatchOp, value: &str) -> Matcher {
        Matcher::new(name, op, value).unwrap()
    }

    fn silence(matchers: Vec<Matcher>, from: i64, to: i64) -> Result<Silence, SilenceError> {
        Silence::new("s1", matchers, t(from), t(to), "alice", "deploying")
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn field_of(err: SilenceError) -> &'static str {
        match err {
            SilenceError::Invalid { field, .. } => field,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn new_checks_like_alertmanager() {
        let good = m("alertname", MatchOp::Eq, "Disk");
        assert!(silence(vec![good.clone()], 0, 60).is_ok());
        assert_eq!(field_of(silence(vec![], 0, 60).unwrap_err()), "matchers");
        // Every matcher matches the empty string: would mute everything.
        for everything in [
            vec![m("foo", MatchOp::Eq, "")],
            vec![m("foo", MatchOp::Re, ".*")],
            vec![m("foo", MatchOp::NotEq, "bar"), m("x", MatchOp::NotRe, "y")],
        ] {
            let err = silence(everything, 0, 60).unwrap_err();
            assert_eq!(field_of(err), "matchers");
        }
        // One matcher that needs a value is enough.
        assert!(silence(vec![m("foo", MatchOp::Re, ".*"), good.clone()], 0, 60).is_ok());
        assert!(silence(vec![m("foo", MatchOp::NotEq, "")], 0, 60).is_ok());
        assert_eq!(
            field_of(silence(vec![good.clone()], 60, 60).unwrap_err()),
            "ends_at"
        );
        assert_eq!(
            field_of(silence(vec![good.clone()], 60, 0).unwrap_err()),
            "ends_at"
        );
        let err = Silence::new("s", vec![good.clone()], t(0), t(1), " ", "c").unwrap_err();
        assert_eq!(field_of(err), "created_by");
        let err = Silence::new("s", vec![good], t(0), t(1), "bob", "").unwrap_err();
        assert_eq!(field_of(err), "comment");
    }

    #[test]
    fn state_over_time() {
        let s = silence(vec![m("a", MatchOp::Eq, "1")], 0, 60).unwrap();
        assert_eq!(s.state(t(-1)), SilenceState::Pending);
        assert_eq!(s.state(t(0)), SilenceState::Active);
        assert_eq!(s.state(t(59)), SilenceState::Active);
        assert_eq!(s.state(t(60)), SilenceState::Expired);
        let hit = labels(&[("a", "1")]);
        assert!(!s.mutes(&hit, t(-1)));
        assert!(s.mutes(&hit, t(30)));
        assert!(!s.mutes(&hit, t(60)));
        assert!(!s.mutes(&labels(&[("a", "2")]), t(30)));
        assert!(s.matches(&hit));
    }

    #[test]
    fn expire() {
        let matchers = vec![m("a", MatchOp::Eq, "1")];

        let mut active = silence(matchers.clone(), 0, 60).unwrap();
        active.expire(t(10)).unwrap();
        assert_eq!((active.starts_at, active.ends_at), (t(0), t(10)));
        assert_eq!(active.state(t(10)), SilenceState::Expired);

        let mut pending = silence(matchers.clone(), 100, 160).unwrap();
        pending.expire(t(10)).unwrap();
        assert_eq!((pending.starts_at, pending.ends_at), (t(10), t(10)));
        assert_eq!(pending.state(t(10)), SilenceState::Expired);
        assert_eq!(pending.state(t(120)), SilenceState::Expired);

        let mut expired = silence(matchers, 0, 60).unwrap();
        let before = expired.clone();
        let err = expired.expire(t(60)).unwrap_err();
        assert!(matches!(err, SilenceError::AlreadyExpired { .. }));
        assert_eq!(expired, before);
        assert!(matches!(DomainError::from(err), DomainError::Conflict(_)));
    }

    #[test]
    fn serde_round_trip() {
        let s = silence(vec![m("a", MatchOp::Re, "1|2")], 0, 60).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        let back: Silence = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert!(back.matches(&labels(&[("a", "2")])));
    }

    proptest! {
        /// Pending, then active, then expired, never going back; expiring
        /// leaves it expired from then on.
        #[test]
        fn state_is_monotonic(
            start in -1000i64..1000,
            len in 1i64..1000,
            mut times in proptest::collection::vec(-3000i64..3000, 1..20),
            expire_at in -3000i64..3000,
        ) {
            let mut s = silence(vec![m("a", MatchOp::Eq, "1")], start, start + len).unwrap();
            times.sort_unstable();
            let rank = |st: SilenceState| st as u8;
            let states: Vec<_> = times.iter().map(|&x| s.state(t(x))).collect();
            prop_assert!(states.windows(2).all(|w| rank(w[0]) <= rank(w[1])));
            for (&x, st) in times.iter().zip(&states) {
                let want = if x < start {
                    SilenceState::Pending
                } else if x < start + len {
                    SilenceState::Active
                } else {
                    SilenceState::Expired
                };
                prop_assert_eq!(*st, want);
            }

            let was = s.state(t(expire_at));
            let result = s.expire(t(expire_at));
            prop_assert_eq!(result.is_err(), was == SilenceState::Expired);
            prop_assert!(s.ends_at <= t(start + len));
            prop_assert!(s.starts_at <= s.ends_at);
            for later in [0i64, 1, 5000] {
                let at = t(expire_at) + SignedDuration::from_secs(later);
                prop_assert_eq!(s.state(at), SilenceState::Expired);
            }
        }
    }
}
