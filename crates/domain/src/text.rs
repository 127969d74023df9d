//! The one rule for text that enters Warroom: which characters no stored
//! string may hold, whichever backend stores it.
//!
//! Control characters U+0000 to U+001F other than tab, line feed and
//! carriage return are refused. PostgreSQL cannot store U+0000 in text at
//! all, and the others only garble terminals, logs and pages. The HTTP edge
//! applies the rule once, where text arrives: what people write (API, UI,
//! CLI) is refused with the field named; what monitoring tools send has
//! each such character replaced by U+FFFD, so the alert still pages.

/// What replaces a refused character in text from an alert sender.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Whether `c` may not be stored.
pub fn is_refused(c: char) -> bool {
    c < ' ' && !matches!(c, '\t' | '\n' | '\r')
}

/// The first refused character of `text`, if any.
pub fn first_refused(text: &str) -> Option<char> {
    // Every refused character is one byte in UTF-8, so bytes suffice.
    text.bytes()
        .find(|&b| is_refused(char::from(b)))
        .map(char::from)
}

/// Why a field was refused, for a message: "contains the control character
/// U+0000, which Warroom does not accept".
pub fn refusal(c: char) -> String {
    format!(
        "contains the control character U+{:04X}, which Warroom does not accept; remove it",
        u32::from(c)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_c0_controls_but_whitespace() {
        assert_eq!(first_refused("a\u{0}b"), Some('\u{0}'));
        assert_eq!(first_refused("esc \u{1b}[31m"), Some('\u{1b}'));
        assert_eq!(first_refused("tab\tline\ncr\r"), None);
        assert_eq!(first_refused("del \u{7f}, é, \u{FFFD}"), None);
        assert_eq!(
            refusal('\u{0}').split(',').next(),
            Some("contains the control character U+0000")
        );
    }
}
