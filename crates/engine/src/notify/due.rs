//! Where an incident stands against its stakeholder-update cadence: when
//! the next update is due, or since when one is overdue and how many due
//! times have passed without one.
//!
//! The reminder job moves `next_update_due` on after it reminds (so the
//! next reminder comes a cadence later); what the pages show is measured
//! from the last update instead, so an overdue update stays overdue until
//! someone posts one.

use jiff::Timestamp;
use warroom_domain::{Incident, Playbook};
use warroom_store::CommsRecord;

/// An open incident's next stakeholder update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateDue {
    /// When the next update is (or was) due: a cadence after the last
    /// update, or after the declaration when none was posted yet.
    pub due: Timestamp,
    /// `due` has passed with no update since.
    pub overdue: bool,
    /// Due times passed since the last update (0 when not overdue).
    pub missed: i64,
}

impl UpdateDue {
    /// `None` when no update is due: the incident is not open, its
    /// severity sets no cadence, or it has no communications yet.
    pub fn of(
        playbook: &Playbook,
        incident: &Incident,
        comms: &CommsRecord,
        now: Timestamp,
    ) -> Option<UpdateDue> {
        comms.next_update_due?;
        if !incident.status.is_open() {
            return None;
        }
        let every = playbook
            .severity(&incident.severity)?
            .update_every
            .filter(|e| e.is_positive())?;
        let due = comms.last_update_at.unwrap_or(incident.declared_at) + every;
        if now <= due {
            return Some(UpdateDue {
                due,
                overdue: false,
                missed: 0,
            });
        }
        let behind = now.duration_since(due).as_millis() / every.as_millis();
        Some(UpdateDue {
            due,
            overdue: true,
            missed: i64::try_from(behind).unwrap_or(i64::MAX).saturating_add(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use warroom_domain::Declaration;

    use super::*;

    fn t(mins: i64) -> Timestamp {
        "2026-11-25T10:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(mins)
    }

    #[test]
    fn an_update_stays_overdue_until_one_is_posted() {
        let playbook = Playbook::builtin();
        let declaration = Declaration {
            title: "Checkout down".into(),
            severity: "SEV-1".into(),
            ..Declaration::default()
        }
        .validate(&playbook, t(0))
        .unwrap();
        let (incident, _) = Incident::open(&playbook, declaration, "INC-1".into(), 1, "ada", t(0));
        // SEV-1 wants an update every 15 minutes; the reminder has moved
        // `next_update_due` on to the next interval.
        let mut comms = CommsRecord {
            incident_id: incident.id.clone(),
            updates: 0,
            last_update_at: None,
            next_update_due: Some(t(30)),
            reminders: 1,
            missed: 1,
            notified: Vec::new(),
        };
        let at = |comms: &CommsRecord, now| {
            let due = UpdateDue::of(&playbook, &incident, comms, t(now)).unwrap();
            (due.due, due.overdue, due.missed)
        };
        assert_eq!(at(&comms, 10), (t(15), false, 0));
        assert_eq!(at(&comms, 16), (t(15), true, 1));
        assert_eq!(at(&comms, 46), (t(15), true, 3));
        comms.last_update_at = Some(t(50));
        comms.next_update_due = Some(t(65));
        assert_eq!(at(&comms, 51), (t(65), false, 0));
    }
}
