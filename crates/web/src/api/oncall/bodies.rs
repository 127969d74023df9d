//! OpenAPI schemas of the directory's request bodies. The handlers read the
//! domain types themselves (`warroom_domain::oncall`, the same serde shapes
//! as the playbook's `oncall:` section); these mirror those shapes and the
//! limits their `validate` enforces, so the document says what is accepted
//! without the domain crate knowing about OpenAPI. `tests/it/openapi.rs`
//! checks that the domain's own JSON fits them.

#![allow(dead_code)] // Only their schemas are read, and tests parse into them.

use serde::Deserialize;
use utoipa::ToSchema;

/// A person who can be put on call and paged.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    #[schema(max_length = 64, pattern = "^[a-z0-9][a-z0-9._-]*$", example = "alice")]
    name: String,
    #[schema(max_length = 500)]
    full_name: Option<String>,
    email: String,
    /// IANA time zone name; default `UTC`.
    #[schema(example = "Europe/London")]
    time_zone: Option<String>,
    #[schema(max_length = 500)]
    role: Option<String>,
    #[schema(max_items = 20)]
    contact_methods: Option<Vec<ContactMethodBody>>,
    #[schema(max_items = 20)]
    notification_rules: Option<Vec<NotificationRuleBody>>,
}

/// A way to reach a user. Methods sent through the API start unverified.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactMethodBody {
    /// Unique within the user.
    #[schema(
        max_length = 64,
        pattern = "^[a-z0-9][a-z0-9._-]*$",
        example = "work-email"
    )]
    id: String,
    kind: ContactKindBody,
    /// E-mail address, E.164 phone number (`+14155550100`) or https URL.
    address: String,
    verified: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContactKindBody {
    Email,
    Sms,
    Voice,
    Slack,
    Webhook,
}

/// "Page me by this method, this many minutes after I am notified."
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRuleBody {
    urgency: UrgencyBody,
    /// The `id` of one of the user's contact methods.
    contact_method: String,
    #[schema(minimum = 0)]
    delay_minutes: Option<u32>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UrgencyBody {
    High,
    Low,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    #[schema(max_length = 64, pattern = "^[a-z0-9][a-z0-9._-]*$", example = "dba")]
    name: String,
    #[schema(max_length = 500)]
    description: Option<String>,
    /// User handles.
    members: Option<Vec<String>>,
}

/// An external contact (a supplier's support line).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorBody {
    #[schema(
        max_length = 64,
        pattern = "^[a-z0-9][a-z0-9._-]*$",
        example = "sip-trunk"
    )]
    name: String,
    #[schema(max_length = 500)]
    provides: Option<String>,
    #[schema(max_length = 500)]
    support_phone: Option<String>,
    #[schema(max_length = 500)]
    support_email: Option<String>,
    #[schema(max_length = 500)]
    account_number: Option<String>,
    #[schema(max_length = 500)]
    hours: Option<String>,
    #[schema(max_length = 500)]
    notes: Option<String>,
}

/// Rotations (layers, bottom first) in one time zone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    #[schema(
        max_length = 64,
        pattern = "^[a-z0-9][a-z0-9._-]*$",
        example = "primary"
    )]
    name: String,
    #[schema(max_length = 500)]
    description: Option<String>,
    #[schema(example = "Europe/London")]
    time_zone: String,
    #[schema(max_items = 20)]
    layers: Vec<LayerBody>,
}

/// One rotation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerBody {
    name: String,
    /// User handles in rotation order.
    #[schema(max_items = 100)]
    users: Vec<String>,
    shift: ShiftLengthBody,
    /// Local date and time of the first hand-off.
    #[schema(example = "2026-11-23T09:00:00")]
    start: String,
    /// Local date and time the layer ends (exclusive).
    #[schema(example = "2027-01-01T00:00:00")]
    end: Option<String>,
    #[schema(max_items = 50)]
    restrictions: Option<Vec<RestrictionBody>>,
}

/// Shift length: `{"hours": 12}` (1 to 8784), `{"days": 1}` (1 to 366) or
/// `{"weeks": 1}` (1 to 52).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShiftLengthBody {
    Hours(u32),
    Days(u32),
    Weeks(u32),
}

/// A window of local time in which a restricted layer is on call.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictionBody {
    /// No days: every day.
    days: Option<Vec<DayBody>>,
    #[schema(example = "09:00")]
    from: String,
    #[schema(example = "17:00")]
    to: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DayBody {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// Ordered steps of targets, repeated `repeat` more times.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicyBody {
    #[schema(
        max_length = 64,
        pattern = "^[a-z0-9][a-z0-9._-]*$",
        example = "default"
    )]
    name: String,
    #[schema(max_length = 500)]
    description: Option<String>,
    #[schema(min_items = 1, max_items = 20)]
    steps: Vec<EscalationStepBody>,
    #[schema(minimum = 0, maximum = 9)]
    repeat: Option<u32>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationStepBody {
    /// Minutes to wait for an acknowledgement before the next step.
    #[schema(minimum = 1, maximum = 1440)]
    delay_minutes: u32,
    #[schema(min_items = 1, max_items = 20)]
    targets: Vec<TargetBody>,
}

/// Whom a step pages.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum TargetBody {
    User {
        name: String,
    },
    Schedule {
        name: String,
    },
    Team {
        name: String,
        mode: Option<TeamModeBody>,
    },
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TeamModeBody {
    All,
    RoundRobin,
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use serde_json::json;
    use warroom_domain::oncall::{EscalationPolicy, Schedule, Team, User, Vendor};

    use super::*;

    /// The domain's JSON of `sample`, every field set, parses as `B`: the
    /// schema has every field the domain has, spelled the same.
    fn fits<D: DeserializeOwned + Serialize, B: DeserializeOwned>(sample: serde_json::Value) {
        let doc: D = serde_json::from_value(sample).unwrap();
        let json = serde_json::to_value(&doc).unwrap();
        if let Err(e) = serde_json::from_value::<B>(json.clone()) {
            panic!("{} does not fit {json}: {e}", std::any::type_name::<B>());
        }
    }

    #[test]
    fn the_domain_json_fits_the_documented_bodies() {
        fits::<User, UserBody>(json!({
            "name": "alice", "full_name": "Alice", "email": "a@example.com",
            "time_zone": "Europe/London", "role": "SRE",
            "contact_methods": [{"id": "m", "kind": "sms", "address": "+14155550100", "verified": true}],
            "notification_rules": [{"urgency": "low", "contact_method": "m", "delay_minutes": 5}],
        }));
        fits::<Team, TeamBody>(json!({"name": "dba", "description": "d", "members": ["alice"]}));
        fits::<Vendor, VendorBody>(json!({
            "name": "v", "provides": "p", "support_phone": "1", "support_email": "e",
            "account_number": "a", "hours": "h", "notes": "n",
        }));
        fits::<Schedule, ScheduleBody>(json!({
            "name": "primary", "description": "d", "time_zone": "UTC",
            "layers": [{"name": "l", "users": ["alice"], "shift": {"weeks": 1},
                "start": "2026-11-23T09:00:00", "end": "2027-01-01T00:00:00",
                "restrictions": [{"days": ["mon"], "from": "09:00", "to": "17:00"}]}],
        }));
        fits::<EscalationPolicy, EscalationPolicyBody>(json!({
            "name": "default", "description": "d", "repeat": 1,
            "steps": [{"delay_minutes": 5, "targets": [
                {"type": "user", "name": "alice"}, {"type": "schedule", "name": "primary"},
                {"type": "team", "name": "dba", "mode": "round_robin"}]}],
        }));
    }
}
