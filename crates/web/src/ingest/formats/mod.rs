//! Parsers for every inbound alert format, each turning a request body into
//! normalized [`AlertSignal`](warroom_domain::alert::AlertSignal)s.
//!
//! | Format | Module | Entry point | `origin` |
//! |---|---|---|---|
//! | PagerDuty Events API v2 (`POST /v2/enqueue`; also Alertmanager `pagerduty_configs`) | [`pagerduty`] | [`pagerduty::parse`] | `pagerduty` |
//! | Alertmanager webhook (`webhook_configs`, version 4) | [`alertmanager`] | [`alertmanager::parse_webhook`] | `alertmanager` |
//! | Alertmanager API v2 (`POST /api/v2/alerts`, what Prometheus sends) | [`alertmanager`] | [`alertmanager::parse_api_v2`] | `prometheus` |
//! | Grafana unified alerting webhook contact point | [`grafana`] | [`grafana::parse`] | `grafana` |
//! | Sentry legacy WebHooks plugin and integration platform (`event_alert`, `metric_alert`, `issue`) | [`sentry`] | [`sentry::parse_hook`] | `sentry` |
//! | UptimeRobot webhook alert contact (JSON, form or query string, GET or POST) | [`uptimerobot`] | [`uptimerobot::parse_request`] | `uptimerobot` |
//! | Generic JSON webhook mapped by a [`generic::GenericMapping`] | [`generic`] | [`generic::parse`] | `generic` |
//!
//! Every parser is a pure function of the body bytes, `now` and its own
//! options: no I/O, no clock. Every malformed body becomes a [`FormatError`]
//! naming the JSON path at fault. Bodies nested deeper than [`MAX_DEPTH`] are
//! refused before deserializing, and signals that break
//! [`alert::limits`](warroom_domain::alert::limits) are refused, never
//! truncated. Lengths are counted in characters (Unicode scalar values), as
//! PagerDuty and Alertmanager count them.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use warroom_domain::alert::{limits, AlertLink};

pub mod alertmanager;
pub mod generic;
pub mod grafana;
pub mod pagerduty;
pub mod sentry;
pub mod uptimerobot;

/// Deepest nesting of JSON arrays and objects a body may have.
pub const MAX_DEPTH: usize = 32;

/// Why a body was refused: the field at fault (a JSON path such as
/// `payload.summary` or `alerts[3].labels`, empty for the body as a whole)
/// and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", field_prefix(field))]
pub struct FormatError {
    pub field: String,
    pub message: String,
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

impl FormatError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FormatError {
        FormatError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A problem with the body as a whole (not JSON, not UTF-8, too deep).
    pub fn body(message: impl Into<String>) -> FormatError {
        FormatError::new("", message)
    }
}

/// Refuses bodies nested deeper than `max` levels, scanning bytes outside
/// strings; cheap enough to run before any deserializer sees the body.
pub fn check_depth(bytes: &[u8], max: usize) -> Result<(), FormatError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(FormatError::body(format!(
                        "the body is nested more than {max} levels deep"
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The body as UTF-8 text, refused if it is not.
pub(crate) fn check_utf8(bytes: &[u8]) -> Result<&str, FormatError> {
    std::str::from_utf8(bytes).map_err(|e| {
        FormatError::body(format!(
            "the body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })
}

/// The body as UTF-8 text, refused if it is not, or if it nests too deeply.
pub(crate) fn check_body(bytes: &[u8]) -> Result<&str, FormatError> {
    let text = check_utf8(bytes)?;
    check_depth(bytes, MAX_DEPTH)?;
    Ok(text)
}

/// Deserializes a JSON body, naming the path of the field at fault.
/// Refused control characters are replaced first (`crate::text`): a sender's
/// stray NUL must not cost the page, nor reach a backend that cannot store it.
pub(crate) fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, FormatError> {
    check_body(bytes)?;
    let bytes = crate::text::scrub_json(bytes);
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(path_error)?;
    de.end()
        .map_err(|e| FormatError::body(format!("not valid JSON: {e}")))?;
    Ok(value)
}

/// Deserializes an already parsed JSON value, naming the path at fault.
pub(crate) fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, FormatError> {
    serde_path_to_error::deserialize(value).map_err(path_error)
}

fn path_error(err: serde_path_to_error::Error<serde_json::Error>) -> FormatError {
    let path = err.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let inner = err.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return FormatError::body(format!("not valid JSON: {inner}"));
    }
    let mut message = inner.to_string();
    if inner.line() > 0 {
        if let Some((head, _)) = message.rsplit_once(" at line ") {
            message = head.to_string();
        }
    }
    // serde reports a missing or unknown field at its parent; name the field.
    for (prefix, what) in [
        ("missing field `", "missing"),
        ("unknown field `", "unknown field"),
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some((name, tail)) = rest.split_once('`') {
                let message = format!("{what}{tail}");
                return FormatError::new(join(&path, name), message);
            }
        }
    }
    FormatError::new(path, message)
}

/// `parent.child`, or `child` at the root.
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

/// Refuses `value` if it has more than `max` characters.
pub(crate) fn check_len(field: &str, value: &str, max: usize) -> Result<(), FormatError> {
    let len = value.chars().count();
    if len > max {
        return Err(FormatError::new(
            field,
            format!("is {len} characters long; the limit is {max}"),
        ));
    }
    Ok(())
}

/// Refuses an empty (or all-whitespace) `value`, then one over `max` characters.
pub(crate) fn check_required(field: &str, value: &str, max: usize) -> Result<(), FormatError> {
    if value.trim().is_empty() {
        return Err(FormatError::new(field, "must not be empty"));
    }
    check_len(field, value, max)
}

/// Refuses a label set with too many labels, empty names, or over-long
/// names or values.
pub(crate) fn check_labels(
    field: &str,
    labels: &BTreeMap<String, String>,
) -> Result<(), FormatError> {
    if labels.len() > limits::LABELS {
        return Err(FormatError::new(
            field,
            format!(
                "has {} labels; the limit is {}",
                labels.len(),
                limits::LABELS
            ),
        ));
    }
    for (name, value) in labels {
        if name.is_empty() {
            return Err(FormatError::new(field, "label names must not be empty"));
        }
        if name.chars().count() > limits::LABEL_NAME {
            return Err(FormatError::new(
                field,
                format!(
                    "a label name is {} characters long; the limit is {}",
                    name.chars().count(),
                    limits::LABEL_NAME
                ),
            ));
        }
        check_len(&join(field, name), value, limits::LABEL_VALUE)?;
    }
    Ok(())
}

/// Refuses more than [`limits::LINKS`] links, or empty or over-long URLs.
pub(crate) fn check_links(field: &str, links: &[AlertLink]) -> Result<(), FormatError> {
    if links.len() > limits::LINKS {
        return Err(FormatError::new(
            field,
            format!("has {} links; the limit is {}", links.len(), limits::LINKS),
        ));
    }
    for link in links {
        check_required(field, &link.href, limits::URL)?;
    }
    Ok(())
}

/// Deserializes a map of strings, reading JSON `null` as empty (Go encodes a
/// nil map as `null`).
pub(crate) fn string_map<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(de)?.unwrap_or_default())
}

/// `value` as details: an object as-is, anything else under the key `details`.
pub(crate) fn into_details(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        serde_json::Value::Null => serde_json::Map::new(),
        other => serde_json::Map::from_iter([("details".to_string(), other)]),
    }
}

/// A string map as details, each value a JSON string.
pub(crate) fn string_details(
    map: &BTreeMap<String, String>,
) -> serde_json::Map<String, serde_json::Value> {
    map.iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
        items: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    fn err(body: &str) -> FormatError {
        from_json::<Outer>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("not json", ""),
            (r#"{"inner": {"name": 1}, "items": []}"#, "inner.name"),
            (r#"{"inner": {}, "items": []}"#, "inner.name"),
            (
                r#"{"inner": {"name": "a"}, "items": [{"name": "b"}, {}]}"#,
                "items[1].name",
            ),
            (r#"{"inner": {"name": "a"}}"#, "items"),
            (r#"{"inner": {"name": "a"}, "items": []} trailing"#, ""),
        ];
        for (body, field) in cases {
            assert_eq!(err(body).field, field, "{body}");
        }
        let missing = err(r#"{"inner": {}, "items": []}"#);
        assert_eq!(missing.to_string(), "inner.name: missing");
        assert_eq!(
            err("[").to_string().split(':').next(),
            Some("not valid JSON")
        );
    }

    #[test]
    fn refuses_invalid_utf8() {
        let e = from_json::<serde_json::Value>(b"{\"a\": \"\xff\"}").unwrap_err();
        assert_eq!(e.field, "");
        assert!(e.message.contains("UTF-8"), "{e}");
    }

    #[test]
    fn depth_is_counted_outside_strings() {
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert!(check_depth(deep.as_bytes(), MAX_DEPTH).is_err());
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(check_depth(ok.as_bytes(), MAX_DEPTH).is_ok());
        let quoted = format!("{{\"a\": \"{}\\\"{}\"}}", "[".repeat(100), "{".repeat(100));
        assert!(check_depth(quoted.as_bytes(), MAX_DEPTH).is_ok());
        let e = from_json::<serde_json::Value>(deep.as_bytes()).unwrap_err();
        assert_eq!(e.field, "");
        assert!(e.message.contains("32 levels"), "{e}");
    }

    #[test]
    fn label_limits() {
        let many: BTreeMap<String, String> = (0..=limits::LABELS)
            .map(|i| (format!("l{i}"), "v".into()))
            .collect();
        assert_eq!(check_labels("labels", &many).unwrap_err().field, "labels");
        let long = BTreeMap::from([("k".to_string(), "v".repeat(limits::LABEL_VALUE + 1))]);
        assert_eq!(check_labels("labels", &long).unwrap_err().field, "labels.k");
        let name = BTreeMap::from([("k".repeat(limits::LABEL_NAME + 1), "v".to_string())]);
        assert_eq!(check_labels("labels", &name).unwrap_err().field, "labels");
        // Characters, not bytes: 1024 three-byte characters fit.
        let wide = BTreeMap::from([("k".to_string(), "€".repeat(limits::LABEL_VALUE))]);
        assert!(check_labels("labels", &wide).is_ok());
    }

    #[test]
    fn display_omits_empty_field() {
        assert_eq!(FormatError::body("bad").to_string(), "bad");
        assert_eq!(FormatError::new("a.b", "bad").to_string(), "a.b: bad");
    }
}
