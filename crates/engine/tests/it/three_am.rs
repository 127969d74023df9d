//! What people receive, end to end: an incident declared, paged and
//! resolved through `App`, its messages rendered from the built-in
//! templates and delivered by the real channels to a real SMTP server
//! (`python3-aiosmtpd`) and local HTTP receivers standing in for Slack,
//! Discord, Teams and a generic webhook. The "3 a.m. test": a page
//! says what a woken person needs in their own time zone, every link goes
//! to the incident's page in the UI, e-mail has an HTML part, the
//! resolution notice carries the resolution message, and chat text is
//! escaped so an alert cannot mention `@channel` or break the layout.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use warroom_domain::notify::SecretRef;
use warroom_domain::{Declaration, Playbook};
use warroom_engine::delivery::{ChannelSet, Delivery};
use warroom_engine::paging::AckLinks;
use warroom_engine::{App, AppOptions, IncidentOp, ManualClock};
use warroom_store::{on_both_backends, Store};

use crate::channels::email::SmtpServer;
use crate::channels::{Receiver, Seen};

on_both_backends!(
    a_page_says_what_a_woken_person_needs_in_their_time_zone,
    stakeholders_get_html_mail_escaped_chat_and_links_to_the_incident_page,
);

const PUBLIC: &str = "https://warroom.example.com";

fn t0() -> Timestamp {
    "2026-11-25T14:00:00Z".parse().unwrap()
}

fn mins(m: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(m)
}

/// SEV-1 has a standing bridge and chat channel and tells `management` on
/// every kind of channel. Alice (Tokyo) is paged first, then Bob (UTC).
fn playbook(smtp_port: u16) -> Playbook {
    let yaml = format!(
        r#"
severities:
  - name: SEV-1
    label: Major
    update_every: 15m
    bridge_url: https://meet.example.com/sev1
    chat_url: https://chat.example.com/c/sev1
    notify:
      - {{audience: management, within: 15m}}
  - name: SEV-3
    label: Low
services:
  - {{id: payments, name: Payments}}
notifications:
  channels:
    - {{name: mail, type: smtp, host: 127.0.0.1, port: {smtp_port}, security: none, from: "Warroom <warroom@example.com>"}}
    - {{name: slack-mgmt, type: slack, webhook_url: {{env: SLACK}}}}
    - {{name: discord-mgmt, type: discord, webhook_url: {{env: DISCORD}}}}
    - {{name: teams-mgmt, type: teams, webhook_url: {{env: TEAMS}}}}
    - {{name: hook-mgmt, type: webhook, url: {{env: HOOK}}}}
  audiences:
    - name: management
      class: stakeholders
      targets:
        - {{channel: mail, to: [cto@example.com]}}
        - {{channel: slack-mgmt}}
        - {{channel: discord-mgmt}}
        - {{channel: teams-mgmt}}
        - {{channel: hook-mgmt}}
oncall:
  users:
    - name: alice
      email: alice@example.com
      time_zone: Asia/Tokyo
      contact_methods: [{{id: mail, kind: email, address: alice@example.com}}]
    - name: bob
      email: bob@example.com
      contact_methods: [{{id: mail, kind: email, address: bob@example.com}}]
  escalation_policies:
    - name: default
      steps:
        - delay_minutes: 10
          targets: [{{type: user, name: alice}}]
        - delay_minutes: 10
          targets: [{{type: user, name: bob}}]
  default_escalation_policy: default
"#
    );
    Playbook::parse("test.yaml", &yaml).unwrap_or_else(|e| panic!("{e}"))
}

struct Setup<S: Store> {
    app: App<S, ChannelSet>,
    clock: ManualClock,
    smtp: SmtpServer,
    chat: Receiver,
}

async fn setup<S: Store>(store: S) -> Setup<S> {
    let smtp = SmtpServer::start().await;
    let chat = Receiver::start().await;
    let clock = ManualClock::new(t0());
    let playbook = playbook(smtp.port);
    let urls: BTreeMap<&str, String> = ["SLACK", "DISCORD", "TEAMS", "HOOK"]
        .into_iter()
        .map(|name| (name, format!("{}/{}", chat.url, name.to_lowercase())))
        .collect();
    let read = move |r: &SecretRef| {
        let name = r.env.as_deref().unwrap_or_default();
        urls.get(name)
            .cloned()
            .ok_or_else(|| "is not set".to_owned())
    };
    let channels = ChannelSet::resolve(&playbook.notifications.channels, read)
        .unwrap()
        .with_severities(playbook.severities.iter().map(|s| s.name.clone()))
        .with_clock(Arc::new(clock.clone()));
    let shared: Arc<dyn warroom_engine::Clock> = Arc::new(clock.clone());
    let app = App::build(
        store,
        Arc::new(playbook),
        shared,
        AppOptions {
            public_url: Some(PUBLIC.to_owned()),
            ack_links: Some(AckLinks::new(vec![3; 32])),
            channels: Arc::new(channels),
        },
    );
    app.oncall.sync_playbook().await.unwrap();
    Setup {
        app,
        clock,
        smtp,
        chat,
    }
}

impl<S: Store> Setup<S> {
    async fn declare(&self, title: &str) -> String {
        let declaration = Declaration {
            title: title.into(),
            summary: "Card payments fail with 502.".into(),
            severity: "SEV-1".into(),
            services: vec!["payments".into()],
            ..Default::default()
        };
        self.app
            .incidents
            .declare("tester", declaration)
            .await
            .unwrap()
            .0
            .id
    }

    /// At minute `m`: the due paging jobs run, then every due message is sent.
    async fn at(&self, m: i64) {
        self.clock.set(mins(m));
        self.app.paging.run_once(mins(m)).await.unwrap();
        let delivery: &Delivery<S, ChannelSet> = &self.app.delivery;
        while delivery.deliver_once(mins(m)).await.unwrap() > 0 {}
    }

    /// The chat requests received, by path (`/slack`, ...).
    fn chat_by_path(&self) -> BTreeMap<String, Vec<Seen>> {
        let mut by_path: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
        for seen in self.chat.take() {
            by_path.entry(seen.path.clone()).or_default().push(seen);
        }
        by_path
    }
}

/// The text and HTML parts of a `multipart/alternative` e-mail.
fn text_and_html(mail: &Value) -> (String, String) {
    assert_eq!(mail["content_type"], "multipart/alternative", "{mail}");
    let parts = mail["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{mail}");
    assert_eq!(parts[0]["content_type"], "text/plain");
    assert_eq!(parts[1]["content_type"], "text/html");
    (
        parts[0]["content"].as_str().unwrap().to_owned(),
        // minijinja writes `/` as `&#x2f;` or as it is, by the features it
        // was built with; to a browser both are the same.
        parts[1]["content"].as_str().unwrap().replace("&#x2f;", "/"),
    )
}

fn mail_to<'m>(mails: &'m [Value], to: &str) -> Vec<&'m Value> {
    mails.iter().filter(|m| m["rcpt_tos"][0] == to).collect()
}

async fn a_page_says_what_a_woken_person_needs_in_their_time_zone<S: Store>(store: S) {
    let s = setup(store).await;
    let id = s.declare("Checkout is down").await;
    s.at(0).await;

    let mails = s.smtp.received();
    let page = mail_to(&mails, "alice@example.com");
    assert_eq!(page.len(), 1, "{mails:?}");
    assert_eq!(
        page[0]["headers"]["Subject"],
        format!("[SEV-1] Page: {id} - Checkout is down")
    );
    let (text, html) = text_and_html(page[0]);
    let lines: Vec<&str> = text.lines().collect();
    let ack = lines
        .iter()
        .find_map(|l| l.strip_prefix("Acknowledge: "))
        .unwrap_or_else(|| panic!("no acknowledge link: {text}"));
    assert!(ack.starts_with(&format!("{PUBLIC}/ack/")), "{ack}");
    // Title, summary, service, when it started in Alice's time zone (Tokyo,
    // UTC+9), when it escalates and to whom, the acknowledge link, the
    // bridge and chat, and the incident's page in the UI.
    assert_eq!(
        text,
        format!(
            "SEV-1 {id}: Checkout is down\n\
             Card payments fail with 502.\n\
             Service: Payments\n\
             Started: 2026-11-25 23:00 JST\n\
             Escalates in 10 minutes (2026-11-25 23:10 JST) to bob unless acknowledged.\n\
             Acknowledge: {ack}\n\
             Bridge: https://meet.example.com/sev1\n\
             Chat: https://chat.example.com/c/sev1\n\
             Details: {PUBLIC}/incidents/{id}"
        )
    );
    assert!(
        html.contains(&format!(r#"<a href="{ack}" style="#)),
        "an Acknowledge button: {html}"
    );
    assert!(
        html.contains(&format!(r#"<a href="{PUBLIC}/incidents/{id}">"#)),
        "{html}"
    );
    assert!(!text.contains("/api/") && !html.contains("/api/"), "{text}");

    // Nobody answers: ten minutes later Bob, the last step, is paged; his
    // times are in UTC, the directory's default.
    s.at(10).await;
    let mails = s.smtp.received();
    let page = mail_to(&mails, "bob@example.com");
    assert_eq!(page.len(), 1, "{mails:?}");
    let (text, _) = text_and_html(page[0]);
    assert!(text.contains("\nStarted: 2026-11-25 14:00 UTC\n"), "{text}");
    assert!(
        text.contains("\nNo further escalation: you are the last step.\n"),
        "{text}"
    );
}

async fn stakeholders_get_html_mail_escaped_chat_and_links_to_the_incident_page<S: Store>(
    store: S,
) {
    let s = setup(store).await;
    let title = "Checkout <!channel> @channel *down* & [pay](https://evil.example)";
    let id = s.declare(title).await;
    s.at(0).await;
    let page_url = format!("{PUBLIC}/incidents/{id}");

    // E-mail: text and HTML, the incident's page linked, the title escaped in HTML.
    let mails = s.smtp.received();
    let notice = mail_to(&mails, "cto@example.com");
    assert_eq!(notice.len(), 1, "{mails:?}");
    let (text, html) = text_and_html(notice[0]);
    assert!(text.contains(&format!("\nDetails: {page_url}")), "{text}");
    assert!(
        text.contains(
            "\nBridge: https://meet.example.com/sev1\nChat: https://chat.example.com/c/sev1\n"
        ),
        "{text}"
    );
    assert!(
        html.contains(
            "Checkout &lt;!channel&gt; @channel *down* &amp; [pay](https://evil.example)"
        ),
        "{html}"
    );
    assert!(
        html.contains(&format!(r#"<a href="{page_url}">"#)),
        "{html}"
    );
    assert!(!html.contains("<!channel>"), "{html}");

    let chat = s.chat_by_path();
    let one = |path: &str| -> Value {
        let seen = &chat[path];
        assert_eq!(seen.len(), 1, "{path}: {seen:?}");
        seen[0].json()
    };

    // Slack: `&`, `<` and `>` escaped everywhere Slack reads them; the
    // buttons go to the incident's page, the bridge and the chat.
    let slack = one("/slack");
    let slack_subject =
        "[SEV-1] Payments Incident - Checkout &lt;!channel&gt; @channel *down* &amp; [pay](https://evil.example)";
    assert_eq!(slack["text"], slack_subject);
    assert_eq!(slack["blocks"][0]["text"]["text"], slack_subject);
    let section = slack["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(!section.contains("<!channel>"), "{section}");
    assert!(
        section.contains(&format!("Details: {page_url}")),
        "{section}"
    );
    let buttons: Vec<(&str, &str)> = slack["attachments"][0]["blocks"][1]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["action_id"].as_str().unwrap(), b["url"].as_str().unwrap()))
        .collect();
    assert_eq!(
        buttons,
        [
            ("open_incident", page_url.as_str()),
            ("join_bridge", "https://meet.example.com/sev1"),
            ("open_chat", "https://chat.example.com/c/sev1"),
        ]
    );

    // Discord and Teams: Markdown shown as written, group mentions broken.
    let markdown_subject = "\\[SEV-1\\] Payments Incident - Checkout \\<!channel\\> @\u{200B}channel \\*down\\* & \\[pay\\]\\(https://evil.example\\)";
    let discord = one("/discord");
    assert_eq!(discord["content"], markdown_subject);
    assert_eq!(discord["embeds"][0]["url"], page_url.as_str());
    assert_eq!(discord["allowed_mentions"]["parse"], serde_json::json!([]));
    let teams = one("/teams");
    let card = &teams["attachments"][0]["content"];
    assert_eq!(card["body"][0]["text"], markdown_subject);
    assert_eq!(card["actions"][0]["url"], page_url.as_str());

    // The generic webhook: the envelope, with the page's URL and the bridge.
    let hook = one("/hook");
    assert_eq!(hook["kind"], "initial_notification");
    assert_eq!(hook["incident"]["url"], page_url.as_str());
    assert_eq!(
        hook["incident"]["bridge_url"],
        "https://meet.example.com/sev1"
    );
    assert_eq!(
        hook["incident"]["chat_url"],
        "https://chat.example.com/c/sev1"
    );
    assert!(hook["html"]
        .as_str()
        .unwrap()
        .starts_with("<!DOCTYPE html>"));

    // Resolved with a message: every audience told reads it.
    s.clock.set(mins(30));
    s.app
        .incidents
        .apply(
            &id,
            "alice",
            IncidentOp::Resolve {
                message: Some("Rolled back the gateway deploy; payments recovered.".into()),
            },
        )
        .await
        .unwrap();
    s.at(30).await;
    let mails = s.smtp.received();
    let notices = mail_to(&mails, "cto@example.com");
    assert_eq!(notices.len(), 2, "{mails:?}");
    assert_eq!(
        notices[1]["headers"]["Subject"],
        format!("[RESOLVED] {id} - {title}")
    );
    let (text, html) = text_and_html(notices[1]);
    assert!(
        text.contains("\nRESOLUTION:\nRolled back the gateway deploy; payments recovered.\n"),
        "{text}"
    );
    assert!(
        html.contains("Rolled back the gateway deploy; payments recovered."),
        "{html}"
    );
    let chat = s.chat_by_path();
    for path in ["/slack", "/discord", "/teams", "/hook"] {
        let body = chat[path][0].body.clone();
        assert!(
            body.contains("Rolled back the gateway deploy"),
            "{path}: {body}"
        );
    }
}
