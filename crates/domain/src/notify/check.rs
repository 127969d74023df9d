//! The rules of the notification config: valid channel settings and secret
//! references, and audiences whose targets fit their channels. Errors name
//! the field relative to the value checked (`password.env`, `targets[1].to[0]`).

use regex::Regex;
use std::sync::OnceLock;

use super::{Audience, AudienceTarget, ChannelConfig, ChannelSettings, SecretRef};
use crate::oncall::check_handle;
use crate::oncall::directory::{check_email, check_phone, check_url};
use crate::DomainError;

/// The channel types, as written in `type:` (and in throttles' `channel_type`).
pub const CHANNEL_TYPES: [&str; 7] = [
    "smtp",
    "slack",
    "mattermost",
    "teams",
    "discord",
    "webhook",
    "twilio",
];

fn join(field: &str, key: &str) -> String {
    if field.is_empty() {
        key.to_owned()
    } else {
        format!("{field}.{key}")
    }
}

impl SecretRef {
    /// Exactly one of `env` (a variable name such as `SLACK_WEBHOOK`) or
    /// `file` (a path). `field` is where the reference is written.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        static ENV_NAME: OnceLock<Regex> = OnceLock::new();
        match (&self.env, &self.file) {
            (Some(env), None) => {
                let re = ENV_NAME.get_or_init(|| {
                    Regex::new("^[A-Z_][A-Z0-9_]*$").expect("a valid regular expression")
                });
                if !re.is_match(env) {
                    return Err(DomainError::invalid(
                        join(field, "env"),
                        format!(
                            "{env:?} is not an environment variable name: use A-Z, 0-9 and '_', \
                             not starting with a digit"
                        ),
                    ));
                }
                Ok(())
            }
            (None, Some(file)) => {
                if file.trim().is_empty() || file.chars().any(char::is_control) {
                    return Err(DomainError::invalid(
                        join(field, "file"),
                        format!("{file:?} is not a file path"),
                    ));
                }
                Ok(())
            }
            _ => Err(DomainError::invalid(
                field,
                "write exactly one of `env: VARIABLE` or `file: /path/to/secret`",
            )),
        }
    }
}

/// `alerts@example.com` or `Warroom <alerts@example.com>`.
fn check_mailbox(field: &str, value: &str) -> Result<(), DomainError> {
    let address = match value.trim().strip_suffix('>') {
        Some(rest) => match rest.rsplit_once('<') {
            Some((name, address)) if !name.contains(['<', '>', '\n']) => address,
            _ => "",
        },
        None => value,
    };
    check_email(field, address).map_err(|_| {
        DomainError::invalid(
            field,
            format!(
                "{value:?} is not an e-mail address or `Name <address>` such as \
                 \"Warroom <alerts@example.com>\""
            ),
        )
    })
}

fn check_word(field: &str, value: &str, what: &str) -> Result<(), DomainError> {
    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::invalid(
            field,
            format!("{value:?} is not {what}"),
        ));
    }
    Ok(())
}

impl ChannelConfig {
    /// Checks the name (a handle) and the settings of the channel's type.
    pub fn validate(&self) -> Result<(), DomainError> {
        check_handle("name", &self.name)?;
        // Pages to a person's own contact method name their kind as the
        // channel; a channel of the same name would be ambiguous.
        if ["email", "sms", "voice", "slack", "webhook"].contains(&self.name.as_str()) {
            return Err(DomainError::invalid(
                "name",
                format!(
                    "{:?} names a kind of contact method; call the channel something else, e.g. \"{}-main\"",
                    self.name, self.name
                ),
            ));
        }
        match &self.settings {
            ChannelSettings::Smtp {
                host,
                port,
                username,
                password,
                from,
                ..
            } => {
                check_word("host", host, "a host name")?;
                if *port == 0 {
                    return Err(DomainError::invalid("port", "must be from 1 to 65535"));
                }
                if let Some(username) = username {
                    check_word("username", username, "a user name")?;
                }
                if let Some(password) = password {
                    password.validate("password")?;
                }
                check_mailbox("from", from)
            }
            ChannelSettings::Slack { webhook_url }
            | ChannelSettings::Mattermost { webhook_url }
            | ChannelSettings::Teams { webhook_url }
            | ChannelSettings::Discord { webhook_url } => webhook_url.validate("webhook_url"),
            ChannelSettings::Webhook {
                url,
                signing_secret,
            } => {
                url.validate("url")?;
                match signing_secret {
                    Some(secret) => secret.validate("signing_secret"),
                    None => Ok(()),
                }
            }
            ChannelSettings::Twilio {
                base_url,
                account_sid,
                auth_token,
                from,
            } => {
                check_url("base_url", base_url)?;
                check_word("account_sid", account_sid, "an account SID")?;
                auth_token.validate("auth_token")?;
                check_phone("from", from)
            }
        }
    }
}

impl AudienceTarget {
    /// `to` holds e-mail addresses for an SMTP channel and E.164 numbers for
    /// Twilio, at least one; it is empty for chat and webhook channels, which
    /// post to one place.
    pub fn validate(&self, channel: &ChannelConfig) -> Result<(), DomainError> {
        let type_name = channel.settings.type_name();
        let check: fn(&str, &str) -> Result<(), DomainError> = match &channel.settings {
            ChannelSettings::Smtp { .. } => check_email,
            ChannelSettings::Twilio { .. } => check_phone,
            _ if self.to.is_empty() => return Ok(()),
            _ => {
                return Err(DomainError::invalid(
                    "to",
                    format!(
                        "a {type_name} channel posts to one place: leave `to` out \
                         (channel {:?})",
                        channel.name
                    ),
                ))
            }
        };
        if self.to.is_empty() {
            let what = if type_name == "smtp" {
                "e-mail address"
            } else {
                "phone number"
            };
            return Err(DomainError::invalid(
                "to",
                format!("a {type_name} channel needs at least one {what} in `to`"),
            ));
        }
        for (i, to) in self.to.iter().enumerate() {
            check(&format!("to[{i}]"), to)?;
        }
        Ok(())
    }
}

impl Audience {
    /// A non-blank name and at least one target, each naming one of
    /// `channels` (at most once) and fitting it.
    pub fn validate(&self, channels: &[ChannelConfig]) -> Result<(), DomainError> {
        if self.name.trim().is_empty() {
            return Err(DomainError::invalid("name", "must not be empty"));
        }
        crate::oncall::check_text("name", &self.name, 100)?;
        if self.targets.is_empty() {
            return Err(DomainError::invalid(
                "targets",
                "needs at least one target: {channel: NAME, to: [...]}",
            ));
        }
        for (i, target) in self.targets.iter().enumerate() {
            let field = format!("targets[{i}]");
            let Some(channel) = channels.iter().find(|c| c.name == target.channel) else {
                return Err(DomainError::invalid(
                    format!("{field}.channel"),
                    format!(
                        "no channel named {:?} in notifications.channels",
                        target.channel
                    ),
                ));
            };
            if self.targets[..i]
                .iter()
                .any(|t| t.channel == target.channel)
            {
                return Err(DomainError::invalid(
                    format!("{field}.channel"),
                    format!("channel {:?} is listed twice", target.channel),
                ));
            }
            target.validate(channel).map_err(|e| match e {
                DomainError::Invalid { field: f, message } => {
                    DomainError::invalid(format!("{field}.{f}"), message)
                }
                other => other,
            })?;
        }
        Ok(())
    }
}
