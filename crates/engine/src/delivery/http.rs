//! HTTP plumbing shared by the HTTP channels (one client, one reading of
//! answers into `SendError`s, URLs redacted in every error), and
//! `HttpChannels`, the relay fallback used before real channels are configured.

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode};
use warroom_store::MessageRecord;

use super::{Channels, SendError};

/// The client every HTTP channel uses: 10 s timeout, a Warroom user agent.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("Warroom/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// A 2xx answer: its status and (the start of) its body.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: String,
}

impl Answer {
    /// `200 OK ok`, as recorded for chat webhooks.
    pub fn summary(&self) -> String {
        format!(
            "{} {}",
            self.status,
            self.body.chars().take(300).collect::<String>()
        )
        .trim()
        .to_owned()
    }
}

/// Sends and reads the answer. 2xx is `Ok`; network trouble, 408, 429 and
/// 5xx are temporary; other statuses are permanent. `what` names the
/// receiver in errors (never a full URL: they carry secrets).
pub(crate) async fn send(request: RequestBuilder, what: &str) -> Result<Answer, SendError> {
    let response = request.send().await.map_err(|e| SendError {
        temporary: true,
        message: format!("{what}: {}", e.without_url()),
    })?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(Answer { status, body })
    } else {
        let body: String = body.chars().take(300).collect();
        Err(SendError {
            temporary: is_temporary(status),
            message: format!("{what} answered {status}: {body}")
                .trim()
                .to_owned(),
        })
    }
}

pub(crate) fn is_temporary(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
}

/// Shows scheme and host only: webhook URLs carry secrets in their paths.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "the webhook".to_owned(),
    }
}

/// A destination that must be an http(s) URL (a user's webhook or Slack address).
pub(crate) fn check_url(url: &str) -> Result<(), SendError> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(SendError {
            temporary: false,
            message: "the destination is not an http(s) URL".to_owned(),
        }),
    }
}

/// The channels before notifications: webhook and Slack-compatible contact
/// methods are posted to directly; e-mail, SMS and voice go to the relay
/// webhook when one is configured. `ChannelSet` uses it as its fallback.
#[derive(Clone, Debug)]
pub struct HttpChannels {
    client: reqwest::Client,
    relay_url: Option<String>,
}

impl HttpChannels {
    pub fn new(relay_url: Option<String>) -> HttpChannels {
        HttpChannels {
            client: client(),
            relay_url,
        }
    }

    async fn post(
        &self,
        url: &str,
        message: &MessageRecord,
        body: String,
    ) -> Result<String, SendError> {
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("idempotency-key", &message.idempotency_key)
            .header("x-warroom-message-id", message.id.to_string())
            .body(body);
        send(request, &redact(url)).await.map(|a| a.summary())
    }
}

impl Channels for HttpChannels {
    fn carries_contact_kind(&self, kind: &str) -> bool {
        matches!(kind, "webhook" | "slack") || self.relay_url.is_some()
    }

    async fn send(&self, message: &MessageRecord) -> Result<String, SendError> {
        match message.channel.as_str() {
            "webhook" => self.post(&message.destination, message, message.body.clone()).await,
            "slack" => {
                let payload: serde_json::Value =
                    serde_json::from_str(&message.body).unwrap_or_default();
                let ack = payload["acknowledge_url"].as_str().unwrap_or_default();
                let text = format!("{}\nAcknowledge: {ack}", message.subject);
                let body = serde_json::json!({ "text": text }).to_string();
                self.post(&message.destination, message, body).await
            }
            other => match &self.relay_url {
                Some(relay) => {
                    let mut payload: serde_json::Value =
                        serde_json::from_str(&message.body).unwrap_or_default();
                    payload["deliver_to"] = serde_json::json!({
                        "channel": other,
                        "destination": message.destination,
                    });
                    payload["subject"] = message.subject.clone().into();
                    self.post(relay, message, payload.to_string()).await
                }
                None => Err(SendError {
                    temporary: false,
                    message: format!(
                        "no {other} channel is configured; configure one under notifications.channels, or start the server with --page-relay-url to relay pages to a webhook"
                    ),
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_keeps_only_scheme_and_host() {
        assert_eq!(
            redact("https://hooks.slack.com/services/T000/B000/XXXX"),
            "https://hooks.slack.com/…"
        );
    }

    #[test]
    fn temporary_statuses() {
        for (code, temporary) in [
            (429, true),
            (500, true),
            (503, true),
            (408, true),
            (400, false),
            (404, false),
            (410, false),
        ] {
            assert_eq!(
                is_temporary(StatusCode::from_u16(code).unwrap()),
                temporary,
                "{code}"
            );
        }
    }
}
