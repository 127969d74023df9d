//! Parses any JSON webhook whose fields a per-integration [`GenericMapping`]
//! locates with JSON pointers (RFC 6901, <https://www.rfc-editor.org/rfc/rfc6901>).
//!
//! A body that is an array holds one alert per element; errors then name the
//! pointer into the whole body (`/2/id` for `/id` in the third element).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use warroom_domain::alert::{limits, AlertAction, AlertLink, AlertSignal};

use super::{check_labels, check_len, check_required, from_json, into_details, FormatError};

/// Where an integration's payload keeps each part of an alert.
///
/// Pointer fields hold a JSON pointer such as `/alert/id`. `summary` and
/// `source` may instead be templates: text with `{/pointer}` placeholders,
/// like `"{/service} is {/state}"` (a value that starts with `/` and has no
/// `{/` is a pointer; anything else a template, so `"my-tool"` is a literal).
/// A placeholder whose pointer finds nothing renders as empty text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenericMapping {
    /// Pointer to the alert's identity (a string or number); required in every body.
    pub dedup_key: String,
    /// Pointer or template; must not come out empty.
    pub summary: String,
    /// Pointer to the severity word.
    #[serde(default)]
    pub severity: Option<String>,
    /// Pointer to the status; the alert resolves when it equals one of
    /// `resolved_values` (ignoring case), and triggers otherwise or when absent.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default = "default_resolved_values")]
    pub resolved_values: Vec<String>,
    /// Pointer or template; `generic` when absent or empty.
    #[serde(default)]
    pub source: Option<String>,
    /// Pointer to an object whose string, number or boolean values become labels.
    #[serde(default)]
    pub labels: Option<String>,
    /// Pointer to the details; the whole alert when absent.
    #[serde(default)]
    pub details: Option<String>,
    /// Pointer to a URL, kept as the alert's link.
    #[serde(default)]
    pub url: Option<String>,
}

/// `resolved`, `ok`, `up`, `recovered`.
pub fn default_resolved_values() -> Vec<String> {
    ["resolved", "ok", "up", "recovered"]
        .map(String::from)
        .to_vec()
}

impl GenericMapping {
    /// A mapping with only the required parts and the default resolved values.
    pub fn new(dedup_key: impl Into<String>, summary: impl Into<String>) -> GenericMapping {
        GenericMapping {
            dedup_key: dedup_key.into(),
            summary: summary.into(),
            severity: None,
            status: None,
            resolved_values: default_resolved_values(),
            source: None,
            labels: None,
            details: None,
            url: None,
        }
    }

    /// Checks that every pointer is a JSON pointer and every template's
    /// placeholders are closed; the error names the mapping field.
    pub fn validate(&self) -> Result<(), FormatError> {
        let pointers = [
            ("dedup_key", Some(&self.dedup_key)),
            ("severity", self.severity.as_ref()),
            ("status", self.status.as_ref()),
            ("labels", self.labels.as_ref()),
            ("details", self.details.as_ref()),
            ("url", self.url.as_ref()),
        ];
        for (field, pointer) in pointers {
            if let Some(pointer) = pointer {
                check_pointer(pointer).map_err(|message| FormatError::new(field, message))?;
            }
        }
        for (field, text) in [
            ("summary", Some(&self.summary)),
            ("source", self.source.as_ref()),
        ] {
            if let Some(text) = text {
                Text::parse(text).map_err(|message| FormatError::new(field, message))?;
            }
        }
        Ok(())
    }
}

/// Parses a body with `mapping`: one signal for an object, one per element
/// for an array. `now` is unused; every parser takes it.
pub fn parse(
    bytes: &[u8],
    mapping: &GenericMapping,
    _now: Timestamp,
) -> Result<Vec<AlertSignal>, FormatError> {
    mapping.validate()?;
    let body: Value = from_json(bytes)?;
    match &body {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| one(item, &format!("/{i}"), mapping))
            .collect(),
        item => Ok(vec![one(item, "", mapping)?]),
    }
}

fn one(item: &Value, at: &str, mapping: &GenericMapping) -> Result<AlertSignal, FormatError> {
    let field = |pointer: &str| format!("{at}{pointer}");

    let dedup_key = scalar(item, at, &mapping.dedup_key)?
        .ok_or_else(|| FormatError::new(field(&mapping.dedup_key), "missing"))?;
    check_required(&field(&mapping.dedup_key), &dedup_key, limits::DEDUP_KEY)?;

    let summary = render(item, at, &mapping.summary)?;
    let summary_field = summary.1.as_deref().map_or_else(|| "summary".into(), field);
    let summary = summary.0.unwrap_or_default();
    check_required(&summary_field, &summary, limits::SUMMARY)?;

    let severity = match &mapping.severity {
        Some(pointer) => scalar(item, at, pointer)?.filter(|s| !s.is_empty()),
        None => None,
    };
    if let (Some(severity), Some(pointer)) = (&severity, &mapping.severity) {
        check_len(&field(pointer), severity, limits::LABEL_VALUE)?;
    }

    let resolved = match &mapping.status {
        Some(pointer) => scalar(item, at, pointer)?.is_some_and(|status| {
            mapping
                .resolved_values
                .iter()
                .any(|value| value.eq_ignore_ascii_case(status.trim()))
        }),
        None => false,
    };

    let source = match &mapping.source {
        Some(spec) => match render(item, at, spec)? {
            (Some(source), pointer) if !source.trim().is_empty() => {
                let source_field = pointer.as_deref().map_or_else(|| "source".into(), field);
                check_len(&source_field, &source, limits::SOURCE)?;
                source
            }
            _ => "generic".to_string(),
        },
        None => "generic".to_string(),
    };

    let mut labels = BTreeMap::new();
    if let Some(pointer) = &mapping.labels {
        match item.pointer(pointer) {
            None | Some(Value::Null) => {}
            Some(Value::Object(object)) => {
                for (name, value) in object {
                    let text = match value {
                        Value::String(text) => text.clone(),
                        Value::Number(_) | Value::Bool(_) => value.to_string(),
                        Value::Null => continue,
                        Value::Array(_) | Value::Object(_) => {
                            return Err(FormatError::new(
                                format!("{}/{}", field(pointer), escape(name)),
                                "label values must be strings, numbers or booleans",
                            ))
                        }
                    };
                    labels.insert(name.clone(), text);
                }
                check_labels(&field(pointer), &labels)?;
            }
            Some(_) => return Err(FormatError::new(field(pointer), "must be an object")),
        }
    }

    let details = item
        .pointer(mapping.details.as_deref().unwrap_or(""))
        .cloned()
        .map(into_details)
        .unwrap_or_default();

    let mut links = Vec::new();
    if let Some(pointer) = &mapping.url {
        match item.pointer(pointer) {
            None | Some(Value::Null) => {}
            Some(Value::String(href)) if href.is_empty() => {}
            Some(Value::String(href)) => {
                check_len(&field(pointer), href, limits::URL)?;
                links.push(AlertLink {
                    href: href.clone(),
                    text: String::new(),
                });
            }
            Some(_) => return Err(FormatError::new(field(pointer), "must be a string")),
        }
    }

    Ok(AlertSignal {
        action: if resolved {
            AlertAction::Resolve
        } else {
            AlertAction::Trigger
        },
        dedup_key: Some(dedup_key),
        summary,
        severity,
        source,
        labels,
        details,
        links,
        starts_at: None,
        ends_at: None,
        generator_url: None,
        group_key: None,
        origin: "generic".into(),
    })
}

/// The text at `pointer`: strings as-is, numbers and booleans as JSON;
/// `None` when absent or `null`; refused for arrays and objects.
fn scalar(item: &Value, at: &str, pointer: &str) -> Result<Option<String>, FormatError> {
    match item.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(value @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(value.to_string())),
        Some(_) => Err(FormatError::new(
            format!("{at}{pointer}"),
            "must be a string, number or boolean",
        )),
    }
}

/// Renders a pointer or template: the text (`None` for a pointer that finds
/// nothing) and the pointer to blame if it is wrong.
fn render(
    item: &Value,
    at: &str,
    spec: &str,
) -> Result<(Option<String>, Option<String>), FormatError> {
    let text = Text::parse(spec).map_err(|message| FormatError::new("", message))?;
    match text {
        Text::Pointer(pointer) => Ok((scalar(item, at, pointer)?, Some(pointer.to_string()))),
        Text::Template(pieces) => {
            let mut out = String::new();
            let mut blame = None;
            for piece in pieces {
                match piece {
                    Piece::Literal(text) => out.push_str(text),
                    Piece::Pointer(pointer) => {
                        blame.get_or_insert_with(|| pointer.to_string());
                        match item.pointer(pointer) {
                            None | Some(Value::Null) => {}
                            Some(Value::String(text)) => out.push_str(text),
                            Some(value) => out.push_str(&value.to_string()),
                        }
                    }
                }
            }
            Ok((Some(out), blame))
        }
    }
}

enum Text<'a> {
    Pointer(&'a str),
    Template(Vec<Piece<'a>>),
}

enum Piece<'a> {
    Literal(&'a str),
    Pointer(&'a str),
}

impl<'a> Text<'a> {
    fn parse(spec: &'a str) -> Result<Text<'a>, String> {
        if spec.starts_with('/') && !spec.contains("{/") {
            check_pointer(spec)?;
            return Ok(Text::Pointer(spec));
        }
        let mut pieces = Vec::new();
        let mut rest = spec;
        while let Some(start) = rest.find("{/") {
            pieces.push(Piece::Literal(&rest[..start]));
            let after = &rest[start + 1..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed placeholder in `{spec}`"))?;
            check_pointer(&after[..end])?;
            pieces.push(Piece::Pointer(&after[..end]));
            rest = &after[end + 1..];
        }
        pieces.push(Piece::Literal(rest));
        Ok(Text::Template(pieces))
    }
}

/// A JSON pointer is empty or starts with `/`, and escapes only `~0` and `~1`.
fn check_pointer(pointer: &str) -> Result<(), String> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(format!(
            "`{pointer}` is not a JSON pointer: it must start with `/`"
        ));
    }
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(format!(
                "`{pointer}` is not a JSON pointer: `~` must be followed by 0 or 1"
            ));
        }
    }
    Ok(())
}

/// A key as one JSON pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests;
