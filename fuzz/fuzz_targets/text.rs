//! Fuzzes the edge's text scanning (`warroom_web::text`), which reads every
//! body, query string and path before the parsers do.
//!
//! Checked: `scrub_json` keeps valid JSON valid and leaves no refused
//! control character in it (any string of its output that parses holds none
//! below U+0020 but tab, line feed and carriage return); `check_json`
//! refuses a body exactly when its JSON holds a refused character;
//! `find_in_path` reports only a character the path really decodes to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use warroom_domain::text::first_refused;
use warroom_web::text::{check_json, find_in_pairs, find_in_path, scrub_json};

/// The first refused character in any string or key of `value`.
fn refused_in(value: &Value) -> Option<char> {
    match value {
        Value::String(text) => first_refused(text),
        Value::Array(items) => items.iter().find_map(refused_in),
        Value::Object(map) => map
            .iter()
            .find_map(|(key, item)| first_refused(key).or_else(|| refused_in(item))),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// `text` with `%XX` escapes decoded, as a URL path is.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit));
        match (bytes[i], hex) {
            (b'%', Some(hex)) => {
                let hex = std::str::from_utf8(hex).expect("hex digits are ASCII");
                out.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let parsed = serde_json::from_slice::<Value>(data);
    let scrubbed = scrub_json(data);
    match serde_json::from_slice::<Value>(&scrubbed) {
        Ok(value) => {
            if let Some(c) = refused_in(&value) {
                panic!("scrub_json left U+{:04X}", u32::from(c));
            }
        }
        Err(e) => assert!(parsed.is_err(), "scrub_json broke valid JSON: {e}"),
    }
    let refused = parsed.as_ref().ok().and_then(refused_in);
    assert_eq!(
        check_json(data).is_err(),
        refused.is_some(),
        "check_json disagrees with the parsed JSON ({refused:?})"
    );

    if let Ok(path) = std::str::from_utf8(data) {
        if let Some(c) = find_in_path(path) {
            let decoded = percent_decode(path);
            assert!(
                decoded.contains(&(c as u8)),
                "find_in_path reported U+{:04X}, which {path:?} does not decode to",
                u32::from(c)
            );
        }
    }
    // find_in_pairs is form_urlencoded's own decoding: only no panic.
    let _ = find_in_pairs(data);
});
