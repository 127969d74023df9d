//! Warroom's domain: the playbook, incidents, their status lifecycle and timeline.
//!
//! Pure types and rules. Nothing here does I/O or reads the clock: every
//! operation that needs the time takes `now` as a parameter.

pub mod access;
pub mod alert;
pub mod alerting;
pub mod error;
pub mod id_format;
pub mod incident;
pub mod notify;
pub mod oncall;
pub mod playbook;
pub mod status;
pub mod text;
pub mod timeline;

pub use access::AccessRole;
pub use error::DomainError;
pub use id_format::IdFormat;
pub use incident::{Bridge, Declaration, DetailsPatch, Incident};
pub use playbook::Playbook;
pub use status::Status;
pub use timeline::{AlertChange, EventKind, NewEvent, TimelineEvent};
