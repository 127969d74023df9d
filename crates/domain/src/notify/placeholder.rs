//! Placeholders left in a stakeholder update: the `{planned actions}` and
//! `{who is affected, how}` of a starter message (the web UI's, the
//! communication guides' `{brief description}`), which must be replaced
//! before the update goes to people.

use std::sync::OnceLock;

use regex::Regex;

use crate::DomainError;

/// `{` words `}`: letters, spaces and `, - /` between braces, starting with
/// a letter, at most 60 characters. JSON (`{"a": 1}`), `{}` and template
/// code (`{{ x }}`, `{% if %}`) do not match.
fn pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"(?:^|[^{])(\{\p{L}[\p{L} ,/-]{0,58}\})").expect("a valid pattern")
    })
}

/// The first placeholder `text` still holds, braces included.
pub fn unfilled(text: &str) -> Option<&str> {
    pattern()
        .captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
}

/// Refuses `text`, written in `field`, while it holds a placeholder.
pub fn refuse_unfilled(field: &str, text: &str) -> Result<(), DomainError> {
    match unfilled(text) {
        None => Ok(()),
        Some(placeholder) => Err(DomainError::invalid(
            field,
            format!(
                "still has the placeholder {placeholder}: write what you know in its place, or remove the line"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::unfilled;

    #[test]
    fn finds_the_starters_placeholders_and_nothing_else() {
        for (text, found) in [
            (
                "IMPACT:\n- {who is affected, how}\n",
                Some("{who is affected, how}"),
            ),
            ("- ETA: {estimated time}", Some("{estimated time}")),
            ("[P{severity}] INCIDENT: x", Some("{severity}")),
            ("Next update in {time period}", Some("{time period}")),
            ("Checkout fails for card payments since 09:12 UTC.", None),
            (r#"payload {"a": 1} was refused"#, None),
            ("an empty {} or {{ incident.id }} or {% if x %}", None),
            ("{1234}", None),
        ] {
            assert_eq!(unfilled(text), found, "{text:?}");
        }
    }
}
