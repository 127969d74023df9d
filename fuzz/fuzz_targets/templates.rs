//! Fuzzes the notification templates: a playbook whose template text comes
//! from the input, checked when it loads and rendered with fixed contexts.
//!
//! The first byte picks the kind, audience, severity and whether there is an
//! HTML part; the rest is UTF-8 text split at NULs into subject, text and
//! HTML. Checked: the playbook and `Templates::with_overrides` agree; a
//! template that passed the load check renders the load check's own sample
//! (all variables set) without error; a rendered subject is one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warroom_domain::notify::templates::{MessageContext, TemplateDef, Templates};
use warroom_domain::notify::{AudienceClass, MessageKind};
use warroom_domain::Playbook;

const AUDIENCES: [Option<AudienceClass>; 4] = [
    None,
    Some(AudienceClass::Responders),
    Some(AudienceClass::Stakeholders),
    Some(AudienceClass::Customers),
];

fn def(data: &[u8]) -> Option<TemplateDef> {
    let (&pick, rest) = data.split_first()?;
    let text = std::str::from_utf8(rest).ok()?;
    let mut parts = text.splitn(3, '\0');
    let kind = MessageKind::ALL[usize::from(pick % 5)];
    Some(TemplateDef {
        kind,
        audience: AUDIENCES[usize::from(pick / 5 % 4)],
        severity: (pick & 0x40 != 0).then(|| "SEV-1".to_owned()),
        subject: parts.next().unwrap_or_default().to_owned(),
        text: parts.next().unwrap_or_default().to_owned(),
        html: (pick & 0x80 != 0).then(|| parts.next().unwrap_or_default().to_owned()),
    })
}

/// A playbook that only overrides this one template.
fn yaml(def: &TemplateDef) -> String {
    // A JSON string is a YAML double-quoted scalar with the same escapes.
    let quote = |text: &str| serde_json::to_string(text).expect("a string serializes");
    let mut yaml = format!(
        "notifications:\n  templates:\n    - kind: {}\n      subject: {}\n      text: {}\n",
        def.kind.as_str(),
        quote(&def.subject),
        quote(&def.text)
    );
    if let Some(audience) = def.audience {
        yaml.push_str(&format!("      audience: {}\n", audience.as_str()));
    }
    if let Some(severity) = &def.severity {
        yaml.push_str(&format!("      severity: {severity}\n"));
    }
    if let Some(html) = &def.html {
        yaml.push_str(&format!("      html: {}\n", quote(html)));
    }
    yaml
}

/// The values the load check renders with, with `title` as the incident's title.
fn sample(title: &str) -> MessageContext {
    let mut ctx = MessageContext::full_sample();
    ctx.incident.title = title.to_owned();
    ctx
}

fn check_rendering(templates: &Templates, def: &TemplateDef) {
    let audience = def.audience.unwrap_or_default();
    let severity = def.severity.as_deref().unwrap_or("SEV-2");
    assert_eq!(templates.select(def.kind, audience, severity), Some(def));
    let rendered = templates.render(def.kind, audience, severity, &sample("Checkout requests failing"));
    if let Err(e) = rendered {
        panic!("a template that passed the load check does not render: {e}");
    }
    // An alert's summary becomes a title and may carry line breaks; a
    // subject must not (it is a mail header).
    let contexts = [
        sample("Checkout\r\nBcc: x@example.com\rfailing\n"),
        MessageContext::sample(def.kind),
    ];
    for ctx in &contexts {
        if let Ok(message) = templates.render(def.kind, audience, severity, ctx) {
            assert!(
                !message.subject.contains(['\n', '\r']),
                "a subject of more than one line: {:?}",
                message.subject
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(def) = def(data) else {
        return;
    };
    let direct = Templates::with_overrides(vec![def.clone()]);
    if let Ok(templates) = &direct {
        check_rendering(templates, &def);
    }
    match Playbook::parse("fuzz.yaml", &yaml(&def)) {
        Ok(playbook) => {
            let templates = &playbook.notifications.templates;
            // YAML folds some characters JSON leaves raw (U+0085, U+2028);
            // compare only when the text came through unchanged.
            if templates.overrides() == [def.clone()] {
                assert!(direct.is_ok(), "the playbook took a template the check refuses");
            }
        }
        Err(err) => {
            if direct.is_ok() {
                assert!(
                    !err.message.starts_with("template "),
                    "the playbook refused a template the check takes: {err}"
                );
            }
        }
    }
});
