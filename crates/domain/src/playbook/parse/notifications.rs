//! The `notifications:` section: channels, audiences, message templates,
//! attempts and throttles, converted into a `NotificationsConfig`; and the
//! check that severities notify audiences that exist.
//!
//! Channels, audiences and templates are deserialized into the domain types
//! (a channel with its `name` beside its tagged settings); their errors name
//! a field relative to the entry, located with `locate` as in `oncall`.

use std::collections::HashMap;

use serde_saphyr::Spanned;

use super::raw::{RawChannel, RawNotifications, RawThrottle};
use super::{position_line_column, Check, PlaybookError};
use crate::notify::templates::{TemplateDef, TemplateError, Templates};
use crate::notify::{ChannelConfig, NotificationsConfig, Throttle, CHANNEL_TYPES};
use crate::playbook::SeverityLevel;

/// The most messages a throttle may allow per period.
const MAX_THROTTLE: i64 = 10_000;

impl Check<'_> {
    /// Converts `notifications:`; a key left out takes its value from
    /// [`NotificationsConfig::default`]. Template severities must be among
    /// `severities`.
    pub(super) fn notifications(
        &self,
        raw: RawNotifications,
        severities: &[SeverityLevel],
    ) -> Result<NotificationsConfig, PlaybookError> {
        let default = NotificationsConfig::default();
        let channels: Vec<ChannelConfig> = raw
            .channels
            .unwrap_or_default()
            .into_iter()
            .map(|RawChannel { name, settings }| ChannelConfig { name, settings })
            .collect();
        for (i, channel) in channels.iter().enumerate() {
            self.domain(&format!("notifications.channels[{i}]"), channel.validate())?;
        }
        self.unique_names(
            "notifications.channels",
            channels.iter().map(|c| c.name.as_str()),
        )?;

        let audiences = raw.audiences.unwrap_or_default();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, audience) in audiences.iter().enumerate() {
            let path = format!("notifications.audiences[{i}]");
            self.domain(&path, audience.validate(&channels))?;
            let key = audience.name.trim().to_lowercase();
            if let Some(first) = seen.insert(key, i) {
                return Err(self.error_at_path(
                    &format!("{path}.name"),
                    format!(
                        "{:?} is already used by notifications.audiences[{first}] (case is ignored)",
                        audience.name
                    ),
                ));
            }
        }

        let templates = match raw.templates {
            Some(defs) => self.templates(defs, severities)?,
            None => default.templates,
        };
        let max_attempts = match &raw.max_attempts {
            Some(n) => self.max_attempts(n)?,
            None => default.max_attempts,
        };
        let raw_throttles = raw.throttle.unwrap_or_default();
        let mut throttles: Vec<Throttle> = Vec::new();
        for (i, raw) in raw_throttles.iter().enumerate() {
            let path = format!("notifications.throttle[{i}]");
            let throttle = self.throttle(raw, &path)?;
            if let Some(first) = throttles
                .iter()
                .position(|t| t.channel_type == throttle.channel_type)
            {
                return Err(self.error(
                    &raw.channel_type.referenced,
                    &format!("{path}.channel_type"),
                    format!(
                        "{:?} is already used by notifications.throttle[{first}]",
                        throttle.channel_type
                    ),
                ));
            }
            throttles.push(throttle);
        }
        Ok(NotificationsConfig {
            channels,
            audiences,
            templates,
            max_attempts,
            throttles,
        })
    }

    fn templates(
        &self,
        defs: Vec<TemplateDef>,
        severities: &[SeverityLevel],
    ) -> Result<Templates, PlaybookError> {
        for (i, def) in defs.iter().enumerate() {
            if let Some(severity) = &def.severity {
                if !severities
                    .iter()
                    .any(|s| s.name.eq_ignore_ascii_case(severity))
                {
                    return Err(self.error_at_path(
                        &format!("notifications.templates[{i}].severity"),
                        format!("no severity named {severity:?} in severities"),
                    ));
                }
            }
        }
        Templates::with_overrides(defs).map_err(|e| self.template_error(e))
    }

    /// At the key of the template's part (`text:`), with the line within the
    /// template in the message.
    fn template_error(&self, e: TemplateError) -> PlaybookError {
        let entry = format!("notifications.templates[{}]", e.index.unwrap_or_default());
        // The template's name (`status_update/stakeholders/SEV-1`) and the
        // line within it, so the author finds it in the file and in the UI.
        let message = match e.line {
            Some(line) => format!("template {}, line {line}: {}", e.template, e.message),
            None => format!("template {}: {}", e.template, e.message),
        };
        match e.part {
            Some(part) => {
                let field = format!("{entry}.{}", part.as_str());
                let at = self
                    .index
                    .get_or_init(|| super::locate::PathIndex::build(self.yaml))
                    .as_ref()
                    .and_then(|index| index.key_position(&field));
                match at {
                    Some(at) => {
                        let (line, column) = position_line_column(at);
                        PlaybookError {
                            file: self.file.to_owned(),
                            line,
                            column,
                            field,
                            message,
                        }
                    }
                    None => self.error_at_path(&field, message),
                }
            }
            None => self.error_at_path(&entry, message),
        }
    }

    /// From 1 to [`NotificationsConfig::MAX_ATTEMPTS_LIMIT`].
    fn max_attempts(&self, raw: &Spanned<i64>) -> Result<u32, PlaybookError> {
        let limit = NotificationsConfig::MAX_ATTEMPTS_LIMIT;
        u32::try_from(raw.value)
            .ok()
            .filter(|n| (1..=limit).contains(n))
            .ok_or_else(|| {
                self.error(
                    &raw.referenced,
                    "notifications.max_attempts",
                    format!(
                        "{} is out of range: write a number from 1 to {limit}",
                        raw.value
                    ),
                )
            })
    }

    fn throttle(&self, raw: &RawThrottle, path: &str) -> Result<Throttle, PlaybookError> {
        let channel_type = raw.channel_type.value.trim();
        if !CHANNEL_TYPES.contains(&channel_type) {
            return Err(self.error(
                &raw.channel_type.referenced,
                &format!("{path}.channel_type"),
                format!(
                    "{channel_type:?} is not a channel type: write one of {}",
                    CHANNEL_TYPES.join(", ")
                ),
            ));
        }
        let max = u32::try_from(raw.max.value)
            .ok()
            .filter(|n| (1..=MAX_THROTTLE).contains(&i64::from(*n)))
            .ok_or_else(|| {
                self.error(
                    &raw.max.referenced,
                    &format!("{path}.max"),
                    format!(
                        "{} is out of range: write a number from 1 to {MAX_THROTTLE}",
                        raw.max.value
                    ),
                )
            })?;
        Ok(Throttle {
            channel_type: channel_type.to_owned(),
            max,
            per: self.duration(&raw.per, &format!("{path}.per"))?,
        })
    }

    /// When the playbook defines audiences, each severity's `notify` must
    /// name one of them. `from_file`: the severities are the file's own
    /// (else the built-in ones, which the message then mentions).
    pub(super) fn notify_audiences(
        &self,
        severities: &[SeverityLevel],
        notifications: &NotificationsConfig,
        from_file: bool,
    ) -> Result<(), PlaybookError> {
        if notifications.audiences.is_empty() {
            return Ok(());
        }
        for (i, severity) in severities.iter().enumerate() {
            for (j, rule) in severity.notify.iter().enumerate() {
                if notifications.audience(&rule.audience).is_none() {
                    let mut message = format!(
                        "no audience named {:?} in notifications.audiences",
                        rule.audience
                    );
                    let field = format!("severities[{i}].notify[{j}].audience");
                    if from_file {
                        return Err(self.error_at_path(&field, message));
                    }
                    // Not in the file: point at the audiences instead.
                    message.push_str(
                        " (the built-in severities notify it: define it, or write your own \
                         `severities:`)",
                    );
                    return Err(PlaybookError {
                        field,
                        ..self.error_at_path("notifications.audiences", message)
                    });
                }
            }
        }
        Ok(())
    }
}
