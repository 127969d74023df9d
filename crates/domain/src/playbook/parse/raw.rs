//! The raw YAML shape of a playbook: private serde structs that mirror the
//! file, every one denying unknown keys. `parse` converts them into the domain
//! types; values it validates afterwards are `Spanned` to keep their location.

use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

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

/// Used with `#[serde(default)]`: only called when the key is present, so a
/// key written as `null` becomes `Some(..)` and is told apart from a missing key.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}
