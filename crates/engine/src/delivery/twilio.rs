//! SMS and voice through Twilio's REST API (or anything with its shape):
//! `POST {base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json` with the
//! form `To`, `From`, `Body`, and `.../Calls.json` with `To`, `From`,
//! `Twiml`; HTTP basic auth `AccountSid:AuthToken`. A 2xx answer's `sid` is
//! recorded as the provider answer.

use std::fmt;

use serde_json::Value;

use super::envelope::Envelope;
use super::http;
use super::secret::Secret;
use super::SendError;

/// Twilio's limit for one message body (it splits into segments itself).
pub const SMS_MAX_CHARS: usize = 1600;
/// What a call reads out is cut to this many characters (Twiml is at most 4000).
const SAY_MAX_CHARS: usize = 3000;

pub(crate) struct Twilio {
    base_url: String,
    account_sid: String,
    auth_token: Secret,
    from: String,
}

impl fmt::Debug for Twilio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Twilio")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &self.auth_token)
            .field("from", &self.from)
            .finish()
    }
}

impl Twilio {
    pub fn new(
        base_url: &str,
        account_sid: &str,
        auth_token: Secret,
        from: &str,
    ) -> Result<Twilio, String> {
        match url::Url::parse(base_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => return Err("base_url is not an http(s) URL".to_owned()),
        }
        if account_sid.is_empty() || !account_sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err("account_sid must be letters and digits (AC...)".to_owned());
        }
        if from.trim().is_empty() {
            return Err("from is empty".to_owned());
        }
        Ok(Twilio {
            base_url: base_url.trim_end_matches('/').to_owned(),
            account_sid: account_sid.to_owned(),
            auth_token,
            from: from.to_owned(),
        })
    }

    pub async fn sms(
        &self,
        client: &reqwest::Client,
        to: &str,
        subject: &str,
        envelope: &Envelope,
    ) -> Result<String, SendError> {
        let body = sms_body(subject, envelope);
        self.post(
            client,
            "Messages.json",
            &[("To", to), ("From", &self.from), ("Body", &body)],
        )
        .await
    }

    pub async fn call(
        &self,
        client: &reqwest::Client,
        to: &str,
        subject: &str,
        envelope: &Envelope,
    ) -> Result<String, SendError> {
        let twiml = twiml(subject, envelope);
        self.post(
            client,
            "Calls.json",
            &[("To", to), ("From", &self.from), ("Twiml", &twiml)],
        )
        .await
    }

    async fn post(
        &self,
        client: &reqwest::Client,
        resource: &str,
        form: &[(&str, &str)],
    ) -> Result<String, SendError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{resource}",
            self.base_url, self.account_sid
        );
        let request = client
            .post(url)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
            .form(form);
        let what = format!("Twilio {resource}");
        let answer = http::send(request, &what).await.map_err(|mut e| {
            // Twilio explains refusals as {"code": 21211, "message": "..."}.
            if let Some((answered, body)) = e.message.split_once(": ") {
                if let Ok(v) = serde_json::from_str::<Value>(body) {
                    if let (Some(code), Some(text)) = (v["code"].as_i64(), v["message"].as_str()) {
                        e.message = format!("{answered}: {code} {text}");
                    }
                }
            }
            e
        })?;
        let sid = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| v["sid"].as_str().map(str::to_owned));
        Ok(sid.unwrap_or_else(|| answer.summary()))
    }
}

/// The subject, a newline and the text (or the acknowledge link), at most 1600 characters.
pub(crate) fn sms_body(subject: &str, envelope: &Envelope) -> String {
    let full = match envelope.detail_text() {
        Some(detail) => format!("{subject}\n{detail}"),
        None => subject.to_owned(),
    };
    full.chars().take(SMS_MAX_CHARS).collect()
}

/// `<Response><Say>subject. text</Say></Response>`, XML-escaped. Links are
/// not read out: without `text` only the subject is.
pub(crate) fn twiml(subject: &str, envelope: &Envelope) -> String {
    let spoken = match &envelope.text {
        Some(text) => format!("{subject}. {text}"),
        None => subject.to_owned(),
    };
    let spoken: String = spoken.chars().take(SAY_MAX_CHARS).collect();
    format!("<Response><Say>{}</Say></Response>", xml_escape(&spoken))
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_bodies_are_capped_at_1600_characters() {
        let e = Envelope::parse(&serde_json::json!({"text": "é".repeat(2000)}).to_string());
        let body = sms_body("S", &e);
        assert_eq!(body.chars().count(), 1600);
        assert!(body.starts_with("S\né"));
        let page = Envelope::parse(r#"{"type":"page","acknowledge_url":"https://w/ack/t"}"#);
        assert_eq!(sms_body("S", &page), "S\nAcknowledge: https://w/ack/t");
    }

    #[test]
    fn twiml_is_escaped() {
        let e = Envelope::parse(r#"{"text":"<b>&'\""}"#);
        assert_eq!(
            twiml("A & B", &e),
            "<Response><Say>A &amp; B. &lt;b&gt;&amp;&apos;&quot;</Say></Response>"
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        let token = || Secret::new("t".into());
        assert!(Twilio::new("ftp://x", "AC1", token(), "+1").is_err());
        assert!(Twilio::new("https://x", "AC/../1", token(), "+1").is_err());
        assert!(Twilio::new("https://x/", "AC1", token(), "+1").is_ok());
    }
}
