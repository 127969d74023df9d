//! Escalation policies: ordered steps of targets, each step waiting its delay
//! for an acknowledgement before the next one is paged, the whole policy
//! repeated `repeat` more times.

use serde::{Deserialize, Serialize};

use super::{check_handle, check_text};
use crate::DomainError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicy {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub steps: Vec<EscalationStep>,
    /// How many more times the steps run after the last one went unanswered
    /// (0: once through). PagerDuty's `num_loops`.
    #[serde(default)]
    pub repeat: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    /// Minutes to wait for an acknowledgement before the next step.
    pub delay_minutes: u32,
    pub targets: Vec<Target>,
}

/// Whom a step pages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Target {
    User {
        name: String,
    },
    /// Whoever is on call on the schedule when the step runs.
    Schedule {
        name: String,
    },
    Team {
        name: String,
        #[serde(default)]
        mode: TeamMode,
    },
}

/// How a step pages a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TeamMode {
    /// Every member at once.
    #[default]
    All,
    /// One member per page, the next one each time the step runs.
    RoundRobin,
}

pub const MAX_STEPS: usize = 20;
pub const MAX_TARGETS: usize = 20;
pub const MAX_REPEAT: u32 = 9;
/// A day, the longest wait of one step.
pub const MAX_DELAY_MINUTES: u32 = 24 * 60;

impl EscalationPolicy {
    pub fn validate(&self) -> Result<(), DomainError> {
        check_handle("name", &self.name)?;
        check_text("description", &self.description, super::directory::MAX_TEXT)?;
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            return Err(DomainError::invalid(
                "steps",
                format!("needs 1 to {MAX_STEPS} steps"),
            ));
        }
        if self.repeat > MAX_REPEAT {
            return Err(DomainError::invalid(
                "repeat",
                format!("must be at most {MAX_REPEAT}"),
            ));
        }
        for (i, step) in self.steps.iter().enumerate() {
            if step.delay_minutes == 0 || step.delay_minutes > MAX_DELAY_MINUTES {
                return Err(DomainError::invalid(
                    format!("steps[{i}].delay_minutes"),
                    format!("must be from 1 to {MAX_DELAY_MINUTES} minutes"),
                ));
            }
            if step.targets.is_empty() || step.targets.len() > MAX_TARGETS {
                return Err(DomainError::invalid(
                    format!("steps[{i}].targets"),
                    format!("needs 1 to {MAX_TARGETS} targets"),
                ));
            }
            for (j, target) in step.targets.iter().enumerate() {
                check_handle(&format!("steps[{i}].targets[{j}].name"), target.name())?;
            }
        }
        Ok(())
    }

    /// Steps paged in total, counting repeats.
    pub fn total_steps(&self) -> u32 {
        self.steps.len() as u32 * (self.repeat + 1)
    }

    /// The step paged at position `n` (0-based, counting repeats), if any.
    pub fn step_at(&self, n: u32) -> Option<&EscalationStep> {
        if n >= self.total_steps() {
            return None;
        }
        self.steps.get(n as usize % self.steps.len())
    }
}

impl Target {
    pub fn name(&self) -> &str {
        match self {
            Target::User { name } | Target::Schedule { name } | Target::Team { name, .. } => name,
        }
    }

    /// `user:alice`, `schedule:primary`, `team:dba`.
    pub fn label(&self) -> String {
        match self {
            Target::User { name } => format!("user:{name}"),
            Target::Schedule { name } => format!("schedule:{name}"),
            Target::Team { name, .. } => format!("team:{name}"),
        }
    }
}
