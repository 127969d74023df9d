//! Chat webhooks: the payload each service's incoming webhook takes. Pure
//! functions of the subject, the envelope and the severity's rank (0 = the
//! worst severity: red, then orange, yellow, and grey for the rest or unknown).
//!
//! - Slack: Block Kit. Top-level `text` (the notification fallback) and
//!   `blocks` (a header with the subject, a section with the text); one
//!   attachment with the severity colour holding a context block (severity,
//!   status) and link buttons to the incident and the acknowledge page.
//! - Mattermost / Rocket.Chat: Slack's older, compatible shape: `text` plus
//!   one attachment (`fallback`, `color`, `title`, `title_link`, `text` with
//!   Markdown links, `fields`).
//! - Teams: an Adaptive Card 1.4 in the `message`/`attachments` wrapper
//!   that incoming webhooks and Workflows take, with `Action.OpenUrl`s.
//! - Discord: `content` plus one embed with the colour; mentions disabled so
//!   text from an incident cannot ping `@everyone`.

use serde_json::{json, Value};

use super::envelope::Envelope;

/// Which payload a chat webhook takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChatFormat {
    Slack,
    Mattermost,
    Teams,
    Discord,
}

impl ChatFormat {
    pub fn payload(self, subject: &str, envelope: &Envelope, rank: Option<usize>) -> Value {
        match self {
            ChatFormat::Slack => slack(subject, envelope, rank),
            ChatFormat::Mattermost => mattermost(subject, envelope, rank),
            ChatFormat::Teams => teams(subject, envelope, rank),
            ChatFormat::Discord => discord(subject, envelope, rank),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ChatFormat::Slack => "Slack",
            ChatFormat::Mattermost => "Mattermost",
            ChatFormat::Teams => "Teams",
            ChatFormat::Discord => "Discord",
        }
    }
}

/// The severity colour, `#rrggbb`.
pub(crate) fn colour(rank: Option<usize>) -> &'static str {
    match rank {
        Some(0) => "#D32F2F",
        Some(1) => "#F57C00",
        Some(2) => "#FBC02D",
        _ => "#9E9E9E",
    }
}

fn colour_number(rank: Option<usize>) -> u32 {
    u32::from_str_radix(&colour(rank)[1..], 16).unwrap_or(0)
}

/// At most `max` characters, ending in `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// Slack's mrkdwn control characters.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn facts(envelope: &Envelope) -> Vec<(&'static str, &str)> {
    [
        ("Severity", envelope.severity()),
        ("Status", envelope.status()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}

fn links(envelope: &Envelope) -> Vec<(&'static str, &'static str, &str)> {
    [
        ("open_incident", "Open incident", envelope.incident_url()),
        (
            "acknowledge",
            "Acknowledge",
            envelope.acknowledge_url.as_deref(),
        ),
    ]
    .into_iter()
    .filter_map(|(id, label, url)| url.map(|u| (id, label, u)))
    .collect()
}

fn slack(subject: &str, envelope: &Envelope, rank: Option<usize>) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(subject, 150), "emoji": true},
    })];
    if let Some(text) = &envelope.text {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "plain_text", "text": truncate(text, 3000), "emoji": false},
        }));
    }
    let mut details = Vec::new();
    let context: Vec<Value> = facts(envelope)
        .into_iter()
        .map(|(k, v)| json!({"type": "mrkdwn", "text": format!("*{k}:* {}", slack_escape(v))}))
        .collect();
    if !context.is_empty() {
        details.push(json!({"type": "context", "elements": context}));
    }
    let buttons: Vec<Value> = links(envelope)
        .into_iter()
        .map(|(id, label, url)| {
            let mut button = json!({
                "type": "button",
                "action_id": id,
                "text": {"type": "plain_text", "text": label},
                "url": url,
            });
            if id == "acknowledge" {
                button["style"] = "danger".into();
            }
            button
        })
        .collect();
    if !buttons.is_empty() {
        details.push(json!({"type": "actions", "elements": buttons}));
    }
    let mut payload = json!({"text": truncate(subject, 3000), "blocks": blocks});
    if !details.is_empty() {
        payload["attachments"] = json!([{"color": colour(rank), "blocks": details}]);
    }
    payload
}

fn mattermost(subject: &str, envelope: &Envelope, rank: Option<usize>) -> Value {
    let mut text = envelope.text.clone().unwrap_or_default();
    let links: Vec<String> = links(envelope)
        .into_iter()
        .map(|(_, label, url)| format!("[{label}]({url})"))
        .collect();
    if !links.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&links.join(" · "));
    }
    let fields: Vec<Value> = facts(envelope)
        .into_iter()
        .map(|(k, v)| json!({"short": true, "title": k, "value": v}))
        .collect();
    let mut attachment = json!({
        "fallback": subject,
        "color": colour(rank),
        "title": subject,
    });
    if let Some(url) = envelope.incident_url() {
        attachment["title_link"] = url.into();
    }
    attachment["text"] = text.into();
    attachment["fields"] = fields.into();
    json!({"text": subject, "attachments": [attachment]})
}

fn teams(subject: &str, envelope: &Envelope, rank: Option<usize>) -> Value {
    let colour = match rank {
        Some(0) => "Attention",
        Some(1 | 2) => "Warning",
        _ => "Default",
    };
    let mut body = vec![json!({
        "type": "TextBlock",
        "text": subject,
        "weight": "Bolder",
        "size": "Medium",
        "color": colour,
        "wrap": true,
    })];
    if let Some(text) = &envelope.text {
        body.push(json!({"type": "TextBlock", "text": text, "wrap": true}));
    }
    let facts: Vec<Value> = facts(envelope)
        .into_iter()
        .map(|(k, v)| json!({"title": k, "value": v}))
        .collect();
    if !facts.is_empty() {
        body.push(json!({"type": "FactSet", "facts": facts}));
    }
    let actions: Vec<Value> = links(envelope)
        .into_iter()
        .map(|(_, label, url)| json!({"type": "Action.OpenUrl", "title": label, "url": url}))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": actions,
            },
        }],
    })
}

fn discord(subject: &str, envelope: &Envelope, rank: Option<usize>) -> Value {
    let mut embed = json!({
        "title": truncate(subject, 256),
        "color": colour_number(rank),
    });
    if let Some(text) = &envelope.text {
        embed["description"] = truncate(text, 4096).into();
    }
    if let Some(url) = envelope.incident_url() {
        embed["url"] = url.into();
    }
    let mut fields: Vec<Value> = facts(envelope)
        .into_iter()
        .map(|(k, v)| json!({"name": k, "value": truncate(v, 1024), "inline": true}))
        .collect();
    if let Some(ack) = &envelope.acknowledge_url {
        fields.push(json!({"name": "Acknowledge", "value": format!("[Acknowledge]({ack})"), "inline": false}));
    }
    if !fields.is_empty() {
        embed["fields"] = fields.into();
    }
    json!({
        "content": truncate(subject, 2000),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_by_rank() {
        assert_eq!(colour(Some(0)), "#D32F2F");
        assert_eq!(colour(Some(3)), "#9E9E9E");
        assert_eq!(colour(None), "#9E9E9E");
        assert_eq!(colour_number(Some(0)), 0xD32F2F);
    }

    #[test]
    fn truncates_on_characters() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo!", 5), "héll…");
    }

    #[test]
    fn a_bare_message_has_no_attachment_or_buttons() {
        let e = Envelope::parse(r#"{"kind":"test"}"#);
        assert_eq!(
            slack("Hi", &e, None),
            json!({"text": "Hi", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Hi", "emoji": true}}]})
        );
    }
}
