//! Merging a duplicate incident into the one that survives: which merges
//! are allowed, how the duplicate closes, and the events that link the two.
//!
//! Moving the duplicate's alerts, timeline and pages is the store's job;
//! these rules decide whether to and what each timeline says about it.

use jiff::Timestamp;

use super::{event, Incident};
use crate::error::DomainError;
use crate::status::Status;
use crate::timeline::{EventKind, NewEvent};

/// What a merge moved from the duplicate, for the survivor's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Moved {
    pub alerts: u64,
    pub events: u64,
    pub messages: u64,
}

impl Incident {
    /// Whether `self` may be merged into `into`: not into itself, and
    /// neither may be closed (a closed incident is final).
    pub fn check_merge_into(&self, into: &Incident) -> Result<(), DomainError> {
        if self.id == into.id {
            return Err(DomainError::invalid(
                "into",
                format!("{} cannot be merged into itself", self.id),
            ));
        }
        if into.status == Status::Closed {
            return Err(DomainError::Conflict(format!(
                "{} is closed and final; merge into an incident that is not closed",
                into.id
            )));
        }
        if self.status == Status::Closed {
            return Err(DomainError::Conflict(format!(
                "{} is already closed; only an incident that is not closed can be merged",
                self.id
            )));
        }
        Ok(())
    }

    /// Closes `self` as a duplicate of `into` (checked with
    /// [`Incident::check_merge_into`]) from whatever status it is in: a
    /// duplicate needs no resolution of its own, the survivor carries on.
    pub fn close_as_duplicate(
        &mut self,
        into: &Incident,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, DomainError> {
        self.check_merge_into(into)?;
        let from = self.status;
        self.mitigated_at.get_or_insert(now);
        self.resolved_at.get_or_insert(now);
        self.closed_at = Some(now);
        self.status = Status::Closed;
        self.updated_at = now;
        Ok(vec![
            event(
                actor,
                now,
                EventKind::StatusChanged {
                    from,
                    to: Status::Closed,
                    message: Some(format!("duplicate of {}", into.id)),
                },
            ),
            event(
                actor,
                now,
                EventKind::MergedInto {
                    into: into.id.clone(),
                },
            ),
        ])
    }

    /// The survivor's side: the event saying what arrived from `duplicate`.
    /// The severity stays the survivor's; responders change it if needed.
    pub fn absorb(
        &mut self,
        duplicate: &Incident,
        moved: Moved,
        actor: &str,
        now: Timestamp,
    ) -> Vec<NewEvent> {
        self.updated_at = now;
        vec![event(
            actor,
            now,
            EventKind::MergedFrom {
                from: duplicate.id.clone(),
                title: duplicate.title.clone(),
                alerts: moved.alerts,
                events: moved.events,
                messages: moved.messages,
            },
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Declaration, Playbook};

    fn incident(id: &str, status: Status) -> Incident {
        let pb = Playbook::builtin();
        let now: Timestamp = "2026-12-05T03:00:00Z".parse().unwrap();
        let declaration = Declaration {
            title: format!("title of {id}"),
            severity: pb.severities[0].name.clone(),
            ..Default::default()
        };
        let declaration = declaration.validate(&pb, now).unwrap();
        let (mut incident, _) = Incident::open(&pb, declaration, id.to_owned(), 1, "ann", now);
        incident.status = status;
        incident
    }

    #[test]
    fn refuses_itself_and_closed_incidents() {
        let open = incident("INC-1", Status::Triggered);
        let other = incident("INC-2", Status::Investigating);
        let closed = incident("INC-3", Status::Closed);
        assert!(matches!(
            open.check_merge_into(&open),
            Err(DomainError::Invalid { field, .. }) if field == "into"
        ));
        assert!(matches!(
            open.check_merge_into(&closed),
            Err(DomainError::Conflict(m)) if m.contains("INC-3 is closed")
        ));
        assert!(matches!(
            closed.check_merge_into(&open),
            Err(DomainError::Conflict(m)) if m.contains("INC-3 is already closed")
        ));
        assert_eq!(open.check_merge_into(&other), Ok(()));
    }

    #[test]
    fn the_duplicate_closes_from_any_open_status_with_a_link() {
        let now: Timestamp = "2026-12-05T03:10:00Z".parse().unwrap();
        let survivor = incident("INC-2", Status::Resolved);
        let mut duplicate = incident("INC-1", Status::Triggered);
        let events = duplicate.close_as_duplicate(&survivor, "bob", now).unwrap();
        assert_eq!(duplicate.status, Status::Closed);
        assert_eq!(duplicate.closed_at, Some(now));
        assert_eq!(duplicate.resolved_at, Some(now));
        let kinds: Vec<_> = events.into_iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EventKind::StatusChanged {
                    from: Status::Triggered,
                    to: Status::Closed,
                    message: Some("duplicate of INC-2".to_owned()),
                },
                EventKind::MergedInto {
                    into: "INC-2".to_owned()
                },
            ]
        );
        // Nothing changes when the merge is refused.
        let before = duplicate.clone();
        assert!(duplicate.close_as_duplicate(&survivor, "bob", now).is_err());
        assert_eq!(duplicate, before);
    }
}
