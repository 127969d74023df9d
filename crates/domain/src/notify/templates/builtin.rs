//! The built-in templates, after the seeds' communication templates: the
//! formal notices (initial notification, status update, resolution notice)
//! for responders and stakeholders, plainer words for customers, and short
//! pages and reminders.
//!
//! Every built-in template has an HTML body made from its text body
//! ([`html_of`]): the same words in a readable layout, with the links
//! clickable and, on pages, an Acknowledge button first. So e-mail carries
//! both parts and the two never drift apart.

use super::TemplateDef;
use crate::notify::{AudienceClass, MessageKind};

const SERVICES_OR_SERVICE: &str =
    r#"{{ incident.services | join(", ") if incident.services else "Service" }}"#;

const DETAILS: &str = r#"INCIDENT DETAILS:
- Incident ID: {{ incident.id }}
- Severity: {{ incident.severity }}{% if incident.severity_label %} ({{ incident.severity_label }}){% endif %}
- Start Time: {{ incident.started_at }}
- Impact: {{ incident.impact or "Being assessed" }}
- Affected Services: {{ incident.services | join(", ") or "Being assessed" }}"#;

const NEXT_UPDATE: &str = r#"NEXT UPDATE:
{% if next_update %}Next update expected in {{ next_update.in_words }} (by {{ next_update.at }}){% else %}We will send an update when the situation changes{% endif %}"#;

const CONTACT: &str = r#"Contact: {% if contact %}{{ contact.name }}{% if contact.detail %} ({{ contact.detail }}){% endif %}{% else %}the incident team{% endif %}
{{ BRIDGE }}Details: {{ incident.url }}"#;

/// The call bridge and chat channel, a line each when set.
const BRIDGE: &str = r#"{% if incident.bridge_url %}Bridge: {{ incident.bridge_url }}
{% endif %}{% if incident.chat_url %}Chat: {{ incident.chat_url }}
{% endif %}"#;

/// What a person woken by a page needs, most important first: what broke,
/// since when (their time), what happens if nobody answers, and where to act.
const PAGE: &str = r#"{{ incident.severity }} {{ incident.id }}: {{ incident.title }}
{% if incident.summary %}{{ incident.summary }}
{% endif %}Service: {{ incident.services | join(", ") or "not set" }}
Started: {{ incident.started_at_local }}
{% if escalation %}Escalates in {{ escalation.in_words }} ({{ escalation.at }}) to {{ escalation.to }} unless acknowledged.
{% else %}No further escalation: you are the last step.
{% endif %}Acknowledge: {{ acknowledge_url or incident.url }}
{{ BRIDGE }}Details: {{ incident.url }}"#;

const CUSTOMER_SERVICES: &str =
    r#"{% if incident.services %} affecting {{ incident.services | join(", ") }}{% endif %}"#;

fn def(
    kind: MessageKind,
    audience: Option<AudienceClass>,
    subject: &str,
    text: String,
) -> TemplateDef {
    let text = text.replace("{{ BRIDGE }}", BRIDGE);
    TemplateDef {
        kind,
        audience,
        severity: None,
        subject: subject.to_owned(),
        html: Some(html_of(kind, audience, &text)),
        text,
    }
}

/// The links a text body writes, as they read in the HTML body.
const LINKS: &[(&str, &str)] = &[
    (
        "{{ acknowledge_url or incident.url }}",
        r#"<a href="{{ acknowledge_url or incident.url }}">{{ acknowledge_url or incident.url }}</a>"#,
    ),
    (
        "{{ incident.url }}",
        r#"<a href="{{ incident.url }}">{{ incident.url }}</a>"#,
    ),
    (
        "{{ incident.bridge_url }}",
        r#"<a href="{{ incident.bridge_url }}">{{ incident.bridge_url }}</a>"#,
    ),
    (
        "{{ incident.chat_url }}",
        r#"<a href="{{ incident.chat_url }}">{{ incident.chat_url }}</a>"#,
    ),
];

/// The HTML body of a built-in template: its text body (whose variables
/// the HTML template escapes) with line breaks kept and links clickable,
/// under an Acknowledge button (pages) or the incident's title and a button
/// to open it (other messages; neither for customers).
pub(super) fn html_of(kind: MessageKind, audience: Option<AudienceClass>, text: &str) -> String {
    let mut body = String::with_capacity(text.len() * 2);
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for (plain, linked) in LINKS {
            if let Some(after) = rest.strip_prefix(plain) {
                body.push_str(linked);
                rest = after;
                continue 'scan;
            }
        }
        // A tag is copied as it is; the words around tags are escaped.
        for (open, close) in [("{{", "}}"), ("{%", "%}")] {
            if rest.starts_with(open) {
                let end = rest.find(close).map_or(rest.len(), |e| e + close.len());
                body.push_str(&rest[..end]);
                rest = &rest[end..];
                continue 'scan;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        match c {
            '&' => body.push_str("&amp;"),
            '<' => body.push_str("&lt;"),
            '>' => body.push_str("&gt;"),
            c => body.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    // Customers cannot open the incident's page, and its title is internal.
    let head = match (kind, audience) {
        (_, Some(AudienceClass::Customers)) => "",
        (MessageKind::Page, _) => {
            r#"{% if acknowledge_url %}<p><a href="{{ acknowledge_url }}" style="display:inline-block;padding:12px 20px;background:#b71c1c;color:#ffffff;text-decoration:none;font-weight:bold;border-radius:4px">Acknowledge</a></p>{% endif %}"#
        }
        _ => {
            r#"<h2 style="margin:0 0 8px;font-size:18px">{{ incident.severity }} {{ incident.id }}: {{ incident.title }}</h2>
<p><a href="{{ incident.url }}" style="display:inline-block;padding:10px 16px;background:#263238;color:#ffffff;text-decoration:none;border-radius:4px">Open {{ incident.id }}</a></p>"#
        }
    };
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"></head>\n\
         <body style=\"margin:0;padding:16px;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.45;color:#1a1a1a\">\n\
         {head}\n<div style=\"white-space:pre-wrap\">{body}</div>\n</body></html>\n"
    )
}

/// Every kind has a default for all audiences; customers get their own
/// initial notification, status update and resolution notice.
pub(super) fn defs() -> Vec<TemplateDef> {
    use MessageKind::*;
    let customers = Some(AudienceClass::Customers);
    vec![
        def(
            Page,
            None,
            "[{{ incident.severity }}] Page: {{ incident.id }} - {{ incident.title }}",
            PAGE.to_owned(),
        ),
        def(
            InitialNotification,
            None,
            &format!("[{{{{ incident.severity }}}}] {SERVICES_OR_SERVICE} Incident - {{{{ incident.title }}}}"),
            format!(
                "{DETAILS}\n\nSTATUS:\n{{{{ incident.status | capitalize }}}}\
                 {{% if incident.summary %}} - {{{{ incident.summary }}}}{{% endif %}}\n\n\
                 {NEXT_UPDATE}\n\n{CONTACT}\n"
            ),
        ),
        def(
            StatusUpdate,
            None,
            "[UPDATE] {{ incident.id }} - {{ incident.title }}",
            format!(
                "UPDATE as of {{% if update %}}{{{{ update.at }}}}{{% else %}}now{{% endif %}}\n\n\
                 CURRENT STATUS:\n{{{{ (update.status if update else incident.status) | capitalize }}}}\n\
                 {{% if update and update.message %}}\n{{{{ update.message }}}}\n{{% endif %}}\n\
                 {DETAILS}\n\n{NEXT_UPDATE}\n\n{CONTACT}\n"
            ),
        ),
        def(
            ResolutionNotice,
            None,
            "[RESOLVED] {{ incident.id }} - {{ incident.title }}",
            format!(
                "INCIDENT RESOLVED{{% if update %}} as of {{{{ update.at }}}}{{% endif %}}\n\n\
                 SUMMARY:\n{{{{ incident.summary or incident.title }}}}\n\
                 {{% if update and update.message %}}\nRESOLUTION:\n{{{{ update.message }}}}\n{{% endif %}}\n\
                 {DETAILS}\n\n\
                 POST-MORTEM:\nA post-mortem will follow, with the root cause and the actions \
                 taken to prevent a recurrence.\n\n\
                 Thank you for your patience during this incident.\n\n{CONTACT}\n"
            ),
        ),
        def(
            Reminder,
            None,
            "Update due for {{ incident.id }}",
            concat!(
                "Update due for {{ incident.id }} ({{ incident.severity }}): {{ incident.title }}.\n",
                "{% if next_update %}It is due by {{ next_update.at }}. {% endif %}",
                "Post a status update: {{ incident.url }}\n{{ BRIDGE }}",
            )
            .to_owned(),
        ),
        def(
            InitialNotification,
            customers,
            r#"Service interruption: {{ incident.services | join(", ") or "our services" }}"#,
            format!(
                "Dear customer,\n\n\
                 We are currently experiencing a technical issue{CUSTOMER_SERVICES}.\n\n\
                 What we know:\n\
                 - The issue started at {{{{ incident.started_at }}}}\n\
                 {{%- if incident.impact %}}\n- Impact: {{{{ incident.impact }}}}\n{{%- endif %}}\n\
                 - Current status: {{{{ incident.status | capitalize }}}}\n\n\
                 What we are doing:\n\
                 - Our engineering team is actively working on a resolution.\n\n\
                 We apologize for the inconvenience{{% if next_update %}} and will provide an \
                 update within {{{{ next_update.in_words }}}}{{% endif %}}.\n\n\
                 Reference: {{{{ incident.id }}}}\n"
            ),
        ),
        def(
            StatusUpdate,
            customers,
            r#"Update on the service interruption: {{ incident.services | join(", ") or "our services" }}"#,
            format!(
                "Dear customer,\n\n\
                 An update on the technical issue{CUSTOMER_SERVICES}\
                 {{% if update %}}, as of {{{{ update.at }}}}{{% endif %}}:\n\n\
                 {{% if update and update.message %}}{{{{ update.message }}}}\n\n{{% endif %}}\
                 Current status: {{{{ (update.status if update else incident.status) | capitalize }}}}\n\n\
                 We apologize for the inconvenience{{% if next_update %}} and will provide another \
                 update within {{{{ next_update.in_words }}}}{{% endif %}}.\n\n\
                 Reference: {{{{ incident.id }}}}\n"
            ),
        ),
        def(
            ResolutionNotice,
            customers,
            r#"Service restored: {{ incident.services | join(", ") or "our services" }}"#,
            format!(
                "Dear customer,\n\n\
                 The technical issue{CUSTOMER_SERVICES} has been resolved.\n\n\
                 What happened:\n\
                 - The issue started at {{{{ incident.started_at }}}}\n\
                 {{%- if incident.impact %}}\n- Impact: {{{{ incident.impact }}}}\n{{%- endif %}}\n\
                 {{%- if update and update.message %}}\n- {{{{ update.message }}}}\n{{%- endif %}}\n\n\
                 We appreciate your patience and understanding.\n\n\
                 Reference: {{{{ incident.id }}}}\n"
            ),
        ),
    ]
}
