//! Field checks shared by declaring and changing an incident: text
//! lengths, names in the playbook's spelling, numbers and times.

use super::*;

/// Trims and checks a required text: not empty, not too long, no control characters but newlines and tabs.
pub(super) fn required_text(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let text = optional_text(field, value, max)?;
    if text.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    Ok(text)
}

pub(super) fn optional_text(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let text = value.trim();
    let len = text.chars().count();
    if len > max {
        return Err(DomainError::invalid(
            field,
            format!("is {len} characters long; the limit is {max}"),
        ));
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(DomainError::invalid(
            field,
            format!("contains the control character {c:?}"),
        ));
    }
    Ok(text.to_owned())
}

pub(super) fn canonical_severity(
    playbook: &Playbook,
    field: &str,
    name: &str,
) -> Result<String, DomainError> {
    playbook
        .severity(name.trim())
        .map(|s| s.name.clone())
        .ok_or_else(|| {
            DomainError::invalid(
                field,
                format!(
                    "unknown severity `{name}`; the playbook has: {}",
                    names(playbook.severities.iter().map(|s| s.name.as_str()))
                ),
            )
        })
}

pub(super) fn canonical_category(playbook: &Playbook, name: &str) -> Result<String, DomainError> {
    playbook
        .category(name.trim())
        .map(|c| c.name.clone())
        .ok_or_else(|| {
            DomainError::invalid(
                "category",
                format!(
                    "unknown category `{name}`; the playbook has: {}",
                    names(playbook.categories.iter().map(|c| c.name.as_str()))
                ),
            )
        })
}

pub(super) fn canonical_role(
    playbook: &Playbook,
    field: &str,
    name: &str,
) -> Result<String, DomainError> {
    playbook
        .role(name.trim())
        .map(|r| r.name.clone())
        .ok_or_else(|| {
            DomainError::invalid(
                field,
                format!(
                    "unknown role `{name}`; the playbook has: {}",
                    names(playbook.roles.iter().map(|r| r.name.as_str()))
                ),
            )
        })
}

pub(super) fn canonical_services(
    playbook: &Playbook,
    services: &[String],
) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = Vec::with_capacity(services.len());
    for (i, name) in services.iter().enumerate() {
        let service = playbook.service(name.trim()).ok_or_else(|| {
            DomainError::invalid(
                format!("services[{i}]"),
                format!(
                    "unknown service `{name}`; the playbook has: {}",
                    names(playbook.services.iter().map(|s| s.id.as_str()))
                ),
            )
        })?;
        if !out.contains(&service.id) {
            out.push(service.id.clone());
        }
    }
    Ok(out)
}

pub(super) fn check_users_affected(users: Option<i64>) -> Result<(), DomainError> {
    match users {
        Some(n) if n < 0 => Err(DomainError::invalid(
            "users_affected",
            "must be zero or more",
        )),
        _ => Ok(()),
    }
}

pub(super) fn check_not_future(
    field: &str,
    at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), DomainError> {
    // A little slack for clocks of other machines that run ahead.
    match at {
        Some(at) if at > now + jiff::SignedDuration::from_mins(5) => Err(DomainError::invalid(
            field,
            format!("{at} is in the future"),
        )),
        _ => Ok(()),
    }
}

pub(super) fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<&str> = it.collect();
    if list.is_empty() {
        "(none)".to_owned()
    } else {
        list.join(", ")
    }
}

/// A bridge or chat link: `None` (or blank) clears it; otherwise an http(s)
/// URL with a host, at most 2000 characters, without spaces.
pub(crate) fn optional_url(
    field: &str,
    value: Option<String>,
) -> Result<Option<String>, DomainError> {
    let Some(url) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    crate::oncall::directory::check_url(field, &url)?;
    let rest = url.split_once("://").map_or("", |(_, rest)| rest);
    if rest.is_empty() || rest.starts_with(['/', '?', '#']) {
        return Err(DomainError::invalid(
            field,
            format!("{url:?} has no host; write a link such as \"https://meet.example.com/room\""),
        ));
    }
    Ok(Some(url))
}
