//! The message envelope: what `MessageRecord.body` holds, read by every channel.
//!
//! `MessageRecord.subject` is the subject line; `MessageRecord.body` is a JSON
//! object:
//!
//! ```json
//! {
//!   "kind": "page | initial_notification | status_update | resolution_notice | reminder | verification | test",
//!   "text": "the plain-text body",
//!   "html": "an optional HTML body (e-mail only)",
//!   "thread": "an optional thread key, e.g. the incident id",
//!   "incident": {"id": "INC-2026-0001", "title": "...", "severity": "SEV-1",
//!                "status": "triggered", "url": "https://.../incidents/INC-2026-0001",
//!                "bridge_url": "https://meet...", "chat_url": "https://chat..."},
//!   "acknowledge_url": "https://.../ack/...",
//!   "...": "any other fields, passed through to generic webhooks"
//! }
//! ```
//!
//! Every field is optional. Older page bodies carry `type` instead of
//! `kind` and no `text`; both are accepted: `type` stands in for `kind`.
//! Without `text`, e-mail and webhooks use the subject followed by the
//! acknowledge link ([`Envelope::full_text`]), SMS the subject and the link
//! ([`Envelope::detail_text`]), calls the subject alone, and chat the
//! subject with the links as buttons. A body that is not a JSON object is
//! taken as plain text.
//!
//! `html` is used by e-mail only; `thread` by e-mail only (`References`);
//! `incident.severity` picks the chat colour; `incident.url`,
//! `acknowledge_url`, `incident.bridge_url` and `incident.chat_url` become
//! buttons or links.

use serde_json::{Map, Value};

/// One message's envelope, read leniently from `MessageRecord.body`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Envelope {
    /// `page`, `initial_notification`, ...; `message` when the body names none.
    pub kind: String,
    /// The plain-text body as written; see [`Envelope::full_text`].
    pub text: Option<String>,
    pub html: Option<String>,
    /// Messages with the same thread key are grouped (e-mail `References`).
    pub thread: Option<String>,
    pub incident: Option<IncidentRef>,
    pub acknowledge_url: Option<String>,
    /// The whole body as a JSON object (including the fields above).
    pub raw: Map<String, Value>,
}

/// The incident a message is about.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IncidentRef {
    pub id: Option<String>,
    pub title: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub url: Option<String>,
    pub bridge_url: Option<String>,
    pub chat_url: Option<String>,
}

impl Envelope {
    /// Reads a body; never fails (a non-object body becomes `text`).
    pub fn parse(body: &str) -> Envelope {
        let raw = match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(map)) => map,
            _ => {
                let mut map = Map::new();
                if !body.trim().is_empty() {
                    map.insert("text".to_owned(), Value::String(body.to_owned()));
                }
                map
            }
        };
        let string = |map: &Map<String, Value>, key: &str| {
            map.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let incident = raw
            .get("incident")
            .and_then(Value::as_object)
            .map(|i| IncidentRef {
                id: string(i, "id"),
                title: string(i, "title"),
                severity: string(i, "severity"),
                status: string(i, "status"),
                url: string(i, "url"),
                bridge_url: string(i, "bridge_url"),
                chat_url: string(i, "chat_url"),
            });
        Envelope {
            kind: string(&raw, "kind")
                .or_else(|| string(&raw, "type"))
                .unwrap_or_else(|| "message".to_owned()),
            text: string(&raw, "text"),
            html: string(&raw, "html"),
            thread: string(&raw, "thread"),
            incident,
            acknowledge_url: string(&raw, "acknowledge_url"),
            raw,
        }
    }

    /// The body for channels without a separate subject line (e-mail text
    /// part, generic webhooks): `text`, or the subject and the acknowledge link.
    pub fn full_text(&self, subject: &str) -> String {
        match (&self.text, &self.acknowledge_url) {
            (Some(text), _) => text.clone(),
            (None, Some(ack)) => format!("{subject}\n\nAcknowledge: {ack}"),
            (None, None) => subject.to_owned(),
        }
    }

    /// The body under a subject shown on its own (chat, SMS): `text`, or the
    /// acknowledge link, or nothing.
    pub fn detail_text(&self) -> Option<String> {
        match (&self.text, &self.acknowledge_url) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(ack)) => Some(format!("Acknowledge: {ack}")),
            (None, None) => None,
        }
    }

    pub fn incident_url(&self) -> Option<&str> {
        self.incident.as_ref().and_then(|i| i.url.as_deref())
    }

    pub fn bridge_url(&self) -> Option<&str> {
        self.incident.as_ref().and_then(|i| i.bridge_url.as_deref())
    }

    pub fn chat_url(&self) -> Option<&str> {
        self.incident.as_ref().and_then(|i| i.chat_url.as_deref())
    }

    pub fn severity(&self) -> Option<&str> {
        self.incident.as_ref().and_then(|i| i.severity.as_deref())
    }

    pub fn status(&self) -> Option<&str> {
        self.incident.as_ref().and_then(|i| i.status.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_envelope() {
        let e = Envelope::parse(
            r#"{"kind":"status_update","text":"Fixed","html":"<p>Fixed</p>","thread":"INC-1",
                "incident":{"id":"INC-1","title":"DB down","severity":"SEV-1","status":"resolved","url":"https://w/i/INC-1"},
                "extra":1}"#,
        );
        assert_eq!(e.kind, "status_update");
        assert_eq!(e.full_text("S"), "Fixed");
        assert_eq!(e.detail_text().as_deref(), Some("Fixed"));
        assert_eq!(e.html.as_deref(), Some("<p>Fixed</p>"));
        assert_eq!(e.thread.as_deref(), Some("INC-1"));
        assert_eq!(e.severity(), Some("SEV-1"));
        assert_eq!(e.status(), Some("resolved"));
        assert_eq!(e.incident_url(), Some("https://w/i/INC-1"));
        assert_eq!(e.raw["extra"], 1);
    }

    #[test]
    fn accepts_page_bodies_without_text() {
        let e = Envelope::parse(
            r#"{"type":"page","incident":{"id":"INC-1","severity":"SEV-2"},"acknowledge_url":"https://w/ack/t"}"#,
        );
        assert_eq!(e.kind, "page");
        assert_eq!(
            e.full_text("[SEV-2] INC-1: x"),
            "[SEV-2] INC-1: x\n\nAcknowledge: https://w/ack/t"
        );
        assert_eq!(
            e.detail_text().as_deref(),
            Some("Acknowledge: https://w/ack/t")
        );
        assert_eq!(e.thread, None);
    }

    #[test]
    fn a_body_that_is_not_an_object_is_text() {
        let e = Envelope::parse("hello");
        assert_eq!(e.kind, "message");
        assert_eq!(e.full_text("S"), "hello");
        assert_eq!(Envelope::parse("").full_text("S"), "S");
    }
}
