//! Tests for the `notifications:` section and the audiences severities notify.

use jiff::SignedDuration;

use super::check;
use crate::notify::templates::{MessageContext, TemplateDef};
use crate::notify::{
    Audience, AudienceClass, AudienceTarget, ChannelConfig, ChannelSettings, MessageKind,
    NotificationsConfig, SecretRef, SmtpSecurity,
};
use crate::playbook::Playbook;

fn parse(yaml: &str) -> Playbook {
    Playbook::parse("p.yaml", yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

fn env(name: &str) -> SecretRef {
    SecretRef {
        env: Some(name.into()),
        file: None,
    }
}

fn file(path: &str) -> SecretRef {
    SecretRef {
        env: None,
        file: Some(path.into()),
    }
}

#[test]
fn absent_or_empty_means_defaults() {
    for yaml in [
        "",
        "notifications:\n",
        "notifications: {}\n",
        "notifications: null\n",
        "notifications:\n  channels: []\n  audiences:\n",
    ] {
        let n = parse(yaml).notifications;
        assert!(n.channels.is_empty() && n.audiences.is_empty(), "{yaml}");
        assert!(n.throttles.is_empty() && n.templates.overrides().is_empty());
        assert_eq!(n.max_attempts, 5);
    }
    assert_eq!(NotificationsConfig::default().max_attempts, 5);
    // Without audiences, severities may notify any audience (the built-in ones do).
    let p = Playbook::builtin();
    assert!(p.audience("management").is_none());
    assert!(p.severity("SEV-0").unwrap().notify.len() == 3);
}

const FULL: &str = r#"
severities:
  - name: SEV-1
    label: Major
    update_every: 15m
    notify:
      - {audience: Management, within: 30m}
notifications:
  channels:
    - name: mail
      type: smtp
      host: smtp.example.com
      port: 465
      security: tls
      username: u
      password: {env: WARROOM_SMTP_PASSWORD}
      from: "Warroom <alerts@example.com>"
    - name: relay
      type: smtp
      host: localhost
      from: alerts@example.com
    - name: slack-ops
      type: slack
      webhook_url: {env: SLACK_OPS_WEBHOOK}
    - {name: mm, type: mattermost, webhook_url: {env: MM_HOOK}}
    - {name: teams, type: teams, webhook_url: {file: /run/secrets/teams}}
    - {name: discord, type: discord, webhook_url: {env: DISCORD_HOOK}}
    - {name: hook, type: webhook, url: {env: HOOK_URL}, signing_secret: {file: /run/secrets/sign}}
    - name: text
      type: twilio
      account_sid: AC123
      auth_token: {file: /run/secrets/twilio}
      from: "+14155550123"
  audiences:
    - name: management
      class: stakeholders
      targets:
        - {channel: mail, to: [cto@example.com]}
        - {channel: slack-ops}
        - {channel: text, to: ["+14155550142"]}
    - name: chat
      targets: [{channel: mm}]
  templates:
    - kind: status_update
      audience: stakeholders
      severity: sev-1
      subject: "[UPDATE] {{ incident.id }}"
      text: "{{ update.message }}"
      html: "<p>{{ update.message }}</p>"
    - {kind: page, subject: "P {{ incident.id }}", text: "ack {{ acknowledge_url }}"}
  max_attempts: 8
  throttle:
    - {channel_type: twilio, max: 5, per: 15m}
    - {channel_type: smtp, max: 100, per: 1h}
"#;

#[test]
fn every_key_is_parsed() {
    let p = parse(FULL);
    let n = &p.notifications;
    let channel = |name: &str, settings| ChannelConfig {
        name: name.into(),
        settings,
    };
    assert_eq!(
        n.channels,
        [
            channel(
                "mail",
                ChannelSettings::Smtp {
                    host: "smtp.example.com".into(),
                    port: 465,
                    security: SmtpSecurity::Tls,
                    username: Some("u".into()),
                    password: Some(env("WARROOM_SMTP_PASSWORD")),
                    from: "Warroom <alerts@example.com>".into(),
                }
            ),
            channel(
                "relay",
                ChannelSettings::Smtp {
                    host: "localhost".into(),
                    port: 587,
                    security: SmtpSecurity::Starttls,
                    username: None,
                    password: None,
                    from: "alerts@example.com".into(),
                }
            ),
            channel(
                "slack-ops",
                ChannelSettings::Slack {
                    webhook_url: env("SLACK_OPS_WEBHOOK")
                }
            ),
            channel(
                "mm",
                ChannelSettings::Mattermost {
                    webhook_url: env("MM_HOOK")
                }
            ),
            channel(
                "teams",
                ChannelSettings::Teams {
                    webhook_url: file("/run/secrets/teams")
                }
            ),
            channel(
                "discord",
                ChannelSettings::Discord {
                    webhook_url: env("DISCORD_HOOK")
                }
            ),
            channel(
                "hook",
                ChannelSettings::Webhook {
                    url: env("HOOK_URL"),
                    signing_secret: Some(file("/run/secrets/sign")),
                }
            ),
            channel(
                "text",
                ChannelSettings::Twilio {
                    base_url: "https://api.twilio.com".into(),
                    account_sid: "AC123".into(),
                    auth_token: file("/run/secrets/twilio"),
                    from: "+14155550123".into(),
                }
            ),
        ]
    );
    let target = |channel: &str, to: &[&str]| AudienceTarget {
        channel: channel.into(),
        to: to.iter().map(|t| (*t).to_owned()).collect(),
    };
    assert_eq!(
        n.audiences,
        [
            Audience {
                name: "management".into(),
                class: AudienceClass::Stakeholders,
                targets: vec![
                    target("mail", &["cto@example.com"]),
                    target("slack-ops", &[]),
                    target("text", &["+14155550142"]),
                ],
            },
            Audience {
                name: "chat".into(),
                class: AudienceClass::Responders,
                targets: vec![target("mm", &[])],
            },
        ]
    );
    assert_eq!(n.max_attempts, 8);
    let throttles: Vec<_> = n
        .throttles
        .iter()
        .map(|t| (t.channel_type.as_str(), t.max, t.per))
        .collect();
    assert_eq!(
        throttles,
        [
            ("twilio", 5, SignedDuration::from_mins(15)),
            ("smtp", 100, SignedDuration::from_hours(1)),
        ]
    );
    assert_eq!(n.throttle("twilio").unwrap().max, 5);
    assert_eq!(
        n.templates.overrides()[0],
        TemplateDef {
            kind: MessageKind::StatusUpdate,
            audience: Some(AudienceClass::Stakeholders),
            severity: Some("sev-1".into()),
            subject: "[UPDATE] {{ incident.id }}".into(),
            text: "{{ update.message }}".into(),
            html: Some("<p>{{ update.message }}</p>".into()),
        }
    );
    let ctx = MessageContext::sample(MessageKind::StatusUpdate);
    let rendered = n
        .templates
        .render(
            MessageKind::StatusUpdate,
            AudienceClass::Stakeholders,
            "SEV-1",
            &ctx,
        )
        .unwrap();
    assert_eq!(rendered.subject, "[UPDATE] INC-2026-0042");
    assert!(rendered.html.unwrap().starts_with("<p>A bad deploy"));

    // Lookups.
    assert_eq!(p.channel("text").unwrap().settings.type_name(), "twilio");
    assert_eq!(n.channel_of_type("smtp").unwrap().name, "mail");
    assert_eq!(p.audience("MANAGEMENT").unwrap().targets.len(), 3);
    assert!(p.channel("pager").is_none());
}

/// The example in the comments of `examples/playbook.yaml`, uncommented.
fn documented_example() -> String {
    let builtin = include_str!("../../../../../../examples/playbook.yaml");
    let lines: Vec<&str> = builtin
        .lines()
        .skip_while(|line| *line != "# notifications:")
        .take_while(|line| line.starts_with('#'))
        .map(|line| {
            line.strip_prefix("# ")
                .unwrap_or(line.trim_start_matches('#'))
        })
        .collect();
    assert!(!lines.is_empty(), "no `# notifications:` example");
    lines.join("\n") + "\n"
}

#[test]
fn documented_example_is_valid() {
    // With the built-in severities, whose audiences it defines.
    let p = parse(&documented_example());
    let n = &p.notifications;
    let names: Vec<_> = n.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["mail", "slack-ops", "hooks", "text"]);
    assert_eq!(n.audiences.len(), 4);
    assert_eq!(n.templates.overrides().len(), 2);
    assert_eq!((n.max_attempts, n.throttles.len()), (5, 1));
    let rendered = n
        .templates
        .render(
            MessageKind::StatusUpdate,
            AudienceClass::Stakeholders,
            "SEV-1",
            &MessageContext::sample(MessageKind::StatusUpdate),
        )
        .unwrap();
    assert!(
        rendered
            .text
            .starts_with("UPDATE as of 2026-03-14 10:00 UTC: Identified\n"),
        "{}",
        rendered.text
    );
    assert!(rendered.html.is_some());
}

/// Lines 1 to 7: a channel per kind of `to` (smtp, slack, twilio).
const CHANNELS: &str = "notifications:\n  channels:\n    - {name: mail, type: smtp, host: mx, from: a@example.com}\n    - {name: chat, type: slack, webhook_url: {env: HOOK}}\n    - name: text\n      type: twilio\n      account_sid: AC1\n      auth_token: {env: TOKEN}\n      from: \"+14155550100\"\n";

#[test]
fn bad_channels_are_errors() {
    let one = |lines: &str| format!("notifications:\n  channels:\n    - name: x\n{lines}");
    check(
        &one("      type: smtp\n      host: mx\n      from: nobody\n"),
        6,
        13,
        "notifications.channels[0].from",
        "\"nobody\" is not an e-mail address or `Name <address>`",
    );
    check(
        &one("      type: smtp\n      host: mx\n      from: \"Warroom <nobody>\"\n"),
        6,
        13,
        "notifications.channels[0].from",
        "is not an e-mail address",
    );
    check(
        &one("      type: slack\n      webhook_url: {env: HOOK, file: /x}\n"),
        5,
        20,
        "notifications.channels[0].webhook_url",
        "write exactly one of `env: VARIABLE` or `file: /path/to/secret`",
    );
    check(
        &one("      type: slack\n      webhook_url: {}\n"),
        5,
        20,
        "notifications.channels[0].webhook_url",
        "write exactly one of",
    );
    check(
        &one("      type: slack\n      webhook_url: {env: slack_hook}\n"),
        5,
        26,
        "notifications.channels[0].webhook_url.env",
        "\"slack_hook\" is not an environment variable name",
    );
    check(
        &one("      type: twilio\n      account_sid: AC1\n      auth_token: {env: T}\n      from: \"555-0100\"\n"),
        7,
        13,
        "notifications.channels[0].from",
        "not an E.164 phone number",
    );
    check(
        &one("      type: twilio\n      base_url: ftp://twilio\n      account_sid: AC1\n      auth_token: {env: T}\n      from: \"+14155550100\"\n"),
        5,
        17,
        "notifications.channels[0].base_url",
        "is not an http(s) URL",
    );
    check(
        "notifications:\n  channels:\n    - {name: Email, type: smtp, host: mx, from: a@example.com}\n",
        3,
        14,
        "notifications.channels[0].name",
        "is not a handle",
    );
    check(
        &format!("{CHANNELS}    - {{name: chat, type: discord, webhook_url: {{env: D}}}}\n"),
        10,
        14,
        "notifications.channels[3].name",
        "\"chat\" is already used by notifications.channels[1]",
    );
    check(
        &one("      type: pager\n"),
        4,
        7,
        "notifications.channels[0].type",
        "unknown variant `pager`",
    );
}

#[test]
fn unknown_and_missing_channel_keys_are_errors() {
    check(
        "notifications:\n  channels:\n    - name: x\n      type: smtp\n      hots: mx\n      from: a@example.com\n",
        5,
        7,
        "notifications.channels[0].hots",
        "unknown field `hots`, expected one of host, port, security, username, password, from",
    );
    check(
        "notifications:\n  channels:\n    - name: x\n      type: slack\n",
        4,
        7,
        "notifications.channels[0].webhook_url",
        "missing field `webhook_url`",
    );
}

#[test]
fn bad_audiences_are_errors() {
    let audience = |lines: &str| format!("{CHANNELS}  audiences:\n    - name: management\n{lines}");
    check(
        &audience("      targets: [{channel: pager}]\n"),
        12,
        27,
        "notifications.audiences[0].targets[0].channel",
        "no channel named \"pager\" in notifications.channels",
    );
    check(
        &audience("      targets: [{channel: chat, to: [\"#ops\"]}]\n"),
        12,
        37,
        "notifications.audiences[0].targets[0].to",
        "a slack channel posts to one place: leave `to` out",
    );
    check(
        &audience(
            "      targets:\n        - {channel: mail, to: [cto@example.com, cto.example.com]}\n",
        ),
        13,
        49,
        "notifications.audiences[0].targets[0].to[1]",
        "\"cto.example.com\" is not an e-mail address",
    );
    check(
        &audience("      targets:\n        - {channel: mail}\n"),
        13,
        11,
        "notifications.audiences[0].targets[0].to",
        "a smtp channel needs at least one e-mail address in `to`",
    );
    check(
        &audience("      targets:\n        - {channel: text, to: [cto@example.com]}\n"),
        13,
        32,
        "notifications.audiences[0].targets[0].to[0]",
        "not an E.164 phone number",
    );
    check(
        &audience("      targets: []\n"),
        12,
        16,
        "notifications.audiences[0].targets",
        "needs at least one target",
    );
    check(
        &audience("      targets: [{channel: chat}]\n    - name: Management\n      targets: [{channel: chat}]\n"),
        13,
        13,
        "notifications.audiences[1].name",
        "\"Management\" is already used by notifications.audiences[0] (case is ignored)",
    );
    check(
        &audience("      class: managers\n      targets: [{channel: chat}]\n"),
        12,
        14,
        "notifications.audiences[0].class",
        "unknown variant `managers`",
    );
}

#[test]
fn bad_templates_are_errors_with_the_template_line() {
    let templates = |entries: &str| format!("notifications:\n  templates:\n{entries}");
    let ok = "    - {kind: page, subject: s, text: t}\n";
    let yaml = templates(&format!(
        "{ok}{ok}    - kind: status_update\n      audience: stakeholders\n      severity: SEV-1\n      subject: \"[UPDATE] {{{{ incident.id }}}}\"\n      text: |\n        Hello\n\n        {{{{ incident.titel }}}}\n"
    ))
    .replace("{kind: page,", "{kind: reminder,")
    .replacen("{kind: reminder,", "{kind: page,", 1);
    check(
        &yaml,
        9,
        7,
        "notifications.templates[2].text",
        "line 3: unknown variable incident.titel (did you mean incident.title?)",
    );
    let err = Playbook::parse("playbook.yaml", &yaml).unwrap_err();
    assert_eq!(
        err.to_string(),
        "playbook.yaml:9:7: notifications.templates[2].text: template \
         status_update/stakeholders/SEV-1 text, line 3: unknown variable \
         incident.titel (did you mean incident.title?)"
    );
    // In a branch the sample would not take.
    check(
        &templates("    - kind: page\n      subject: \"{% if false %}{{ recipient.nam }}{% endif %}\"\n      text: t\n"),
        4,
        7,
        "notifications.templates[0].subject",
        "line 1: unknown variable recipient.nam",
    );
    check(
        &templates("    - kind: page\n      subject: s\n      text: t\n      html: \"<p>{% if update %}</p>\"\n"),
        6,
        7,
        "notifications.templates[0].html",
        "syntax error",
    );
    check(
        &templates("    - {kind: page, severity: SEV-9, subject: s, text: t}\n"),
        3,
        30,
        "notifications.templates[0].severity",
        "no severity named \"SEV-9\" in severities",
    );
    check(
        &templates(&format!(
            "{ok}    - {{kind: page, subject: s2, text: t2}}\n"
        )),
        4,
        7,
        "notifications.templates[1]",
        "templates[0] is already for this kind, audience and severity",
    );
    check(
        &templates("    - {kind: pager, subject: s, text: t}\n"),
        3,
        14,
        "notifications.templates[0].kind",
        "unknown variant `pager`",
    );
    check(
        &templates("    - {kind: page, subject: s}\n"),
        3,
        20,
        "notifications.templates[0].text",
        "missing field `text`",
    );
}

#[test]
fn bad_attempts_and_throttles_are_errors() {
    check(
        "notifications:\n  max_attempts: 0\n",
        2,
        17,
        "notifications.max_attempts",
        "0 is out of range: write a number from 1 to 20",
    );
    check(
        "notifications:\n  max_attempts: 21\n",
        2,
        17,
        "notifications.max_attempts",
        "out of range",
    );
    let throttle = |entries: &str| format!("notifications:\n  throttle:\n{entries}");
    check(
        &throttle("    - {channel_type: pager, max: 5, per: 15m}\n"),
        3,
        22,
        "notifications.throttle[0].channel_type",
        "\"pager\" is not a channel type: write one of smtp, slack,",
    );
    check(
        &throttle("    - {channel_type: twilio, max: 0, per: 15m}\n"),
        3,
        35,
        "notifications.throttle[0].max",
        "0 is out of range",
    );
    check(
        &throttle("    - {channel_type: twilio, max: 5, per: soon}\n"),
        3,
        43,
        "notifications.throttle[0].per",
        "not a duration",
    );
    check(
        &throttle("    - {channel_type: twilio, max: 5, per: 1m}\n    - {channel_type: twilio, max: 9, per: 1h}\n"),
        4,
        22,
        "notifications.throttle[1].channel_type",
        "\"twilio\" is already used by notifications.throttle[0]",
    );
}

#[test]
fn severities_must_notify_defined_audiences() {
    let audiences = "notifications:\n  channels: [{name: chat, type: slack, webhook_url: {env: H}}]\n  audiences:\n    - {name: Management, targets: [{channel: chat}]}\n";
    check(
        &format!("severities:\n  - name: SEV-1\n    label: Major\n    notify:\n      - {{audience: management, within: 5m}}\n      - {{audience: board, within: 1h}}\n{audiences}"),
        6,
        20,
        "severities[0].notify[1].audience",
        "no audience named \"board\" in notifications.audiences",
    );
    // The built-in severities notify four audiences.
    // ... reported at `notifications.audiences`, since the file has no `severities:`.
    let err = Playbook::parse("p.yaml", audiences).unwrap_err();
    assert_eq!(err.field, "severities[0].notify[0].audience");
    assert_eq!((err.line, err.column), (Some(4), Some(5)), "{err}");
    assert!(
        err.message
            .contains("no audience named \"all stakeholders\"")
            && err.message.contains("built-in severities"),
        "{err}"
    );
    // Without audiences, any name goes.
    parse("severities:\n  - name: SEV-1\n    label: Major\n    notify: [{audience: board, within: 1h}]\n");
}

#[test]
fn a_channel_cannot_take_the_name_of_a_contact_kind() {
    check(
        "notifications:\n  channels:\n    - {name: email, type: smtp, host: mx, from: a@example.com}\n",
        3,
        14,
        "notifications.channels[0].name",
        "names a kind of contact method",
    );
}

/// A webhook's `url` written as a plain string is reported at `url`, with
/// the accepted forms.
#[test]
fn a_secret_written_inline_names_its_field() {
    let channel = |lines: &str| format!("notifications:\n  channels:\n    - name: hooks\n{lines}");
    for (lines, line, column, field) in [
        (
            "      type: webhook\n      url: https://hooks.example.com/warroom\n",
            5,
            12,
            "url",
        ),
        (
            "      url: https://hooks.example.com/warroom\n      type: webhook\n",
            4,
            12,
            "url",
        ),
        (
            "      type: webhook\n      url: {env: HOOK}\n      signing_secret: s3cret\n",
            6,
            23,
            "signing_secret",
        ),
        (
            "      type: slack\n      webhook_url: \"https://hooks.slack.com/services/T/B/X\"\n",
            5,
            20,
            "webhook_url",
        ),
        (
            "      type: twilio\n      account_sid: AC1\n      auth_token: abc123\n      from: \"+14155550100\"\n",
            6,
            19,
            "auth_token",
        ),
        (
            "      type: smtp\n      host: mx\n      password: hunter2\n      from: a@example.com\n",
            6,
            17,
            "password",
        ),
    ] {
        check(
            &channel(lines),
            line,
            column,
            &format!("notifications.channels[0].{field}"),
            &format!(
                "`{field}` is a secret, read from the environment or a file: write `{field}: {{env: VARIABLE}}` or `{field}: {{file: /path/to/secret}}`"
            ),
        );
    }
    // The accepted forms still parse, and a bad reference still names its key.
    let p = parse(&channel(
        "      type: webhook\n      url: {file: /run/secrets/hook}\n      signing_secret: {env: HOOK_SECRET}\n",
    ));
    assert_eq!(
        p.notifications.channels[0].settings,
        ChannelSettings::Webhook {
            url: file("/run/secrets/hook"),
            signing_secret: Some(env("HOOK_SECRET")),
        }
    );
    check(
        &channel("      type: webhook\n      url: {envv: HOOK}\n"),
        5,
        7,
        "notifications.channels[0].url",
        "unknown field `envv`",
    );
}
