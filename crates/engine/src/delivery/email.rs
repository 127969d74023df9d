//! E-mail through an SMTP server (lettre, rustls): STARTTLS, implicit TLS,
//! or plain for a relay on localhost, with optional AUTH.
//!
//! Each message is `multipart/alternative` (text, then HTML) when the
//! envelope has `html`, plain text otherwise. Headers:
//!
//! - `Message-ID: <{first 32 hex of SHA-256(idempotency key)}@{from domain}>`:
//!   deterministic, so a resend after a crash carries the same id and mail
//!   systems that deduplicate by id drop the repeat.
//! - With a `thread` in the envelope, `In-Reply-To` and `References` are
//!   `<incident-{thread}@{from domain}>`, the thread's root id, so every
//!   message about one incident sorts into one conversation. No message uses
//!   the root id itself: two different messages with one id (say the first
//!   notice reaching an address through two audiences) could be dropped as
//!   duplicates; clients thread on a missing parent just as well.
//! - `Auto-Submitted: auto-generated` (RFC 3834), so out-of-office replies stay away.
//!
//! SMTP 4xx answers and connection, TLS and timeout errors are temporary;
//! 5xx answers and addresses that do not parse are permanent.

use std::fmt;
use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};
use warroom_domain::notify::SmtpSecurity;
use warroom_store::MessageRecord;

use super::envelope::Envelope;
use super::secret::Secret;
use super::SendError;

const TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
    security: SmtpSecurity,
    username: Option<String>,
}

impl fmt::Debug for Smtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smtp")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Smtp {
    pub fn new(
        host: &str,
        port: u16,
        security: SmtpSecurity,
        username: Option<&str>,
        password: Option<Secret>,
        from: &str,
    ) -> Result<Smtp, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("from {from:?} is not an e-mail address: {e}"))?;
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned()).map_err(|e| format!("TLS for {host}: {e}"))
        };
        let tls = match security {
            SmtpSecurity::Starttls => Tls::Required(tls(host)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls(host)?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        match (username, password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(
                    user.to_owned(),
                    password.expose().to_owned(),
                ));
            }
            (None, None) => {}
            _ => return Err("username and password go together: set both or neither".to_owned()),
        }
        Ok(Smtp {
            transport: builder.build(),
            from,
            host: host.to_owned(),
            port,
            security,
            username: username.map(str::to_owned),
        })
    }

    fn domain(&self) -> &str {
        self.from.email.domain()
    }

    /// The message as it goes out to `message.destination`.
    pub fn build(
        &self,
        message: &MessageRecord,
        envelope: &Envelope,
        now: Timestamp,
    ) -> Result<Message, SendError> {
        let permanent = |message: String| SendError {
            temporary: false,
            message,
        };
        let to: Mailbox = message.destination.parse().map_err(|e| {
            permanent(format!(
                "{:?} is not an e-mail address: {e}",
                message.destination
            ))
        })?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.replace(['\r', '\n'], " "))
            .date(SystemTime::from(now))
            .message_id(Some(message_id(&message.idempotency_key, self.domain())))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ));
        if let Some(thread) = &envelope.thread {
            let root = thread_root_id(thread, self.domain());
            builder = builder.in_reply_to(root.clone()).references(root);
        }
        let text = envelope.full_text(&message.subject);
        let built = match &envelope.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(text, html.clone())),
            None => builder.singlepart(SinglePart::plain(text)),
        };
        built.map_err(|e| permanent(format!("building the e-mail: {e}")))
    }

    pub async fn send(
        &self,
        message: &MessageRecord,
        envelope: &Envelope,
        now: Timestamp,
    ) -> Result<String, SendError> {
        let email = self.build(message, envelope, now)?;
        match self.transport.send(email).await {
            Ok(response) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )
            .trim()
            .to_owned()),
            Err(e) => Err(SendError {
                temporary: !e.is_permanent(),
                message: format!("SMTP {}:{}: {e}", self.host, self.port),
            }),
        }
    }
}

/// `<{first 32 hex digits of SHA-256(idempotency key)}@{domain}>`.
pub fn message_id(idempotency_key: &str, domain: &str) -> String {
    let hash = hex::encode(Sha256::digest(idempotency_key.as_bytes()));
    format!("<{}@{domain}>", &hash[..32])
}

/// `<incident-{thread}@{domain}>`; a thread key with characters a
/// Message-ID cannot hold is replaced by its hash.
pub fn thread_root_id(thread: &str, domain: &str) -> String {
    let safe = thread
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if safe {
        format!("<incident-{thread}@{domain}>")
    } else {
        let hash = hex::encode(Sha256::digest(thread.as_bytes()));
        format!("<incident-{}@{domain}>", &hash[..32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic() {
        assert_eq!(
            message_id("page:1", "example.com"),
            message_id("page:1", "example.com")
        );
        assert_ne!(
            message_id("page:1", "example.com"),
            message_id("page:2", "example.com")
        );
        assert!(message_id("k", "example.com").ends_with("@example.com>"));
        assert_eq!(
            thread_root_id("INC-2026-0001", "ex.org"),
            "<incident-INC-2026-0001@ex.org>"
        );
        assert!(!thread_root_id("a b@c", "ex.org").contains(' '));
    }

    #[test]
    fn settings_are_checked() {
        let smtp = |from: &str, user: Option<&str>, pw: Option<&str>| {
            Smtp::new(
                "localhost",
                25,
                SmtpSecurity::None,
                user,
                pw.map(|p| Secret::new(p.into())),
                from,
            )
        };
        assert!(smtp("Warroom <alerts@example.com>", None, None).is_ok());
        assert!(smtp("not an address", None, None)
            .unwrap_err()
            .contains("from"));
        assert!(smtp("a@example.com", Some("u"), None).is_err());
        let s = smtp("a@example.com", Some("u"), Some("hunter2")).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
