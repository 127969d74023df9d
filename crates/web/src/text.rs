//! The edge's side of `warroom_domain::text`: finding refused control
//! characters in request bodies, query strings and paths before anything
//! parses them, so no backend is ever handed text it cannot store.
//!
//! JSON cannot carry a raw control character inside a string (the parser
//! refuses it), only an escape (`\u0000`, `\b`, `\f`), so a scan for
//! backslashes finds every one without parsing: free for the bodies that
//! have none, which is nearly all of them.

use std::borrow::Cow;
use std::ops::Range;

use serde_json::Value;
use warroom_domain::text::{first_refused, is_refused, refusal};

use crate::error::ApiError;

/// The byte ranges of the JSON escapes in `json` that stand for a refused
/// character. Backslashes occur only inside strings in valid JSON; in
/// invalid JSON the parser refuses the body anyway.
fn refused_escapes(json: &[u8]) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(offset) = json[i..].iter().position(|&b| b == b'\\') {
        let at = i + offset;
        let len = match json.get(at + 1) {
            Some(b'b' | b'f') => {
                found.push(at..at + 2);
                2
            }
            Some(b'u') => {
                let code = json
                    .get(at + 2..at + 6)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok());
                if code.and_then(char::from_u32).is_some_and(is_refused) {
                    found.push(at..at + 6);
                }
                6
            }
            _ => 2,
        };
        i = (at + len).min(json.len());
    }
    found
}

/// A JSON body from an alert sender with every refused character replaced
/// by U+FFFD (as the escape `\ufffd`), borrowed when there is none.
pub fn scrub_json(json: &[u8]) -> Cow<'_, [u8]> {
    let escapes = refused_escapes(json);
    if escapes.is_empty() {
        return Cow::Borrowed(json);
    }
    let mut clean = Vec::with_capacity(json.len() + 4 * escapes.len());
    let mut from = 0;
    for range in escapes {
        clean.extend_from_slice(&json[from..range.start]);
        clean.extend_from_slice(br"\ufffd");
        from = range.end;
    }
    clean.extend_from_slice(&json[from..]);
    Cow::Owned(clean)
}

/// Text from an alert sender with every refused character replaced by U+FFFD.
pub fn scrub(text: &str) -> Cow<'_, str> {
    if first_refused(text).is_none() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if is_refused(c) {
                    warroom_domain::text::REPLACEMENT
                } else {
                    c
                }
            })
            .collect(),
    )
}

/// Refuses a JSON body from a person's client that carries a refused
/// character, naming the field (`payload.summary`, `labels[2]`).
pub fn check_json(json: &[u8]) -> Result<(), ApiError> {
    if refused_escapes(json).is_empty() {
        return Ok(());
    }
    // Rare: parse once more to name the field. A body that does not parse
    // is left to the typed parser's own message.
    let Ok(value) = serde_json::from_slice::<Value>(json) else {
        return Ok(());
    };
    match find_in_value(&value, String::new()) {
        Some((field, c)) => Err(ApiError::invalid(field, refusal(c))),
        None => Ok(()),
    }
}

/// The path of the first string (or object key) in `value` holding a
/// refused character, in the style of `serde_path_to_error`.
fn find_in_value(value: &Value, path: String) -> Option<(String, char)> {
    match value {
        Value::String(s) => first_refused(s).map(|c| (path, c)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_in_value(item, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match first_refused(key) {
                Some(c) => Some((child, c)),
                None => find_in_value(item, child),
            }
        }),
        _ => None,
    }
}

/// The first form or query field (`name=value` pairs, percent-decoded)
/// whose name or value holds a refused character, and that character.
pub fn find_in_pairs(encoded: &[u8]) -> Option<(String, char)> {
    form_urlencoded::parse(encoded).find_map(|(name, value)| {
        first_refused(&name)
            .or_else(|| first_refused(&value))
            .map(|c| (name.into_owned(), c))
    })
}

/// Refuses a form body or query string with a refused character.
pub fn check_pairs(encoded: &[u8]) -> Result<(), ApiError> {
    match find_in_pairs(encoded) {
        Some((field, c)) => Err(ApiError::invalid(field, refusal(c))),
        None => Ok(()),
    }
}

/// The first refused character a percent-encoded URL path decodes to.
pub fn find_in_path(path: &str) -> Option<char> {
    let bytes = path.as_bytes();
    bytes.windows(3).find_map(|w| {
        // Two hex digits exactly: `from_str_radix` alone also takes a sign,
        // and `%+1` is not an escape at all.
        if w[0] != b'%' || !w[1..].iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let hex = std::str::from_utf8(&w[1..]).ok()?;
        let byte = u8::from_str_radix(hex, 16).ok()?;
        is_refused(char::from(byte)).then_some(char::from(byte))
    })
}

/// Middleware: refuses a request whose path decodes to a refused character,
/// before any route reads a segment of it (ids, tokens, feed names).
pub async fn refuse_in_path(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match find_in_path(request.uri().path()) {
        Some(c) => ApiError::invalid("path", refusal(c)).into_response(),
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_escapes_that_stand_for_refused_characters() {
        let body =
            br#"{"a": "x\u0000y", "b": "\\u0000 is text", "c": "\n\t\r", "d": "\u001B\b\f\u0041"}"#;
        let clean = scrub_json(body);
        let value: Value = serde_json::from_slice(&clean).unwrap();
        assert_eq!(value["a"], "x\u{FFFD}y");
        assert_eq!(value["b"], "\\u0000 is text");
        assert_eq!(value["c"], "\n\t\r");
        assert_eq!(value["d"], "\u{FFFD}\u{FFFD}\u{FFFD}A");
        assert!(matches!(scrub_json(br#"{"a": "\n"}"#), Cow::Borrowed(_)));
        // Cut short at the end of the body: nothing to find, no panic.
        assert!(refused_escapes(br#""\u00"#).is_empty());
        assert!(refused_escapes(b"\\").is_empty());
    }

    #[test]
    fn names_the_field_at_fault() {
        let body = br#"{"title": "ok", "labels": {"env": "prod", "x": ["a", "b\u0000"]}}"#;
        let err = check_json(body).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("labels.x[1]"));
        let key = br#"{"bad\u0007name": 1}"#;
        assert_eq!(
            check_json(key).unwrap_err().field.as_deref(),
            Some("bad\u{7}name")
        );
        assert!(check_json(br#"{"title": "fine \" \\ \n"}"#).is_ok());
    }

    #[test]
    fn forms_queries_and_paths() {
        assert_eq!(
            find_in_pairs(b"a=1&comment=x%00y"),
            Some(("comment".into(), '\0'))
        );
        assert_eq!(find_in_pairs(b"note=line%0Aline%09tab"), None);
        assert_eq!(find_in_path("/api/v1/incidents/INC%00"), Some('\0'));
        assert_eq!(find_in_path("/api/v1/incidents/INC-%41%0a"), None);
        assert_eq!(find_in_path("/a%1b"), Some('\u{1b}'));
        // Found by fuzzing: a sign is not a hex digit.
        assert_eq!(find_in_path("/a%+0b"), None);
        assert_eq!(find_in_path("/a%-1"), None);
    }

    #[test]
    fn scrubs_plain_text() {
        assert_eq!(scrub("a\u{0}b\tc"), "a\u{FFFD}b\tc");
        assert!(matches!(scrub("plain"), Cow::Borrowed(_)));
    }
}
