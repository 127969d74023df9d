//! What every fuzz target checks of what a parser accepted: the limits
//! `warroom_domain::alert::limits` documents, and the edge's text rule.

use jiff::Timestamp;
use serde_json::Value;
use warroom_domain::alert::{limits, AlertAction, AlertSignal};
use warroom_domain::text::first_refused;

/// The fixed `now` every parser is given; they are pure functions of it.
pub fn now() -> Timestamp {
    Timestamp::from_second(1_773_480_600).expect("a valid timestamp")
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Panics unless `text` is at most `max` characters long.
pub fn assert_len(field: &str, text: &str, max: usize) {
    assert!(
        chars(text) <= max,
        "{field} is {} characters long; the limit is {max}",
        chars(text)
    );
}

/// Panics if `text` holds a character the edge must have replaced.
pub fn assert_clean(field: &str, text: &str) {
    if let Some(c) = first_refused(text) {
        panic!("{field} holds the refused character U+{:04X}", u32::from(c));
    }
}

/// Panics if any string or key in `value` holds a refused character.
pub fn assert_clean_value(field: &str, value: &Value) {
    match value {
        Value::String(text) => assert_clean(field, text),
        Value::Array(items) => items
            .iter()
            .for_each(|item| assert_clean_value(field, item)),
        Value::Object(map) => map.iter().for_each(|(key, item)| {
            assert_clean(field, key);
            assert_clean_value(field, item);
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Panics unless `signal` keeps every limit an inbound signal must keep:
/// lengths in characters within `alert::limits`, an acknowledge or resolve
/// that names its alert, and no refused control character anywhere (the edge
/// replaces them in what monitoring tools send).
pub fn check_signal(signal: &AlertSignal) {
    if let Some(key) = &signal.dedup_key {
        assert_len("dedup_key", key, limits::DEDUP_KEY);
        assert_clean("dedup_key", key);
    }
    if signal.action == AlertAction::Trigger {
        // A trigger may open an incident, which needs a title.
        assert!(!signal.summary.trim().is_empty(), "a trigger without a summary");
    } else {
        assert!(
            signal.dedup_key.is_some(),
            "an acknowledge or resolve without a dedup_key"
        );
    }
    assert_len("summary", &signal.summary, limits::SUMMARY);
    assert_len("source", &signal.source, limits::SOURCE);
    assert!(
        signal.labels.len() <= limits::LABELS,
        "{} labels; the limit is {}",
        signal.labels.len(),
        limits::LABELS
    );
    for (name, value) in &signal.labels {
        assert!(!name.is_empty(), "an empty label name");
        assert_len("a label name", name, limits::LABEL_NAME);
        assert_len(name, value, limits::LABEL_VALUE);
        assert_clean("a label name", name);
        assert_clean(name, value);
    }
    assert!(
        signal.links.len() <= limits::LINKS,
        "{} links; the limit is {}",
        signal.links.len(),
        limits::LINKS
    );
    for link in &signal.links {
        assert!(!link.href.trim().is_empty(), "an empty link");
        assert_len("a link", &link.href, limits::URL);
        assert_clean("a link", &link.href);
        assert_clean("a link's text", &link.text);
    }
    if let Some(url) = &signal.generator_url {
        assert_len("generator_url", url, limits::URL);
        assert_clean("generator_url", url);
    }
    assert_clean("summary", &signal.summary);
    assert_clean("source", &signal.source);
    for text in [&signal.severity, &signal.group_key].into_iter().flatten() {
        assert_clean("severity or group_key", text);
    }
    for (key, value) in &signal.details {
        assert_clean("a details key", key);
        assert_clean_value(key, value);
    }
    assert!(!signal.origin.is_empty(), "a signal without an origin");
}
