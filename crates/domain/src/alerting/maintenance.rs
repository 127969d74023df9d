//! Maintenance windows: planned periods during which alerts for some services
//! are expected and should not page anyone.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::incident::{MAX_NAME, MAX_TEXT};

/// Covers the listed services from `starts_at` (inclusive) to `ends_at`
/// (exclusive). Services are playbook service ids, compared case-insensitively.
/// A window with no services covers nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub id: String,
    pub services: Vec<String>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub description: String,
}

impl MaintenanceWindow {
    /// Checks a new window: at least one service, none blank; `ends_at` after
    /// `starts_at`; the description may be empty.
    pub fn new(
        id: impl Into<String>,
        services: Vec<String>,
        starts_at: Timestamp,
        ends_at: Timestamp,
        description: impl Into<String>,
    ) -> Result<MaintenanceWindow, DomainError> {
        if services.is_empty() {
            return Err(DomainError::invalid(
                "services",
                "at least one service is required",
            ));
        }
        let services = services
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let s = s.trim();
                if s.is_empty() || s.chars().count() > MAX_NAME {
                    Err(DomainError::invalid(
                        format!("services[{i}]"),
                        format!("must be a service id of 1 to {MAX_NAME} characters"),
                    ))
                } else {
                    Ok(s.to_owned())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        if ends_at <= starts_at {
            return Err(DomainError::invalid(
                "ends_at",
                format!("must be after starts_at ({starts_at}), got {ends_at}"),
            ));
        }
        let description = description.into();
        if description.chars().count() > MAX_TEXT {
            return Err(DomainError::invalid(
                "description",
                format!("must be at most {MAX_TEXT} characters"),
            ));
        }
        Ok(MaintenanceWindow {
            id: id.into(),
            services,
            starts_at,
            ends_at,
            description,
        })
    }

    /// `starts_at <= now < ends_at`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.starts_at <= now && now < self.ends_at
    }

    /// Whether the window is active at `now` and lists `service`.
    pub fn covers(&self, service: &str, now: Timestamp) -> bool {
        self.is_active(now)
            && self
                .services
                .iter()
                .any(|s| s.eq_ignore_ascii_case(service))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn window(services: &[&str], from: i64, to: i64) -> Result<MaintenanceWindow, DomainError> {
        let services = services.iter().map(|s| (*s).to_owned()).collect();
        MaintenanceWindow::new("mw1", services, t(from), t(to), "db upgrade")
    }

    #[test]
    fn covers_listed_services_while_active() {
        let w = window(&["api", "Payments"], 0, 60).unwrap();
        let check = [
            ("api", -1, false),
            ("api", 0, true),
            ("API", 30, true),
            ("payments", 59, true),
            ("payments", 60, false),
            ("db", 30, false),
        ];
        for (service, at, want) in check {
            assert_eq!(w.covers(service, t(at)), want, "{service} at {at}");
        }
    }

    #[test]
    fn new_refuses_bad_windows() {
        let field = |r: Result<MaintenanceWindow, DomainError>| match r.unwrap_err() {
            DomainError::Invalid { field, .. } => field,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(field(window(&[], 0, 60)), "services");
        assert_eq!(field(window(&["api", " "], 0, 60)), "services[1]");
        assert_eq!(field(window(&["api"], 60, 60)), "ends_at");
        assert_eq!(window(&[" api "], 0, 60).unwrap().services, vec!["api"]);
    }
}
