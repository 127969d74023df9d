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
//!
//! Text from an incident or an alert is escaped for each service, so it
//! reads as written and cannot mention anyone or break the layout: Slack's
//! `&`, `<` and `>` (its mentions are `<!channel>`), and Markdown's
//! characters on Mattermost, Teams and Discord, where a bare `@channel`,
//! `@all` or `@here` also gets a zero-width space so it pings no one.
//! Only the links Warroom adds itself are written as links.

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

/// Slack's control characters, which it reads in every text field.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text as Markdown that shows it literally (Mattermost, Teams, Discord):
/// a backslash before each character that formats or links, before a
/// line's list or heading marker, and a zero-width space after the `@` of
/// a group mention.
pub(crate) fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let body = line.trim_start();
        out.push_str(&line[..line.len() - body.len()]);
        // `>` (a quote) is escaped wherever it stands, below.
        if body.starts_with(['#', '-', '+', '=']) {
            out.push('\\');
        }
        // `2.` or `2)` opening a line starts an ordered list.
        let digits = body.bytes().take_while(u8::is_ascii_digit).count();
        let list_marker = (digits > 0 && body[digits..].starts_with(['.', ')'])).then_some(digits);
        for (at, c) in body.char_indices() {
            let special = matches!(
                c,
                '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '(' | ')' | '<' | '>'
            );
            if special || list_marker == Some(at) {
                out.push('\\');
            }
            out.push(c);
            if c == '@' && is_group_mention(&body[at + 1..]) {
                out.push('\u{200B}');
            }
        }
    }
    out
}

/// Whether text after an `@` names everyone: `channel`, `all`, `here`, `everyone`.
fn is_group_mention(rest: &str) -> bool {
    ["channel", "all", "here", "everyone"].iter().any(|group| {
        rest.get(..group.len())
            .is_some_and(|r| r.eq_ignore_ascii_case(group))
            && !rest[group.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
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
        ("join_bridge", "Join bridge", envelope.bridge_url()),
        ("open_chat", "Incident chat", envelope.chat_url()),
    ]
    .into_iter()
    .filter_map(|(id, label, url)| url.map(|u| (id, label, u)))
    .collect()
}

fn slack(subject: &str, envelope: &Envelope, rank: Option<usize>) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(&slack_escape(subject), 150), "emoji": true},
    })];
    if let Some(text) = &envelope.text {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "plain_text", "text": truncate(&slack_escape(text), 3000), "emoji": false},
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
    let mut payload = json!({"text": truncate(&slack_escape(subject), 3000), "blocks": blocks});
    if !details.is_empty() {
        payload["attachments"] = json!([{"color": colour(rank), "blocks": details}]);
    }
    payload
}

fn mattermost(subject: &str, envelope: &Envelope, rank: Option<usize>) -> Value {
    let mut text = envelope
        .text
        .as_deref()
        .map(markdown_escape)
        .unwrap_or_default();
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
        .map(|(k, v)| json!({"short": true, "title": k, "value": markdown_escape(v)}))
        .collect();
    // `fallback` (notifications) and `title` are plain text; `text` is Markdown.
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
    json!({"text": markdown_escape(subject), "attachments": [attachment]})
}

fn teams(subject: &str, envelope: &Envelope, rank: Option<usize>) -> Value {
    let colour = match rank {
        Some(0) => "Attention",
        Some(1 | 2) => "Warning",
        _ => "Default",
    };
    let mut body = vec![json!({
        "type": "TextBlock",
        "text": markdown_escape(subject),
        "weight": "Bolder",
        "size": "Medium",
        "color": colour,
        "wrap": true,
    })];
    if let Some(text) = &envelope.text {
        body.push(json!({"type": "TextBlock", "text": markdown_escape(text), "wrap": true}));
    }
    let facts: Vec<Value> = facts(envelope)
        .into_iter()
        .map(|(k, v)| json!({"title": k, "value": markdown_escape(v)}))
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
    let subject = markdown_escape(subject);
    let mut embed = json!({
        "title": truncate(&subject, 256),
        "color": colour_number(rank),
    });
    if let Some(text) = &envelope.text {
        embed["description"] = truncate(&markdown_escape(text), 4096).into();
    }
    if let Some(url) = envelope.incident_url() {
        embed["url"] = url.into();
    }
    let mut fields: Vec<Value> = facts(envelope)
        .into_iter()
        .map(|(k, v)| json!({"name": k, "value": truncate(&markdown_escape(v), 1024), "inline": true}))
        .collect();
    // The incident's own link is the embed's; the others are fields.
    for (id, label, url) in links(envelope) {
        if id != "open_incident" {
            fields.push(
                json!({"name": label, "value": format!("[{label}]({url})"), "inline": false}),
            );
        }
    }
    if !fields.is_empty() {
        embed["fields"] = fields.into();
    }
    json!({
        "content": truncate(&subject, 2000),
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
    fn markdown_is_shown_as_written() {
        assert_eq!(
            markdown_escape("*bold* _it_ [x](http://e) `c` ~s~ a|b <@1> \\"),
            "\\*bold\\* \\_it\\_ \\[x\\]\\(http://e\\) \\`c\\` \\~s\\~ a\\|b \\<@1\\> \\\\"
        );
        assert_eq!(
            markdown_escape("# Title\n> quote\n- item\n  2. two\nplain - dash"),
            "\\# Title\n\\> quote\n\\- item\n  2\\. two\nplain - dash"
        );
        assert_eq!(
            markdown_escape("ping @channel @Here @all @everyone, not @alice or @allison"),
            "ping @\u{200B}channel @\u{200B}Here @\u{200B}all @\u{200B}everyone, not @alice or @allison"
        );
        assert_eq!(
            markdown_escape("INC-2026-0007: 3.5% (EU)"),
            "INC-2026-0007: 3.5% \\(EU\\)"
        );
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
