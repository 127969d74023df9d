//! The `oncall:` section: users, teams, vendors, schedules and escalation
//! policies, converted into an `OncallConfig`.
//!
//! The entries are deserialized straight into the on-call domain types, so
//! the YAML has exactly their JSON shape. Their errors name a field relative
//! to the entry (`contact_methods[1].address`); we prefix the entry's path
//! and find where that path is written with `locate`.

use std::collections::HashMap;

use serde_saphyr::Spanned;

use super::raw::RawOncall;
use super::{Check, PlaybookError};
use crate::oncall::directory::MAX_TEXT;
use crate::oncall::{
    check_handle, check_text, check_time_zone, EscalationPolicy, Schedule, ShiftLength, Target,
};
use crate::playbook::{OncallConfig, ServiceDef};
use crate::DomainError;

/// The longest shift a layer may have: a year.
const MAX_SHIFT_HOURS: u32 = 365 * 24;

impl Check<'_> {
    /// Converts `oncall:`; a key left out takes its value from
    /// [`OncallConfig::default`].
    pub(super) fn oncall(&self, raw: RawOncall) -> Result<OncallConfig, PlaybookError> {
        let default = OncallConfig::default();
        let mut users = raw.users.unwrap_or_default();
        for (i, user) in users.iter_mut().enumerate() {
            // Written by the playbook's author, who vouches for them.
            for method in &mut user.contact_methods {
                method.verified = true;
            }
            self.domain(&format!("oncall.users[{i}]"), user.validate())?;
        }
        self.unique_names("oncall.users", users.iter().map(|u| u.name.as_str()))?;
        let user_names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();

        let teams = raw.teams.unwrap_or_default();
        for (i, team) in teams.iter().enumerate() {
            let path = format!("oncall.teams[{i}]");
            self.domain(&path, team.validate())?;
            for (j, member) in team.members.iter().enumerate() {
                self.known(
                    &user_names,
                    "user",
                    "users",
                    member,
                    &format!("{path}.members[{j}]"),
                )?;
            }
        }
        self.unique_names("oncall.teams", teams.iter().map(|t| t.name.as_str()))?;

        let vendors = raw.vendors.unwrap_or_default();
        for (i, vendor) in vendors.iter().enumerate() {
            self.domain(&format!("oncall.vendors[{i}]"), vendor.validate())?;
        }
        self.unique_names("oncall.vendors", vendors.iter().map(|v| v.name.as_str()))?;

        let schedules = raw.schedules.unwrap_or_default();
        for (i, schedule) in schedules.iter().enumerate() {
            let path = format!("oncall.schedules[{i}]");
            self.domain(&path, check_schedule(schedule))?;
            for (j, layer) in schedule.layers.iter().enumerate() {
                for (k, user) in layer.users.iter().enumerate() {
                    let field = format!("{path}.layers[{j}].users[{k}]");
                    self.known(&user_names, "user", "users", user, &field)?;
                }
            }
        }
        self.unique_names(
            "oncall.schedules",
            schedules.iter().map(|s| s.name.as_str()),
        )?;

        let policies = raw.escalation_policies.unwrap_or_default();
        let team_names: Vec<&str> = teams.iter().map(|t| t.name.as_str()).collect();
        let schedule_names: Vec<&str> = schedules.iter().map(|s| s.name.as_str()).collect();
        for (i, policy) in policies.iter().enumerate() {
            let path = format!("oncall.escalation_policies[{i}]");
            self.domain(&path, policy.validate())?;
            for (j, step) in policy.steps.iter().enumerate() {
                for (k, target) in step.targets.iter().enumerate() {
                    let field = format!("{path}.steps[{j}].targets[{k}].name");
                    let (names, kind, section) = match target {
                        Target::User { .. } => (&user_names, "user", "users"),
                        Target::Team { .. } => (&team_names, "team", "teams"),
                        Target::Schedule { .. } => (&schedule_names, "schedule", "schedules"),
                    };
                    self.known(names, kind, section, target.name(), &field)?;
                }
            }
        }
        self.unique_names(
            "oncall.escalation_policies",
            policies.iter().map(|p| p.name.as_str()),
        )?;

        let default_escalation_policy = match &raw.default_escalation_policy {
            Some(name) => {
                Some(self.policy_reference(&policies, name, "oncall.default_escalation_policy")?)
            }
            None => None,
        };
        let acknowledge_timeout =
            self.optional_duration(&raw.acknowledge_timeout, "oncall.acknowledge_timeout")?;
        let ack_link_ttl = match &raw.ack_link_ttl {
            Some(ttl) => self.duration(ttl, "oncall.ack_link_ttl")?,
            None => default.ack_link_ttl,
        };
        Ok(OncallConfig {
            users,
            teams,
            vendors,
            schedules,
            escalation_policies: policies,
            default_escalation_policy,
            acknowledge_timeout,
            ack_link_ttl,
        })
    }

    /// Checks that each service's `escalation_policy` names a policy of
    /// `oncall`, whether the services or the policies come from the file or
    /// from the defaults.
    pub(super) fn service_policies(
        &self,
        services: &[ServiceDef],
        oncall: &OncallConfig,
    ) -> Result<(), PlaybookError> {
        for (i, service) in services.iter().enumerate() {
            if let Some(name) = &service.escalation_policy {
                if !oncall.escalation_policies.iter().any(|p| &p.name == name) {
                    return Err(self.error_at_path(
                        &format!("services[{i}].escalation_policy"),
                        no_policy(name),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The name of a policy, which must be one of `policies`.
    fn policy_reference(
        &self,
        policies: &[EscalationPolicy],
        name: &Spanned<String>,
        field: &str,
    ) -> Result<String, PlaybookError> {
        let text = name.value.trim();
        if !policies.iter().any(|p| p.name == text) {
            return Err(self.error(&name.referenced, field, no_policy(text)));
        }
        Ok(text.to_owned())
    }

    /// An error of an entry's `validate()`, located by its path under `path`.
    pub(super) fn domain(
        &self,
        path: &str,
        result: Result<(), DomainError>,
    ) -> Result<(), PlaybookError> {
        result.map_err(|e| match e {
            DomainError::Invalid { field, message } => {
                self.error_at_path(&super::locate::join(path, &field), message)
            }
            other => self.error_at_path(path, other.to_string()),
        })
    }

    /// Refuses a name that an earlier entry of `section` already has.
    pub(super) fn unique_names<'n>(
        &self,
        section: &str,
        names: impl Iterator<Item = &'n str>,
    ) -> Result<(), PlaybookError> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, name) in names.enumerate() {
            if let Some(first) = seen.insert(name, i) {
                return Err(self.error_at_path(
                    &format!("{section}[{i}].name"),
                    format!("{name:?} is already used by {section}[{first}]"),
                ));
            }
        }
        Ok(())
    }

    /// Refuses a reference to a `kind` that `oncall.<section>` does not define.
    fn known(
        &self,
        names: &[&str],
        kind: &str,
        section: &str,
        name: &str,
        field: &str,
    ) -> Result<(), PlaybookError> {
        if names.contains(&name) {
            return Ok(());
        }
        Err(self.error_at_path(
            field,
            format!("no {kind} named {name:?} in oncall.{section}"),
        ))
    }
}

fn no_policy(name: &str) -> String {
    format!("no escalation policy named {name:?} in oncall.escalation_policies")
}

/// Checks a schedule: the parser's own checks first (for their messages),
/// then everything `Schedule::compile` refuses.
fn check_schedule(schedule: &Schedule) -> Result<(), DomainError> {
    check_handle("name", &schedule.name)?;
    check_text("description", &schedule.description, MAX_TEXT)?;
    check_time_zone("time_zone", &schedule.time_zone)?;
    if schedule.layers.is_empty() {
        return Err(DomainError::invalid("layers", "needs at least one layer"));
    }
    for (i, layer) in schedule.layers.iter().enumerate() {
        let field = |key: &str| format!("layers[{i}].{key}");
        if layer.name.trim().is_empty() {
            return Err(DomainError::invalid(field("name"), "must not be empty"));
        }
        check_text(&field("name"), &layer.name, MAX_TEXT)?;
        if layer.users.is_empty() {
            return Err(DomainError::invalid(
                field("users"),
                "needs at least one user, in rotation order",
            ));
        }
        for (j, user) in layer.users.iter().enumerate() {
            check_handle(&format!("layers[{i}].users[{j}]"), user)?;
        }
        check_shift(&field("shift"), layer.shift)?;
        if let Some(end) = layer.end {
            if end <= layer.start {
                return Err(DomainError::invalid(
                    field("end"),
                    format!("{end} is not after the layer's start, {}", layer.start),
                ));
            }
        }
    }
    // Everything else the schedule computation needs (restrictions, limits).
    schedule.compile(Vec::new()).map(|_| ())
}

/// From 1 hour to a year.
fn check_shift(field: &str, shift: ShiftLength) -> Result<(), DomainError> {
    let (key, count, max) = match shift {
        ShiftLength::Hours(n) => ("hours", n, MAX_SHIFT_HOURS),
        ShiftLength::Days(n) => ("days", n, MAX_SHIFT_HOURS / 24),
        ShiftLength::Weeks(n) => ("weeks", n, MAX_SHIFT_HOURS / (7 * 24)),
    };
    if count == 0 || count > max {
        return Err(DomainError::invalid(
            format!("{field}.{key}"),
            format!("must be from 1 to {max} {key} (a shift is at most a year)"),
        ));
    }
    Ok(())
}
