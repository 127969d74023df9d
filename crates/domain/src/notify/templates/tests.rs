//! Tests of the templates: the built-in ones, precedence, escaping and the
//! checks of unknown variables.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};

use super::*;

fn def(
    kind: MessageKind,
    audience: Option<AudienceClass>,
    severity: Option<&str>,
    text: &str,
) -> TemplateDef {
    TemplateDef {
        kind,
        audience,
        severity: severity.map(str::to_owned),
        subject: format!("subject of {text}"),
        text: text.to_owned(),
        html: None,
    }
}

const AUDIENCES: [AudienceClass; 3] = [
    AudienceClass::Responders,
    AudienceClass::Stakeholders,
    AudienceClass::Customers,
];

#[test]
fn builtin_renders_every_kind_for_every_audience() {
    let templates = Templates::builtin();
    for kind in MessageKind::ALL {
        for audience in AUDIENCES {
            let ctx = MessageContext::sample(kind);
            let rendered = templates
                .render(kind, audience, "SEV-1", &ctx)
                .unwrap_or_else(|e| panic!("{kind:?} {audience:?}: {e}"));
            assert!(!rendered.subject.is_empty() && !rendered.subject.contains('\n'));
            assert!(rendered.text.contains("INC-2026-0042"), "{}", rendered.text);
            assert!(!rendered.text.contains("{{"), "{}", rendered.text);
            // `/` may be written as `&#x2f;` (by minijinja's features).
            let html = rendered
                .html
                .expect("every built-in template has an HTML body")
                .replace("&#x2f;", "/");
            assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
            assert!(html.contains("INC-2026-0042"), "{html}");
            assert!(!html.contains("{{") && !html.contains("{%"), "{html}");
            let link = r#"href="https://warroom.example.com/incidents/INC-2026-0042""#;
            // Customers have their own notices, without the incident's page;
            // pages and reminders go to responders only.
            let internal = audience != AudienceClass::Customers
                || matches!(kind, MessageKind::Page | MessageKind::Reminder);
            assert_eq!(
                html.contains(link),
                internal,
                "{kind:?} {audience:?}: {html}"
            );
        }
    }
}

#[test]
fn builtin_html_escapes_what_the_incident_says_and_links_what_it_links() {
    let mut ctx = MessageContext::sample(MessageKind::Page);
    ctx.incident.title = "<script>alert(1)</script> & more".to_owned();
    let rendered = Templates::builtin()
        .render(MessageKind::Page, AudienceClass::Responders, "SEV-1", &ctx)
        .unwrap();
    // `/` may be written as `&#x2f;` (by minijinja's features): the same to a browser.
    let html = rendered.html.unwrap().replace("&#x2f;", "/");
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="https://warroom.example.com/ack/3f9a2c" style="#),
        "the Acknowledge button comes first: {html}"
    );
    assert!(
        html.contains(r#"Bridge: <a href="https://meet.example.com/inc-2026-0042">"#),
        "{html}"
    );
    assert!(rendered.text.contains("<script>"), "text is not escaped");
}

#[test]
fn a_page_says_what_a_woken_person_needs() {
    let rendered = Templates::builtin()
        .render(
            MessageKind::Page,
            AudienceClass::Responders,
            "SEV-1",
            &MessageContext::sample(MessageKind::Page),
        )
        .unwrap();
    assert_eq!(
        rendered.text,
        "SEV-1 INC-2026-0042: Checkout requests failing\n\
         Payments API returns 502 for about 30% of requests.\n\
         Service: API, Payments\n\
         Started: 2026-03-14 10:26 CET\n\
         Escalates in 15 minutes (2026-03-14 10:15 UTC) to bob, the secondary schedule unless acknowledged.\n\
         Acknowledge: https://warroom.example.com/ack/3f9a2c\n\
         Bridge: https://meet.example.com/inc-2026-0042\n\
         Chat: https://chat.example.com/archives/C0INC42\n\
         Details: https://warroom.example.com/incidents/INC-2026-0042"
    );
}

#[test]
fn builtin_subjects_read_like_the_seeds() {
    let templates = Templates::builtin();
    let subject = |kind, audience| {
        templates
            .render(kind, audience, "SEV-1", &MessageContext::sample(kind))
            .unwrap()
            .subject
    };
    for audience in [AudienceClass::Responders, AudienceClass::Stakeholders] {
        assert_eq!(
            subject(MessageKind::InitialNotification, audience),
            "[SEV-1] API, Payments Incident - Checkout requests failing"
        );
        assert_eq!(
            subject(MessageKind::StatusUpdate, audience),
            "[UPDATE] INC-2026-0042 - Checkout requests failing"
        );
        assert_eq!(
            subject(MessageKind::ResolutionNotice, audience),
            "[RESOLVED] INC-2026-0042 - Checkout requests failing"
        );
    }
    assert_eq!(
        subject(MessageKind::Reminder, AudienceClass::Responders),
        "Update due for INC-2026-0042"
    );
    assert_eq!(
        subject(MessageKind::InitialNotification, AudienceClass::Customers),
        "Service interruption: API, Payments"
    );

    // Without services, "Service Incident".
    let mut ctx = MessageContext::sample(MessageKind::InitialNotification);
    ctx.incident.services.clear();
    let rendered = templates
        .render(
            MessageKind::InitialNotification,
            AudienceClass::Stakeholders,
            "SEV-1",
            &ctx,
        )
        .unwrap();
    assert_eq!(
        rendered.subject,
        "[SEV-1] Service Incident - Checkout requests failing"
    );
}

#[test]
fn builtin_initial_notification_has_the_seeds_details() {
    let ctx = MessageContext::sample(MessageKind::InitialNotification);
    let text = Templates::builtin()
        .render(
            MessageKind::InitialNotification,
            AudienceClass::Stakeholders,
            "SEV-1",
            &ctx,
        )
        .unwrap()
        .text;
    let want = "\
INCIDENT DETAILS:
- Incident ID: INC-2026-0042
- Severity: SEV-1 (Major)
- Start Time: 2026-03-14 09:26 UTC
- Impact: Customers cannot complete purchases
- Affected Services: API, Payments

STATUS:
Investigating - Payments API returns 502 for about 30% of requests.

NEXT UPDATE:
Next update expected in 15 minutes (by 2026-03-14 10:15 UTC)

Contact: Alice Example (alice@example.com, +14155550100)
Bridge: https://meet.example.com/inc-2026-0042
Chat: https://chat.example.com/archives/C0INC42
Details: https://warroom.example.com/incidents/INC-2026-0042";
    assert_eq!(text, want);

    // Without a cadence, a contact or an impact.
    let mut ctx = ctx;
    ctx.next_update = None;
    ctx.contact = None;
    ctx.incident.impact.clear();
    let text = Templates::builtin()
        .render(
            MessageKind::InitialNotification,
            AudienceClass::Stakeholders,
            "SEV-3",
            &ctx,
        )
        .unwrap()
        .text;
    assert!(text.contains("- Impact: Being assessed\n"), "{text}");
    assert!(text.contains("We will send an update when the situation changes"));
    assert!(text.contains("Contact: the incident team"));
    // Without a bridge or chat channel, no line for them.
    ctx.incident.bridge_url.clear();
    ctx.incident.chat_url.clear();
    let text = Templates::builtin()
        .render(
            MessageKind::InitialNotification,
            AudienceClass::Stakeholders,
            "SEV-3",
            &ctx,
        )
        .unwrap()
        .text;
    assert!(
        text.ends_with("Contact: the incident team\nDetails: https://warroom.example.com/incidents/INC-2026-0042"),
        "{text}"
    );
}

#[test]
fn builtin_pages_status_updates_and_customer_notices() {
    let templates = Templates::builtin();
    let text = |kind, audience| {
        templates
            .render(kind, audience, "SEV-1", &MessageContext::sample(kind))
            .unwrap()
            .text
    };
    // The page's full text: `a_page_says_what_a_woken_person_needs`.
    assert!(text(MessageKind::Page, AudienceClass::Responders)
        .contains("\nAcknowledge: https://warroom.example.com/ack/3f9a2c\n"));
    let update = text(MessageKind::StatusUpdate, AudienceClass::Stakeholders);
    assert!(
        update.starts_with(
            "UPDATE as of 2026-03-14 10:00 UTC\n\nCURRENT STATUS:\nIdentified\n\n\
             A bad deploy of the payments gateway; rolling back.\n\nINCIDENT DETAILS:\n"
        ),
        "{update}"
    );
    let customers = text(MessageKind::InitialNotification, AudienceClass::Customers);
    assert!(
        customers.contains(
            "What we know:\n- The issue started at 2026-03-14 09:26 UTC\n\
             - Impact: Customers cannot complete purchases\n- Current status: Investigating\n"
        ),
        "{customers}"
    );
    assert!(customers.contains("provide an update within 15 minutes."));
    let resolved = text(MessageKind::ResolutionNotice, AudienceClass::Customers);
    assert!(
        resolved.contains("affecting API, Payments has been resolved."),
        "{resolved}"
    );
    let reminder = text(MessageKind::Reminder, AudienceClass::Responders);
    assert!(
        reminder.starts_with("Update due for INC-2026-0042 (SEV-1)"),
        "{reminder}"
    );
}

#[test]
fn overrides_win_by_specificity_then_over_builtins() {
    use AudienceClass::*;
    use MessageKind::*;
    let templates = Templates::with_overrides(vec![
        def(StatusUpdate, None, None, "kind"),
        def(StatusUpdate, None, Some("SEV-1"), "kind+severity"),
        def(StatusUpdate, Some(Stakeholders), None, "kind+audience"),
        def(
            StatusUpdate,
            Some(Stakeholders),
            Some("sev-1"),
            "kind+audience+severity",
        ),
        def(Page, Some(Customers), None, "customer page"),
    ])
    .unwrap();
    let text = |kind, audience, severity| {
        let ctx = MessageContext::sample(kind);
        templates
            .render(kind, audience, severity, &ctx)
            .unwrap()
            .text
    };
    assert_eq!(
        text(StatusUpdate, Stakeholders, "SEV-1"),
        "kind+audience+severity"
    );
    assert_eq!(text(StatusUpdate, Stakeholders, "SEV-2"), "kind+audience");
    assert_eq!(text(StatusUpdate, Responders, "SEV-1"), "kind+severity");
    assert_eq!(text(StatusUpdate, Customers, "SEV-2"), "kind");
    // A playbook's kind-wide template wins over the built-in customer one.
    assert!(text(StatusUpdate, Customers, "SEV-2").starts_with("kind"));
    // Kinds without overrides keep the built-in templates.
    assert_eq!(text(Page, Customers, "SEV-1"), "customer page");
    assert!(text(Page, Responders, "SEV-1").contains("Acknowledge:"));
    assert!(text(InitialNotification, Customers, "SEV-1").starts_with("Dear customer"));
    let subject = templates
        .render(
            StatusUpdate,
            Responders,
            "sev-1",
            &MessageContext::sample(StatusUpdate),
        )
        .unwrap()
        .subject;
    assert_eq!(subject, "subject of kind+severity");
    assert_eq!(
        templates
            .select(StatusUpdate, Responders, "SEV-1")
            .unwrap()
            .name(),
        "status_update/*/SEV-1"
    );
    assert_eq!(templates.overrides().len(), 5);
}

#[test]
fn two_templates_for_the_same_key_are_an_error() {
    let err = Templates::with_overrides(vec![
        def(MessageKind::Page, None, Some("SEV-1"), "a"),
        def(MessageKind::Page, None, None, "b"),
        def(MessageKind::Page, None, Some("sev-1"), "c"),
    ])
    .unwrap_err();
    assert_eq!((err.index, err.part), (Some(2), None));
    assert_eq!(err.template, "page/*/sev-1");
    assert!(err.message.contains("templates[0]"), "{err}");
}

#[test]
fn html_is_escaped_and_text_and_subject_are_not() {
    let mut template = def(
        MessageKind::StatusUpdate,
        None,
        None,
        "{{ update.message }}",
    );
    template.subject = "{{ incident.title }}\n  ({{ incident.id }})\n".to_owned();
    template.html = Some("<p>{{ update.message }}</p>".to_owned());
    let templates = Templates::with_overrides(vec![template]).unwrap();
    let mut ctx = MessageContext::sample(MessageKind::StatusUpdate);
    ctx.incident.title = "<b>Fish & chips</b>".to_owned();
    if let Some(update) = &mut ctx.update {
        update.message = "x < y & \"z\"".to_owned();
    }
    let rendered = templates
        .render(
            MessageKind::StatusUpdate,
            AudienceClass::Stakeholders,
            "SEV-1",
            &ctx,
        )
        .unwrap();
    assert_eq!(rendered.subject, "<b>Fish & chips</b> (INC-2026-0042)");
    assert_eq!(rendered.text, "x < y & \"z\"");
    assert_eq!(
        rendered.html.as_deref(),
        Some("<p>x &lt; y &amp; &quot;z&quot;</p>")
    );
}

#[test]
fn a_subject_is_one_line_even_with_carriage_returns() {
    // Found by fuzzing: an alert's summary, and so a title, may hold `\r`.
    let templates = Templates::builtin();
    let mut ctx = MessageContext::sample(MessageKind::Page);
    ctx.incident.title = "Checkout\r\nBcc: x@example.com\rfailing\n".to_owned();
    let rendered = templates
        .render(MessageKind::Page, AudienceClass::Responders, "SEV-1", &ctx)
        .unwrap();
    assert_eq!(
        rendered.subject,
        "[SEV-1] Page: INC-2026-0042 - Checkout Bcc: x@example.com failing"
    );
}

/// The error of one override whose text is `text`.
fn text_error(text: &str) -> TemplateError {
    let mut template = def(
        MessageKind::StatusUpdate,
        Some(AudienceClass::Stakeholders),
        Some("SEV-1"),
        text,
    );
    template.subject = "ok".to_owned();
    Templates::with_overrides(vec![def(MessageKind::Page, None, None, "x"), template]).unwrap_err()
}

#[test]
fn unknown_variables_are_errors_with_template_and_line() {
    let err = text_error("Hello\n\n{{ incident.titel }}\n");
    assert_eq!(err.template, "status_update/stakeholders/SEV-1 text");
    assert_eq!(
        (err.index, err.part, err.line),
        (Some(1), Some(TemplatePart::Text), Some(3))
    );
    assert_eq!(
        err.message,
        "unknown variable incident.titel (did you mean incident.title?)"
    );
    assert_eq!(
        err.to_string(),
        "status_update/stakeholders/SEV-1 text: line 3: unknown variable incident.titel \
         (did you mean incident.title?)"
    );

    // In a branch the sample does not take: found by the static check.
    let err = text_error(
        "a\n{% if incident.customer_facing %}ok\n{% else %}\n  {{ incident.sumary }}\n{% endif %}",
    );
    assert_eq!(err.line, Some(4), "{err}");
    assert!(
        err.message.starts_with("unknown variable incident.sumary"),
        "{err}"
    );
    let err = text_error("a\nb\n{% if responder %}x{% endif %}");
    assert_eq!(err.line, Some(3), "{err}");
    assert_eq!(err.message, "unknown variable responder");
    let err = text_error("{% for s in incident.services %}{{ s }}{% endfor %}\n{{ incidnet.id }}");
    assert_eq!(err.line, Some(2), "{err}");
    assert_eq!(
        err.message,
        "unknown variable incidnet.id (did you mean incident.id?)"
    );
    // Not confused by a longer name that contains it.
    let err = text_error("{{ incident.id }}\n{{ incident.i }}");
    assert_eq!(err.line, Some(2), "{err}");

    // Subjects and HTML bodies are checked too.
    let mut template = def(MessageKind::Reminder, None, None, "ok");
    template.subject = "{{ contact.phone }}".to_owned();
    let err = Templates::with_overrides(vec![template.clone()]).unwrap_err();
    assert_eq!(
        (err.template.as_str(), err.line),
        ("reminder subject", Some(1))
    );
    template.subject = "ok".to_owned();
    template.html = Some("<p>\n{{ next_update.when }}</p>".to_owned());
    let err = Templates::with_overrides(vec![template]).unwrap_err();
    assert_eq!(
        (err.template.as_str(), err.line),
        ("reminder html", Some(2))
    );
}

#[test]
fn syntax_and_render_errors_name_the_line() {
    let err = text_error("a\n{% if update %}\nb");
    assert_eq!(err.line, Some(2), "{err}");
    assert!(err.message.contains("expected end of block"), "{err}");
    let err = text_error("a\nb\n{{ incident.id }");
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.message.contains("syntax error"), "{err}");
    // Text has no attributes.
    let err = text_error("a\n\n{{ incident.title.nope() }}");
    assert_eq!(err.line, Some(3), "{err}");
    assert_eq!(err.message, "unknown variable incident.title.nope");
    // Only rendering finds a bad index; its line comes from the render.
    let err = text_error("a\n\n{{ incident.services[7] }}");
    assert_eq!(err.line, Some(3), "{err}");
    let err = text_error("  ");
    assert_eq!(err.message, "must not be empty");
    // Globals, loops and set variables are fine.
    Templates::with_overrides(vec![def(
        MessageKind::Page,
        None,
        None,
        "{% set n = incident.services | length %}{% for i in range(n) %}{{ loop.index }}{% endfor %}\
         {{ recipient | upper }} {{ audience }} {{ acknowledge_url }} {{ incident.title | lower }}",
    )])
    .unwrap();
}

#[test]
fn schema_matches_the_context() {
    let value = serde_json::to_value(MessageContext::full_sample()).unwrap();
    let object = value.as_object().unwrap();
    let top: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    let schema: BTreeSet<&str> = context::SCHEMA.iter().map(|(k, _)| *k).collect();
    assert_eq!(top, schema);
    for (name, keys) in context::SCHEMA {
        let want: BTreeSet<&str> = keys.iter().copied().collect();
        let have: BTreeSet<&str> = object[*name]
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(have, want, "{name}");
    }
}

#[test]
fn context_helpers_fill_the_variables() {
    let now: Timestamp = "2026-03-14T10:00:00Z".parse().unwrap();
    let playbook = crate::Playbook::builtin();
    let sample = MessageContext::sample(MessageKind::Page);
    let ctx = MessageContext::new(sample.incident.clone())
        .with_next_update(now + SignedDuration::from_mins(90), now)
        .with_acknowledge_url("https://x/ack")
        .to("alice@example.com", "management");
    let next = ctx.next_update.as_ref().unwrap();
    assert_eq!(
        (next.at.as_str(), next.in_words.as_str()),
        ("2026-03-14 11:30 UTC", "1 hour 30 minutes")
    );
    assert_eq!(ctx.recipient, "alice@example.com");
    assert_eq!(in_words(SignedDuration::from_hours(49)), "2 days 1 hour");
    assert_eq!(
        in_words(SignedDuration::from_secs(30)),
        "less than a minute"
    );
    assert_eq!(format_utc(now), "2026-03-14 10:00 UTC");

    let decl = crate::Declaration {
        title: "Checkout failing".into(),
        severity: "sev-1".into(),
        services: vec!["api".into(), "database".into()],
        customer_facing: true,
        ..Default::default()
    }
    .validate(&playbook, now)
    .unwrap();
    let incident =
        crate::Incident::open(&playbook, decl, "INC-2026-0007".into(), 7, "alice", now).0;
    let vars = IncidentVars::from_incident(&incident, &playbook, "https://w/i/7");
    assert_eq!(
        (
            vars.id.as_str(),
            vars.severity.as_str(),
            vars.severity_label.as_str()
        ),
        ("INC-2026-0007", "SEV-1", "Major")
    );
    assert_eq!(vars.services, ["API", "Database"]);
    assert_eq!(vars.status, "triggered");
    assert_eq!(vars.started_at, "2026-03-14 10:00 UTC");
    assert_eq!(vars.declared_at, "2026-03-14 10:00 UTC");
    assert!(vars.customer_facing && vars.impact.is_empty());
    let ctx = MessageContext::new(vars).with_impact("Checkout down");
    assert_eq!(ctx.incident.impact, "Checkout down");
}

#[test]
fn real_messages_render_a_missing_value_as_empty() {
    // Checked with every variable set, so an unguarded `next_update.at` passes...
    let templates = Templates::with_overrides(vec![def(
        MessageKind::InitialNotification,
        None,
        None,
        "next: [{{ next_update.at }}] contact: [{{ contact.name }}]",
    )])
    .unwrap();
    // ... and renders empty for a severity without a cadence and no contact.
    let mut ctx = MessageContext::sample(MessageKind::InitialNotification);
    ctx.next_update = None;
    ctx.contact = None;
    let rendered = templates
        .render(
            MessageKind::InitialNotification,
            AudienceClass::Stakeholders,
            "SEV-3",
            &ctx,
        )
        .unwrap();
    assert_eq!(rendered.text, "next: [] contact: []");
}
