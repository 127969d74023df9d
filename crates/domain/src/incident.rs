//! The incident aggregate: its fields, the rules for changing them, and the
//! timeline events each change produces.
//!
//! Every mutating method checks the change against the current state and the
//! playbook, applies it, and returns the events to append. A method that
//! returns an error has changed nothing.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::DomainError;
use crate::playbook::Playbook;
use crate::status::Status;
use crate::timeline::{push_alert_change, AlertChange, EventKind, NewEvent, SeverityDirection};

pub(crate) use checks::optional_url;
use checks::*;
pub use merge::Moved;

pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 20_000;
pub const MAX_NAME: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleAssignment {
    pub assignee: String,
    pub since: Timestamp,
}

/// One phase of the checklist as copied into the incident when it was declared,
/// so later playbook edits never renumber the items of a running incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistPhase {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub target: Option<String>,
    pub items: Vec<ChecklistItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub text: String,
    #[serde(default)]
    pub done_by: Option<String>,
    #[serde(default)]
    pub done_at: Option<Timestamp>,
}

impl ChecklistItem {
    pub fn is_done(&self) -> bool {
        self.done_at.is_some()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// Rendered from the playbook's ID format, e.g. `INC-2026-0042`.
    pub id: String,
    /// The number within its sequence scope (42 above).
    pub seq: i64,
    pub title: String,
    pub summary: String,
    /// A severity name from the playbook, in the playbook's spelling.
    pub severity: String,
    pub category: Option<String>,
    /// Service ids from the playbook.
    pub services: Vec<String>,
    pub status: Status,
    pub customer_facing: bool,
    pub users_affected: Option<i64>,
    /// Role name (playbook spelling) to whoever holds it now.
    pub roles: BTreeMap<String, RoleAssignment>,
    pub checklist: Vec<ChecklistPhase>,
    pub declared_by: String,
    pub impact_started_at: Option<Timestamp>,
    pub detected_at: Timestamp,
    pub declared_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub mitigated_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// Where responders talk: the call bridge (a video or phone conference
    /// link) and the chat channel, http(s) URLs. Prefilled from the
    /// severity's playbook defaults at declaration, editable after.
    pub bridge: Bridge,
}

/// An incident's call bridge and chat channel, http(s) URLs when set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bridge {
    pub bridge_url: Option<String>,
    pub chat_url: Option<String>,
}

/// What a person (or later an alert) asks for when declaring an incident.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declaration {
    pub title: String,
    pub summary: String,
    pub severity: String,
    pub category: Option<String>,
    pub services: Vec<String>,
    /// Defaults to `triggered`.
    pub status: Option<Status>,
    pub customer_facing: bool,
    pub users_affected: Option<i64>,
    pub impact_started_at: Option<Timestamp>,
    /// Defaults to the declaration time.
    pub detected_at: Option<Timestamp>,
    /// Role name to assignee, assigned at once.
    pub roles: Vec<(String, String)>,
}

/// A partial update of plain fields; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetailsPatch {
    pub title: Option<String>,
    pub summary: Option<String>,
    /// `Some(None)` clears the category.
    pub category: Option<Option<String>>,
    pub services: Option<Vec<String>>,
    pub customer_facing: Option<bool>,
    /// `Some(None)` clears it.
    pub users_affected: Option<Option<i64>>,
    /// `Some(None)` clears it.
    pub impact_started_at: Option<Option<Timestamp>>,
    pub detected_at: Option<Timestamp>,
    /// `Some(None)` clears it.
    pub bridge_url: Option<Option<String>>,
    /// `Some(None)` clears it.
    pub chat_url: Option<Option<String>>,
}

impl Declaration {
    /// Checks every field against the playbook and returns the declaration
    /// with names in the playbook's spelling. Errors name the field.
    pub fn validate(
        mut self,
        playbook: &Playbook,
        now: Timestamp,
    ) -> Result<Declaration, DomainError> {
        self.title = required_text("title", &self.title, MAX_TITLE)?;
        self.summary = optional_text("summary", &self.summary, MAX_TEXT)?;
        self.severity = canonical_severity(playbook, "severity", &self.severity)?;
        self.category = self
            .category
            .map(|c| canonical_category(playbook, &c))
            .transpose()?;
        self.services = canonical_services(playbook, &self.services)?;
        if let Some(status) = self.status {
            if !status.can_declare_as() {
                return Err(DomainError::invalid(
                    "status",
                    format!("an incident cannot be declared as {status}; declare it open, then resolve it"),
                ));
            }
        }
        check_users_affected(self.users_affected)?;
        check_not_future("impact_started_at", self.impact_started_at, now)?;
        check_not_future("detected_at", self.detected_at, now)?;
        let mut seen = Vec::new();
        for (i, (role, assignee)) in self.roles.iter_mut().enumerate() {
            *role = canonical_role(playbook, &format!("roles[{i}].role"), role)?;
            *assignee = required_text(&format!("roles[{i}].assignee"), assignee, MAX_NAME)?;
            if seen.contains(role) {
                return Err(DomainError::invalid(
                    format!("roles[{i}].role"),
                    format!("role `{role}` is given twice"),
                ));
            }
            seen.push(role.clone());
        }
        Ok(self)
    }
}

impl Incident {
    /// Opens an incident from a validated declaration. The store calls this
    /// inside the transaction that allocated `seq`.
    pub fn open(
        playbook: &Playbook,
        decl: Declaration,
        id: String,
        seq: i64,
        actor: &str,
        now: Timestamp,
    ) -> (Incident, Vec<NewEvent>) {
        let status = decl.status.unwrap_or(Status::Triggered);
        let bridge = playbook
            .severity(&decl.severity)
            .map(|s| s.bridge.clone())
            .unwrap_or_default();
        let mut incident = Incident {
            id,
            seq,
            title: decl.title,
            summary: decl.summary,
            severity: decl.severity,
            category: decl.category,
            services: decl.services,
            status,
            customer_facing: decl.customer_facing,
            users_affected: decl.users_affected,
            roles: BTreeMap::new(),
            checklist: playbook
                .phases
                .iter()
                .map(|p| ChecklistPhase {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    target: p.target.clone(),
                    items: p
                        .items
                        .iter()
                        .map(|text| ChecklistItem {
                            text: text.clone(),
                            done_by: None,
                            done_at: None,
                        })
                        .collect(),
                })
                .collect(),
            declared_by: actor.to_owned(),
            impact_started_at: decl.impact_started_at,
            detected_at: decl.detected_at.unwrap_or(now),
            declared_at: now,
            acknowledged_at: (status != Status::Triggered).then_some(now),
            mitigated_at: (status == Status::Monitoring).then_some(now),
            resolved_at: None,
            closed_at: None,
            updated_at: now,
            bridge,
        };
        let mut events = vec![NewEvent {
            at: now,
            actor: actor.to_owned(),
            kind: EventKind::Declared {
                title: incident.title.clone(),
                severity: incident.severity.clone(),
                status,
            },
        }];
        for (role, assignee) in decl.roles {
            incident.roles.insert(
                role.clone(),
                RoleAssignment {
                    assignee: assignee.clone(),
                    since: now,
                },
            );
            events.push(event(
                actor,
                now,
                EventKind::RoleAssigned { role, assignee },
            ));
        }
        (incident, events)
    }

    /// Moves to another status, keeping the MTTx timestamps true.
    pub fn change_status(
        &mut self,
        to: Status,
        message: Option<String>,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, DomainError> {
        let message = message
            .map(|m| optional_text("message", &m, MAX_TEXT))
            .transpose()?
            .filter(|m| !m.is_empty());
        let from = self.status;
        from.check_transition(to)
            .map_err(|hint| DomainError::IllegalTransition {
                incident: self.id.clone(),
                from,
                to,
                hint: hint.to_owned(),
            })?;
        match to {
            Status::Triggered => {
                // Re-triggered while open (an acknowledgement timed out, an
                // escalation): nobody is on it now, but the first response
                // happened and the response clock stays met. Reopened after
                // resolving: as if new.
                if !from.is_open() {
                    self.acknowledged_at = None;
                }
                self.mitigated_at = None;
                self.resolved_at = None;
            }
            Status::Acknowledged | Status::Investigating | Status::Identified => {
                self.acknowledged_at.get_or_insert(now);
                // Going back to work means the mitigation (if any) did not hold.
                self.mitigated_at = None;
                self.resolved_at = None;
            }
            Status::Monitoring => {
                self.acknowledged_at.get_or_insert(now);
                self.mitigated_at.get_or_insert(now);
                self.resolved_at = None;
            }
            Status::Resolved => {
                self.mitigated_at.get_or_insert(now);
                self.resolved_at = Some(now);
            }
            Status::Closed => self.closed_at = Some(now),
        }
        self.status = to;
        self.updated_at = now;
        Ok(vec![event(
            actor,
            now,
            EventKind::StatusChanged { from, to, message },
        )])
    }

    /// Acknowledge: "I have it". Only a triggered incident can be acknowledged.
    pub fn acknowledge(
        &mut self,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, DomainError> {
        if self.status != Status::Triggered {
            return Err(DomainError::Conflict(match self.status {
                Status::Acknowledged => format!("{} is already acknowledged", self.id),
                Status::Resolved | Status::Closed => {
                    format!(
                        "{} is already {}; nothing to acknowledge",
                        self.id, self.status
                    )
                }
                other => format!(
                    "{} is already being worked on (status {other}); no acknowledgement needed",
                    self.id
                ),
            }));
        }
        self.change_status(Status::Acknowledged, None, actor, now)
    }

    pub fn resolve(
        &mut self,
        message: Option<String>,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, DomainError> {
        self.change_status(Status::Resolved, message, actor, now)
    }

    pub fn close(&mut self, actor: &str, now: Timestamp) -> Result<Vec<NewEvent>, DomainError> {
        self.change_status(Status::Closed, None, actor, now)
    }

    /// Reopens a resolved incident, by default into `investigating`.
    pub fn reopen(
        &mut self,
        to: Option<Status>,
        message: Option<String>,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, DomainError> {
        if self.status != Status::Resolved {
            return Err(DomainError::Conflict(match self.status {
                Status::Closed => format!(
                    "{} is closed and final; declare a follow-up incident instead",
                    self.id
                ),
                other => format!(
                    "{} is not resolved (status {other}); nothing to reopen",
                    self.id
                ),
            }));
        }
        let to = to.unwrap_or(Status::Investigating);
        if !to.is_open() {
            return Err(DomainError::invalid(
                "status",
                format!("reopen into an open status, not {to}"),
            ));
        }
        self.change_status(to, message, actor, now)
    }

    pub fn change_severity(
        &mut self,
        playbook: &Playbook,
        to: &str,
        reason: Option<String>,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, DomainError> {
        self.ensure_not_closed()?;
        let to = canonical_severity(playbook, "severity", to)?;
        let reason = reason
            .map(|r| optional_text("reason", &r, MAX_TEXT))
            .transpose()?
            .filter(|r| !r.is_empty());
        if to == self.severity {
            return Err(DomainError::Conflict(format!(
                "{} is already {to}",
                self.id
            )));
        }
        // A severity removed from the playbook since declaration ranks below all others.
        let old_rank = playbook.severity_rank(&self.severity).unwrap_or(usize::MAX);
        let new_rank = playbook.severity_rank(&to).unwrap_or(usize::MAX);
        let direction = if new_rank < old_rank {
            SeverityDirection::Raised
        } else {
            SeverityDirection::Lowered
        };
        let from = std::mem::replace(&mut self.severity, to.clone());
        self.updated_at = now;
        Ok(vec![event(
            actor,
            now,
            EventKind::SeverityChanged {
                from,
                to,
                direction,
                reason,
            },
        )])
    }

    /// Applies a partial update; one `field_changed` event per field that really changed.
    pub fn update_details(
        &mut self,
        playbook: &Playbook,
        patch: DetailsPatch,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, DomainError> {
        self.ensure_not_closed()?;
        // Validate everything first so a bad field changes nothing.
        let title = patch
            .title
            .map(|t| required_text("title", &t, MAX_TITLE))
            .transpose()?;
        let summary = patch
            .summary
            .map(|s| optional_text("summary", &s, MAX_TEXT))
            .transpose()?;
        let category = patch
            .category
            .map(|c| c.map(|c| canonical_category(playbook, &c)).transpose())
            .transpose()?;
        let services = patch
            .services
            .map(|s| canonical_services(playbook, &s))
            .transpose()?;
        if let Some(users) = patch.users_affected {
            check_users_affected(users)?;
        }
        if let Some(started) = patch.impact_started_at {
            check_not_future("impact_started_at", started, now)?;
        }
        check_not_future("detected_at", patch.detected_at, now)?;
        let bridge_url = patch
            .bridge_url
            .map(|u| optional_url("bridge_url", u))
            .transpose()?;
        let chat_url = patch
            .chat_url
            .map(|u| optional_url("chat_url", u))
            .transpose()?;

        let mut events = Vec::new();
        let mut record = |field: &str, from: serde_json::Value, to: serde_json::Value| {
            if from != to {
                events.push(event(
                    actor,
                    now,
                    EventKind::FieldChanged {
                        field: field.to_owned(),
                        from,
                        to,
                    },
                ));
                true
            } else {
                false
            }
        };
        if let Some(title) = title {
            if record("title", json!(self.title), json!(title)) {
                self.title = title;
            }
        }
        if let Some(summary) = summary {
            if record("summary", json!(self.summary), json!(summary)) {
                self.summary = summary;
            }
        }
        if let Some(category) = category {
            if record("category", json!(self.category), json!(category)) {
                self.category = category;
            }
        }
        if let Some(services) = services {
            if record("services", json!(self.services), json!(services)) {
                self.services = services;
            }
        }
        if let Some(customer_facing) = patch.customer_facing {
            if record(
                "customer_facing",
                json!(self.customer_facing),
                json!(customer_facing),
            ) {
                self.customer_facing = customer_facing;
            }
        }
        if let Some(users) = patch.users_affected {
            if record("users_affected", json!(self.users_affected), json!(users)) {
                self.users_affected = users;
            }
        }
        if let Some(started) = patch.impact_started_at {
            if record(
                "impact_started_at",
                json!(self.impact_started_at),
                json!(started),
            ) {
                self.impact_started_at = started;
            }
        }
        if let Some(detected) = patch.detected_at {
            if record("detected_at", json!(self.detected_at), json!(detected)) {
                self.detected_at = detected;
            }
        }
        if let Some(url) = bridge_url {
            if record("bridge_url", json!(self.bridge.bridge_url), json!(url)) {
                self.bridge.bridge_url = url;
            }
        }
        if let Some(url) = chat_url {
            if record("chat_url", json!(self.bridge.chat_url), json!(url)) {
                self.bridge.chat_url = url;
            }
        }
        if !events.is_empty() {
            self.updated_at = now;
        }
        Ok(events)
    }

    /// Gives a role to someone; if someone else holds it, that is a hand-off.
    pub fn assign_role(
        &mut self,
        playbook: &Playbook,
        role: &str,
        assignee: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, DomainError> {
        self.ensure_not_closed()?;
        let role = canonical_role(playbook, "role", role)?;
        let assignee = required_text("assignee", assignee, MAX_NAME)?;
        let previous = self.roles.insert(
            role.clone(),
            RoleAssignment {
                assignee: assignee.clone(),
                since: now,
            },
        );
        let kind = match previous {
            Some(prev) if prev.assignee == assignee => {
                self.roles.insert(role.clone(), prev);
                return Err(DomainError::Conflict(format!(
                    "{assignee} is already {role} of {}",
                    self.id
                )));
            }
            Some(prev) => EventKind::RoleHandedOff {
                role,
                from: prev.assignee,
                to: assignee,
            },
            None => EventKind::RoleAssigned { role, assignee },
        };
        self.updated_at = now;
        Ok(vec![event(actor, now, kind)])
    }

    pub fn unassign_role(
        &mut self,
        playbook: &Playbook,
        role: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, DomainError> {
        self.ensure_not_closed()?;
        let role = canonical_role(playbook, "role", role)?;
        let Some(prev) = self.roles.remove(&role) else {
            return Err(DomainError::Conflict(format!(
                "nobody is {role} of {}",
                self.id
            )));
        };
        self.updated_at = now;
        Ok(vec![event(
            actor,
            now,
            EventKind::RoleUnassigned {
                role,
                from: prev.assignee,
            },
        )])
    }

    /// Ticks (or unticks) item `item` (1-based) of checklist phase `phase`.
    /// Allowed after resolution too: the post-mortem phase happens then.
    /// Setting an item to the state it already has changes nothing.
    pub fn set_checklist_item(
        &mut self,
        phase: &str,
        item: usize,
        done: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, DomainError> {
        let phase_names: Vec<String> = self.checklist.iter().map(|p| p.id.clone()).collect();
        let checklist_phase = self
            .checklist
            .iter_mut()
            .find(|p| p.id.eq_ignore_ascii_case(phase))
            .ok_or_else(|| {
                DomainError::invalid(
                    "phase",
                    format!(
                        "no checklist phase `{phase}`; this incident has: {}",
                        phase_names.join(", ")
                    ),
                )
            })?;
        let count = checklist_phase.items.len();
        let entry = item
            .checked_sub(1)
            .and_then(|i| checklist_phase.items.get_mut(i))
            .ok_or_else(|| {
                DomainError::invalid(
                    "item",
                    format!(
                        "phase `{}` has items 1 to {count}, not {item}",
                        checklist_phase.id
                    ),
                )
            })?;
        if entry.is_done() == done {
            return Ok(Vec::new());
        }
        if done {
            entry.done_by = Some(actor.to_owned());
            entry.done_at = Some(now);
        } else {
            entry.done_by = None;
            entry.done_at = None;
        }
        let kind = EventKind::ChecklistItem {
            phase: checklist_phase.id.clone(),
            item,
            text: entry.text.clone(),
            done,
        };
        self.updated_at = now;
        Ok(vec![event(actor, now, kind)])
    }

    /// Notes are allowed in every status, closed included (post-mortem remarks).
    pub fn add_note(
        &mut self,
        text: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, DomainError> {
        let text = required_text("text", text, MAX_TEXT)?;
        self.updated_at = now;
        Ok(vec![event(actor, now, EventKind::Note { text })])
    }

    /// A status update for stakeholders: an optional status change and the
    /// message the audiences receive. Only open incidents take updates (a
    /// resolved one gets its resolution notice when it resolves).
    pub fn post_update(
        &mut self,
        status: Option<Status>,
        message: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>, DomainError> {
        let message = required_text("message", message, MAX_TEXT)?;
        crate::notify::placeholder::refuse_unfilled("message", &message)?;
        if !self.status.is_open() {
            return Err(DomainError::Conflict(format!(
                "{} is {}; reopen it to post updates",
                self.id, self.status
            )));
        }
        let mut events = Vec::new();
        if let Some(to) = status.filter(|to| *to != self.status) {
            if !to.is_open() {
                return Err(DomainError::invalid(
                    "status",
                    "an update cannot resolve or close; resolve the incident instead",
                ));
            }
            events = self.change_status(to, None, actor, now)?;
        }
        self.updated_at = now;
        events.push(event(
            actor,
            now,
            EventKind::UpdatePosted {
                status: self.status,
                message,
            },
        ));
        Ok(events)
    }

    /// Records something that happened to one of the incident's alerts,
    /// joining the last of `events` when it is the same change at the same
    /// moment (`timeline::push_alert_change`). Allowed in every status:
    /// alerts keep arriving after resolution.
    pub fn record_alert_change(
        &mut self,
        events: &mut Vec<NewEvent>,
        change: AlertChange,
        actor: &str,
        now: Timestamp,
    ) {
        self.updated_at = now;
        push_alert_change(events, change, actor, now);
    }

    fn ensure_not_closed(&self) -> Result<(), DomainError> {
        if self.status == Status::Closed {
            Err(DomainError::Conflict(format!(
                "{} is closed; only notes and checklist items can still be added",
                self.id
            )))
        } else {
            Ok(())
        }
    }
}

fn event(actor: &str, now: Timestamp, kind: EventKind) -> NewEvent {
    NewEvent {
        at: now,
        actor: actor.to_owned(),
        kind,
    }
}

mod checks;
mod merge;
#[cfg(test)]
mod tests;
