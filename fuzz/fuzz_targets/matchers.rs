//! Fuzzes the Alertmanager-syntax matcher parser (one matcher and a list)
//! and matching, as silences, inhibit rules and the API read them.
//!
//! The input is matcher text, then optionally a NUL and a label set written
//! one `name=value` per line. Checked: what parses prints back to the same
//! matchers; a negated operator matches exactly where the original does not;
//! `=` and `!=` compare the value (an absent label as `""`).
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use warroom_domain::alerting::{display_matchers, parse_matchers, MatchOp, Matcher};

fn labels(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn negated(op: MatchOp) -> MatchOp {
    match op {
        MatchOp::Eq => MatchOp::NotEq,
        MatchOp::NotEq => MatchOp::Eq,
        MatchOp::Re => MatchOp::NotRe,
        MatchOp::NotRe => MatchOp::Re,
    }
}

fn check_one(matcher: &Matcher, labels: &BTreeMap<String, String>) {
    let printed = matcher.to_string();
    assert_eq!(
        Matcher::parse(&printed).as_ref().ok(),
        Some(matcher),
        "{printed:?} does not read back"
    );
    let matched = matcher.matches(labels);
    let opposite = Matcher::new(matcher.name(), negated(matcher.op()), matcher.value())
        .expect("the negation of a valid matcher is valid");
    assert_eq!(opposite.matches(labels), !matched, "{matcher} and {opposite}");
    let value = labels.get(matcher.name()).map_or("", String::as_str);
    match matcher.op() {
        MatchOp::Eq => assert_eq!(matched, value == matcher.value()),
        MatchOp::NotEq => assert_eq!(matched, value != matcher.value()),
        MatchOp::Re | MatchOp::NotRe => {}
    }
    assert_eq!(matcher.matches_empty(), matcher.matches_value(""));
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (input, label_text) = text.split_once('\0').unwrap_or((text, ""));
    let labels = labels(label_text);
    if let Ok(matcher) = Matcher::parse(input) {
        check_one(&matcher, &labels);
    }
    if let Ok(matchers) = parse_matchers(input) {
        let printed = display_matchers(&matchers);
        assert_eq!(
            parse_matchers(&printed).as_ref().ok(),
            Some(&matchers),
            "{printed:?} does not read back"
        );
        for matcher in &matchers {
            check_one(matcher, &labels);
        }
    }
});
