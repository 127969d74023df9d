//! Incident ID formats such as `INC-{year}-{seq:04}` and `INCIDENT-{date}-{seq:03}`.
//!
//! A format is literal text with placeholders. The sequence number restarts in
//! each *scope*, which is the finest date placeholder the format uses: a format
//! with `{date}` or `{day}` numbers incidents per day, one with `{month}` per
//! month, one with `{year}` per year, and one with no date part counts forever.
//! That is what makes `INCIDENT-2026-11-25-001` read naturally and keeps every
//! rendered ID unique: two incidents with the same scope get different numbers.

use std::fmt;

use jiff::civil::Date;

/// One piece of a parsed format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Year,
    Month,
    Day,
    /// `YYYY-MM-DD`.
    Date,
    /// The sequence number, zero-padded to `width` digits.
    Seq {
        width: usize,
    },
}

/// How finely the sequence number is partitioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SeqScope {
    Global,
    Year,
    Month,
    Day,
}

/// A validated incident ID format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdFormat {
    source: String,
    parts: Vec<Part>,
    scope: SeqScope,
}

/// Why a format string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdFormatError {
    #[error("unknown placeholder `{{{0}}}`; use {{year}}, {{month}}, {{day}}, {{date}} or {{seq}} / {{seq:04}}")]
    UnknownPlaceholder(String),
    #[error("the format must contain exactly one {{seq}} placeholder (found {0})")]
    SeqCount(usize),
    #[error("unclosed `{{` in the format")]
    Unclosed,
    #[error("the {{seq}} width must be a number from 1 to 12, e.g. {{seq:04}}")]
    BadWidth,
    #[error("characters other than letters, digits, '-', '_' and '.' make IDs awkward in URLs and shells: {0:?}")]
    BadLiteral(char),
}

impl IdFormat {
    /// The default from the playbooks we learn from.
    pub fn default_format() -> IdFormat {
        IdFormat::parse("INC-{year}-{seq:04}").expect("the default ID format is valid")
    }

    pub fn parse(source: &str) -> Result<IdFormat, IdFormatError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = source;
        while let Some(c) = rest.chars().next() {
            if c == '{' {
                let end = rest.find('}').ok_or(IdFormatError::Unclosed)?;
                let name = &rest[1..end];
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                }
                parts.push(parse_placeholder(name)?);
                rest = &rest[end + 1..];
            } else {
                if !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
                    return Err(IdFormatError::BadLiteral(c));
                }
                literal.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        let seqs = parts
            .iter()
            .filter(|p| matches!(p, Part::Seq { .. }))
            .count();
        if seqs != 1 {
            return Err(IdFormatError::SeqCount(seqs));
        }
        let scope = parts
            .iter()
            .map(|p| match p {
                Part::Date | Part::Day => SeqScope::Day,
                Part::Month => SeqScope::Month,
                Part::Year => SeqScope::Year,
                _ => SeqScope::Global,
            })
            .max()
            .unwrap_or(SeqScope::Global);
        Ok(IdFormat {
            source: source.to_owned(),
            parts,
            scope,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn scope(&self) -> SeqScope {
        self.scope
    }

    /// The key under which the sequence for `date` is counted, e.g. `2026` or
    /// `2026-11-25`. Includes the format itself so that changing the format
    /// starts a fresh sequence rather than colliding with old IDs.
    pub fn scope_key(&self, date: Date) -> String {
        let period = match self.scope {
            SeqScope::Global => String::new(),
            SeqScope::Year => format!("{:04}", date.year()),
            SeqScope::Month => format!("{:04}-{:02}", date.year(), date.month()),
            SeqScope::Day => date.to_string(),
        };
        format!("{}|{}", self.source, period)
    }

    /// The ID of incident number `seq` declared on `date` (UTC).
    pub fn render(&self, date: Date, seq: u64) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Year => out.push_str(&format!("{:04}", date.year())),
                Part::Month => out.push_str(&format!("{:02}", date.month())),
                Part::Day => out.push_str(&format!("{:02}", date.day())),
                Part::Date => out.push_str(&date.to_string()),
                Part::Seq { width } => out.push_str(&format!("{seq:0width$}")),
            }
        }
        out
    }
}

fn parse_placeholder(name: &str) -> Result<Part, IdFormatError> {
    match name {
        "year" => Ok(Part::Year),
        "month" => Ok(Part::Month),
        "day" => Ok(Part::Day),
        "date" => Ok(Part::Date),
        "seq" => Ok(Part::Seq { width: 1 }),
        _ => match name.strip_prefix("seq:") {
            Some(width) => match width.parse::<usize>() {
                Ok(w @ 1..=12) => Ok(Part::Seq { width: w }),
                _ => Err(IdFormatError::BadWidth),
            },
            None => Err(IdFormatError::UnknownPlaceholder(name.to_owned())),
        },
    }
}

impl fmt::Display for IdFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for IdFormat {
    type Err = IdFormatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdFormat::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn default_renders_year_and_padded_sequence() {
        let f = IdFormat::default_format();
        assert_eq!(f.render(date(2026, 3, 7), 42), "INC-2026-0042");
        assert_eq!(f.render(date(2026, 3, 7), 12345), "INC-2026-12345");
        assert_eq!(f.scope(), SeqScope::Year);
        assert_eq!(
            f.scope_key(date(2026, 12, 31)),
            f.scope_key(date(2026, 1, 1))
        );
        assert_ne!(f.scope_key(date(2026, 1, 1)), f.scope_key(date(2027, 1, 1)));
    }

    #[test]
    fn seed_daily_format_counts_per_day() {
        let f = IdFormat::parse("INCIDENT-{date}-{seq:03}").unwrap();
        assert_eq!(f.render(date(2026, 11, 25), 1), "INCIDENT-2026-11-25-001");
        assert_eq!(f.scope(), SeqScope::Day);
        assert_ne!(
            f.scope_key(date(2026, 11, 25)),
            f.scope_key(date(2026, 11, 26))
        );
    }

    #[test]
    fn refuses_bad_formats() {
        assert_eq!(
            IdFormat::parse("INC-{year}"),
            Err(IdFormatError::SeqCount(0))
        );
        assert_eq!(
            IdFormat::parse("{seq}-{seq}"),
            Err(IdFormatError::SeqCount(2))
        );
        assert!(matches!(
            IdFormat::parse("INC-{yr}-{seq}"),
            Err(IdFormatError::UnknownPlaceholder(_))
        ));
        assert_eq!(IdFormat::parse("INC-{seq"), Err(IdFormatError::Unclosed));
        assert_eq!(IdFormat::parse("{seq:0}"), Err(IdFormatError::BadWidth));
        assert_eq!(
            IdFormat::parse("INC/{seq}"),
            Err(IdFormatError::BadLiteral('/'))
        );
    }
}
