//! Why the domain refused a change, in words a responder understands.

use crate::status::Status;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A value the caller gave is not acceptable; `field` names it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("cannot move {incident} from {from} to {to}: {hint}")]
    IllegalTransition {
        incident: String,
        from: Status,
        to: Status,
        hint: String,
    },
    /// The change makes sense in general but not in the incident's current state.
    #[error("{0}")]
    Conflict(String),
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> DomainError {
        DomainError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
