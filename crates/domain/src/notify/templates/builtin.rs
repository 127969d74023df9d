//! The built-in templates, after the seeds' communication templates: the
//! formal notices (initial notification, status update, resolution notice)
//! for responders and stakeholders, plainer words for customers, and short
//! pages and reminders.

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
Details: {{ incident.url }}"#;

const CUSTOMER_SERVICES: &str =
    r#"{% if incident.services %} affecting {{ incident.services | join(", ") }}{% endif %}"#;

fn def(
    kind: MessageKind,
    audience: Option<AudienceClass>,
    subject: &str,
    text: String,
) -> TemplateDef {
    TemplateDef {
        kind,
        audience,
        severity: None,
        subject: subject.to_owned(),
        text,
        html: None,
    }
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
            concat!(
                "{{ incident.severity }} {{ incident.id }}: {{ incident.title }}",
                r#"{% if incident.services %} ({{ incident.services | join(", ") }}){% endif %}"#,
                "\nAcknowledge: {{ acknowledge_url or incident.url }}",
                "\nDetails: {{ incident.url }}",
            )
            .to_owned(),
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
                "Post a status update: {{ incident.url }}",
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
