//! The raw YAML shape of a playbook: private serde structs that mirror the
//! file, every one denying unknown keys. `parse` converts them into the domain
//! types; values it validates afterwards are `Spanned` to keep their location.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

use crate::notify::templates::TemplateDef;
use crate::notify::{Audience, ChannelSettings};
use crate::oncall::{EscalationPolicy, Schedule, Team, User, Vendor};

/// A top-level list: `None` when the key is absent, `Some(None)` when it is
/// written with nothing after it.
pub(super) type Section<T> = Option<Spanned<Option<Vec<T>>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlaybook {
    #[serde(default)]
    pub(super) incident_id_format: Option<Spanned<String>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) severities: Section<RawSeverity>,
    #[serde(default, deserialize_with = "present")]
    pub(super) categories: Section<RawNamed>,
    #[serde(default, deserialize_with = "present")]
    pub(super) roles: Section<RawNamed>,
    #[serde(default, deserialize_with = "present")]
    pub(super) services: Section<RawService>,
    #[serde(default, deserialize_with = "present")]
    pub(super) phases: Section<RawPhase>,
    /// `None` when absent, `Some(None)` when written with nothing under it.
    #[serde(default, deserialize_with = "present")]
    pub(super) alerting: Option<Option<RawAlerting>>,
    /// `None` when absent, `Some(None)` when written with nothing under it.
    #[serde(default, deserialize_with = "present")]
    pub(super) oncall: Option<Option<RawOncall>>,
    /// `None` when absent, `Some(None)` when written with nothing under it.
    #[serde(default, deserialize_with = "present")]
    pub(super) notifications: Option<Option<RawNotifications>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSeverity {
    pub(super) name: Spanned<String>,
    pub(super) label: Spanned<String>,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) response_target: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) resolution_target: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) update_every: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) escalate_every: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) notify: Option<Vec<RawNotify>>,
    #[serde(default)]
    pub(super) urgency: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) bridge_url: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) chat_url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    pub(super) audience: Spanned<String>,
    pub(super) within: Spanned<String>,
}

/// A category or a role.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNamed {
    pub(super) name: Spanned<String>,
    #[serde(default)]
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    pub(super) id: Spanned<String>,
    pub(super) name: Spanned<String>,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) when_alerts_resolve: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) escalation_policy: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) links: Option<RawLinks>,
}

/// A service's `links:`, a mapping of name to URL, in the order written.
pub(super) struct RawLinks(pub(super) Vec<(String, Spanned<String>)>);

impl<'de> Deserialize<'de> for RawLinks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LinksVisitor;
        impl<'de> Visitor<'de> for LinksVisitor {
            type Value = RawLinks;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of link names to URLs (`runbook: https://...`)")
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawLinks, E> {
                Ok(RawLinks(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawLinks, A::Error> {
                let mut links = Vec::new();
                while let Some(entry) = map.next_entry::<String, Spanned<String>>()? {
                    links.push(entry);
                }
                Ok(RawLinks(links))
            }
        }
        d.deserialize_map(LinksVisitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPhase {
    pub(super) id: Spanned<String>,
    pub(super) name: Spanned<String>,
    #[serde(default)]
    pub(super) target: Option<String>,
    #[serde(default)]
    pub(super) items: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlerting {
    #[serde(default)]
    pub(super) group_by: Option<Spanned<RawGroupBy>>,
    #[serde(default)]
    pub(super) group_window: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) max_open_alerts_per_service: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) resolve_timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) inhibit_rules: Option<Vec<RawInhibitRule>>,
}

/// `group_by:` is a word (`service`, `group_key`) or a list of label names.
pub(super) enum RawGroupBy {
    Word(String),
    Labels(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RawGroupBy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(GroupByVisitor)
    }
}

struct GroupByVisitor;

impl<'de> Visitor<'de> for GroupByVisitor {
    type Value = RawGroupBy;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`service`, `group_key` or a list of label names")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawGroupBy, E> {
        Ok(RawGroupBy::Word(v.to_owned()))
    }

    // Other scalars are words too, so that `parse` refuses them with its own
    // message and location.
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawGroupBy, E> {
        Ok(RawGroupBy::Word(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawGroupBy, E> {
        Ok(RawGroupBy::Word(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawGroupBy, E> {
        Ok(RawGroupBy::Word(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawGroupBy, E> {
        Ok(RawGroupBy::Word(v.to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawGroupBy, A::Error> {
        let mut labels = Vec::new();
        while let Some(label) = seq.next_element()? {
            labels.push(label);
        }
        Ok(RawGroupBy::Labels(labels))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInhibitRule {
    pub(super) source: Spanned<String>,
    pub(super) target: Spanned<String>,
    #[serde(default)]
    pub(super) equal: Option<Vec<Spanned<String>>>,
}

/// The `oncall:` section. Its entries are the domain types themselves, so
/// they have the same shape as in the API; `parse` validates them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOncall {
    #[serde(default)]
    pub(super) users: Option<Vec<User>>,
    #[serde(default)]
    pub(super) teams: Option<Vec<Team>>,
    #[serde(default)]
    pub(super) vendors: Option<Vec<Vendor>>,
    #[serde(default)]
    pub(super) schedules: Option<Vec<Schedule>>,
    #[serde(default)]
    pub(super) escalation_policies: Option<Vec<EscalationPolicy>>,
    #[serde(default)]
    pub(super) default_escalation_policy: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) acknowledge_timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) ack_link_ttl: Option<Spanned<String>>,
}

/// The `notifications:` section. Audiences and templates are the domain
/// types themselves; a channel is its `ChannelSettings` (tagged by `type`)
/// with a `name` beside the settings.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotifications {
    #[serde(default)]
    pub(super) channels: Option<Vec<RawChannel>>,
    #[serde(default)]
    pub(super) audiences: Option<Vec<Audience>>,
    #[serde(default)]
    pub(super) templates: Option<Vec<TemplateDef>>,
    #[serde(default)]
    pub(super) max_attempts: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) throttle: Option<Vec<RawThrottle>>,
}

#[derive(Deserialize)]
pub(super) struct RawChannel {
    pub(super) name: String,
    #[serde(flatten)]
    pub(super) settings: ChannelSettings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawThrottle {
    pub(super) channel_type: Spanned<String>,
    pub(super) max: Spanned<i64>,
    pub(super) per: Spanned<String>,
}

/// Used with `#[serde(default)]`: only called when the key is present, so a
/// key written as `null` becomes `Some(..)` and is told apart from a missing key.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}
