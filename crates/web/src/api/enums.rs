//! OpenAPI schemas of the domain's enums that API bodies carry, so the
//! document lists their values; the domain crate knows nothing of OpenAPI.
//! A test below checks each list against the domain's own serde names.

#![allow(dead_code)] // Only their schemas are used.

use utoipa::ToSchema;

/// An incident's status, in lifecycle order.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "investigating")]
pub enum StatusName {
    Triggered,
    Acknowledged,
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Closed,
}

/// A token's or account's role: admins do everything, responders work
/// incidents, viewers only read.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "responder")]
pub enum RoleName {
    Admin,
    Responder,
    Viewer,
}

/// A kind of message a template renders.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "status_update")]
pub enum MessageKindName {
    Page,
    InitialNotification,
    StatusUpdate,
    ResolutionNotice,
    Reminder,
}

/// Whom a message is for.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "stakeholders")]
pub enum AudienceName {
    Responders,
    Stakeholders,
    Customers,
}

/// A format an integration can be created for (`warroom_engine::integrations::KINDS`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "alertmanager")]
pub enum IntegrationKindName {
    Pagerduty,
    Alertmanager,
    Prometheus,
    Grafana,
    Sentry,
    Uptimerobot,
    Generic,
}

/// Which alerts `GET /api/v1/alerts` lists: `suppressed` is firing but muted.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum AlertStatusFilter {
    Firing,
    Resolved,
    Suppressed,
    All,
}

/// Where a silence or maintenance window is in its time.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum SilenceStateName {
    Pending,
    Active,
    Expired,
}

/// A stored alert's status.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum AlertStatusName {
    Firing,
    Resolved,
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    use utoipa::PartialSchema;
    use warroom_domain::alert::AlertStatus;
    use warroom_domain::alerting::SilenceState;
    use warroom_domain::notify::{AudienceClass, MessageKind};
    use warroom_domain::{AccessRole, Status};

    use super::*;

    /// The names the schema of `E` lists.
    fn names<E: PartialSchema>() -> Vec<String> {
        let RefOr::T(Schema::Object(object)) = E::schema() else {
            panic!("not an inline object schema")
        };
        object
            .enum_values
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    /// Every documented name parses as the domain type, and every domain
    /// value (from `all`) is documented.
    fn same<D: DeserializeOwned + Serialize, E: PartialSchema>(all: &[D]) {
        let documented = names::<E>();
        for name in &documented {
            serde_json::from_value::<D>(serde_json::json!(name))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        for value in all {
            let name = serde_json::to_value(value).unwrap();
            assert!(documented.iter().any(|d| name == *d), "{name} undocumented");
        }
    }

    #[test]
    fn the_documented_names_are_the_domain_names() {
        same::<Status, StatusName>(&Status::ALL);
        same::<AccessRole, RoleName>(&[
            AccessRole::Admin,
            AccessRole::Responder,
            AccessRole::Viewer,
        ]);
        same::<MessageKind, MessageKindName>(&[
            MessageKind::Page,
            MessageKind::InitialNotification,
            MessageKind::StatusUpdate,
            MessageKind::ResolutionNotice,
            MessageKind::Reminder,
        ]);
        assert_eq!(
            names::<AlertStatusName>(),
            [AlertStatus::Firing, AlertStatus::Resolved].map(AlertStatus::as_str)
        );
        let states = [
            SilenceState::Pending,
            SilenceState::Active,
            SilenceState::Expired,
        ];
        assert_eq!(
            names::<SilenceStateName>(),
            states.map(SilenceState::as_str)
        );
        assert_eq!(
            names::<IntegrationKindName>(),
            warroom_engine::integrations::KINDS
        );
        same::<AudienceClass, AudienceName>(&[
            AudienceClass::Responders,
            AudienceClass::Stakeholders,
            AudienceClass::Customers,
        ]);
    }
}
