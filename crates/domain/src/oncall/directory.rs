//! The directory of people Warroom pages: users with contact methods and
//! personal notification rules, teams, and external vendor contacts.

use serde::{Deserialize, Serialize};

use super::{check_handle, check_text, check_time_zone};
use crate::DomainError;

/// How urgently an incident pages: severity decides (the playbook's
/// `urgency` per severity), and each user has rules per urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    #[default]
    High,
    Low,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::High => "high",
            Urgency::Low => "low",
        }
    }
}

/// A person who can be put on call and paged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Handle used in schedules, policies, URLs and the CLI (`alice`).
    pub name: String,
    #[serde(default)]
    pub full_name: String,
    pub email: String,
    /// IANA time zone the person lives in, for showing their shifts.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// Job role (`Network Engineer`, `IT Manager`); free text.
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub contact_methods: Vec<ContactMethod>,
    #[serde(default)]
    pub notification_rules: Vec<NotificationRule>,
}

fn utc() -> String {
    "UTC".to_owned()
}

/// A way to reach a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactMethod {
    /// Unique within the user (`work-email`, `phone`).
    pub id: String,
    pub kind: ContactKind,
    /// E-mail address, E.164 phone number (`+14155550100`) or https URL.
    pub address: String,
    /// Only verified methods are paged. Methods defined in the playbook are
    /// verified by whoever wrote it; others by a code sent to the address.
    #[serde(default)]
    pub verified: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContactKind {
    Email,
    Sms,
    Voice,
    Slack,
    Webhook,
}

impl ContactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::Email => "email",
            ContactKind::Sms => "sms",
            ContactKind::Voice => "voice",
            ContactKind::Slack => "slack",
            ContactKind::Webhook => "webhook",
        }
    }
}

/// "Page me by this method, this many minutes after I am notified."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationRule {
    pub urgency: Urgency,
    /// The `id` of one of the user's contact methods.
    pub contact_method: String,
    #[serde(default)]
    pub delay_minutes: u32,
}

/// A group of users, targeted by escalation steps as a whole or in turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// User handles.
    #[serde(default)]
    pub members: Vec<String>,
}

/// An external party responders call: SIP trunk provider, ISP, cloud vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vendor {
    pub name: String,
    /// What they provide (`SIP Trunk Provider`).
    #[serde(default)]
    pub provides: String,
    #[serde(default)]
    pub support_phone: String,
    #[serde(default)]
    pub support_email: String,
    #[serde(default)]
    pub account_number: String,
    /// When support answers (`24/7`, `Mon-Fri 08:00-18:00 CET`).
    #[serde(default)]
    pub hours: String,
    #[serde(default)]
    pub notes: String,
}

/// The longest free-text field of the directory.
pub const MAX_TEXT: usize = 500;
/// The most contact methods or rules one user may have.
pub const MAX_PER_USER: usize = 20;

impl User {
    /// Checks every field; the error names the first bad one (`contact_methods[1].address`).
    pub fn validate(&self) -> Result<(), DomainError> {
        check_handle("name", &self.name)?;
        check_text("full_name", &self.full_name, MAX_TEXT)?;
        check_text("role", &self.role, MAX_TEXT)?;
        check_email("email", &self.email)?;
        check_time_zone("time_zone", &self.time_zone)?;
        if self.contact_methods.len() > MAX_PER_USER {
            return Err(DomainError::invalid(
                "contact_methods",
                format!("at most {MAX_PER_USER} contact methods"),
            ));
        }
        if self.notification_rules.len() > MAX_PER_USER {
            return Err(DomainError::invalid(
                "notification_rules",
                format!("at most {MAX_PER_USER} notification rules"),
            ));
        }
        for (i, method) in self.contact_methods.iter().enumerate() {
            let field = format!("contact_methods[{i}]");
            method.validate(&field)?;
            if self.contact_methods[..i].iter().any(|m| m.id == method.id) {
                return Err(DomainError::invalid(
                    format!("{field}.id"),
                    format!("{:?} is used twice", method.id),
                ));
            }
        }
        for (i, rule) in self.notification_rules.iter().enumerate() {
            if self.contact_method(&rule.contact_method).is_none() {
                return Err(DomainError::invalid(
                    format!("notification_rules[{i}].contact_method"),
                    format!(
                        "{:?} is not one of this user's contact methods",
                        rule.contact_method
                    ),
                ));
            }
            if rule.delay_minutes > 24 * 60 {
                return Err(DomainError::invalid(
                    format!("notification_rules[{i}].delay_minutes"),
                    "must be at most 1440 (a day)",
                ));
            }
        }
        Ok(())
    }

    pub fn contact_method(&self, id: &str) -> Option<&ContactMethod> {
        self.contact_methods.iter().find(|m| m.id == id)
    }

    /// The rules that apply at this urgency, each with its (verified) method.
    /// A user with no rule for the urgency is paged at once on every verified
    /// method, so a forgotten rule never means a silent phone.
    pub fn rules_for(&self, urgency: Urgency) -> Vec<(u32, &ContactMethod)> {
        let rules: Vec<(u32, &ContactMethod)> = self
            .notification_rules
            .iter()
            .filter(|r| r.urgency == urgency)
            .filter_map(|r| {
                self.contact_method(&r.contact_method)
                    .filter(|m| m.verified)
                    .map(|m| (r.delay_minutes, m))
            })
            .collect();
        if !rules.is_empty() {
            return rules;
        }
        self.contact_methods
            .iter()
            .filter(|m| m.verified)
            .map(|m| (0, m))
            .collect()
    }

    /// Whether any contact method can be paged.
    pub fn is_reachable(&self) -> bool {
        self.contact_methods.iter().any(|m| m.verified)
    }
}

impl ContactMethod {
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        check_handle(&format!("{field}.id"), &self.id)?;
        let address_field = format!("{field}.address");
        match self.kind {
            ContactKind::Email => check_email(&address_field, &self.address),
            ContactKind::Sms | ContactKind::Voice => check_phone(&address_field, &self.address),
            ContactKind::Slack | ContactKind::Webhook => check_url(&address_field, &self.address),
        }
    }
}

impl Team {
    pub fn validate(&self) -> Result<(), DomainError> {
        check_handle("name", &self.name)?;
        check_text("description", &self.description, MAX_TEXT)?;
        for (i, member) in self.members.iter().enumerate() {
            check_handle(&format!("members[{i}]"), member)?;
            if self.members[..i].contains(member) {
                return Err(DomainError::invalid(
                    format!("members[{i}]"),
                    format!("{member:?} is listed twice"),
                ));
            }
        }
        Ok(())
    }
}

impl Vendor {
    pub fn validate(&self) -> Result<(), DomainError> {
        check_handle("name", &self.name)?;
        for (field, value) in [
            ("provides", &self.provides),
            ("support_phone", &self.support_phone),
            ("support_email", &self.support_email),
            ("account_number", &self.account_number),
            ("hours", &self.hours),
            ("notes", &self.notes),
        ] {
            check_text(field, value, MAX_TEXT)?;
        }
        Ok(())
    }
}

pub(crate) fn check_email(field: &str, value: &str) -> Result<(), DomainError> {
    let ok = value.len() <= 254
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("{value:?} is not an e-mail address"),
        ))
    }
}

pub(crate) fn check_phone(field: &str, value: &str) -> Result<(), DomainError> {
    let digits = value.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("{value:?} is not an E.164 phone number such as \"+14155550100\""),
        ))
    }
}

pub(crate) fn check_url(field: &str, value: &str) -> Result<(), DomainError> {
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() <= 2000
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("{value:?} is not an http(s) URL"),
        ))
    }
}
