//! Inhibition: a firing alert (say, "datacenter down") mutes related alerts
//! ("host unreachable" in that datacenter), with Alertmanager's semantics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::matcher::{matches_all, Matcher};

/// A firing alert matching `source` inhibits an alert matching `target` when
/// both carry the same value for every label in `equal`. An absent label
/// counts as the empty string, so absent equals absent (as in Alertmanager).
///
/// As in Alertmanager, if the target alert also matches `source`, source
/// alerts that also match `target` are disregarded: an alert never inhibits
/// itself, and two alerts matching both sides do not inhibit each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InhibitRule {
    pub source: Vec<Matcher>,
    pub target: Vec<Matcher>,
    #[serde(default)]
    pub equal: Vec<String>,
}

type Labels = BTreeMap<String, String>;

impl InhibitRule {
    /// Whether a firing alert with `source` labels inhibits one with `target`
    /// labels under this rule. The caller passes only firing sources.
    pub fn inhibits(&self, source: &Labels, target: &Labels) -> bool {
        self.applies_to(target) && self.inhibited_by(source, self.is_two_sided(target), target)
    }

    fn applies_to(&self, target: &Labels) -> bool {
        matches_all(&self.target, target)
    }

    /// Whether the target alert matches the source side too.
    fn is_two_sided(&self, target: &Labels) -> bool {
        matches_all(&self.source, target)
    }

    /// The source side of [`InhibitRule::inhibits`], once the target matched.
    fn inhibited_by(&self, source: &Labels, two_sided: bool, target: &Labels) -> bool {
        matches_all(&self.source, source)
            && self
                .equal
                .iter()
                .all(|name| label(source, name) == label(target, name))
            && !(two_sided && matches_all(&self.target, source))
    }
}

fn label<'a>(labels: &'a Labels, name: &str) -> &'a str {
    labels.get(name).map_or("", String::as_str)
}

/// The index of the first rule under which one of `firing_sources` inhibits
/// the alert with `target` labels, if any. `firing_sources` may include the
/// target alert itself; it never inhibits itself.
pub fn first_inhibitor<'a>(
    rules: &[InhibitRule],
    target: &Labels,
    firing_sources: impl Iterator<Item = &'a Labels>,
) -> Option<usize> {
    let candidates: Vec<&Labels> = firing_sources.collect();
    rules.iter().position(|rule| {
        if !rule.applies_to(target) {
            return false;
        }
        let two_sided = rule.is_two_sided(target);
        candidates
            .iter()
            .any(|source| rule.inhibited_by(source, two_sided, target))
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::alerting::parse_matchers;

    fn rule(source: &str, target: &str, equal: &[&str]) -> InhibitRule {
        InhibitRule {
            source: parse_matchers(source).unwrap(),
            target: parse_matchers(target).unwrap(),
            equal: equal.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn source_inhibits_target_with_equal_labels() {
        let r = rule(
            r#"severity="critical""#,
            r#"severity="warning""#,
            &["cluster", "service"],
        );
        let crit = labels(&[
            ("severity", "critical"),
            ("cluster", "eu"),
            ("service", "api"),
        ]);
        let check = [
            (
                labels(&[
                    ("severity", "warning"),
                    ("cluster", "eu"),
                    ("service", "api"),
                ]),
                true,
            ),
            (
                labels(&[
                    ("severity", "warning"),
                    ("cluster", "us"),
                    ("service", "api"),
                ]),
                false,
            ),
            // `service` absent on the target but present on the source.
            (labels(&[("severity", "warning"), ("cluster", "eu")]), false),
            // Target side does not match.
            (
                labels(&[("severity", "info"), ("cluster", "eu"), ("service", "api")]),
                false,
            ),
        ];
        for (target, want) in check {
            assert_eq!(r.inhibits(&crit, &target), want, "{target:?}");
        }
        // Source side does not match.
        let warn = labels(&[
            ("severity", "warning"),
            ("cluster", "eu"),
            ("service", "api"),
        ]);
        assert!(!r.inhibits(&warn, &warn));
    }

    #[test]
    fn absent_equals_absent() {
        let r = rule(r#"alertname="DCDown""#, r#"alertname="HostDown""#, &["dc"]);
        let source = labels(&[("alertname", "DCDown")]);
        assert!(r.inhibits(&source, &labels(&[("alertname", "HostDown")])));
        // Empty and absent are the same thing.
        assert!(r.inhibits(&source, &labels(&[("alertname", "HostDown"), ("dc", "")])));
        assert!(!r.inhibits(&source, &labels(&[("alertname", "HostDown"), ("dc", "x")])));
    }

    #[test]
    fn no_equal_labels_means_any_source() {
        let r = rule(r#"alertname="Maintenance""#, r#"severity!="critical""#, &[]);
        let source = labels(&[("alertname", "Maintenance")]);
        assert!(r.inhibits(
            &source,
            &labels(&[("alertname", "X"), ("severity", "warning")])
        ));
        assert!(!r.inhibits(&source, &labels(&[("severity", "critical")])));
    }

    #[test]
    fn never_inhibits_itself_or_another_two_sided_alert() {
        // Both sides match any alert with a severity.
        let r = rule(r#"severity=~".+""#, r#"severity=~".+""#, &["service"]);
        let a = labels(&[("severity", "critical"), ("service", "api")]);
        let b = labels(&[("severity", "warning"), ("service", "api")]);
        assert!(!r.inhibits(&a, &a));
        assert!(!r.inhibits(&a, &b));
        assert_eq!(first_inhibitor(&[r], &b, [&a, &b].into_iter()), None);

        // A two-sided target can still be inhibited by a one-sided source.
        let r = rule(
            r#"severity=~"critical|warning""#,
            r#"severity=~"warning|info""#,
            &[],
        );
        let crit = labels(&[("severity", "critical")]);
        let warn = labels(&[("severity", "warning")]);
        let info = labels(&[("severity", "info")]);
        assert!(r.inhibits(&crit, &warn));
        assert!(!r.inhibits(&warn, &warn));
        assert!(r.inhibits(&warn, &info));
    }

    #[test]
    fn first_inhibitor_returns_the_first_rule_that_applies() {
        let rules = vec![
            rule(r#"alertname="A""#, r#"alertname="Z""#, &[]),
            rule(r#"alertname="B""#, r#"alertname="T""#, &["dc"]),
            rule(r#"alertname="C""#, r#"alertname="T""#, &[]),
        ];
        let target = labels(&[("alertname", "T"), ("dc", "eu")]);
        let b_eu = labels(&[("alertname", "B"), ("dc", "eu")]);
        let b_us = labels(&[("alertname", "B"), ("dc", "us")]);
        let c = labels(&[("alertname", "C")]);
        let a = labels(&[("alertname", "A")]);
        let check: [(Vec<&Labels>, Option<usize>); 5] = [
            (vec![], None),
            (vec![&a], None),
            (vec![&b_us], None),
            (vec![&c, &b_us], Some(2)),
            (vec![&c, &b_eu, &target], Some(1)),
        ];
        for (sources, want) in check {
            assert_eq!(
                first_inhibitor(&rules, &target, sources.iter().copied()),
                want,
                "{sources:?}"
            );
        }
    }

    #[test]
    fn serde_shape() {
        let r: InhibitRule = serde_json::from_value(serde_json::json!({
            "source": [{"name": "severity", "op": "=", "value": "critical"}],
            "target": [{"name": "severity", "op": "=~", "value": "warning|info"}],
        }))
        .unwrap();
        assert_eq!(
            r,
            rule(r#"severity="critical""#, r#"severity=~"warning|info""#, &[])
        );
    }

    fn small_labels() -> impl Strategy<Value = Labels> {
        proptest::collection::btree_map("[abc]", "[xy]{0,1}", 0..4)
    }

    proptest! {
        /// Whatever the rule, an alert does not inhibit itself.
        #[test]
        fn an_alert_never_inhibits_itself(
            alert in small_labels(),
            source in "(a=~\"x?\"|b!=y|c=\"\"|a=x)(, (b=x|c!~\"[xy]\"))?",
            target in "(a=~\"x?\"|b!=y|c=\"\"|a=x)(, (b=x|c!~\"[xy]\"))?",
            equal in proptest::collection::vec("[abc]", 0..3),
        ) {
            let r = InhibitRule {
                source: parse_matchers(&source).unwrap(),
                target: parse_matchers(&target).unwrap(),
                equal,
            };
            prop_assert!(!r.inhibits(&alert, &alert));
        }

        /// `equal` compares values with absent as empty.
        #[test]
        fn equal_compares_values_absent_as_empty(
            mut source in small_labels(),
            mut target in small_labels(),
            equal in proptest::collection::vec("[abc]", 0..3),
            blank in "[abc]",
        ) {
            let r = InhibitRule {
                source: parse_matchers("side=src").unwrap(),
                target: parse_matchers("side=tgt").unwrap(),
                equal: equal.clone(),
            };
            source.insert("side".to_owned(), "src".to_owned());
            target.insert("side".to_owned(), "tgt".to_owned());
            let value = |labels: &Labels, n: &str| labels.get(n).filter(|v| !v.is_empty()).cloned();
            let want = equal.iter().all(|n| value(&source, n) == value(&target, n));
            prop_assert_eq!(r.inhibits(&source, &target), want);
            // An empty label is the same as an absent one.
            source.entry(blank.clone()).or_default();
            prop_assert_eq!(r.inhibits(&source, &target), want);
            target.entry(blank).or_default();
            prop_assert_eq!(r.inhibits(&source, &target), want);
        }
    }
}
