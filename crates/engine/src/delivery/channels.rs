//! `ChannelSet`: the playbook's channels with their secrets read, and the
//! routing of each outbox message to one of them.
//!
//! A message's `channel` is either the name of a configured channel
//! (`email`, `slack-ops`) or, for a page to a user's own contact method, the
//! contact kind:
//!
//! | `channel` | goes to |
//! |-----------|---------|
//! | `webhook` | a generic webhook POST to `destination` (unsigned) |
//! | `slack`   | a Block Kit message to the Slack incoming webhook in `destination` |
//! | `email`   | e-mail to `destination` through the first `smtp` channel |
//! | `sms`, `voice` | a text or call to `destination` through the first `twilio` channel |
//!
//! A message for a contact method (`contact_method` set) whose channel is a
//! contact kind always goes to its own destination, even if a configured
//! channel has that name; any other message goes to the channel it names.
//! Through a named channel, e-mail and Twilio (SMS) go to `destination`, and
//! chat and webhook channels post to their configured URL. When no channel
//! of the needed type exists, the message goes to `HttpChannels` (the relay
//! webhook, if one was given, else a permanent error).

use std::fmt;
use std::sync::Arc;

use warroom_domain::notify::{ChannelConfig, ChannelSettings, SecretRef};
use warroom_store::MessageRecord;

use super::chat::ChatFormat;
use super::email::Smtp;
use super::envelope::Envelope;
use super::http::{self, HttpChannels};
use super::secret::Secret;
use super::twilio::Twilio;
use super::{webhook, Channels, SendError};
use crate::clock::{Clock, SystemClock};

/// The configured channels, ready to send. Cheap to share behind an `Arc`.
pub struct ChannelSet {
    channels: Vec<(String, Channel)>,
    client: reqwest::Client,
    fallback: HttpChannels,
    clock: Arc<dyn Clock>,
    severities: Vec<String>,
}

enum Channel {
    Smtp(Box<Smtp>),
    Chat {
        format: ChatFormat,
        url: Secret,
    },
    Webhook {
        url: Secret,
        signing_secret: Option<Secret>,
    },
    Twilio(Twilio),
}

impl Channel {
    fn type_name(&self) -> &'static str {
        match self {
            Channel::Smtp(_) => "smtp",
            Channel::Chat {
                format: ChatFormat::Slack,
                ..
            } => "slack",
            Channel::Chat {
                format: ChatFormat::Mattermost,
                ..
            } => "mattermost",
            Channel::Chat {
                format: ChatFormat::Teams,
                ..
            } => "teams",
            Channel::Chat {
                format: ChatFormat::Discord,
                ..
            } => "discord",
            Channel::Webhook { .. } => "webhook",
            Channel::Twilio(_) => "twilio",
        }
    }
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Channel::Smtp(smtp) => smtp.fmt(f),
            Channel::Chat { format, url } => f
                .debug_struct(format.name())
                .field("webhook_url", url)
                .finish(),
            Channel::Webhook {
                url,
                signing_secret,
            } => f
                .debug_struct("Webhook")
                .field("url", url)
                .field("signing_secret", signing_secret)
                .finish(),
            Channel::Twilio(twilio) => twilio.fmt(f),
        }
    }
}

impl fmt::Debug for ChannelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelSet")
            .field("channels", &self.channels)
            .field("fallback", &self.fallback)
            .finish_non_exhaustive()
    }
}

/// The contact kinds a message's `channel` may name instead of a channel.
const CONTACT_KINDS: [&str; 5] = ["webhook", "slack", "email", "sms", "voice"];

impl ChannelSet {
    /// Reads each channel's secrets with `read_secret` (the binary passes a
    /// reader of environment variables and files) and checks its settings.
    /// Errors name the channel and the setting, and the variable or file
    /// the secret was to come from; never a secret's value.
    pub fn resolve(
        configs: &[ChannelConfig],
        read_secret: impl Fn(&SecretRef) -> Result<String, String>,
    ) -> Result<ChannelSet, String> {
        let mut channels: Vec<(String, Channel)> = Vec::with_capacity(configs.len());
        for config in configs {
            if channels.iter().any(|(name, _)| *name == config.name) {
                return Err(format!("channel {}: the name is used twice", config.name));
            }
            let channel = resolve_one(&config.settings, &read_secret)
                .map_err(|e| format!("channel {}: {e}", config.name))?;
            channels.push((config.name.clone(), channel));
        }
        Ok(ChannelSet {
            channels,
            client: http::client(),
            fallback: HttpChannels::new(None),
            clock: Arc::new(SystemClock),
            severities: Vec::new(),
        })
    }

    /// Where e-mail, SMS and voice go when no channel of their type exists.
    pub fn with_relay(mut self, relay_url: Option<String>) -> ChannelSet {
        self.fallback = HttpChannels::new(relay_url);
        self
    }

    /// The playbook's severities, worst first: they pick chat colours (red,
    /// orange, yellow, then grey). Without them a severity's trailing number
    /// is its rank (`SEV-0` red, `SEV-1` orange, ...).
    pub fn with_severities<S: Into<String>>(
        mut self,
        worst_first: impl IntoIterator<Item = S>,
    ) -> ChannelSet {
        self.severities = worst_first.into_iter().map(Into::into).collect();
        self
    }

    /// The clock that stamps webhook timestamps and e-mail dates.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> ChannelSet {
        self.clock = clock;
        self
    }

    /// The configured channels: name and type (`smtp`, `slack`, ...).
    pub fn channels(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.channels
            .iter()
            .map(|(name, c)| (name.as_str(), c.type_name()))
    }

    fn named(&self, name: &str) -> Option<&Channel> {
        self.channels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
    }

    fn smtp(&self) -> Option<&Smtp> {
        self.channels.iter().find_map(|(_, c)| match c {
            Channel::Smtp(smtp) => Some(&**smtp),
            _ => None,
        })
    }

    fn twilio(&self) -> Option<&Twilio> {
        self.channels.iter().find_map(|(_, c)| match c {
            Channel::Twilio(t) => Some(t),
            _ => None,
        })
    }

    fn rank(&self, severity: Option<&str>) -> Option<usize> {
        let severity = severity?;
        if let Some(i) = self
            .severities
            .iter()
            .position(|s| s.eq_ignore_ascii_case(severity))
        {
            return Some(i);
        }
        let digits: String = severity
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        digits.parse().ok()
    }

    async fn send_named(
        &self,
        channel: &Channel,
        message: &MessageRecord,
        envelope: &Envelope,
    ) -> Result<String, SendError> {
        match channel {
            Channel::Smtp(smtp) => smtp.send(message, envelope, self.clock.now()).await,
            Channel::Chat { format, url } => {
                self.post_chat(*format, url.expose(), message, envelope)
                    .await
            }
            Channel::Webhook {
                url,
                signing_secret,
            } => {
                self.post_webhook(url.expose(), signing_secret.as_ref(), message, envelope)
                    .await
            }
            Channel::Twilio(twilio) => {
                twilio
                    .sms(
                        &self.client,
                        &message.destination,
                        &message.subject,
                        envelope,
                    )
                    .await
            }
        }
    }

    async fn send_to_contact(
        &self,
        message: &MessageRecord,
        envelope: &Envelope,
    ) -> Result<String, SendError> {
        let to = message.destination.as_str();
        match (message.channel.as_str(), self.smtp(), self.twilio()) {
            ("webhook", _, _) => {
                http::check_url(to)?;
                self.post_webhook(to, None, message, envelope).await
            }
            ("slack", _, _) => {
                http::check_url(to)?;
                self.post_chat(ChatFormat::Slack, to, message, envelope)
                    .await
            }
            ("email", Some(smtp), _) => smtp.send(message, envelope, self.clock.now()).await,
            ("sms", _, Some(twilio)) => {
                twilio
                    .sms(&self.client, to, &message.subject, envelope)
                    .await
            }
            ("voice", _, Some(twilio)) => {
                twilio
                    .call(&self.client, to, &message.subject, envelope)
                    .await
            }
            _ => self.fallback.send(message).await,
        }
    }

    async fn post_chat(
        &self,
        format: ChatFormat,
        url: &str,
        message: &MessageRecord,
        envelope: &Envelope,
    ) -> Result<String, SendError> {
        let payload = format.payload(&message.subject, envelope, self.rank(envelope.severity()));
        let request = self.client.post(url).json(&payload);
        let what = format!("{} webhook {}", format.name(), http::redact(url));
        http::send(request, &what).await.map(|a| a.summary())
    }

    async fn post_webhook(
        &self,
        url: &str,
        signing_secret: Option<&Secret>,
        message: &MessageRecord,
        envelope: &Envelope,
    ) -> Result<String, SendError> {
        let now = self.clock.now();
        let body = webhook::payload(message, envelope, now).to_string();
        let timestamp = now.as_second();
        let mut request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("idempotency-key", &message.idempotency_key)
            .header(webhook::TIMESTAMP_HEADER, timestamp.to_string());
        if let Some(secret) = signing_secret {
            let signature = webhook::sign(secret.expose().as_bytes(), timestamp, body.as_bytes());
            request = request.header(webhook::SIGNATURE_HEADER, signature);
        }
        let what = format!("webhook {}", http::redact(url));
        http::send(request.body(body), &what)
            .await
            .map(|a| a.summary())
    }
}

impl Channels for ChannelSet {
    fn carries_contact_kind(&self, kind: &str) -> bool {
        match kind {
            "email" => self.smtp().is_some() || self.fallback.carries_contact_kind(kind),
            "sms" | "voice" => self.twilio().is_some() || self.fallback.carries_contact_kind(kind),
            other => self.fallback.carries_contact_kind(other),
        }
    }

    async fn send(&self, message: &MessageRecord) -> Result<String, SendError> {
        let envelope = Envelope::parse(&message.body);
        let kind = message.channel.as_str();
        let is_contact_kind = CONTACT_KINDS.contains(&kind);
        if message.contact_method.is_some() && is_contact_kind {
            return self.send_to_contact(message, &envelope).await;
        }
        if let Some(channel) = self.named(kind) {
            return self.send_named(channel, message, &envelope).await;
        }
        if is_contact_kind {
            return self.send_to_contact(message, &envelope).await;
        }
        self.fallback.send(message).await
    }
}

fn resolve_one(
    settings: &ChannelSettings,
    read_secret: &impl Fn(&SecretRef) -> Result<String, String>,
) -> Result<Channel, String> {
    let secret = |field: &str, r: &SecretRef| read(field, r, read_secret);
    let url = |field: &str, r: &SecretRef| {
        let value = secret(field, r)?;
        match url::Url::parse(value.expose()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(value),
            _ => Err(format!("{field} ({}) is not an http(s) URL", describe(r))),
        }
    };
    let chat = |format: ChatFormat, r: &SecretRef| {
        Ok(Channel::Chat {
            format,
            url: url("webhook_url", r)?,
        })
    };
    match settings {
        ChannelSettings::Smtp {
            host,
            port,
            security,
            username,
            password,
            from,
        } => {
            let password = password
                .as_ref()
                .map(|r| secret("password", r))
                .transpose()?;
            let smtp = Smtp::new(host, *port, *security, username.as_deref(), password, from)?;
            Ok(Channel::Smtp(Box::new(smtp)))
        }
        ChannelSettings::Slack { webhook_url } => chat(ChatFormat::Slack, webhook_url),
        ChannelSettings::Mattermost { webhook_url } => chat(ChatFormat::Mattermost, webhook_url),
        ChannelSettings::Teams { webhook_url } => chat(ChatFormat::Teams, webhook_url),
        ChannelSettings::Discord { webhook_url } => chat(ChatFormat::Discord, webhook_url),
        ChannelSettings::Webhook {
            url: u,
            signing_secret,
        } => Ok(Channel::Webhook {
            url: url("url", u)?,
            signing_secret: signing_secret
                .as_ref()
                .map(|r| secret("signing_secret", r))
                .transpose()?,
        }),
        ChannelSettings::Twilio {
            base_url,
            account_sid,
            auth_token,
            from,
        } => {
            let token = secret("auth_token", auth_token)?;
            Ok(Channel::Twilio(Twilio::new(
                base_url,
                account_sid,
                token,
                from,
            )?))
        }
    }
}

/// `env SMTP_PASSWORD` / `file /run/secrets/smtp`.
fn describe(r: &SecretRef) -> String {
    match (&r.env, &r.file) {
        (Some(env), None) => format!("env {env}"),
        (None, Some(file)) => format!("file {file}"),
        _ => "a secret".to_owned(),
    }
}

fn read(
    field: &str,
    r: &SecretRef,
    read_secret: &impl Fn(&SecretRef) -> Result<String, String>,
) -> Result<Secret, String> {
    if r.env.is_some() == r.file.is_some() {
        return Err(format!("{field} must name exactly one of env or file"));
    }
    let value = read_secret(r).map_err(|e| format!("{field} ({}): {e}", describe(r)))?;
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("{field} ({}) is empty", describe(r)));
    }
    Ok(Secret::new(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> SecretRef {
        SecretRef {
            env: Some(name.to_owned()),
            file: None,
        }
    }

    fn reader(r: &SecretRef) -> Result<String, String> {
        match r.env.as_deref() {
            Some("SLACK_URL") => Ok("https://hooks.slack.com/services/T/B/SECRETPATH\n".into()),
            Some("TOKEN") => Ok("tok-SECRET".into()),
            Some("NOT_A_URL") => Ok("SECRET-not-a-url".into()),
            _ => Err("is not set".into()),
        }
    }

    fn config(name: &str, settings: ChannelSettings) -> ChannelConfig {
        ChannelConfig {
            name: name.to_owned(),
            settings,
        }
    }

    #[test]
    fn errors_name_the_channel_and_the_source_never_the_secret() {
        let missing = ChannelSet::resolve(
            &[config(
                "ops",
                ChannelSettings::Slack {
                    webhook_url: env("MISSING"),
                },
            )],
            reader,
        )
        .unwrap_err();
        assert_eq!(
            missing,
            "channel ops: webhook_url (env MISSING): is not set"
        );
        let bad = ChannelSet::resolve(
            &[config(
                "hook",
                ChannelSettings::Webhook {
                    url: env("NOT_A_URL"),
                    signing_secret: None,
                },
            )],
            reader,
        )
        .unwrap_err();
        assert_eq!(
            bad,
            "channel hook: url (env NOT_A_URL) is not an http(s) URL"
        );
        let both = SecretRef {
            env: Some("A".into()),
            file: Some("/b".into()),
        };
        assert!(ChannelSet::resolve(
            &[config("t", ChannelSettings::Teams { webhook_url: both })],
            reader
        )
        .unwrap_err()
        .contains("exactly one"));
    }

    #[test]
    fn debug_shows_no_secret() {
        let set = ChannelSet::resolve(
            &[
                config(
                    "ops",
                    ChannelSettings::Slack {
                        webhook_url: env("SLACK_URL"),
                    },
                ),
                config(
                    "sms",
                    ChannelSettings::Twilio {
                        base_url: "https://api.twilio.com".into(),
                        account_sid: "AC123".into(),
                        auth_token: env("TOKEN"),
                        from: "+15550000000".into(),
                    },
                ),
            ],
            reader,
        )
        .unwrap();
        let debug = format!("{set:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("AC123"));
        assert_eq!(
            set.channels().collect::<Vec<_>>(),
            [("ops", "slack"), ("sms", "twilio")]
        );
    }

    #[test]
    fn severity_ranks() {
        let set = ChannelSet::resolve(&[], reader).unwrap();
        assert_eq!(set.rank(Some("SEV-0")), Some(0));
        assert_eq!(set.rank(Some("P2")), Some(2));
        assert_eq!(set.rank(Some("critical")), None);
        let set = set.with_severities(["critical", "major", "minor"]);
        assert_eq!(set.rank(Some("Major")), Some(1));
        assert_eq!(set.rank(None), None);
    }
}
