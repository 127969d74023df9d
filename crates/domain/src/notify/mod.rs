//! Notifications, pure: the channels messages go out on, the audiences that
//! must be told, and the message templates (`templates`), as the playbook's
//! `notifications:` section declares them.
//!
//! Secrets (SMTP passwords, webhook URLs, Twilio tokens) are never in these
//! types: only where to read them (`SecretRef`: an environment variable or a
//! file), resolved by the binary at start-up and never returned by the API.

use serde::{Deserialize, Serialize};

mod check;
pub mod placeholder;
pub(crate) mod secret_field;
pub mod templates;

pub use check::CHANNEL_TYPES;

/// What a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// "You are on call and this needs you": escalation pages.
    Page,
    /// The first notice to an audience when an incident is declared.
    InitialNotification,
    /// A responder's update, sent to the audiences the severity requires.
    StatusUpdate,
    ResolutionNotice,
    /// "An update is due": to the Communications Coordinator (or commander).
    Reminder,
}

impl MessageKind {
    pub const ALL: [MessageKind; 5] = [
        MessageKind::Page,
        MessageKind::InitialNotification,
        MessageKind::StatusUpdate,
        MessageKind::ResolutionNotice,
        MessageKind::Reminder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Page => "page",
            MessageKind::InitialNotification => "initial_notification",
            MessageKind::StatusUpdate => "status_update",
            MessageKind::ResolutionNotice => "resolution_notice",
            MessageKind::Reminder => "reminder",
        }
    }
}

/// Who reads a message, which picks the template's tone.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum AudienceClass {
    /// The people working the incident (pages, reminders).
    #[default]
    Responders,
    /// Management and internal stakeholders.
    Stakeholders,
    /// Customers.
    Customers,
}

impl AudienceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            AudienceClass::Responders => "responders",
            AudienceClass::Stakeholders => "stakeholders",
            AudienceClass::Customers => "customers",
        }
    }
}

/// Where a secret is read from: exactly one of an environment variable or a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// A named way out (`email`, `slack-ops`), used by audiences, contact
/// methods and `warroom notify test --channel NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelConfig {
    pub name: String,
    pub settings: ChannelSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); refuses servers without it.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption (a relay on localhost only).
    None,
}

/// A channel's settings, by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ChannelSettings {
    Smtp {
        host: String,
        #[serde(default = "default_smtp_port")]
        port: u16,
        #[serde(default)]
        security: SmtpSecurity,
        #[serde(default)]
        username: Option<String>,
        #[serde(default, deserialize_with = "secret_field::password")]
        password: Option<SecretRef>,
        /// `Warroom <alerts@example.com>`.
        from: String,
    },
    /// Slack incoming webhook (Block Kit).
    Slack {
        #[serde(deserialize_with = "secret_field::webhook_url")]
        webhook_url: SecretRef,
    },
    /// Mattermost or Rocket.Chat incoming webhook (Slack-compatible payload).
    Mattermost {
        #[serde(deserialize_with = "secret_field::webhook_url")]
        webhook_url: SecretRef,
    },
    /// Microsoft Teams incoming webhook / workflow (Adaptive Card).
    Teams {
        #[serde(deserialize_with = "secret_field::webhook_url")]
        webhook_url: SecretRef,
    },
    Discord {
        #[serde(deserialize_with = "secret_field::webhook_url")]
        webhook_url: SecretRef,
    },
    /// Generic JSON webhook, signed with `X-Warroom-Signature` when a secret is set.
    Webhook {
        #[serde(deserialize_with = "secret_field::url")]
        url: SecretRef,
        #[serde(default, deserialize_with = "secret_field::signing_secret")]
        signing_secret: Option<SecretRef>,
    },
    /// SMS and voice through Twilio's Messages and Calls API (or anything with its shape).
    Twilio {
        #[serde(default = "default_twilio_url")]
        base_url: String,
        account_sid: String,
        #[serde(deserialize_with = "secret_field::auth_token")]
        auth_token: SecretRef,
        /// The sending number, E.164.
        from: String,
    },
}

fn default_smtp_port() -> u16 {
    587
}

fn default_twilio_url() -> String {
    "https://api.twilio.com".to_owned()
}

impl ChannelSettings {
    pub fn type_name(&self) -> &'static str {
        match self {
            ChannelSettings::Smtp { .. } => "smtp",
            ChannelSettings::Slack { .. } => "slack",
            ChannelSettings::Mattermost { .. } => "mattermost",
            ChannelSettings::Teams { .. } => "teams",
            ChannelSettings::Discord { .. } => "discord",
            ChannelSettings::Webhook { .. } => "webhook",
            ChannelSettings::Twilio { .. } => "twilio",
        }
    }
}

/// A group that must be told: `management` by e-mail to these addresses and
/// in `#incidents` on Slack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    pub name: String,
    #[serde(default)]
    pub class: AudienceClass,
    pub targets: Vec<AudienceTarget>,
}

/// One channel of an audience; `to` lists addresses (e-mail) or numbers
/// (Twilio) and is empty for chat webhooks, which post to one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceTarget {
    pub channel: String,
    #[serde(default)]
    pub to: Vec<String>,
}

/// "At most `max` messages per `per` to one destination on this kind of channel."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    /// A channel type (`twilio`, `smtp`, ...).
    pub channel_type: String,
    pub max: u32,
    pub per: jiff::SignedDuration,
}

/// The playbook's `notifications:` section.
///
/// As parsed, channel names are unique handles and their settings valid
/// (secrets by reference only); audience names are unique (case is
/// ignored) and their targets name defined channels, with addresses that
/// fit them; the templates have passed their checks; throttles are for
/// known channel types, one each.
#[derive(Debug, Clone)]
pub struct NotificationsConfig {
    pub channels: Vec<ChannelConfig>,
    pub audiences: Vec<Audience>,
    pub templates: templates::Templates,
    /// Attempts per message before it is dead. Default 5.
    pub max_attempts: u32,
    pub throttles: Vec<Throttle>,
}

/// No channels, no audiences, the built-in templates, 5 attempts, no throttles.
impl Default for NotificationsConfig {
    fn default() -> NotificationsConfig {
        NotificationsConfig {
            channels: Vec::new(),
            audiences: Vec::new(),
            templates: templates::Templates::builtin(),
            max_attempts: NotificationsConfig::DEFAULT_MAX_ATTEMPTS,
            throttles: Vec::new(),
        }
    }
}

impl NotificationsConfig {
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
    /// The largest `max_attempts` a playbook may set.
    pub const MAX_ATTEMPTS_LIMIT: u32 = 20;

    pub fn channel(&self, name: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|c| c.name == name)
    }

    /// The first channel of a type (`smtp` for e-mail contact methods, `twilio` for SMS).
    pub fn channel_of_type(&self, type_name: &str) -> Option<&ChannelConfig> {
        self.channels
            .iter()
            .find(|c| c.settings.type_name() == type_name)
    }

    pub fn audience(&self, name: &str) -> Option<&Audience> {
        self.audiences
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn throttle(&self, channel_type: &str) -> Option<&Throttle> {
        self.throttles
            .iter()
            .find(|t| t.channel_type == channel_type)
    }
}
