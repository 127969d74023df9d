//! The variables a message template can use: [`MessageContext`] and the
//! schema templates are checked against.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::incident::Incident;
use crate::notify::MessageKind;
use crate::playbook::Playbook;

/// What a template sees. Every template is checked against this schema when
/// the playbook is loaded: a variable that is not listed here is an error.
///
/// | variable | what it is |
/// | --- | --- |
/// | `incident.id` | `INC-2026-0042` |
/// | `incident.title` | the incident's title |
/// | `incident.summary` | its summary (may be empty) |
/// | `incident.severity` | `SEV-1` |
/// | `incident.severity_label` | `Major` |
/// | `incident.status` | `investigating`, `identified`, `resolved`, ... |
/// | `incident.services` | names of the affected services (a list; may be empty) |
/// | `incident.started_at` | when impact started, `2026-03-14 09:26 UTC` |
/// | `incident.started_at_local` | the same in the recipient's time zone (`2026-03-14 10:26 CET`) for pages and reminders to a person; UTC for audiences |
/// | `incident.declared_at` | when it was declared, same format |
/// | `incident.impact` | the impact on users, text (may be empty) |
/// | `incident.customer_facing` | `true` or `false` |
/// | `incident.url` | the incident's page in Warroom |
/// | `incident.bridge_url`, `incident.chat_url` | the call bridge and chat channel (may be empty) |
/// | `update.status`, `update.message`, `update.at` | the update being sent (status updates; resolution notices that come with a message); none otherwise |
/// | `next_update.at`, `next_update.in_words` | when the next update is due (`2026-03-14 09:45 UTC`, `15 minutes`); none when the severity has no update cadence |
/// | `contact.name`, `contact.detail` | who to contact (the commander or coordinator) and how; none when unknown |
/// | `acknowledge_url` | the link that acknowledges a page (pages only; none otherwise) |
/// | `escalation.at`, `escalation.in_words`, `escalation.to` | when an unacknowledged page escalates (in the recipient's time zone), how long until then, and to whom (pages only; none when no step follows) |
/// | `recipient` | the recipient's name or address |
/// | `audience` | the audience's name (`management`) |
///
/// Variables that may be none are tested before use:
/// `{% if next_update %}Next update in {{ next_update.in_words }}{% endif %}`.
/// When rendering for real, an attribute of a none value is empty rather
/// than an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageContext {
    pub incident: IncidentVars,
    pub update: Option<UpdateVars>,
    pub next_update: Option<NextUpdateVars>,
    pub contact: Option<ContactVars>,
    pub acknowledge_url: Option<String>,
    pub escalation: Option<EscalationVars>,
    pub recipient: String,
    pub audience: String,
}

/// `escalation.*`: the next step of the escalation policy, for pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationVars {
    pub at: String,
    pub in_words: String,
    /// `bob, the secondary schedule`.
    pub to: String,
}

/// `incident.*`: see [`MessageContext`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentVars {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub severity: String,
    pub severity_label: String,
    pub status: String,
    pub services: Vec<String>,
    pub started_at: String,
    pub started_at_local: String,
    pub declared_at: String,
    pub impact: String,
    pub customer_facing: bool,
    pub url: String,
    pub bridge_url: String,
    pub chat_url: String,
}

/// `update.*`: the status update being sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateVars {
    pub status: String,
    pub message: String,
    pub at: String,
}

/// `next_update.*`: when the next update is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextUpdateVars {
    pub at: String,
    pub in_words: String,
}

/// `contact.*`: who to contact about the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactVars {
    pub name: String,
    /// How to reach them: an e-mail address, a phone number, a channel.
    pub detail: String,
}

/// The variables and, for the ones that are mappings, their keys. Kept in
/// step with [`MessageContext`] by a test.
pub(super) const SCHEMA: &[(&str, &[&str])] = &[
    (
        "incident",
        &[
            "id",
            "title",
            "summary",
            "severity",
            "severity_label",
            "status",
            "services",
            "started_at",
            "started_at_local",
            "declared_at",
            "impact",
            "customer_facing",
            "url",
            "bridge_url",
            "chat_url",
        ],
    ),
    ("update", &["status", "message", "at"]),
    ("next_update", &["at", "in_words"]),
    ("contact", &["name", "detail"]),
    ("acknowledge_url", &[]),
    ("escalation", &["at", "in_words", "to"]),
    ("recipient", &[]),
    ("audience", &[]),
];

/// minijinja's global functions, which templates may call.
const GLOBALS: &[&str] = &["range", "dict", "namespace", "debug"];

/// Whether a variable as `undeclared_variables(true)` reports it
/// (`incident.title`) is in the schema: a variable, or a key of one that is
/// a mapping, and nothing below (text has no attributes).
pub(super) fn is_known(dotted: &str) -> bool {
    let mut parts = dotted.split('.');
    let top = parts.next().unwrap_or_default();
    if GLOBALS.contains(&top) {
        return true;
    }
    let Some((_, keys)) = SCHEMA.iter().find(|(name, _)| *name == top) else {
        return false;
    };
    match (parts.next(), parts.next()) {
        (None, _) => true,
        (Some(key), None) => keys.contains(&key),
        (Some(_), Some(_)) => false,
    }
}

/// A known variable that is close to `dotted`, for "did you mean".
pub(super) fn suggestion(dotted: &str) -> Option<String> {
    let mut parts = dotted.split('.');
    let top = parts.next().unwrap_or_default();
    let key = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let close = |a: &str, b: &str| edit_distance(a, b) <= 2.max(a.len() / 4);
    match SCHEMA.iter().find(|(name, _)| *name == top) {
        Some((_, keys)) => {
            let key = key?;
            keys.iter()
                .find(|k| close(key, k))
                .map(|k| format!("{top}.{k}"))
        }
        None => SCHEMA
            .iter()
            .find(|(name, _)| close(top, name))
            .map(|(name, _)| match key {
                Some(key) => format!("{name}.{key}"),
                None => (*name).to_owned(),
            }),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

/// `2026-03-14 09:26 UTC`, the format of every time in a message.
pub fn format_utc(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// `2026-03-14 10:26 CET`: a time in a person's time zone, with the zone's
/// abbreviation (or its offset where it has none).
pub fn format_local(at: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    if *tz == jiff::tz::TimeZone::UTC {
        return format_utc(at);
    }
    at.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `15 minutes`, `1 hour 30 minutes`, `2 days`; `less than a minute` for
/// anything shorter (or past).
pub fn in_words(duration: SignedDuration) -> String {
    let total_minutes = duration.as_secs().max(0) / 60;
    if total_minutes == 0 {
        return "less than a minute".to_owned();
    }
    let (days, hours, minutes) = (
        total_minutes / (24 * 60),
        total_minutes / 60 % 24,
        total_minutes % 60,
    );
    let unit = |n: i64, word: &str| match n {
        0 => None,
        1 => Some(format!("1 {word}")),
        n => Some(format!("{n} {word}s")),
    };
    [
        unit(days, "day"),
        unit(hours, "hour"),
        unit(minutes, "minute"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

impl IncidentVars {
    /// The variables of an incident: its severity's label and its services'
    /// names from the playbook (ids the playbook does not know are shown as
    /// they are), and `url` its page. `impact` is left empty, and filled
    /// with [`MessageContext::with_impact`] when known.
    pub fn from_incident(incident: &Incident, playbook: &Playbook, url: &str) -> IncidentVars {
        IncidentVars {
            id: incident.id.clone(),
            title: incident.title.clone(),
            summary: incident.summary.clone(),
            severity: incident.severity.clone(),
            severity_label: playbook
                .severity(&incident.severity)
                .map(|s| s.label.clone())
                .unwrap_or_default(),
            status: incident.status.as_str().to_owned(),
            services: incident
                .services
                .iter()
                .map(|id| playbook.service(id).map_or(id, |s| &s.name).clone())
                .collect(),
            started_at: format_utc(incident.impact_started_at.unwrap_or(incident.detected_at)),
            started_at_local: format_utc(
                incident.impact_started_at.unwrap_or(incident.detected_at),
            ),
            declared_at: format_utc(incident.declared_at),
            impact: String::new(),
            customer_facing: incident.customer_facing,
            url: url.to_owned(),
            bridge_url: incident.bridge.bridge_url.clone().unwrap_or_default(),
            chat_url: incident.bridge.chat_url.clone().unwrap_or_default(),
        }
    }
}

impl MessageContext {
    /// A context with only the incident; add the rest with the `with_*` helpers.
    pub fn new(incident: IncidentVars) -> MessageContext {
        MessageContext {
            incident,
            update: None,
            next_update: None,
            contact: None,
            acknowledge_url: None,
            escalation: None,
            recipient: String::new(),
            audience: String::new(),
        }
    }

    /// Times for a person: `incident.started_at_local` in their time zone.
    pub fn in_time_zone(
        mut self,
        started_at: Timestamp,
        tz: &jiff::tz::TimeZone,
    ) -> MessageContext {
        self.incident.started_at_local = format_local(started_at, tz);
        self
    }

    /// An unacknowledged page escalates at `at` (shown in `tz`) to `to`.
    pub fn with_escalation(
        mut self,
        at: Timestamp,
        to: impl Into<String>,
        tz: &jiff::tz::TimeZone,
        now: Timestamp,
    ) -> MessageContext {
        self.escalation = Some(EscalationVars {
            at: format_local(at, tz),
            in_words: in_words(at.duration_since(now)),
            to: to.into(),
        });
        self
    }

    pub fn with_impact(mut self, impact: impl Into<String>) -> MessageContext {
        self.incident.impact = impact.into();
        self
    }

    pub fn with_update(
        mut self,
        status: impl Into<String>,
        message: impl Into<String>,
        at: Timestamp,
    ) -> MessageContext {
        self.update = Some(UpdateVars {
            status: status.into(),
            message: message.into(),
            at: format_utc(at),
        });
        self
    }

    /// The next update is due at `at`; `in_words` counts from `now`.
    pub fn with_next_update(mut self, at: Timestamp, now: Timestamp) -> MessageContext {
        self.next_update = Some(NextUpdateVars {
            at: format_utc(at),
            in_words: in_words(at.duration_since(now)),
        });
        self
    }

    pub fn with_contact(
        mut self,
        name: impl Into<String>,
        detail: impl Into<String>,
    ) -> MessageContext {
        self.contact = Some(ContactVars {
            name: name.into(),
            detail: detail.into(),
        });
        self
    }

    pub fn with_acknowledge_url(mut self, url: impl Into<String>) -> MessageContext {
        self.acknowledge_url = Some(url.into());
        self
    }

    /// Who it goes to: the recipient's name or address, and the audience's name.
    pub fn to(
        mut self,
        recipient: impl Into<String>,
        audience: impl Into<String>,
    ) -> MessageContext {
        self.recipient = recipient.into();
        self.audience = audience.into();
        self
    }

    /// A made-up incident as a message of `kind` would see it, for previews:
    /// status updates have an `update`, pages an `acknowledge_url`.
    pub fn sample(kind: MessageKind) -> MessageContext {
        let mut ctx = MessageContext::full_sample();
        if kind != MessageKind::StatusUpdate {
            ctx.update = None;
        }
        if kind != MessageKind::Page {
            ctx.acknowledge_url = None;
            ctx.escalation = None;
        }
        if kind == MessageKind::ResolutionNotice {
            ctx.incident.status = "resolved".to_owned();
            ctx.next_update = None;
        }
        ctx
    }

    /// Every variable set, for checking templates (and fuzzing them).
    pub fn full_sample() -> MessageContext {
        let declared: Timestamp = "2026-03-14T09:30:00Z".parse().expect("a valid timestamp");
        let started: Timestamp = "2026-03-14T09:26:00Z".parse().expect("a valid timestamp");
        let now: Timestamp = "2026-03-14T10:00:00Z".parse().expect("a valid timestamp");
        MessageContext::new(IncidentVars {
            id: "INC-2026-0042".to_owned(),
            title: "Checkout requests failing".to_owned(),
            summary: "Payments API returns 502 for about 30% of requests.".to_owned(),
            severity: "SEV-1".to_owned(),
            severity_label: "Major".to_owned(),
            status: "investigating".to_owned(),
            services: vec!["API".to_owned(), "Payments".to_owned()],
            started_at: format_utc(started),
            started_at_local: format_utc(started),
            declared_at: format_utc(declared),
            impact: "Customers cannot complete purchases".to_owned(),
            customer_facing: true,
            url: "https://warroom.example.com/incidents/INC-2026-0042".to_owned(),
            bridge_url: "https://meet.example.com/inc-2026-0042".to_owned(),
            chat_url: "https://chat.example.com/archives/C0INC42".to_owned(),
        })
        .in_time_zone(
            started,
            &jiff::tz::TimeZone::get("Europe/Berlin").unwrap_or(jiff::tz::TimeZone::UTC),
        )
        .with_update(
            "identified",
            "A bad deploy of the payments gateway; rolling back.",
            now,
        )
        .with_next_update(now + SignedDuration::from_mins(15), now)
        .with_contact("Alice Example", "alice@example.com, +14155550100")
        .with_acknowledge_url("https://warroom.example.com/ack/3f9a2c")
        .with_escalation(
            now + SignedDuration::from_mins(15),
            "bob, the secondary schedule",
            &jiff::tz::TimeZone::UTC,
            now,
        )
        .to("Bob Example", "management")
    }
}
