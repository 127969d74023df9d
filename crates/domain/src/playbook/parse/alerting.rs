//! The `alerting:` section: grouping, the open-alert cap, the resolve timeout
//! and inhibit rules, converted into an `AlertingConfig`.

use serde_saphyr::Spanned;

use super::locate::join;
use super::raw::{RawAlerting, RawGroupBy, RawInhibitRule};
use super::{Check, PlaybookError};
use crate::alerting::{parse_matchers, GroupBy, GroupingRule, InhibitRule, MatchOp, Matcher};
use crate::playbook::AlertingConfig;

impl Check<'_> {
    /// Converts `alerting:`; a key left out takes its value from
    /// [`AlertingConfig::default`].
    pub(super) fn alerting(&self, raw: RawAlerting) -> Result<AlertingConfig, PlaybookError> {
        let default = AlertingConfig::default();
        let by = match &raw.group_by {
            Some(by) => self.group_by(by)?,
            None => default.grouping.by,
        };
        let window = match &raw.group_window {
            Some(window) => self.duration(window, "alerting.group_window")?,
            None => default.grouping.window,
        };
        let max_open_alerts_per_service = match &raw.max_open_alerts_per_service {
            Some(cap) => self.open_alerts_cap(cap)?,
            None => default.max_open_alerts_per_service,
        };
        let resolve_timeout = match &raw.resolve_timeout {
            Some(timeout) => self.duration(timeout, "alerting.resolve_timeout")?,
            None => default.resolve_timeout,
        };
        let inhibit_rules = raw
            .inhibit_rules
            .as_deref()
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, rule)| self.inhibit_rule(rule, &format!("alerting.inhibit_rules[{i}]")))
            .collect::<Result<_, _>>()?;
        Ok(AlertingConfig {
            grouping: GroupingRule { by, window },
            max_open_alerts_per_service,
            resolve_timeout,
            inhibit_rules,
        })
    }

    fn group_by(&self, raw: &Spanned<RawGroupBy>) -> Result<GroupBy, PlaybookError> {
        const FIELD: &str = "alerting.group_by";
        match &raw.value {
            RawGroupBy::Word(word) => match word.trim() {
                "service" => Ok(GroupBy::Service),
                "group_key" => Ok(GroupBy::GroupKey),
                other => Err(self.error(
                    &raw.referenced,
                    FIELD,
                    format!(
                        "{other:?} is not `service` or `group_key`; to group by labels, \
                         list them: [alertname, env]"
                    ),
                )),
            },
            RawGroupBy::Labels(labels) if labels.is_empty() => Err(self.error(
                &raw.referenced,
                FIELD,
                "list at least one label name, or write `service`".to_owned(),
            )),
            RawGroupBy::Labels(labels) => Ok(GroupBy::Labels(
                labels
                    .iter()
                    .enumerate()
                    .map(|(i, label)| self.label_name(label, &format!("{FIELD}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )),
        }
    }

    fn open_alerts_cap(&self, raw: &Spanned<i64>) -> Result<u32, PlaybookError> {
        let limit = AlertingConfig::MAX_OPEN_ALERTS_LIMIT;
        u32::try_from(raw.value)
            .ok()
            .filter(|cap| (1..=limit).contains(cap))
            .ok_or_else(|| {
                self.error(
                    &raw.referenced,
                    "alerting.max_open_alerts_per_service",
                    format!(
                        "{} is out of range: write a number from 1 to {limit}",
                        raw.value
                    ),
                )
            })
    }

    fn inhibit_rule(&self, raw: &RawInhibitRule, path: &str) -> Result<InhibitRule, PlaybookError> {
        let equal = raw.equal.as_deref().unwrap_or_default();
        Ok(InhibitRule {
            source: self.matchers(&raw.source, &join(path, "source"))?,
            target: self.matchers(&raw.target, &join(path, "target"))?,
            equal: equal
                .iter()
                .enumerate()
                .map(|(j, label)| self.label_name(label, &format!("{path}.equal[{j}]")))
                .collect::<Result<_, _>>()?,
        })
    }

    /// At least one matcher, in Alertmanager syntax (`a="b", c=~"d"`).
    fn matchers(
        &self,
        value: &Spanned<String>,
        field: &str,
    ) -> Result<Vec<Matcher>, PlaybookError> {
        let matchers = parse_matchers(&value.value)
            .map_err(|e| self.error(&value.referenced, field, e.to_string()))?;
        if matchers.is_empty() {
            return Err(self.error(
                &value.referenced,
                field,
                "at least one matcher is required, e.g. 'severity=\"critical\"'".to_owned(),
            ));
        }
        Ok(matchers)
    }

    /// A label name as matchers accept it.
    fn label_name(&self, value: &Spanned<String>, field: &str) -> Result<String, PlaybookError> {
        // Building a matcher checks the name by the same rule as in `source`/`target`.
        Matcher::new(value.value.as_str(), MatchOp::Eq, "")
            .map(|_| value.value.clone())
            .map_err(|e| self.error(&value.referenced, field, e.to_string()))
    }
}
