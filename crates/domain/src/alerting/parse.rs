//! Reading matchers in Alertmanager/amtool syntax: `alertname="HighLatency"`,
//! `env!=prod`, and lists such as `{a="b", c=~"d"}` or `a=b,c!~d`.

use super::matcher::{is_bare_name_char, MatchOp, Matcher, MatcherError};

impl Matcher {
    /// Parses one matcher: a label name, one of `=`, `!=`, `=~`, `!~`, and a
    /// value, with optional whitespace around each.
    ///
    /// As in Alertmanager's classic parser, the value may be bare (`env=prod`)
    /// or in double quotes (`env="prod"`), may be empty (`env=""`, `env=`),
    /// and understands the escapes `\"`, `\\` and `\n`; a backslash before any
    /// other character is a literal backslash. An unescaped `"` inside the
    /// value is an error. A name that is not `[a-zA-Z_:][a-zA-Z0-9_:]*` must be
    /// written in double quotes (`"service.name"="api"`), as in Alertmanager's
    /// UTF-8 matchers.
    pub fn parse(input: &str) -> Result<Matcher, MatcherError> {
        let syntax = |reason: &str| MatcherError::Syntax {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let text = trim_ws(input);
        let (name, rest) = if let Some(quoted) = text.strip_prefix('"') {
            let (raw, rest) = split_quoted(quoted)
                .ok_or_else(|| syntax("the label name has no closing quote"))?;
            (unescape(raw), rest)
        } else {
            let end = text
                .find(|c: char| !is_bare_name_char(c))
                .unwrap_or(text.len());
            let name = &text[..end];
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(syntax(
                    "expected a label name ([a-zA-Z_:][a-zA-Z0-9_:]* or in double quotes)",
                ));
            }
            (name.to_owned(), &text[end..])
        };
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let (op, rest) = [MatchOp::Re, MatchOp::NotEq, MatchOp::NotRe, MatchOp::Eq]
            .into_iter()
            .find_map(|op| rest.strip_prefix(op.as_str()).map(|rest| (op, rest)))
            .ok_or_else(|| syntax("expected =, !=, =~ or !~ after the label name"))?;
        let value = parse_value(trim_ws(rest)).map_err(syntax)?;
        Matcher::new(name, op, value)
    }
}

/// Parses a list of matchers: `{a="b", c=~"d"}` or the same without braces.
///
/// Commas inside double quotes do not separate matchers; a trailing comma is
/// allowed; `{}` and the empty string are the empty list. Any matcher that
/// does not parse fails the whole list.
pub fn parse_matchers(input: &str) -> Result<Vec<Matcher>, MatcherError> {
    let text = trim_ws(input);
    let text = text.strip_prefix('{').unwrap_or(text);
    let text = text.strip_suffix('}').unwrap_or(text);
    let tokens = split_list(text);
    let last = tokens.len().saturating_sub(1);
    let mut matchers = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        if trim_ws(token).is_empty() {
            if i == last {
                continue;
            }
            return Err(MatcherError::Syntax {
                input: input.to_owned(),
                reason: format!("matcher {} is empty", i + 1),
            });
        }
        matchers.push(Matcher::parse(token)?);
    }
    Ok(matchers)
}

/// `{a="b", c=~"d"}`: the list form [`parse_matchers`] reads back.
pub fn display_matchers(matchers: &[Matcher]) -> String {
    let inner: Vec<String> = matchers.iter().map(Matcher::to_string).collect();
    format!("{{{}}}", inner.join(", "))
}

fn trim_ws(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_ascii_whitespace())
}

/// Splits at commas that are outside double quotes (`\"` does not toggle).
fn split_list(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            ',' if !in_quotes => {
                tokens.push(&text[start..i]);
                start = i + 1;
            }
            '"' if !escaped => in_quotes = !in_quotes,
            _ => {}
        }
        escaped = c == '\\' && !escaped;
    }
    tokens.push(&text[start..]);
    tokens
}

/// Given the text after an opening quote, returns the raw quoted part and
/// what follows the closing quote.
fn split_quoted(text: &str) -> Option<(&str, &str)> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' if !escaped => return Some((&text[..i], &text[i + 1..])),
            _ => escaped = c == '\\' && !escaped,
        }
    }
    None
}

/// Resolves `\\`, `\n` and `\"`; any other backslash is literal.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(c @ ('"' | '\\')) => out.push(c),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The value after the operator, whitespace already trimmed.
fn parse_value(raw: &str) -> Result<String, &'static str> {
    let (body, quoted) = match raw.strip_prefix('"') {
        Some(body) => (body, true),
        None => (raw, false),
    };
    if !quoted {
        if has_unescaped_quote(body) {
            return Err("the value contains an unescaped double quote");
        }
        return Ok(unescape(body));
    }
    match split_quoted(body) {
        Some((inner, "")) => Ok(unescape(inner)),
        Some(_) => Err("the value contains an unescaped double quote"),
        None => Err("the value has no closing double quote"),
    }
}

fn has_unescaped_quote(text: &str) -> bool {
    split_quoted(text).is_some()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn m(name: &str, op: MatchOp, value: &str) -> Matcher {
        Matcher::new(name, op, value).unwrap()
    }

    /// (input, expected matcher or None for an error)
    fn check(cases: &[(&str, Option<Matcher>)]) {
        for (input, expected) in cases {
            let got = Matcher::parse(input);
            match expected {
                Some(want) => assert_eq!(got.as_ref().ok(), Some(want), "{input:?}: {got:?}"),
                None => assert!(got.is_err(), "{input:?} should fail, got {got:?}"),
            }
        }
    }

    #[test]
    fn parses_alertmanager_syntax() {
        check(&[
            (
                r#"alertname="HighLatency""#,
                Some(m("alertname", MatchOp::Eq, "HighLatency")),
            ),
            (
                r#"severity=~"critical|page""#,
                Some(m("severity", MatchOp::Re, "critical|page")),
            ),
            ("env!=prod", Some(m("env", MatchOp::NotEq, "prod"))),
            ("env!~prod|dev", Some(m("env", MatchOp::NotRe, "prod|dev"))),
            ("  env  =  prod  ", Some(m("env", MatchOp::Eq, "prod"))),
            (r#"env = " prod ""#, Some(m("env", MatchOp::Eq, " prod "))),
            (r#"foo="""#, Some(m("foo", MatchOp::Eq, ""))),
            ("foo=", Some(m("foo", MatchOp::Eq, ""))),
            ("foo!=", Some(m("foo", MatchOp::NotEq, ""))),
            ("job:rate=x", Some(m("job:rate", MatchOp::Eq, "x"))),
            ("foo==bar", Some(m("foo", MatchOp::Eq, "=bar"))),
            (
                r#"q="say \"hi\"""#,
                Some(m("q", MatchOp::Eq, r#"say "hi""#)),
            ),
            (r#"q="a\\b\nc""#, Some(m("q", MatchOp::Eq, "a\\b\nc"))),
            // A backslash before anything else is literal (Alertmanager, too).
            (r#"re=~"\d+""#, Some(m("re", MatchOp::Re, r"\d+"))),
            (r"re=a\", Some(m("re", MatchOp::Eq, r"a\"))),
            (
                r#""service.name"="api""#,
                Some(m("service.name", MatchOp::Eq, "api")),
            ),
            (r#"v="a,b""#, Some(m("v", MatchOp::Eq, "a,b"))),
            // Errors.
            ("", None),
            ("=foo", None),
            ("1abc=foo", None),
            ("foo bar=baz", None),
            ("foo", None),
            ("foo~=bar", None),
            (r#"foo="bar"#, None),
            (r#"foo="bar\""#, None),
            (r#"foo="ba"r""#, None),
            (r#"foo=ba"r"#, None),
            (r#"foo="bar" x"#, None),
            (r#""unclosed=bar"#, None),
            ("foo=~(", None),
        ]);
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        let err = Matcher::parse("foo bar=baz").unwrap_err();
        assert!(
            err.to_string().contains("expected =, !=, =~ or !~"),
            "{err}"
        );
        let err = Matcher::parse(r#"foo="bar"#).unwrap_err();
        assert!(err.to_string().contains("closing double quote"), "{err}");
        let err = Matcher::parse("foo=~(").unwrap_err();
        assert!(matches!(err, MatcherError::InvalidRegex { .. }), "{err}");
    }

    #[test]
    fn parses_lists() {
        let want = vec![
            m("a", MatchOp::Eq, "b"),
            m("c", MatchOp::Re, "d"),
            m("e", MatchOp::NotEq, "f,g"),
        ];
        for input in [
            r#"{a="b", c=~"d", e!="f,g"}"#,
            r#"a="b",c=~"d",e!="f,g""#,
            r#" { a = b , c =~ d , e != "f,g" , } "#,
            r#"{a="b",c=~"d",e!="f,g",}"#,
        ] {
            assert_eq!(parse_matchers(input).unwrap(), want, "{input}");
        }
        assert_eq!(parse_matchers("{}").unwrap(), vec![]);
        assert_eq!(parse_matchers("").unwrap(), vec![]);
        assert_eq!(
            parse_matchers(r#"{quote="She said: \"Hi, all\""}"#).unwrap(),
            vec![m("quote", MatchOp::Eq, r#"She said: "Hi, all""#)]
        );
        assert!(parse_matchers("a=b,,c=d").is_err());
        assert!(parse_matchers("a=b,c").is_err());
        assert!(parse_matchers(r#"{a="b}"#).is_err());
    }

    fn op() -> impl Strategy<Value = MatchOp> {
        prop_oneof![
            Just(MatchOp::Eq),
            Just(MatchOp::NotEq),
            Just(MatchOp::Re),
            Just(MatchOp::NotRe),
        ]
    }

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z_:][a-zA-Z0-9_:]{0,10}",
            // Anything, including quotes, backslashes, commas and braces.
            "\\PC{1,12}",
            "[ a-z.\"\\\\,{}=~!\n]{1,12}",
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof!["\\PC{0,16}", "[ a-z\"\\\\,{}=~!\nn|.*]{0,16}"]
    }

    fn matcher() -> impl Strategy<Value = Matcher> {
        (name(), op(), value()).prop_map(|(name, op, value)| {
            let value = if op.is_regex() {
                regex::escape(&value)
            } else {
                value
            };
            Matcher::new(name, op, value).unwrap()
        })
    }

    proptest! {
        #[test]
        fn display_round_trips(matcher in matcher()) {
            let text = matcher.to_string();
            let back = Matcher::parse(&text);
            prop_assert_eq!(back.as_ref().ok(), Some(&matcher), "{} -> {:?}", text, back);
        }

        #[test]
        fn list_display_round_trips(matchers in proptest::collection::vec(matcher(), 0..5)) {
            let text = display_matchers(&matchers);
            let back = parse_matchers(&text);
            prop_assert_eq!(back.as_ref().ok(), Some(&matchers), "{} -> {:?}", text, back);
        }

        #[test]
        fn escaped_regex_matches_only_itself(a in "\\PC{0,8}", b in "\\PC{0,8}") {
            let matcher = Matcher::new("x", MatchOp::Re, regex::escape(&a)).unwrap();
            let labels = BTreeMap::from([("x".to_owned(), b.clone())]);
            prop_assert_eq!(matcher.matches(&labels), a == b);
            let prefixed = BTreeMap::from([("x".to_owned(), format!("{a}{b}z"))]);
            prop_assert!(!matcher.matches(&prefixed));
        }

        #[test]
        fn absent_label_matches_like_empty(op in op(), v in "[a-z]{0,3}") {
            let value = if op.is_regex() { regex::escape(&v) } else { v };
            let matcher = Matcher::new("foo", op, value).unwrap();
            let absent = BTreeMap::from([("bar".to_owned(), "x".to_owned())]);
            let empty = BTreeMap::from([("foo".to_owned(), String::new())]);
            prop_assert_eq!(matcher.matches(&absent), matcher.matches(&empty));
            prop_assert_eq!(matcher.matches(&absent), matcher.matches_empty());
        }
    }
}
