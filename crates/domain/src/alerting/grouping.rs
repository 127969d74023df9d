//! Grouping: which alerts belong together in one incident, decided by a
//! stable group key.
//!
//! An alert joins the open incident of its group (same group key) if there
//! is one; otherwise a new incident opens. `window` bounds "open" for
//! grouping: the caller joins the group's incident only while it is
//! unresolved and the group's previous alert arrived, or one of its
//! incident's firing alerts was re-sent, at most `window` before `now` (a
//! storm that lasts 40 minutes, repeated every few minutes, stays one
//! incident); past that, a new incident opens even if the old one is still
//! being worked. This module computes the key and carries the window; finding the
//! group's incident and opening a new one is the caller's job.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::alert::AlertSignal;

/// The grouping window used when none is configured: 5 minutes.
pub const DEFAULT_GROUP_WINDOW: SignedDuration = SignedDuration::from_mins(5);

/// What makes two alerts of one service belong to the same group.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Every alert of the service goes together.
    #[default]
    Service,
    /// The sender's own group key (Alertmanager's `groupKey`); alerts without
    /// one group by service.
    GroupKey,
    /// The values of these labels (absent counts as empty), within the service.
    Labels(Vec<String>),
}

/// How a service's alerts are grouped into incidents; see the module docs
/// for what `window` means (default [`DEFAULT_GROUP_WINDOW`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupingRule {
    #[serde(default)]
    pub by: GroupBy,
    #[serde(default = "default_window")]
    pub window: SignedDuration,
}

fn default_window() -> SignedDuration {
    DEFAULT_GROUP_WINDOW
}

impl Default for GroupingRule {
    fn default() -> GroupingRule {
        GroupingRule {
            by: GroupBy::Service,
            window: DEFAULT_GROUP_WINDOW,
        }
    }
}

impl GroupingRule {
    /// The group an alert belongs to. Deterministic and unambiguous:
    ///
    /// - `Service`: `api`
    /// - `GroupKey`: `api|key:{group key}`, or `api` without a group key
    /// - `Labels`: `api|alertname=HighLatency|env=prod`, names sorted and
    ///   deduplicated, so neither their order nor the labels' order matters
    ///
    /// `%`, `|` and `=` inside the service, names, values and group key are
    /// written `%25`, `%7C` and `%3D`, so different inputs never share a key.
    /// Pass the service's playbook id: the key is case-sensitive.
    pub fn group_key(
        &self,
        service: &str,
        labels: &BTreeMap<String, String>,
        group_key: Option<&str>,
    ) -> String {
        let mut key = escape(service);
        match &self.by {
            GroupBy::Service => {}
            GroupBy::GroupKey => {
                if let Some(sender_key) = group_key.filter(|k| !k.is_empty()) {
                    key.push_str("|key:");
                    key.push_str(&escape(sender_key));
                }
            }
            GroupBy::Labels(names) => {
                let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
                names.sort_unstable();
                names.dedup();
                for name in names {
                    let value = labels.get(name).map_or("", String::as_str);
                    key.push('|');
                    key.push_str(&escape(name));
                    key.push('=');
                    key.push_str(&escape(value));
                }
            }
        }
        key
    }

    /// [`GroupingRule::group_key`] for a normalized signal.
    pub fn group_key_for(&self, service: &str, signal: &AlertSignal) -> String {
        self.group_key(service, &signal.labels, signal.group_key.as_deref())
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '|' => out.push_str("%7C"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn by_labels(names: &[&str]) -> GroupingRule {
        GroupingRule {
            by: GroupBy::Labels(names.iter().map(|s| (*s).to_owned()).collect()),
            ..GroupingRule::default()
        }
    }

    #[test]
    fn keys() {
        let l = labels(&[("alertname", "HighLatency"), ("env", "prod"), ("pod", "x1")]);
        let service = GroupingRule::default();
        let sender = GroupingRule {
            by: GroupBy::GroupKey,
            ..GroupingRule::default()
        };
        let check = [
            (&service, Some("g"), "api"),
            (
                &sender,
                Some("{}:{alertname=\"X\"}"),
                "api|key:{}:{alertname%3D\"X\"}",
            ),
            (&sender, None, "api"),
            (&sender, Some(""), "api"),
        ];
        for (rule, group_key, want) in check {
            assert_eq!(rule.group_key("api", &l, group_key), want);
        }
        assert_eq!(
            by_labels(&["env", "alertname", "env"]).group_key("api", &l, None),
            "api|alertname=HighLatency|env=prod"
        );
        assert_eq!(
            by_labels(&["missing"]).group_key("api", &l, None),
            "api|missing="
        );
        assert_eq!(by_labels(&[]).group_key("api", &l, None), "api");
        assert_eq!(
            by_labels(&["a|b"]).group_key("x|y", &labels(&[("a|b", "1=2%")]), None),
            "x%7Cy|a%7Cb=1%3D2%25"
        );
    }

    #[test]
    fn defaults_and_serde() {
        let rule = GroupingRule::default();
        assert_eq!(rule.by, GroupBy::Service);
        assert_eq!(rule.window, SignedDuration::from_secs(300));
        let parsed: GroupingRule =
            serde_json::from_value(serde_json::json!({"by": {"labels": ["env"]}})).unwrap();
        assert_eq!(parsed, by_labels(&["env"]));
        let parsed: GroupingRule = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(parsed, rule);
        let json = serde_json::to_value(GroupingRule {
            by: GroupBy::GroupKey,
            window: SignedDuration::from_mins(10),
        })
        .unwrap();
        let back: GroupingRule = serde_json::from_value(json).unwrap();
        assert_eq!(back.by, GroupBy::GroupKey);
        assert_eq!(back.window, SignedDuration::from_mins(10));
    }

    fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::vec(("[a-d|=%]{1,3}", "[xy|=%]{0,3}"), 0..8)
    }

    proptest! {
        /// Neither the order labels arrive in, nor the order (or repetition)
        /// of the grouping names, nor labels outside them change the key.
        #[test]
        fn stable_under_order(
            pairs in pairs(),
            names in proptest::collection::vec("[a-d|=%]{1,3}", 0..5),
            extra in "[e-h]{1,3}",
            seed in any::<u64>(),
        ) {
            let forward: BTreeMap<_, _> = pairs.iter().cloned().collect();
            let mut reversed_names = names.clone();
            reversed_names.reverse();
            reversed_names.extend(names.iter().take(1).cloned());
            let mut with_extra = forward.clone();
            with_extra.insert(extra, seed.to_string());

            let a = GroupingRule { by: GroupBy::Labels(names), ..GroupingRule::default() };
            let b = GroupingRule { by: GroupBy::Labels(reversed_names), ..GroupingRule::default() };
            let key = a.group_key("svc", &forward, None);
            prop_assert_eq!(&key, &b.group_key("svc", &with_extra, None));
            prop_assert_eq!(&key, &a.group_key("svc", &forward, Some("ignored")));
        }

        /// Different services or different grouped values give different keys.
        #[test]
        fn unambiguous(
            s1 in "[a|=%:]{0,4}", s2 in "[a|=%:]{0,4}",
            v1 in "[x|=%]{0,3}", v2 in "[x|=%]{0,3}",
            k1 in proptest::option::of("[k|=%:]{0,4}"), k2 in proptest::option::of("[k|=%:]{0,4}"),
        ) {
            let rule = by_labels(&["n", "m|="]);
            let l1 = labels(&[("n", &v1), ("m|=", &v2)]);
            let l2 = labels(&[("n", &v2), ("m|=", &v1)]);
            let same = s1 == s2 && v1 == v2;
            prop_assert_eq!(rule.group_key(&s1, &l1, None) == rule.group_key(&s2, &l2, None), same);

            let sender = GroupingRule { by: GroupBy::GroupKey, ..GroupingRule::default() };
            let k1 = k1.filter(|k| !k.is_empty());
            let k2 = k2.filter(|k| !k.is_empty());
            let same = s1 == s2 && k1 == k2;
            let key1 = sender.group_key(&s1, &l1, k1.as_deref());
            let key2 = sender.group_key(&s2, &l1, k2.as_deref());
            prop_assert_eq!(key1 == key2, same);
        }
    }
}
