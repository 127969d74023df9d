//! Who may do what: the roles an API token (and later a user) carries.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessRole {
    /// Everything, including tokens and configuration.
    Admin,
    /// Works incidents: declare, change, note.
    Responder,
    /// Reads only.
    Viewer,
}

impl AccessRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessRole::Admin => "admin",
            AccessRole::Responder => "responder",
            AccessRole::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<AccessRole> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Some(AccessRole::Admin),
            "responder" => Some(AccessRole::Responder),
            "viewer" => Some(AccessRole::Viewer),
            _ => None,
        }
    }

    pub fn can_work_incidents(self) -> bool {
        matches!(self, AccessRole::Admin | AccessRole::Responder)
    }

    pub fn is_admin(self) -> bool {
        self == AccessRole::Admin
    }
}

impl fmt::Display for AccessRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
