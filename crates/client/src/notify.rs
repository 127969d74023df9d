//! `warroom message ...` and `warroom notify ...`: outbound messages (show,
//! resend), notification channels (list, test) and template previews; plus
//! the lines `warroom incident update --message` and `warroom incident comms` print.

use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::alerting::answer;
use super::http::Api;
use super::render::{clean, elapsed, minute};
use super::{ClientArgs, Output};

const MESSAGE_KINDS: [&str; 5] = [
    "page",
    "initial_notification",
    "status_update",
    "resolution_notice",
    "reminder",
];
const AUDIENCE_CLASSES: [&str; 3] = ["responders", "stakeholders", "customers"];

/// Outbound messages: pages, notifications, reminders, tests.
#[derive(Debug, clap::Subcommand)]
pub enum MessageCommand {
    /// Show a message and its delivery state (never its body)
    #[command(after_help = "Example:\n  warroom message show 42")]
    Show {
        /// Message id, from `warroom incident pages ID` or a timeline event
        #[arg(value_parser = clap::value_parser!(i64).range(1..))]
        id: i64,
    },
    /// Send a failed, dead or cancelled message again, as a new message
    #[command(after_help = "Example:\n  warroom message resend 42")]
    Resend {
        /// Message id
        #[arg(value_parser = clap::value_parser!(i64).range(1..))]
        id: i64,
    },
}

/// Notification channels and templates.
#[derive(Debug, clap::Subcommand)]
pub enum NotifyCommand {
    /// Send a test message on a channel (admin)
    #[command(
        after_help = "Examples:\n  warroom notify test --channel slack-ops\n  warroom notify test --channel mail --to oncall@example.com"
    )]
    Test {
        /// A channel from the playbook's notifications.channels
        #[arg(long)]
        channel: String,
        /// Address or number to send to; e-mail and SMS channels need one
        #[arg(long, value_name = "ADDRESS")]
        to: Option<String>,
    },
    /// List the channels the playbook configures (name and type, no secrets)
    Channels,
    /// Render a template with a sample incident
    #[command(
        after_help = "Example:\n  warroom notify preview --kind status_update --audience stakeholders --severity SEV-1"
    )]
    Preview {
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(MESSAGE_KINDS))]
        kind: String,
        /// Who reads it, which picks the template's tone
        #[arg(long, default_value = "stakeholders", value_parser = clap::builder::PossibleValuesParser::new(AUDIENCE_CLASSES))]
        audience: String,
        /// A severity from the playbook, e.g. SEV-1
        #[arg(long)]
        severity: String,
    },
}

#[derive(Debug, Deserialize)]
struct Message {
    id: i64,
    incident_id: Option<String>,
    purpose: String,
    user: Option<String>,
    channel: String,
    destination: String,
    subject: String,
    state: String,
    attempts: i64,
    next_attempt_at: Timestamp,
    last_error: Option<String>,
    provider_answer: Option<String>,
    created_at: Timestamp,
    sent_at: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
struct Channel {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Deserialize)]
struct Preview {
    subject: String,
    text: String,
    html: Option<String>,
}

/// An incident's update cadence, as `GET /incidents/{id}/comms` answers.
#[derive(Debug, Deserialize)]
pub(super) struct Comms {
    incident_id: String,
    updates: i64,
    last_update_at: Option<Timestamp>,
    next_update_due: Option<Timestamp>,
    overdue: bool,
    /// Due times passed without an update (servers before it: 0).
    #[serde(default)]
    overdue_missed: i64,
    missed: i64,
    notified: Vec<String>,
}

/// Runs one `warroom message` subcommand.
pub async fn run_message(args: &ClientArgs, cmd: MessageCommand) -> anyhow::Result<()> {
    let api = Api::new(&args.server, args.token.as_deref())?;
    let json = args.output == Output::Json;
    match cmd {
        MessageCommand::Show { id } => {
            let body = api.get(api.url(&["messages", &id.to_string()])?).await?;
            answer(json, &body, "message", |m: Message| message_details(&m))
        }
        MessageCommand::Resend { id } => {
            let url = api.url(&["messages", &id.to_string(), "resend"])?;
            let sent = api.send::<()>(Method::POST, url, None).await?;
            answer(json, &sent, "message", |m: Message| {
                format!(
                    "Resent message {id} as message {} ({} on {} to {})",
                    m.id,
                    clean(&m.state),
                    clean(&m.channel),
                    clean(&m.destination)
                )
            })
        }
    }
}

/// Runs one `warroom notify` subcommand.
pub async fn run_notify(args: &ClientArgs, cmd: NotifyCommand) -> anyhow::Result<()> {
    let api = Api::new(&args.server, args.token.as_deref())?;
    let json = args.output == Output::Json;
    match cmd {
        NotifyCommand::Test { channel, to } => {
            let body = json!({ "channel": channel, "to": to });
            let url = api.url(&["notify", "test"])?;
            let sent = api.send(Method::POST, url, Some(&body)).await?;
            answer(json, &sent, "message", |m: Message| {
                format!(
                    "Queued test message {} on {} to {}; follow it with: warroom message show {}",
                    m.id,
                    clean(&m.channel),
                    clean(&m.destination),
                    m.id
                )
            })
        }
        NotifyCommand::Channels => {
            let body = api.get(api.url(&["notify", "channels"])?).await?;
            answer(json, &body, "channel list", |all: Json| {
                let channels: Vec<Channel> =
                    serde_json::from_value(all["channels"].clone()).unwrap_or_default();
                channel_table(&channels)
            })
        }
        NotifyCommand::Preview {
            kind,
            audience,
            severity,
        } => {
            let body = json!({ "kind": kind, "audience": audience, "severity": severity });
            let url = api.url(&["notify", "preview"])?;
            let sent = api.send(Method::POST, url, Some(&body)).await?;
            answer(json, &sent, "preview", |p: Preview| preview_text(&p))
        }
    }
}

fn message_details(m: &Message) -> String {
    let about = match &m.incident_id {
        Some(id) => format!(" for {}", clean(id)),
        None => String::new(),
    };
    let to = match &m.user {
        Some(user) => format!("{} ({})", clean(&m.destination), clean(user)),
        None => clean(&m.destination),
    };
    let mut lines = vec![
        format!("Message {}: {}{about}", m.id, clean(&m.purpose)),
        format!("Channel:   {}", clean(&m.channel)),
        format!("To:        {to}"),
        format!("Subject:   {}", clean(&m.subject)),
        format!(
            "State:     {} after {} attempt(s)",
            clean(&m.state),
            m.attempts
        ),
        format!("Created:   {} UTC", minute(m.created_at)),
    ];
    match (m.state.as_str(), m.sent_at) {
        (_, Some(sent)) => lines.push(format!("Sent:      {} UTC", minute(sent))),
        ("queued" | "failed", None) => {
            lines.push(format!("Next try:  {} UTC", minute(m.next_attempt_at)))
        }
        _ => {}
    }
    if let Some(error) = &m.last_error {
        lines.push(format!("Error:     {}", clean(error)));
    }
    if let Some(answer) = &m.provider_answer {
        lines.push(format!("Answer:    {}", clean(answer)));
    }
    if matches!(m.state.as_str(), "failed" | "dead" | "cancelled") {
        lines.push(format!(
            "Send it again with: warroom message resend {}",
            m.id
        ));
    }
    lines.join("\n")
}

fn channel_table(channels: &[Channel]) -> String {
    if channels.is_empty() {
        return "No channels configured; add notifications.channels to the playbook.".to_owned();
    }
    let width = channels
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let mut lines = vec![format!("{:<width$}  TYPE", "NAME")];
    lines.extend(
        channels
            .iter()
            .map(|c| format!("{:<width$}  {}", clean(&c.name), clean(&c.kind))),
    );
    lines.join("\n")
}

fn preview_text(p: &Preview) -> String {
    // The text body keeps its lines; only other control characters go.
    let text: String = p
        .text
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect();
    let mut out = format!("Subject: {}\n\n{}", clean(&p.subject), text.trim_end());
    if let Some(html) = &p.html {
        out.push_str(&format!(
            "\n\n(with an HTML body of {} characters; --output json shows it)",
            html.chars().count()
        ));
    }
    out
}

/// `14:45 UTC` when `at` is on the same UTC day as `now`, else with the date.
fn when(at: Timestamp, now: Timestamp) -> String {
    let utc = jiff::tz::TimeZone::UTC;
    if at.to_zoned(utc.clone()).date() == now.to_zoned(utc).date() {
        format!("{} UTC", at.strftime("%H:%M"))
    } else {
        format!("{} UTC", minute(at))
    }
}

/// After `POST /incidents/{id}/updates`: `INC-2026-0001 update posted
/// (identified); next update due 14:45 UTC; queued 2 messages`.
pub(super) fn update_posted_line(change: &Json, comms: Option<&Comms>, now: Timestamp) -> String {
    let incident = &change["incident"];
    let id = clean(incident["id"].as_str().unwrap_or("?"));
    let status = clean(incident["status"].as_str().unwrap_or("?"));
    let queued = change["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "notification_queued")
        .count();
    let due = match comms.map(|c| c.next_update_due) {
        Some(Some(due)) => format!("next update due {}", when(due, now)),
        Some(None) => "no further updates due".to_owned(),
        None => "next update due: unknown".to_owned(),
    };
    let messages = match queued {
        0 => "no messages queued (the severity notifies no audience)".to_owned(),
        1 => "queued 1 message".to_owned(),
        n => format!("queued {n} messages"),
    };
    format!("{id} update posted ({status}); {due}; {messages}")
}

/// `warroom incident comms ID`.
pub(super) fn comms_details(c: &Comms, now: Timestamp) -> String {
    let last = match c.last_update_at {
        Some(at) => format!(" (last {})", when(at, now)),
        None => String::new(),
    };
    let due = match c.next_update_due {
        None => "none (no cadence for this severity, or resolved)".to_owned(),
        Some(due) if c.overdue => format!(
            "{} (OVERDUE by {}, {} missed)",
            when(due, now),
            elapsed(now.duration_since(due)),
            c.overdue_missed.max(1)
        ),
        Some(due) => {
            let left = due.duration_since(now).max(SignedDuration::ZERO);
            format!("{} (in {})", when(due, now), elapsed(left))
        }
    };
    let told = if c.notified.is_empty() {
        "none".to_owned()
    } else {
        c.notified
            .iter()
            .map(|a| clean(a))
            .collect::<Vec<_>>()
            .join(", ")
    };
    [
        format!("{} communications", clean(&c.incident_id)),
        format!("Updates posted:   {}{last}", c.updates),
        format!("Next update due:  {due}"),
        format!("Missed updates:   {}", c.missed),
        format!("Audiences told:   {told}"),
    ]
    .join("\n")
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: Cmd,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Cmd {
        #[command(subcommand)]
        Message(MessageCommand),
        #[command(subcommand)]
        Notify(NotifyCommand),
    }

    fn parse(line: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("warroom").chain(line.split_whitespace()))
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
        assert!(parse("message show 0").is_err());
        assert!(parse("message resend x").is_err());
        assert!(parse("notify test").is_err(), "--channel is required");
        assert!(parse("notify preview --kind gossip --severity SEV-1").is_err());
        let cli = parse("notify preview --kind status_update --severity SEV-1").unwrap();
        let Cmd::Notify(NotifyCommand::Preview { audience, .. }) = cli.cmd else {
            panic!("{:?}", cli.cmd)
        };
        assert_eq!(audience, "stakeholders");
    }

    fn comms(due: Option<&str>, overdue: bool) -> Comms {
        Comms {
            incident_id: "INC-2026-0001".into(),
            updates: 2,
            last_update_at: Some(at("2026-11-25T14:10:00Z")),
            next_update_due: due.map(at),
            overdue,
            overdue_missed: u8::from(overdue).into(),
            missed: 1,
            notified: vec!["management".into(), "customers".into()],
        }
    }

    #[test]
    fn an_update_says_when_the_next_is_due_and_what_was_queued() {
        let change = json!({
            "incident": {"id": "INC-2026-0001", "status": "identified"},
            "events": [
                {"kind": "status_changed"}, {"kind": "update_posted"},
                {"kind": "notification_queued"}, {"kind": "notification_queued"},
            ],
        });
        let now = at("2026-11-25T14:30:00Z");
        assert_eq!(
            update_posted_line(&change, Some(&comms(Some("2026-11-25T14:45:00Z"), false)), now),
            "INC-2026-0001 update posted (identified); next update due 14:45 UTC; queued 2 messages"
        );
        let line = update_posted_line(
            &json!({"incident": {"id": "I", "status": "monitoring"}, "events": []}),
            Some(&comms(Some("2026-11-26T00:15:00Z"), false)),
            now,
        );
        assert_eq!(
            line,
            "I update posted (monitoring); next update due 2026-11-26 00:15 UTC; \
             no messages queued (the severity notifies no audience)"
        );
    }

    #[test]
    fn comms_show_the_cadence() {
        let now = at("2026-11-25T14:30:00Z");
        let text = comms_details(&comms(Some("2026-11-25T14:25:00Z"), true), now);
        assert!(
            text.contains("Updates posted:   2 (last 14:10 UTC)"),
            "{text}"
        );
        assert!(
            text.contains("14:25 UTC (OVERDUE by 5m, 1 missed)"),
            "{text}"
        );
        assert!(text.contains("Missed updates:   1"), "{text}");
        assert!(
            text.contains("Audiences told:   management, customers"),
            "{text}"
        );
        let text = comms_details(&comms(Some("2026-11-25T14:40:00Z"), false), now);
        assert!(text.contains("14:40 UTC (in 10m)"), "{text}");
        let text = comms_details(&comms(None, false), now);
        assert!(text.contains("Next update due:  none"), "{text}");
    }

    #[test]
    fn messages_never_break_the_terminal() {
        let m = Message {
            id: 7,
            incident_id: None,
            purpose: "test".into(),
            user: None,
            channel: "hooks".into(),
            destination: "hooks".into(),
            subject: "Warroom\u{1b}[31m test".into(),
            state: "dead".into(),
            attempts: 5,
            next_attempt_at: at("2026-11-25T14:00:00Z"),
            last_error: Some("HTTP 500\nboom".into()),
            provider_answer: None,
            created_at: at("2026-11-25T14:00:00Z"),
            sent_at: None,
        };
        let text = message_details(&m);
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("Error:     HTTP 500 boom"), "{text}");
        assert!(text.ends_with("warroom message resend 7"), "{text}");
        assert!(channel_table(&[]).starts_with("No channels"));
        let table = channel_table(&[Channel {
            name: "slack-ops".into(),
            kind: "slack".into(),
        }]);
        assert_eq!(table, "NAME       TYPE\nslack-ops  slack");
    }
}
