//! Severity mapping: a monitoring source's severity word (`critical`,
//! `warning`, `p2`, `sev-1`, ...) to a level of the playbook's scheme.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::DomainError;
use crate::playbook::Playbook;

/// Where a built-in word lands in a scheme ordered most severe first.
#[derive(Clone, Copy)]
enum Position {
    /// This index, or the last level if the scheme is shorter.
    At(usize),
    /// The least severe level.
    Last,
}

use Position::{At, Last};

/// Built-in words, already normalized (see [`normalize`]). Nothing here maps
/// to index 0: the worst level is for whole-business outages a person
/// declares. PagerDuty's four words anchor the rest: critical = 1, error = 2,
/// warning = 3, info = last.
const WORDS: &[(&str, Position)] = &[
    // PagerDuty Events v2.
    ("critical", At(1)),
    ("error", At(2)),
    ("warning", At(3)),
    ("info", Last),
    // Synonyms seen in labels (syslog, Sentry, Zabbix, Opsgenie, ...).
    ("crit", At(1)),
    ("fatal", At(1)),
    ("emergency", At(1)),
    ("emerg", At(1)),
    ("alert", At(1)),
    ("disaster", At(1)),
    ("page", At(1)),
    ("urgent", At(1)),
    ("err", At(2)),
    ("high", At(2)),
    ("major", At(2)),
    ("warn", At(3)),
    ("medium", At(3)),
    ("moderate", At(3)),
    ("average", At(3)),
    ("minor", At(3)),
    ("low", At(4)),
    ("information", Last),
    ("informational", Last),
    ("notice", Last),
    ("debug", Last),
    // Numbered schemes: P1 and SEV-1 are the worst a tool sends on its own.
    ("p0", At(1)),
    ("p1", At(1)),
    ("p2", At(2)),
    ("p3", At(3)),
    ("p4", At(4)),
    ("p5", At(5)),
    ("sev0", At(1)),
    ("sev1", At(1)),
    ("sev2", At(2)),
    ("sev3", At(3)),
    ("sev4", At(4)),
];

/// Lower case, without surrounding whitespace, `-`, `_` or spaces: `SEV-1`,
/// `sev_1` and `Sev 1` are all `sev1`.
fn normalize(word: &str) -> String {
    word.trim()
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeverityMapError {
    /// A value the caller gave is not acceptable; `field` names it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl From<SeverityMapError> for DomainError {
    fn from(err: SeverityMapError) -> DomainError {
        match err {
            SeverityMapError::Invalid { field, message } => DomainError::Invalid { field, message },
        }
    }
}

/// Maps a source's severity word to a playbook severity name.
///
/// Words are compared case-insensitively and ignoring `-`, `_` and spaces.
/// Precedence: overrides, then the playbook's own level names (so `SEV-0`
/// maps to `SEV-0`, even the most severe level), then the built-in words.
/// A missing or unknown word maps to the default (the least severe level
/// unless changed with [`SeverityMap::with_default`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityMap {
    /// The playbook's level names, most severe first.
    levels: Vec<String>,
    /// Normalized word to index into `levels`.
    words: BTreeMap<String, usize>,
    default: usize,
}

impl SeverityMap {
    /// The built-in words placed by position in the playbook's scheme:
    /// critical → index 1, error → 2, warning → 3, info → the last level, each
    /// clamped to the scheme's length; plus the playbook's own names.
    pub fn default_for(playbook: &Playbook) -> SeverityMap {
        let levels: Vec<String> = playbook.severities.iter().map(|s| s.name.clone()).collect();
        let last = levels.len().saturating_sub(1);
        let mut words: BTreeMap<String, usize> = WORDS
            .iter()
            .map(|(word, position)| {
                let index = match position {
                    At(i) => (*i).min(last),
                    Last => last,
                };
                ((*word).to_owned(), index)
            })
            .collect();
        // The first of two names that normalize alike (SEV-1, SEV1) keeps it.
        let mut named = BTreeSet::new();
        for (index, name) in levels.iter().enumerate() {
            let key = normalize(name);
            if named.insert(key.clone()) {
                words.insert(key, index);
            }
        }
        SeverityMap {
            levels,
            words,
            default: last,
        }
    }

    /// `base` with extra words. Keys are source words; values must be
    /// severity names of the playbook `base` was built for (any case).
    pub fn with_overrides(
        base: SeverityMap,
        overrides: BTreeMap<String, String>,
    ) -> Result<SeverityMap, SeverityMapError> {
        let mut map = base;
        for (word, severity) in overrides {
            let key = normalize(&word);
            if key.is_empty() {
                return Err(SeverityMapError::Invalid {
                    field: format!("{word:?}"),
                    message: "a severity word must not be blank".to_owned(),
                });
            }
            let index = map.index_of(&word, &severity)?;
            map.words.insert(key, index);
        }
        Ok(map)
    }

    /// The same map with `severity` (a playbook severity name) for missing
    /// and unknown words.
    pub fn with_default(self, severity: &str) -> Result<SeverityMap, SeverityMapError> {
        let index = self.index_of("default", severity)?;
        Ok(SeverityMap {
            default: index,
            ..self
        })
    }

    fn index_of(&self, field: &str, severity: &str) -> Result<usize, SeverityMapError> {
        self.levels
            .iter()
            .position(|level| level.eq_ignore_ascii_case(severity.trim()))
            .ok_or_else(|| SeverityMapError::Invalid {
                field: field.to_owned(),
                message: format!(
                    "{severity:?} is not a severity of the playbook (expected one of {})",
                    self.levels.join(", ")
                ),
            })
    }

    /// The playbook severity for a source's word; the default for `None`,
    /// blank or unknown words. Empty only if the playbook has no severities.
    pub fn map(&self, word: Option<&str>) -> String {
        let index = word
            .and_then(|w| self.words.get(&normalize(w)))
            .copied()
            .unwrap_or(self.default);
        self.levels.get(index).cloned().unwrap_or_default()
    }

    /// The severity a known word maps to, or `None` for an unknown word.
    pub fn lookup(&self, word: &str) -> Option<&str> {
        let index = *self.words.get(&normalize(word))?;
        self.levels.get(index).map(String::as_str)
    }

    /// The severity for missing and unknown words.
    pub fn default_severity(&self) -> &str {
        self.levels.get(self.default).map_or("", String::as_str)
    }
}

/// The most severe of `names` by the playbook's scheme (an incident takes
/// the highest severity of its alerts). Names not in the playbook are
/// ignored; on a tie the first wins. Names compare case-insensitively.
pub fn highest<'a>(
    playbook: &Playbook,
    names: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    names
        .into_iter()
        .filter_map(|name| playbook.severity_rank(name).map(|rank| (rank, name)))
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::playbook::SeverityLevel;

    fn playbook(names: &[&str]) -> Playbook {
        let mut playbook = Playbook::builtin();
        playbook.severities = names
            .iter()
            .map(|name| SeverityLevel {
                name: (*name).to_owned(),
                label: (*name).to_owned(),
                description: String::new(),
                response_target: None,
                resolution_target: None,
                update_every: None,
                escalate_every: None,
                bridge: Default::default(),
                notify: vec![],
                urgency: Default::default(),
            })
            .collect();
        playbook
    }

    /// (word, expected severity)
    fn check(map: &SeverityMap, cases: &[(Option<&str>, &str)]) {
        for (word, want) in cases {
            assert_eq!(map.map(*word), *want, "{word:?}");
        }
    }

    #[test]
    fn builtin_playbook() {
        let builtin = Playbook::builtin();
        let names: Vec<&str> = builtin.severities.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["SEV-0", "SEV-1", "SEV-2", "SEV-3"]);
        let map = SeverityMap::default_for(&builtin);
        check(
            &map,
            &[
                (Some("critical"), "SEV-1"),
                (Some("CRITICAL"), "SEV-1"),
                (Some(" error "), "SEV-2"),
                (Some("warning"), "SEV-3"),
                (Some("info"), "SEV-3"),
                (Some("page"), "SEV-1"),
                (Some("high"), "SEV-2"),
                (Some("medium"), "SEV-3"),
                (Some("low"), "SEV-3"),
                (Some("P1"), "SEV-1"),
                (Some("p2"), "SEV-2"),
                (Some("p5"), "SEV-3"),
                (Some("sev-1"), "SEV-1"),
                (Some("sev2"), "SEV-2"),
                (Some("Sev_3"), "SEV-3"),
                // The playbook's own names, even the worst level.
                (Some("SEV-0"), "SEV-0"),
                (Some("sev0"), "SEV-0"),
                (Some("bananas"), "SEV-3"),
                (Some(""), "SEV-3"),
                (None, "SEV-3"),
            ],
        );
        assert_eq!(map.lookup("bananas"), None);
        assert_eq!(map.lookup("critical"), Some("SEV-1"));
        assert_eq!(map.default_severity(), "SEV-3");
    }

    #[test]
    fn clamps_to_short_and_spreads_over_long_schemes() {
        let one = SeverityMap::default_for(&playbook(&["only"]));
        check(
            &one,
            &[
                (Some("critical"), "only"),
                (Some("info"), "only"),
                (None, "only"),
            ],
        );

        let two = SeverityMap::default_for(&playbook(&["A", "B"]));
        check(
            &two,
            &[
                (Some("critical"), "B"),
                (Some("error"), "B"),
                (Some("a"), "A"),
                (None, "B"),
            ],
        );

        let six = SeverityMap::default_for(&playbook(&["L0", "L1", "L2", "L3", "L4", "L5"]));
        check(
            &six,
            &[
                (Some("critical"), "L1"),
                (Some("error"), "L2"),
                (Some("warning"), "L3"),
                (Some("low"), "L4"),
                (Some("p5"), "L5"),
                (Some("info"), "L5"),
                (None, "L5"),
            ],
        );

        // A P-scheme: the sender's P1 is our P1.
        let p = SeverityMap::default_for(&playbook(&["P1", "P2", "P3", "P4"]));
        check(
            &p,
            &[
                (Some("p1"), "P1"),
                (Some("critical"), "P2"),
                (Some("info"), "P4"),
            ],
        );
    }

    #[test]
    fn overrides_and_default() {
        let base = SeverityMap::default_for(&Playbook::builtin());
        let overrides = BTreeMap::from([
            ("Disaster".to_owned(), "sev-0".to_owned()),
            ("warning".to_owned(), "SEV-2".to_owned()),
        ]);
        let map = SeverityMap::with_overrides(base.clone(), overrides)
            .unwrap()
            .with_default("SEV-2")
            .unwrap();
        check(
            &map,
            &[
                (Some("disaster"), "SEV-0"),
                (Some("WARNING"), "SEV-2"),
                (Some("critical"), "SEV-1"),
                (Some("unknown"), "SEV-2"),
                (None, "SEV-2"),
            ],
        );

        let err = SeverityMap::with_overrides(
            base.clone(),
            BTreeMap::from([("critical".to_owned(), "P1".to_owned())]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "critical: \"P1\" is not a severity of the playbook (expected one of SEV-0, SEV-1, SEV-2, SEV-3)"
        );
        assert!(matches!(
            DomainError::from(err),
            DomainError::Invalid { .. }
        ));
        assert!(SeverityMap::with_overrides(
            base.clone(),
            BTreeMap::from([(" - ".to_owned(), "SEV-1".to_owned())]),
        )
        .is_err());
        assert!(base.with_default("SEV-9").is_err());
    }

    #[test]
    fn highest_picks_the_most_severe() {
        let playbook = Playbook::builtin();
        let check = [
            (vec!["SEV-3", "SEV-1", "SEV-2"], Some("SEV-1")),
            (vec!["sev-2", "nope", "SEV-3"], Some("sev-2")),
            (vec!["SEV-2", "sev-2"], Some("SEV-2")),
            (vec!["nope"], None),
            (vec![], None),
        ];
        for (names, want) in check {
            assert_eq!(highest(&playbook, names.iter().copied()), want, "{names:?}");
        }
    }

    proptest! {
        /// Every word maps to a level of the scheme; the built-in words keep
        /// their order and never pick the worst level of a longer scheme.
        #[test]
        fn mapping_respects_the_scheme(len in 1usize..9, word in "[a-z0-9 -]{0,10}") {
            let names: Vec<String> = (0..len).map(|i| format!("L{i}")).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let book = playbook(&refs);
            let map = SeverityMap::default_for(&book);
            let rank = |w: &str| book.severity_rank(&map.map(Some(w))).unwrap();
            prop_assert!(book.severity(&map.map(Some(&word))).is_some());
            let ranks: Vec<usize> = ["critical", "error", "warning", "info"].map(rank).to_vec();
            prop_assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
            prop_assert_eq!(ranks[3], len - 1);
            for (builtin, _) in WORDS {
                prop_assert!(len == 1 || rank(builtin) > 0, "{} -> worst", builtin);
            }
        }
    }
}
