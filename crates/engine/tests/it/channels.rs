//! Delivery channels against real receivers: an SMTP server (Debian's
//! `python3-aiosmtpd`, started per test, in `channels/email.rs`) and local
//! HTTP receivers standing in for Slack, Mattermost, Teams, Discord, a
//! generic webhook and Twilio. Each test builds `MessageRecord`s directly
//! and calls `ChannelSet::send`; no store is involved.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use warroom_domain::notify::{ChannelConfig, ChannelSettings, SecretRef, SmtpSecurity};
use warroom_engine::delivery::{verify_signature, webhook, ChannelSet, Channels, SendError};
use warroom_engine::ManualClock;
use warroom_store::{MessageRecord, MessageState};

pub(crate) mod email;

fn now() -> Timestamp {
    "2026-11-25T14:00:00Z".parse().unwrap()
}

fn env(name: &str) -> SecretRef {
    SecretRef {
        env: Some(name.to_owned()),
        file: None,
    }
}

/// The secrets of these tests, as the binary's reader would return them.
fn secrets(extra: &[(&str, String)]) -> impl Fn(&SecretRef) -> Result<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::from([
        ("SMTP_PASSWORD".to_owned(), "pw-smtp".to_owned()),
        ("HOOK_SECRET".to_owned(), "whsec-test".to_owned()),
        ("TWILIO_TOKEN".to_owned(), "tok-abc".to_owned()),
    ]);
    for (k, v) in extra {
        map.insert((*k).to_owned(), v.clone());
    }
    move |r: &SecretRef| {
        let name = r.env.as_deref().unwrap_or_default();
        map.get(name)
            .cloned()
            .ok_or_else(|| "is not set".to_owned())
    }
}

fn channel(name: &str, settings: ChannelSettings) -> ChannelConfig {
    ChannelConfig {
        name: name.to_owned(),
        settings,
    }
}

fn message(channel: &str, destination: &str, subject: &str, body: Value) -> MessageRecord {
    MessageRecord {
        id: 42,
        idempotency_key: format!("test:{channel}:{destination}"),
        incident_id: Some("INC-2026-0007".to_owned()),
        purpose: "notification".to_owned(),
        user_name: None,
        contact_method: None,
        channel: channel.to_owned(),
        destination: destination.to_owned(),
        subject: subject.to_owned(),
        body: body.to_string(),
        state: MessageState::Sending,
        attempts: 0,
        run_at: now(),
        last_error: None,
        provider_answer: None,
        created_at: now(),
        sent_at: None,
    }
}

/// A page to a user's own contact method, with the page body paging builds today.
fn page(kind: &str, destination: &str) -> MessageRecord {
    let mut m = message(
        kind,
        destination,
        "[SEV-1] INC-2026-0007: Checkout is down",
        json!({
            "type": "page",
            "incident": {
                "id": "INC-2026-0007",
                "title": "Checkout is down",
                "severity": "SEV-1",
                "status": "triggered",
                "url": "https://warroom.example.com/incidents/INC-2026-0007",
            },
            "user": "alice",
            "acknowledge_url": "https://warroom.example.com/ack/tok",
        }),
    );
    m.purpose = "page".to_owned();
    m.user_name = Some("alice".to_owned());
    m.contact_method = Some("primary".to_owned());
    m
}

/// A status update in the envelope format.
fn update(channel: &str, destination: &str) -> MessageRecord {
    message(
        channel,
        destination,
        "[SEV-1] INC-2026-0007: Checkout is down",
        json!({
            "kind": "status_update",
            "text": "Payments are failing over to the second region.",
            "html": "<p>Payments are failing over to the <b>second</b> region.</p>",
            "thread": "INC-2026-0007",
            "incident": {
                "id": "INC-2026-0007",
                "title": "Checkout is down",
                "severity": "SEV-1",
                "status": "investigating",
                "url": "https://warroom.example.com/incidents/INC-2026-0007",
            },
            "acknowledge_url": "https://warroom.example.com/ack/tok",
            "audience": "management",
        }),
    )
}

// ---------------------------------------------------------------- HTTP receiver

#[derive(Debug, Clone)]
pub(crate) struct Seen {
    method: Method,
    pub(crate) path: String,
    headers: HeaderMap,
    pub(crate) body: String,
}

impl Seen {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }
}

/// Records every request and answers with `reply` (status, body).
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    reply: Arc<Mutex<(u16, String)>>,
}

impl Receiver {
    pub(crate) async fn start() -> Receiver {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let reply = Arc::new(Mutex::new((200, "ok".to_owned())));
        let (s, r) = (seen.clone(), reply.clone());
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: String| {
                let (seen, reply) = (s.clone(), r.clone());
                async move {
                    seen.lock().unwrap().push(Seen {
                        method,
                        path: uri.path().to_owned(),
                        headers,
                        body,
                    });
                    let (status, body) = reply.lock().unwrap().clone();
                    (StatusCode::from_u16(status).unwrap(), body)
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, seen, reply }
    }

    fn reply(&self, status: u16, body: &str) {
        *self.reply.lock().unwrap() = (status, body.to_owned());
    }

    pub(crate) fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }

    fn one(&self) -> Seen {
        let mut seen = self.take();
        assert_eq!(seen.len(), 1, "{seen:?}");
        seen.remove(0)
    }
}

fn assert_temporary(result: Result<String, SendError>, contains: &str) {
    let e = result.expect_err("expected a failure");
    assert!(e.temporary, "expected temporary: {e:?}");
    assert!(
        e.message.contains(contains),
        "{:?} lacks {contains:?}",
        e.message
    );
}

fn assert_permanent(result: Result<String, SendError>, contains: &str) {
    let e = result.expect_err("expected a failure");
    assert!(!e.temporary, "expected permanent: {e:?}");
    assert!(
        e.message.contains(contains),
        "{:?} lacks {contains:?}",
        e.message
    );
}

// ---------------------------------------------------------------- chat

fn chat_set(rx: &Receiver) -> ChannelSet {
    let url = |p: &str| format!("{}/{p}/T000/B000/SECRETPATH", rx.url);
    ChannelSet::resolve(
        &[
            channel(
                "slack-ops",
                ChannelSettings::Slack {
                    webhook_url: env("SLACK"),
                },
            ),
            channel(
                "mm",
                ChannelSettings::Mattermost {
                    webhook_url: env("MM"),
                },
            ),
            channel(
                "teams",
                ChannelSettings::Teams {
                    webhook_url: env("TEAMS"),
                },
            ),
            channel(
                "discord",
                ChannelSettings::Discord {
                    webhook_url: env("DISCORD"),
                },
            ),
        ],
        secrets(&[
            ("SLACK", url("slack")),
            ("MM", url("mm")),
            ("TEAMS", url("teams")),
            ("DISCORD", url("discord")),
        ]),
    )
    .unwrap()
    .with_severities(["SEV-1", "SEV-2", "SEV-3", "SEV-4"])
}

#[tokio::test]
async fn slack_gets_block_kit_with_a_severity_colour_and_buttons() {
    let rx = Receiver::start().await;
    let set = chat_set(&rx);
    assert_eq!(
        set.send(&update("slack-ops", "")).await.unwrap(),
        "200 OK ok"
    );
    let seen = rx.one();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path, "/slack/T000/B000/SECRETPATH");
    assert_eq!(seen.header("content-type"), "application/json");
    assert_eq!(
        seen.json(),
        json!({
            "text": "[SEV-1] INC-2026-0007: Checkout is down",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "[SEV-1] INC-2026-0007: Checkout is down", "emoji": true}},
                {"type": "section", "text": {"type": "plain_text", "text": "Payments are failing over to the second region.", "emoji": false}},
            ],
            "attachments": [{
                "color": "#D32F2F",
                "blocks": [
                    {"type": "context", "elements": [
                        {"type": "mrkdwn", "text": "*Severity:* SEV-1"},
                        {"type": "mrkdwn", "text": "*Status:* investigating"},
                    ]},
                    {"type": "actions", "elements": [
                        {"type": "button", "action_id": "open_incident",
                         "text": {"type": "plain_text", "text": "Open incident"},
                         "url": "https://warroom.example.com/incidents/INC-2026-0007"},
                        {"type": "button", "action_id": "acknowledge",
                         "text": {"type": "plain_text", "text": "Acknowledge"},
                         "url": "https://warroom.example.com/ack/tok", "style": "danger"},
                    ]},
                ],
            }],
        })
    );
}

#[tokio::test]
async fn a_page_to_a_users_slack_webhook_uses_its_destination() {
    let rx = Receiver::start().await;
    // Even with a channel named `slack`, a contact method's page goes to its own URL.
    let set = ChannelSet::resolve(
        &[channel(
            "slack",
            ChannelSettings::Slack {
                webhook_url: env("OTHER"),
            },
        )],
        secrets(&[("OTHER", format!("{}/team-channel", rx.url))]),
    )
    .unwrap();
    let mut m = page("slack", &format!("{}/alice-hook", rx.url));
    m.incident_id = None;
    set.send(&m).await.unwrap();
    let seen = rx.one();
    assert_eq!(seen.path, "/alice-hook");
    // SEV-1 without a severity list: its number is its rank, so orange.
    assert_eq!(
        seen.json(),
        json!({
            "text": "[SEV-1] INC-2026-0007: Checkout is down",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "[SEV-1] INC-2026-0007: Checkout is down", "emoji": true}},
            ],
            "attachments": [{
                "color": "#F57C00",
                "blocks": [
                    {"type": "context", "elements": [
                        {"type": "mrkdwn", "text": "*Severity:* SEV-1"},
                        {"type": "mrkdwn", "text": "*Status:* triggered"},
                    ]},
                    {"type": "actions", "elements": [
                        {"type": "button", "action_id": "open_incident",
                         "text": {"type": "plain_text", "text": "Open incident"},
                         "url": "https://warroom.example.com/incidents/INC-2026-0007"},
                        {"type": "button", "action_id": "acknowledge",
                         "text": {"type": "plain_text", "text": "Acknowledge"},
                         "url": "https://warroom.example.com/ack/tok", "style": "danger"},
                    ]},
                ],
            }],
        })
    );
    // The message's own channel name routes to the configured channel.
    set.send(&update("slack", "")).await.unwrap();
    assert_eq!(rx.one().path, "/team-channel");
    // A destination that is not a URL is refused for good.
    assert_permanent(
        set.send(&page("slack", "#general")).await,
        "not an http(s) URL",
    );
}

#[tokio::test]
async fn mattermost_gets_text_and_a_coloured_attachment() {
    let rx = Receiver::start().await;
    let set = chat_set(&rx);
    let mut m = update("mm", "");
    m.body = m.body.replace("SEV-1", "SEV-2");
    set.send(&m).await.unwrap();
    let seen = rx.one();
    assert_eq!(seen.path, "/mm/T000/B000/SECRETPATH");
    assert_eq!(
        seen.json(),
        json!({
            "text": "\\[SEV-1\\] INC-2026-0007: Checkout is down",
            "attachments": [{
                "fallback": "[SEV-1] INC-2026-0007: Checkout is down",
                "color": "#F57C00",
                "title": "[SEV-1] INC-2026-0007: Checkout is down",
                "title_link": "https://warroom.example.com/incidents/INC-2026-0007",
                "text": "Payments are failing over to the second region.\n\n[Open incident](https://warroom.example.com/incidents/INC-2026-0007) · [Acknowledge](https://warroom.example.com/ack/tok)",
                "fields": [
                    {"short": true, "title": "Severity", "value": "SEV-2"},
                    {"short": true, "title": "Status", "value": "investigating"},
                ],
            }],
        })
    );
}

#[tokio::test]
async fn teams_gets_an_adaptive_card() {
    let rx = Receiver::start().await;
    let set = chat_set(&rx);
    rx.reply(202, "");
    assert_eq!(
        set.send(&update("teams", "")).await.unwrap(),
        "202 Accepted"
    );
    let seen = rx.one();
    assert_eq!(seen.path, "/teams/T000/B000/SECRETPATH");
    assert_eq!(
        seen.json(),
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": "\\[SEV-1\\] INC-2026-0007: Checkout is down",
                         "weight": "Bolder", "size": "Medium", "color": "Attention", "wrap": true},
                        {"type": "TextBlock", "text": "Payments are failing over to the second region.", "wrap": true},
                        {"type": "FactSet", "facts": [
                            {"title": "Severity", "value": "SEV-1"},
                            {"title": "Status", "value": "investigating"},
                        ]},
                    ],
                    "actions": [
                        {"type": "Action.OpenUrl", "title": "Open incident",
                         "url": "https://warroom.example.com/incidents/INC-2026-0007"},
                        {"type": "Action.OpenUrl", "title": "Acknowledge",
                         "url": "https://warroom.example.com/ack/tok"},
                    ],
                },
            }],
        })
    );
}

#[tokio::test]
async fn discord_gets_content_and_one_embed() {
    let rx = Receiver::start().await;
    let set = chat_set(&rx);
    rx.reply(204, "");
    let mut m = update("discord", "");
    m.body = m.body.replace("SEV-1", "SEV-3");
    set.send(&m).await.unwrap();
    let seen = rx.one();
    assert_eq!(seen.path, "/discord/T000/B000/SECRETPATH");
    assert_eq!(
        seen.json(),
        json!({
            "content": "\\[SEV-1\\] INC-2026-0007: Checkout is down",
            "embeds": [{
                "title": "\\[SEV-1\\] INC-2026-0007: Checkout is down",
                "color": 0xFBC02D,
                "description": "Payments are failing over to the second region.",
                "url": "https://warroom.example.com/incidents/INC-2026-0007",
                "fields": [
                    {"name": "Severity", "value": "SEV-3", "inline": true},
                    {"name": "Status", "value": "investigating", "inline": true},
                    {"name": "Acknowledge", "value": "[Acknowledge](https://warroom.example.com/ack/tok)", "inline": false},
                ],
            }],
            "allowed_mentions": {"parse": []},
        })
    );
}

#[tokio::test]
async fn chat_refusals_are_temporary_for_429_and_5xx_only_and_hide_the_url() {
    let rx = Receiver::start().await;
    let set = chat_set(&rx);
    for (status, temporary) in [
        (429, true),
        (500, true),
        (503, true),
        (400, false),
        (403, false),
        (404, false),
    ] {
        rx.reply(status, "no_service");
        let e = set.send(&update("slack-ops", "")).await.unwrap_err();
        assert_eq!(e.temporary, temporary, "{status}: {e:?}");
        assert!(e.message.contains(&status.to_string()), "{e:?}");
        assert!(e.message.contains("no_service"), "{e:?}");
        assert!(!e.message.contains("SECRETPATH"), "{e:?}");
    }
    // Nothing listening: temporary, and still no URL path.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let gone = ChannelSet::resolve(
        &[channel(
            "d",
            ChannelSettings::Discord {
                webhook_url: env("D"),
            },
        )],
        secrets(&[("D", format!("http://{addr}/api/webhooks/1/SECRETPATH"))]),
    )
    .unwrap();
    let e = gone.send(&update("d", "")).await.unwrap_err();
    assert!(e.temporary, "{e:?}");
    assert!(!e.message.contains("SECRETPATH"), "{e:?}");
}

// ---------------------------------------------------------------- webhook

#[tokio::test]
async fn webhooks_are_signed_and_the_signature_verifies() {
    let rx = Receiver::start().await;
    let set = ChannelSet::resolve(
        &[channel(
            "hook",
            ChannelSettings::Webhook {
                url: env("HOOK_URL"),
                signing_secret: Some(env("HOOK_SECRET")),
            },
        )],
        secrets(&[("HOOK_URL", format!("{}/hooks/warroom", rx.url))]),
    )
    .unwrap()
    .with_clock(Arc::new(ManualClock::new(now())));
    set.send(&update("hook", "")).await.unwrap();
    let seen = rx.one();
    assert_eq!(seen.path, "/hooks/warroom");
    assert_eq!(seen.header("content-type"), "application/json");
    assert_eq!(seen.header("idempotency-key"), "test:hook:");
    let timestamp = seen.header("x-warroom-timestamp").to_owned();
    assert_eq!(timestamp, now().as_second().to_string());
    assert_eq!(
        seen.json(),
        json!({
            "kind": "status_update",
            "text": "Payments are failing over to the second region.",
            "html": "<p>Payments are failing over to the <b>second</b> region.</p>",
            "thread": "INC-2026-0007",
            "incident": {
                "id": "INC-2026-0007",
                "title": "Checkout is down",
                "severity": "SEV-1",
                "status": "investigating",
                "url": "https://warroom.example.com/incidents/INC-2026-0007",
            },
            "acknowledge_url": "https://warroom.example.com/ack/tok",
            "audience": "management",
            "subject": "[SEV-1] INC-2026-0007: Checkout is down",
            "id": 42,
            "idempotency_key": "test:hook:",
            "sent_at": "2026-11-25T14:00:00Z",
        })
    );
    let signature = seen.header("x-warroom-signature").to_owned();
    assert!(signature.starts_with("v1="), "{signature}");
    let tolerance = webhook::DEFAULT_TOLERANCE;
    let check = |body: &str, at: Timestamp| {
        verify_signature(
            b"whsec-test",
            &timestamp,
            body.as_bytes(),
            &signature,
            at,
            tolerance,
        )
    };
    assert_eq!(check(&seen.body, now()), Ok(()));
    assert_eq!(
        check(&seen.body, now() + SignedDuration::from_mins(5)),
        Ok(())
    );
    let tampered = seen.body.replace("second region", "third region");
    assert_ne!(tampered, seen.body);
    assert!(check(&tampered, now())
        .unwrap_err()
        .contains("does not match"));
    // A replay six minutes later is refused.
    assert!(check(&seen.body, now() + SignedDuration::from_mins(6))
        .unwrap_err()
        .contains("more than the 300s"));
    assert!(verify_signature(
        b"other",
        &timestamp,
        seen.body.as_bytes(),
        &signature,
        now(),
        tolerance
    )
    .is_err());
}

#[tokio::test]
async fn a_page_to_a_users_webhook_is_posted_unsigned_with_the_page_fields() {
    let rx = Receiver::start().await;
    let set = ChannelSet::resolve(&[], secrets(&[]))
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(now())));
    let mut m = page("webhook", &format!("{}/alice", rx.url));
    m.idempotency_key = "page:INC-2026-0007:1:0:alice:primary".to_owned();
    set.send(&m).await.unwrap();
    let seen = rx.one();
    assert_eq!(seen.path, "/alice");
    assert!(seen.headers.get("x-warroom-signature").is_none());
    assert_eq!(
        seen.header("idempotency-key"),
        "page:INC-2026-0007:1:0:alice:primary"
    );
    let body = seen.json();
    assert_eq!(body["type"], "page");
    assert_eq!(body["kind"], "page");
    assert_eq!(body["user"], "alice");
    assert_eq!(body["incident"]["id"], "INC-2026-0007");
    assert_eq!(
        body["text"],
        "[SEV-1] INC-2026-0007: Checkout is down\n\nAcknowledge: https://warroom.example.com/ack/tok"
    );
    assert_eq!(body["id"], 42);
    assert_eq!(body["sent_at"], "2026-11-25T14:00:00Z");
    rx.reply(503, "busy");
    assert_temporary(set.send(&m).await, "503");
    rx.reply(410, "gone");
    assert_permanent(set.send(&m).await, "410");
}

// ---------------------------------------------------------------- Twilio

fn twilio_set(rx: &Receiver) -> ChannelSet {
    ChannelSet::resolve(
        &[channel(
            "phone",
            ChannelSettings::Twilio {
                base_url: format!("{}/", rx.url),
                account_sid: "ACtest123".to_owned(),
                auth_token: env("TWILIO_TOKEN"),
                from: "+15550001111".to_owned(),
            },
        )],
        secrets(&[]),
    )
    .unwrap()
}

#[tokio::test]
async fn twilio_sends_sms_and_calls_with_basic_auth() {
    let rx = Receiver::start().await;
    let set = twilio_set(&rx);
    rx.reply(201, r#"{"sid": "SM0123456789abcdef", "status": "queued"}"#);
    let answer = set.send(&page("sms", "+14155550100")).await.unwrap();
    assert_eq!(answer, "SM0123456789abcdef");
    let seen = rx.one();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path, "/2010-04-01/Accounts/ACtest123/Messages.json");
    // base64("ACtest123:tok-abc")
    assert_eq!(
        seen.header("authorization"),
        "Basic QUN0ZXN0MTIzOnRvay1hYmM="
    );
    assert_eq!(
        seen.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        seen.body,
        "To=%2B14155550100&From=%2B15550001111&Body=%5BSEV-1%5D+INC-2026-0007%3A+Checkout+is+down%0AAcknowledge%3A+https%3A%2F%2Fwarroom.example.com%2Fack%2Ftok"
    );

    // A named Twilio channel sends SMS to the destination, text from the envelope.
    let mut m = update("phone", "+14155550101");
    m.subject = "INC-7 <update>".to_owned();
    set.send(&m).await.unwrap();
    assert_eq!(
        rx.one().body,
        "To=%2B14155550101&From=%2B15550001111&Body=INC-7+%3Cupdate%3E%0APayments+are+failing+over+to+the+second+region."
    );

    rx.reply(201, r#"{"sid": "CA0123456789abcdef"}"#);
    let mut call = page("voice", "+14155550100");
    call.subject = "Sev 1: Checkout & payments <down>".to_owned();
    assert_eq!(set.send(&call).await.unwrap(), "CA0123456789abcdef");
    let seen = rx.one();
    assert_eq!(seen.path, "/2010-04-01/Accounts/ACtest123/Calls.json");
    assert_eq!(
        seen.header("authorization"),
        "Basic QUN0ZXN0MTIzOnRvay1hYmM="
    );
    assert_eq!(
        seen.body,
        "To=%2B14155550100&From=%2B15550001111&Twiml=%3CResponse%3E%3CSay%3ESev+1%3A+Checkout+%26amp%3B+payments+%26lt%3Bdown%26gt%3B%3C%2FSay%3E%3C%2FResponse%3E"
    );
    let form: Vec<(String, String)> = url::form_urlencoded::parse(seen.body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        form[2],
        (
            "Twiml".to_owned(),
            "<Response><Say>Sev 1: Checkout &amp; payments &lt;down&gt;</Say></Response>"
                .to_owned()
        )
    );
}

#[tokio::test]
async fn twilio_refusals_are_classified_and_explained() {
    let rx = Receiver::start().await;
    let set = twilio_set(&rx);
    rx.reply(
        400,
        r#"{"code": 21211, "message": "The 'To' number +1 is not a valid phone number.", "status": 400}"#,
    );
    let e = set.send(&page("sms", "+1")).await.unwrap_err();
    assert!(!e.temporary);
    assert_eq!(
        e.message,
        "Twilio Messages.json answered 400 Bad Request: 21211 The 'To' number +1 is not a valid phone number."
    );
    rx.reply(429, r#"{"code": 20429, "message": "Too Many Requests"}"#);
    assert_temporary(set.send(&page("sms", "+14155550100")).await, "20429");
    rx.reply(500, "oops");
    assert_temporary(set.send(&page("voice", "+14155550100")).await, "500");
    rx.reply(401, r#"{"code": 20003, "message": "Authenticate"}"#);
    let e = set.send(&page("sms", "+14155550100")).await.unwrap_err();
    assert!(!e.temporary);
    assert!(!e.message.contains("tok-abc"), "{e:?}");
}

// ---------------------------------------------------------------- fallback

#[tokio::test]
async fn without_a_channel_of_the_type_messages_go_to_the_relay_or_fail() {
    let set = ChannelSet::resolve(&[], secrets(&[])).unwrap();
    assert_permanent(
        set.send(&page("sms", "+14155550100")).await,
        "no sms channel",
    );
    assert_permanent(
        set.send(&update("nonexistent", "x")).await,
        "no nonexistent channel",
    );

    let rx = Receiver::start().await;
    let relayed = ChannelSet::resolve(&[], secrets(&[]))
        .unwrap()
        .with_relay(Some(format!("{}/relay", rx.url)));
    relayed
        .send(&page("email", "alice@example.com"))
        .await
        .unwrap();
    let seen = rx.one();
    assert_eq!(seen.path, "/relay");
    assert_eq!(
        seen.json()["deliver_to"],
        json!({"channel": "email", "destination": "alice@example.com"})
    );
}

#[test]
fn secrets_missing_at_start_up_name_the_channel_and_variable() {
    let e = ChannelSet::resolve(
        &[channel(
            "email",
            ChannelSettings::Smtp {
                host: "smtp.example.com".to_owned(),
                port: 587,
                security: SmtpSecurity::Starttls,
                username: Some("warroom".to_owned()),
                password: Some(env("NO_SUCH_VAR")),
                from: "alerts@example.com".to_owned(),
            },
        )],
        secrets(&[]),
    )
    .unwrap_err();
    assert_eq!(e, "channel email: password (env NO_SUCH_VAR): is not set");
}
