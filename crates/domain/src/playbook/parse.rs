//! YAML to `Playbook`, with errors that name file, line, column and field.
//!
//! Private "raw" structs mirror the YAML, every one with
//! `deny_unknown_fields`, and are then converted into the domain types,
//! validating as we go. Values that are checked after deserializing are
//! `Spanned`, so their errors point at the line and column they were written on.

mod alerting;
mod duration;
mod locate;
mod notifications;
mod oncall;
mod raw;
#[cfg(test)]
mod tests;

use std::cell::OnceCell;
use std::collections::hash_map::{Entry, HashMap};
use std::fmt;
use std::sync::OnceLock;

use jiff::SignedDuration;
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

use super::{
    AlertsResolved, Category, NotifyRule, OncallConfig, PhaseDef, Playbook, RoleDef, ServiceDef,
    ServiceLink, SeverityLevel, MAX_SERVICE_LINKS,
};
use crate::id_format::IdFormat;
use crate::notify::NotificationsConfig;
use crate::oncall::Urgency;
use duration::parse_duration;
use locate::{join, PathIndex};
use raw::{RawNamed, RawPhase, RawPlaybook, RawService, RawSeverity, Section};

/// A playbook that could not be loaded, located as precisely as we can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybookError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Path of the offending field, e.g. `severities[1].update_every`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for PlaybookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for PlaybookError {}

const BUILTIN_FILE: &str = "examples/playbook.yaml";
const BUILTIN_YAML: &str = include_str!("../../../../examples/playbook.yaml");

impl Playbook {
    /// Parses and validates a playbook. `file` is only used in error messages.
    ///
    /// Every top-level key is optional. A key that is left out takes its value
    /// from the compiled-in playbook ([`Playbook::builtin`]), so a file with
    /// only `services:` keeps the default ID format, severities, categories,
    /// roles and phases. A key that is present replaces that section entirely;
    /// written empty (`services: []`, or `services:` with nothing under it) it
    /// means "none", except for `severities`, which needs at least one level.
    /// `alerting`, `oncall` and `notifications` are mappings rather than
    /// lists: each key left out inside one, or all of them when it is written
    /// empty, takes its value from
    /// [`AlertingConfig::default`](super::AlertingConfig::default),
    /// [`OncallConfig::default`](super::OncallConfig::default) (nobody) or
    /// [`NotificationsConfig::default`] (nowhere to send, built-in templates).
    pub fn parse(file: &str, yaml: &str) -> Result<Playbook, PlaybookError> {
        parse_with(file, yaml, Some(builtin_ref()))
    }

    /// The compiled-in defaults: `examples/playbook.yaml`.
    pub fn builtin() -> Playbook {
        builtin_ref().clone()
    }
}

/// The compiled-in playbook, parsed once. It is parsed without a fallback (no
/// recursion), so it must spell out every section itself.
fn builtin_ref() -> &'static Playbook {
    static BUILTIN: OnceLock<Playbook> = OnceLock::new();
    BUILTIN.get_or_init(|| {
        parse_with(BUILTIN_FILE, BUILTIN_YAML, None)
            .unwrap_or_else(|e| panic!("the compiled-in playbook is invalid: {e}"))
    })
}

/// `defaults` fills in the sections the file leaves out; without it they are errors.
fn parse_with(
    file: &str,
    yaml: &str,
    defaults: Option<&Playbook>,
) -> Result<Playbook, PlaybookError> {
    let options = serde_saphyr::options! { with_snippet: false };
    let raw: RawPlaybook = serde_saphyr::from_str_with_options(yaml, options)
        .map_err(|e| yaml_error(file, yaml, &e))?;
    Check {
        file,
        yaml,
        index: OnceCell::new(),
    }
    .playbook(raw, defaults)
}

/// Turns a serde-saphyr error into ours, recovering the field path from its location.
fn yaml_error(file: &str, yaml: &str, err: &serde_saphyr::Error) -> PlaybookError {
    let mut inner = err;
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = inner
    {
        inner = error;
    }
    let message = yaml_message(inner);
    let location = err.location().filter(|at| at.line() > 0);
    let (mut line, mut column) = line_column(location);
    let index = location.and_then(|_| PathIndex::build(yaml));
    let mut field = match (&index, location) {
        (Some(index), Some(at)) => {
            let (field, written_at) = field_at(index, inner, at);
            if let Some(at) = written_at {
                (line, column) = position_line_column(at);
            }
            field.unwrap_or_default()
        }
        _ => String::new(),
    };
    // A secret written inline is reported where serde was (the channel's
    // mapping, read whole for its `type`); the message names the key.
    if let (Some(index), Some(key)) = (&index, secret_field(&message)) {
        if let Some((path, at)) = index.nearest_key(&field, key) {
            field = path;
            (line, column) = position_line_column(at);
        }
    }
    PlaybookError {
        file: file.to_owned(),
        line,
        column,
        field,
        message,
    }
}

/// The key a "`url` is a secret" message names
/// ([`crate::notify::secret_field`]).
fn secret_field(message: &str) -> Option<&str> {
    let end = message.find(&format!("` {}", crate::notify::secret_field::MARKER))?;
    let head = &message[..end];
    Some(&head[head.rfind('`')? + 1..])
}

/// The message without location; plainer words for the commonest shape errors.
fn yaml_message(err: &serde_saphyr::Error) -> String {
    if let serde_saphyr::Error::InvalidScalar { ty, .. } = err {
        if ty.starts_with(['i', 'u']) {
            return "expected a whole number".to_owned();
        }
    }
    if let serde_saphyr::Error::Unexpected { expected, .. } = err {
        let plain = match *expected {
            "sequence start" => Some("expected a list (lines starting with `- `)"),
            "mapping start" => Some("expected a mapping (`key: value` lines)"),
            "string scalar" => Some("expected text"),
            _ => None,
        };
        if let Some(plain) = plain {
            return plain.to_owned();
        }
    }
    UserMessageFormatter
        .format_message(err)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The path of the field at fault, and where it is written when that is not
/// where the error says.
fn field_at(
    index: &PathIndex,
    err: &serde_saphyr::Error,
    at: Location,
) -> (Option<String>, Option<(u64, u64)>) {
    let field = match err {
        // Reported at the unknown key itself, except inside an internally
        // tagged enum (`{type: team, ...}`), whose mapping serde reads whole
        // before it looks at the keys: then at the start of the mapping.
        serde_saphyr::Error::SerdeUnknownField { field, .. } => {
            let mapping = index.mapping_of_key_at(at).or_else(|| index.value_at(at));
            if let Some(path) = mapping.map(|m| join(m, field)) {
                if let Some(written_at) = index.key_position(&path) {
                    return (Some(path), Some(written_at));
                }
            }
            index
                .key_at(at)
                .or_else(|| index.value_at(at))
                .map(str::to_owned)
        }
        // Reported at the start of the mapping that lacks it, which in a flow
        // mapping (`{a: 1}`) is its first key.
        serde_saphyr::Error::SerdeMissingField { field, .. } => index
            .value_at(at)
            .or_else(|| index.mapping_of_key_at(at))
            .map(|path| join(path, field)),
        _ => index
            .value_at(at)
            .or_else(|| index.key_at(at))
            .map(str::to_owned),
    };
    (field, None)
}

fn position_line_column((line, column): (u64, u64)) -> (Option<usize>, Option<usize>) {
    (
        usize::try_from(line).ok().filter(|l| *l > 0),
        usize::try_from(column).ok().filter(|c| *c > 0),
    )
}

fn line_column(location: Option<Location>) -> (Option<usize>, Option<usize>) {
    match location {
        Some(at) if at.line() > 0 => (
            usize::try_from(at.line()).ok(),
            usize::try_from(at.column()).ok().filter(|c| *c > 0),
        ),
        _ => (None, None),
    }
}

/// Converts raw structs into domain types; knows the file (name and text) for errors.
struct Check<'a> {
    file: &'a str,
    yaml: &'a str,
    /// Built on the first error that has a field path but no location.
    index: OnceCell<Option<PathIndex>>,
}

impl Check<'_> {
    /// An error at the place `field` (a full path such as
    /// `oncall.users[0].email`) is written, or at its closest ancestor.
    fn error_at_path(&self, field: &str, message: String) -> PlaybookError {
        let at = self
            .index
            .get_or_init(|| PathIndex::build(self.yaml))
            .as_ref()
            .and_then(|index| index.value_position(field));
        let (line, column) = at.map_or((None, None), position_line_column);
        PlaybookError {
            file: self.file.to_owned(),
            line,
            column,
            field: field.to_owned(),
            message,
        }
    }

    fn error(&self, at: &Location, field: &str, message: String) -> PlaybookError {
        let (line, column) = line_column(Some(*at));
        PlaybookError {
            file: self.file.to_owned(),
            line,
            column,
            field: field.to_owned(),
            message,
        }
    }

    fn playbook(
        &self,
        raw: RawPlaybook,
        defaults: Option<&Playbook>,
    ) -> Result<Playbook, PlaybookError> {
        let incident_id_format = match &raw.incident_id_format {
            Some(format) => IdFormat::parse(format.value.trim())
                .map_err(|e| self.error(&format.referenced, "incident_id_format", e.to_string()))?,
            None => {
                defaults.map_or_else(IdFormat::default_format, |d| d.incident_id_format.clone())
            }
        };
        let severities_from_file = raw.severities.is_some();
        let mut playbook = Playbook {
            incident_id_format,
            severities: self.section(
                raw.severities,
                "severities",
                defaults.map(|d| &d.severities),
                |at, raw| self.severities(at, raw),
            )?,
            categories: self.section(
                raw.categories,
                "categories",
                defaults.map(|d| &d.categories),
                |_, raw| {
                    let named = self.named("categories", raw)?;
                    Ok(named
                        .into_iter()
                        .map(|(name, description)| Category { name, description })
                        .collect())
                },
            )?,
            roles: self.section(raw.roles, "roles", defaults.map(|d| &d.roles), |_, raw| {
                let named = self.named("roles", raw)?;
                Ok(named
                    .into_iter()
                    .map(|(name, description)| RoleDef { name, description })
                    .collect())
            })?,
            services: self.section(
                raw.services,
                "services",
                defaults.map(|d| &d.services),
                |_, raw| self.services(raw),
            )?,
            phases: self.section(
                raw.phases,
                "phases",
                defaults.map(|d| &d.phases),
                |_, raw| self.phases(raw),
            )?,
            alerting: match raw.alerting {
                Some(section) => self.alerting(section.unwrap_or_default())?,
                None => defaults
                    .map(|d| d.alerting.clone())
                    .ok_or_else(|| self.missing_section("alerting"))?,
            },
            oncall: OncallConfig::default(),
            notifications: NotificationsConfig::default(),
        };
        playbook.oncall = match raw.oncall {
            Some(section) => self.oncall(section.unwrap_or_default())?,
            None => defaults
                .map(|d| d.oncall.clone())
                .ok_or_else(|| self.missing_section("oncall"))?,
        };
        // Services come before `oncall:` in the file but name its policies.
        self.service_policies(&playbook.services, &playbook.oncall)?;
        // Absent or empty, it is the default (nothing to send to, built-in templates).
        playbook.notifications = match raw.notifications {
            Some(section) => {
                self.notifications(section.unwrap_or_default(), &playbook.severities)?
            }
            None => defaults.map_or_else(NotificationsConfig::default, |d| d.notifications.clone()),
        };
        self.notify_audiences(
            &playbook.severities,
            &playbook.notifications,
            severities_from_file,
        )?;
        Ok(playbook)
    }

    fn missing_section(&self, name: &str) -> PlaybookError {
        PlaybookError {
            file: self.file.to_owned(),
            line: None,
            column: None,
            field: name.to_owned(),
            message: "missing section".to_owned(),
        }
    }

    /// Converts a top-level list, or takes it from `defaults` when it is missing.
    /// `convert` gets the location of the list and its entries.
    fn section<R, T: Clone>(
        &self,
        raw: Section<R>,
        name: &str,
        default: Option<&Vec<T>>,
        convert: impl FnOnce(&Location, &[R]) -> Result<Vec<T>, PlaybookError>,
    ) -> Result<Vec<T>, PlaybookError> {
        match raw {
            Some(list) => convert(&list.referenced, &list.value.unwrap_or_default()),
            None => default.cloned().ok_or_else(|| self.missing_section(name)),
        }
    }

    /// Non-blank text, trimmed.
    fn text(&self, value: &Spanned<String>, field: &str) -> Result<String, PlaybookError> {
        let text = value.value.trim();
        if text.is_empty() {
            return Err(self.error(&value.referenced, field, "must not be empty".to_owned()));
        }
        Ok(text.to_owned())
    }

    fn duration(
        &self,
        value: &Spanned<String>,
        field: &str,
    ) -> Result<SignedDuration, PlaybookError> {
        parse_duration(&value.value)
            .map_err(|message| self.error(&value.referenced, field, message))
    }

    fn optional_duration(
        &self,
        value: &Option<Spanned<String>>,
        field: &str,
    ) -> Result<Option<SignedDuration>, PlaybookError> {
        value.as_ref().map(|v| self.duration(v, field)).transpose()
    }

    /// 1 to 64 lowercase ASCII letters, digits and '-', not starting with '-'.
    fn slug(&self, value: &Spanned<String>, field: &str) -> Result<String, PlaybookError> {
        let slug = value.value.as_str();
        let valid = (1..=64).contains(&slug.len())
            && !slug.starts_with('-')
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(self.error(
                &value.referenced,
                field,
                format!(
                    "{slug:?} is not a valid id: use 1 to 64 lowercase letters, digits and '-', \
                     not starting with '-'"
                ),
            ));
        }
        Ok(slug.to_owned())
    }

    /// Refuses a value of `key` that an earlier entry of `section` already has,
    /// ignoring ASCII case as the lookups in `Playbook` do.
    fn unique<'r>(
        &self,
        section: &str,
        key: &str,
        values: impl Iterator<Item = &'r Spanned<String>>,
    ) -> Result<(), PlaybookError> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, value) in values.enumerate() {
            let text = value.value.trim();
            match seen.entry(text.to_ascii_lowercase()) {
                Entry::Occupied(first) => {
                    return Err(self.error(
                        &value.referenced,
                        &format!("{section}[{i}].{key}"),
                        format!(
                            "{text:?} is already used by {section}[{}] (case is ignored)",
                            first.get()
                        ),
                    ));
                }
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
        }
        Ok(())
    }

    fn severities(
        &self,
        at: &Location,
        raw: &[RawSeverity],
    ) -> Result<Vec<SeverityLevel>, PlaybookError> {
        if raw.is_empty() {
            return Err(self.error(
                at,
                "severities",
                "at least one severity level is required, most severe first".to_owned(),
            ));
        }
        let levels = raw
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let path = format!("severities[{i}]");
                let field = |key: &str| join(&path, key);
                let notify = s.notify.as_deref().unwrap_or_default();
                Ok(SeverityLevel {
                    name: self.text(&s.name, &field("name"))?,
                    label: self.text(&s.label, &field("label"))?,
                    description: s.description.clone().unwrap_or_default(),
                    response_target: self
                        .optional_duration(&s.response_target, &field("response_target"))?,
                    resolution_target: self
                        .optional_duration(&s.resolution_target, &field("resolution_target"))?,
                    update_every: self
                        .optional_duration(&s.update_every, &field("update_every"))?,
                    escalate_every: self
                        .optional_duration(&s.escalate_every, &field("escalate_every"))?,
                    notify: notify
                        .iter()
                        .enumerate()
                        .map(|(j, n)| {
                            let rule = field(&format!("notify[{j}]"));
                            Ok(NotifyRule {
                                audience: self.text(&n.audience, &join(&rule, "audience"))?,
                                within: self.duration(&n.within, &join(&rule, "within"))?,
                            })
                        })
                        .collect::<Result<_, PlaybookError>>()?,
                    urgency: self.urgency(s.urgency.as_ref(), &field("urgency"))?,
                    bridge: crate::incident::Bridge {
                        bridge_url: self.url(s.bridge_url.as_ref(), &field("bridge_url"))?,
                        chat_url: self.url(s.chat_url.as_ref(), &field("chat_url"))?,
                    },
                })
            })
            .collect::<Result<Vec<_>, PlaybookError>>()?;
        self.unique("severities", "name", raw.iter().map(|s| &s.name))?;
        Ok(levels)
    }

    /// An optional http(s) link (a severity's `bridge_url`, `chat_url`).
    fn url(
        &self,
        value: Option<&Spanned<String>>,
        field: &str,
    ) -> Result<Option<String>, PlaybookError> {
        let Some(value) = value else {
            return Ok(None);
        };
        crate::incident::optional_url(field, Some(value.value.clone())).map_err(|e| {
            let message = match e {
                crate::DomainError::Invalid { message, .. } => message,
                other => other.to_string(),
            };
            self.error(&value.referenced, field, message)
        })
    }

    /// `high` or `low`; `high` when left out.
    fn urgency(
        &self,
        value: Option<&Spanned<String>>,
        field: &str,
    ) -> Result<Urgency, PlaybookError> {
        let Some(value) = value else {
            return Ok(Urgency::default());
        };
        match value.value.trim() {
            "high" => Ok(Urgency::High),
            "low" => Ok(Urgency::Low),
            other => Err(self.error(
                &value.referenced,
                field,
                format!("{other:?} is not `high` or `low`"),
            )),
        }
    }

    /// (name, description) of categories or roles; names non-empty and unique.
    fn named(
        &self,
        section: &str,
        raw: &[RawNamed],
    ) -> Result<Vec<(String, String)>, PlaybookError> {
        let named = raw
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let name = self.text(&r.name, &format!("{section}[{i}].name"))?;
                Ok((name, r.description.clone().unwrap_or_default()))
            })
            .collect::<Result<Vec<_>, PlaybookError>>()?;
        self.unique(section, "name", raw.iter().map(|r| &r.name))?;
        Ok(named)
    }

    fn services(&self, raw: &[RawService]) -> Result<Vec<ServiceDef>, PlaybookError> {
        let services = raw
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(ServiceDef {
                    id: self.slug(&s.id, &format!("services[{i}].id"))?,
                    name: self.text(&s.name, &format!("services[{i}].name"))?,
                    description: s.description.clone().unwrap_or_default(),
                    when_alerts_resolve: self.when_alerts_resolve(
                        s.when_alerts_resolve.as_ref(),
                        &format!("services[{i}].when_alerts_resolve"),
                    )?,
                    escalation_policy: s
                        .escalation_policy
                        .as_ref()
                        .map(|p| p.value.trim().to_owned()),
                    links: self.service_links(s, &format!("services[{i}].links"))?,
                })
            })
            .collect::<Result<Vec<_>, PlaybookError>>()?;
        self.unique("services", "id", raw.iter().map(|s| &s.id))?;
        self.unique("services", "name", raw.iter().map(|s| &s.name))?;
        // `Playbook::service` finds a service by id or by name, so one
        // service's name must not be another's id.
        for (i, s) in services.iter().enumerate() {
            let clash = services
                .iter()
                .position(|other| other.id.eq_ignore_ascii_case(&s.name))
                .filter(|j| *j != i);
            if let Some(j) = clash {
                return Err(self.error(
                    &raw[i].name.referenced,
                    &format!("services[{i}].name"),
                    format!(
                        "{:?} is the id of services[{j}]; a name must not be another service's id",
                        s.name
                    ),
                ));
            }
        }
        Ok(services)
    }

    /// A service's `links:`: at most [`MAX_SERVICE_LINKS`], each a
    /// non-blank name of at most 64 characters and an http(s) URL.
    fn service_links(
        &self,
        raw: &RawService,
        field: &str,
    ) -> Result<Vec<ServiceLink>, PlaybookError> {
        let Some(links) = &raw.links else {
            return Ok(Vec::new());
        };
        if links.0.len() > MAX_SERVICE_LINKS {
            return Err(self.error_at_path(
                field,
                format!(
                    "has {} links; a service has at most {MAX_SERVICE_LINKS}",
                    links.0.len()
                ),
            ));
        }
        links
            .0
            .iter()
            .map(|(name, url)| {
                let name_field = join(field, name);
                let name = name.trim();
                if name.is_empty() || name.chars().count() > 64 {
                    return Err(self.error_at_path(
                        &name_field,
                        "a link name is 1 to 64 characters (`runbook`, `dashboard`, ...)"
                            .to_owned(),
                    ));
                }
                let href = url.value.trim();
                crate::oncall::directory::check_url(&name_field, href).map_err(|_| {
                    self.error(
                        &url.referenced,
                        &name_field,
                        format!("{href:?} is not an http(s) URL"),
                    )
                })?;
                Ok(ServiceLink {
                    name: name.to_owned(),
                    url: href.to_owned(),
                })
            })
            .collect()
    }

    fn when_alerts_resolve(
        &self,
        value: Option<&Spanned<String>>,
        field: &str,
    ) -> Result<AlertsResolved, PlaybookError> {
        let Some(value) = value else {
            return Ok(AlertsResolved::default());
        };
        let text = value.value.trim();
        AlertsResolved::parse(text).ok_or_else(|| {
            self.error(
                &value.referenced,
                field,
                format!("{text:?} is not `resolve` or `monitor`"),
            )
        })
    }

    fn phases(&self, raw: &[RawPhase]) -> Result<Vec<PhaseDef>, PlaybookError> {
        let phases = raw
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let path = format!("phases[{i}]");
                let items = p.items.as_deref().unwrap_or_default();
                Ok(PhaseDef {
                    id: self.slug(&p.id, &join(&path, "id"))?,
                    name: self.text(&p.name, &join(&path, "name"))?,
                    target: p
                        .target
                        .as_deref()
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned),
                    items: items
                        .iter()
                        .enumerate()
                        .map(|(j, item)| self.text(item, &format!("{path}.items[{j}]")))
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<Vec<_>, PlaybookError>>()?;
        self.unique("phases", "id", raw.iter().map(|p| &p.id))?;
        Ok(phases)
    }
}
