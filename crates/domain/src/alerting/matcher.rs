//! Label matchers with Alertmanager's semantics: `=`, `!=`, `=~`, `!~`, fully
//! anchored regexes, and an absent label matching as the empty string.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use regex::Regex;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::alert::limits;

/// How a matcher compares a label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MatchOp {
    /// `=`: the value equals.
    #[serde(rename = "=")]
    Eq,
    /// `!=`: the value differs.
    #[serde(rename = "!=")]
    NotEq,
    /// `=~`: the whole value matches the regex.
    #[serde(rename = "=~")]
    Re,
    /// `!~`: the whole value does not match the regex.
    #[serde(rename = "!~")]
    NotRe,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::NotEq => "!=",
            MatchOp::Re => "=~",
            MatchOp::NotRe => "!~",
        }
    }

    pub fn is_regex(self) -> bool {
        matches!(self, MatchOp::Re | MatchOp::NotRe)
    }

    pub fn is_negative(self) -> bool {
        matches!(self, MatchOp::NotEq | MatchOp::NotRe)
    }
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a matcher could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    #[error("invalid label name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },
    #[error("invalid regex {value:?} for label {name:?}: {reason}")]
    InvalidRegex {
        name: String,
        value: String,
        reason: String,
    },
    /// The text is not a matcher (`name="value"`) or a list of them.
    #[error("bad matcher {input:?}: {reason}")]
    Syntax { input: String, reason: String },
}

/// One label matcher, e.g. `severity=~"critical|page"`.
///
/// A value of this type is valid: the name is acceptable and, for `=~`/`!~`,
/// the regex compiled. Regexes are anchored at both ends (`^(?:value)$`), so
/// `=~"a"` does not match `ab`. A label the alert does not carry matches as
/// the empty string: `foo=""` matches alerts without `foo`, `foo!=""`
/// requires it.
///
/// Equality and hashing compare name, operator and value text.
#[derive(Clone)]
pub struct Matcher {
    name: String,
    op: MatchOp,
    value: String,
    regex: Option<Regex>,
}

impl Matcher {
    /// Builds a matcher. Label names may be any non-empty UTF-8 text up to
    /// [`limits::LABEL_NAME`] characters (Alertmanager accepts UTF-8 names; ones
    /// that are not classic `[a-zA-Z_:][a-zA-Z0-9_:]*` names print quoted).
    pub fn new(
        name: impl Into<String>,
        op: MatchOp,
        value: impl Into<String>,
    ) -> Result<Matcher, MatcherError> {
        let name = name.into();
        let value = value.into();
        validate_name(&name)?;
        let regex = if op.is_regex() {
            Some(compile_anchored(&name, &value)?)
        } else {
            None
        };
        Ok(Matcher {
            name,
            op,
            value,
            regex,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn op(&self) -> MatchOp {
        self.op
    }

    /// The value as written (for regex operators, the unanchored pattern).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether the labels satisfy this matcher; an absent label is `""`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_value(labels.get(&self.name).map_or("", String::as_str))
    }

    /// Whether a label value (`""` for an absent label) satisfies this matcher.
    pub fn matches_value(&self, value: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Eq, _) => value == self.value,
            (MatchOp::NotEq, _) => value != self.value,
            (MatchOp::Re, Some(re)) => re.is_match(value),
            (MatchOp::NotRe, Some(re)) => !re.is_match(value),
            // `new` compiles a regex for every regex operator.
            (MatchOp::Re | MatchOp::NotRe, None) => false,
        }
    }

    /// Whether this matcher also matches alerts that lack the label entirely.
    pub fn matches_empty(&self) -> bool {
        self.matches_value("")
    }
}

/// Whether every matcher matches (true for no matchers, as in Alertmanager).
pub fn matches_all(matchers: &[Matcher], labels: &BTreeMap<String, String>) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

fn validate_name(name: &str) -> Result<(), MatcherError> {
    let reason = if name.is_empty() {
        "a label name must not be empty".to_owned()
    } else if name.chars().count() > limits::LABEL_NAME {
        format!("longer than {} characters", limits::LABEL_NAME)
    } else {
        return Ok(());
    };
    Err(MatcherError::InvalidName {
        name: name.to_owned(),
        reason,
    })
}

fn compile_anchored(name: &str, value: &str) -> Result<Regex, MatcherError> {
    let invalid = |err: regex::Error| MatcherError::InvalidRegex {
        name: name.to_owned(),
        value: value.to_owned(),
        reason: err.to_string(),
    };
    // Compile the pattern on its own first, so a value such as `a)|(b` cannot
    // escape the anchoring group below.
    Regex::new(value).map_err(invalid)?;
    Regex::new(&format!("^(?:{value})$")).map_err(invalid)
}

/// Whether a name prints without quotes: the classic Prometheus label syntax
/// that Alertmanager's matcher parser accepts unquoted.
pub(crate) fn is_bare_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(is_bare_name_char)
}

pub(crate) fn is_bare_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Writes `text` in double quotes with the OpenMetrics escapes Alertmanager
/// uses: `\\`, `\n` and `\"`.
fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in text.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '"' => f.write_str("\\\"")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// `name="value"`, in the syntax [`Matcher::parse`] reads back.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_bare_name(&self.name) {
            f.write_str(&self.name)?;
        } else {
            write_quoted(f, &self.name)?;
        }
        f.write_str(self.op.as_str())?;
        write_quoted(f, &self.value)
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matcher")
            .field("name", &self.name)
            .field("op", &self.op)
            .field("value", &self.value)
            .finish()
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Matcher) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Eq for Matcher {}

impl Hash for Matcher {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.op.hash(state);
        self.value.hash(state);
    }
}

#[derive(Serialize)]
struct WireMatcherRef<'a> {
    name: &'a str,
    op: MatchOp,
    value: &'a str,
}

#[derive(Deserialize)]
struct WireMatcher {
    name: String,
    op: MatchOp,
    value: String,
}

/// `{ "name": ..., "op": "=" | "!=" | "=~" | "!~", "value": ... }`.
impl Serialize for Matcher {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireMatcherRef {
            name: &self.name,
            op: self.op,
            value: &self.value,
        }
        .serialize(serializer)
    }
}

/// Re-validates the name and re-compiles the regex.
impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Matcher, D::Error> {
        let wire = WireMatcher::deserialize(deserializer)?;
        Matcher::new(wire.name, wire.op, wire.value).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn m(name: &str, op: MatchOp, value: &str) -> Matcher {
        Matcher::new(name, op, value).unwrap()
    }

    /// (matcher, labels, expected)
    fn check(cases: &[(Matcher, BTreeMap<String, String>, bool)]) {
        for (matcher, labels, expected) in cases {
            assert_eq!(
                matcher.matches(labels),
                *expected,
                "{matcher} against {labels:?}"
            );
        }
    }

    #[test]
    fn operators() {
        let prod = labels(&[("env", "prod")]);
        check(&[
            (m("env", MatchOp::Eq, "prod"), prod.clone(), true),
            (m("env", MatchOp::Eq, "dev"), prod.clone(), false),
            (m("env", MatchOp::NotEq, "prod"), prod.clone(), false),
            (m("env", MatchOp::NotEq, "dev"), prod.clone(), true),
            (m("env", MatchOp::Re, "pro.*"), prod.clone(), true),
            (m("env", MatchOp::Re, "dev|staging"), prod.clone(), false),
            (m("env", MatchOp::NotRe, "dev|staging"), prod.clone(), true),
            (m("env", MatchOp::NotRe, "prod|dev"), prod, false),
        ]);
    }

    #[test]
    fn regexes_are_anchored() {
        let ab = labels(&[("x", "ab")]);
        check(&[
            (m("x", MatchOp::Re, "a"), ab.clone(), false),
            (m("x", MatchOp::Re, "b"), ab.clone(), false),
            (m("x", MatchOp::Re, "ab"), ab.clone(), true),
            (m("x", MatchOp::Re, "a|ab"), ab.clone(), true),
            (m("x", MatchOp::NotRe, "a"), ab.clone(), true),
            (m("x", MatchOp::Re, "a.*"), ab, true),
        ]);
    }

    #[test]
    fn absent_label_is_the_empty_string() {
        let none = labels(&[]);
        let empty = labels(&[("foo", "")]);
        let set = labels(&[("foo", "bar")]);
        check(&[
            (m("foo", MatchOp::Eq, ""), none.clone(), true),
            (m("foo", MatchOp::Eq, ""), empty.clone(), true),
            (m("foo", MatchOp::Eq, ""), set.clone(), false),
            (m("foo", MatchOp::NotEq, ""), none.clone(), false),
            (m("foo", MatchOp::NotEq, ""), set.clone(), true),
            (m("foo", MatchOp::NotEq, "bar"), none.clone(), true),
            (m("foo", MatchOp::Eq, "bar"), none.clone(), false),
            (m("foo", MatchOp::Re, ".*"), none.clone(), true),
            (m("foo", MatchOp::Re, ".+"), none.clone(), false),
            (m("foo", MatchOp::NotRe, ".+"), none, true),
            (m("foo", MatchOp::Re, ".+"), set, true),
        ]);
    }

    #[test]
    fn invalid_matchers_are_refused() {
        assert!(matches!(
            Matcher::new("", MatchOp::Eq, "x"),
            Err(MatcherError::InvalidName { .. })
        ));
        assert!(matches!(
            Matcher::new("x".repeat(limits::LABEL_NAME + 1), MatchOp::Eq, "x"),
            Err(MatcherError::InvalidName { .. })
        ));
        let err = Matcher::new("job", MatchOp::Re, "(unclosed").unwrap_err();
        assert!(matches!(err, MatcherError::InvalidRegex { .. }));
        assert!(err.to_string().contains("(unclosed"), "{err}");
        // Would escape the anchoring group if pasted into `^(?:...)$` as is.
        assert!(Matcher::new("job", MatchOp::Re, "a)|(b").is_err());
        // Not a regex operator: any value is fine.
        assert!(Matcher::new("job", MatchOp::Eq, "(unclosed").is_ok());
        // UTF-8 names are accepted, as in Alertmanager's UTF-8 mode.
        assert!(Matcher::new("service.name", MatchOp::Eq, "api").is_ok());
    }

    #[test]
    fn display_quotes_and_escapes() {
        assert_eq!(
            m("alertname", MatchOp::Eq, "HighLatency").to_string(),
            r#"alertname="HighLatency""#
        );
        assert_eq!(
            m("severity", MatchOp::Re, "critical|page").to_string(),
            r#"severity=~"critical|page""#
        );
        assert_eq!(
            m("q", MatchOp::NotEq, "say \"hi\"\\\n").to_string(),
            r#"q!="say \"hi\"\\\n""#
        );
        assert_eq!(
            m("service.name", MatchOp::NotRe, "a").to_string(),
            r#""service.name"!~"a""#
        );
    }

    #[test]
    fn serde_shape_and_recompile() {
        let matcher = m("severity", MatchOp::Re, "critical|page");
        let json = serde_json::to_value(&matcher).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"name": "severity", "op": "=~", "value": "critical|page"})
        );
        let back: Matcher = serde_json::from_value(json).unwrap();
        assert_eq!(back, matcher);
        assert!(back.matches(&labels(&[("severity", "page")])));
        assert!(!back.matches(&labels(&[("severity", "pager")])));

        for (op, text) in [
            (MatchOp::Eq, "="),
            (MatchOp::NotEq, "!="),
            (MatchOp::Re, "=~"),
            (MatchOp::NotRe, "!~"),
        ] {
            assert_eq!(serde_json::to_value(op).unwrap(), serde_json::json!(text));
        }

        let bad = serde_json::json!({"name": "x", "op": "=~", "value": "("});
        let err = serde_json::from_value::<Matcher>(bad).unwrap_err();
        assert!(err.to_string().contains("invalid regex"), "{err}");
        let bad_op = serde_json::json!({"name": "x", "op": "==", "value": "a"});
        assert!(serde_json::from_value::<Matcher>(bad_op).is_err());
    }

    #[test]
    fn matches_all_needs_every_matcher() {
        let ms = vec![m("a", MatchOp::Eq, "1"), m("b", MatchOp::NotEq, "2")];
        assert!(matches_all(&ms, &labels(&[("a", "1")])));
        assert!(!matches_all(&ms, &labels(&[("a", "1"), ("b", "2")])));
        assert!(matches_all(&[], &labels(&[])));
    }
}
