//! The generic JSON webhook: the envelope as posted, its signature, and the
//! check receivers run ([`verify_signature`]).
//!
//! Request: `POST` with headers `Content-Type: application/json`,
//! `Idempotency-Key: <the message's idempotency key>` (the same on every
//! retry: drop repeats), `X-Warroom-Timestamp: <unix seconds>` and, when the
//! channel has a signing secret, `X-Warroom-Signature: v1=<hex HMAC-SHA256(
//! secret, "{timestamp}.{body}")>`. The body is the message's envelope (see
//! `envelope`) with `kind`, `subject` and `text` always present, plus `id`
//! (the outbox row), `idempotency_key` and `sent_at` (RFC 3339).

use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use sha2::Sha256;
use warroom_store::MessageRecord;

use super::envelope::Envelope;

pub const TIMESTAMP_HEADER: &str = "X-Warroom-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Warroom-Signature";
/// How old a signed request may be before receivers refuse it as a replay.
pub const DEFAULT_TOLERANCE: SignedDuration = SignedDuration::from_mins(5);

type HmacSha256 = Hmac<Sha256>;

/// The JSON body posted for a message.
pub fn payload(message: &MessageRecord, envelope: &Envelope, sent_at: Timestamp) -> Value {
    let mut body = envelope.raw.clone();
    body.entry("kind")
        .or_insert_with(|| Value::String(envelope.kind.clone()));
    body.entry("subject")
        .or_insert_with(|| Value::String(message.subject.clone()));
    body.entry("text")
        .or_insert_with(|| Value::String(envelope.full_text(&message.subject)));
    body.insert("id".to_owned(), message.id.into());
    body.insert(
        "idempotency_key".to_owned(),
        message.idempotency_key.clone().into(),
    );
    body.insert("sent_at".to_owned(), sent_at.to_string().into());
    Value::Object(body)
}

/// `v1=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// What a receiver runs on each request: the `X-Warroom-Timestamp` header,
/// the raw body (exactly as received, before any JSON parsing), the
/// `X-Warroom-Signature` header, the receiver's current time, and how old a
/// request may be ([`DEFAULT_TOLERANCE`]). Refuses timestamps further than
/// the tolerance from `now` (in either direction: replays and clock skew)
/// and signatures that do not match; the comparison is constant-time. The
/// header may list several comma-separated signatures (e.g. while a secret
/// rotates); one valid `v1=` signature suffices.
pub fn verify_signature(
    secret: &[u8],
    timestamp_header: &str,
    body: &[u8],
    signature_header: &str,
    now: Timestamp,
    tolerance: SignedDuration,
) -> Result<(), String> {
    let timestamp: i64 = timestamp_header
        .trim()
        .parse()
        .map_err(|_| format!("{TIMESTAMP_HEADER} is not a number of seconds"))?;
    let sent = Timestamp::from_second(timestamp)
        .map_err(|_| format!("{TIMESTAMP_HEADER} is out of range"))?;
    let age = now.duration_since(sent);
    if age.abs() > tolerance {
        return Err(format!(
            "{TIMESTAMP_HEADER} is {}s from now, more than the {}s allowed",
            age.as_secs(),
            tolerance.as_secs()
        ));
    }
    let candidates: Vec<Vec<u8>> = signature_header
        .split(',')
        .filter_map(|s| s.trim().strip_prefix("v1="))
        .filter_map(|h| hex::decode(h.trim()).ok())
        .collect();
    if candidates.is_empty() {
        return Err(format!("{SIGNATURE_HEADER} has no v1= signature"));
    }
    if candidates
        .iter()
        .any(|c| mac(secret, timestamp, body).verify_slice(c).is_ok())
    {
        Ok(())
    } else {
        Err(format!("{SIGNATURE_HEADER} does not match the body"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn signatures_verify_within_the_tolerance_only() {
        let body = br#"{"kind":"test"}"#;
        let sig = sign(b"s3cret", 1_800_000_000, body);
        // The same as Python's hmac.new(b"s3cret", b'1800000000.{"kind":"test"}', hashlib.sha256).
        assert_eq!(
            sig,
            "v1=5205e43fcb7dbce76e6a591d49ce87942df15d4e9a0fb41aafdb8dc73441ce7c"
        );
        let check = |ts: &str, body: &[u8], sig: &str, now: i64| {
            verify_signature(b"s3cret", ts, body, sig, at(now), DEFAULT_TOLERANCE)
        };
        assert_eq!(check("1800000000", body, &sig, 1_800_000_000), Ok(()));
        assert_eq!(check("1800000000", body, &sig, 1_800_000_300), Ok(()));
        assert!(check("1800000000", body, &sig, 1_800_000_301)
            .unwrap_err()
            .contains("more than the 300s"));
        assert!(
            check("1800000000", body, &sig, 1_799_999_000).is_err(),
            "from the future"
        );
        assert!(
            check("1800000001", body, &sig, 1_800_000_000).is_err(),
            "timestamp changed"
        );
        assert!(check("1800000000", br#"{"kind":"tost"}"#, &sig, 1_800_000_000).is_err());
        assert!(check("soon", body, &sig, 1_800_000_000).is_err());
        assert!(check("1800000000", body, "v0=abc", 1_800_000_000).is_err());
        let rotating = format!("v1={}, {sig}", "00".repeat(32));
        assert_eq!(check("1800000000", body, &rotating, 1_800_000_000), Ok(()));
        assert!(verify_signature(
            b"other",
            "1800000000",
            body,
            &sig,
            at(1_800_000_000),
            DEFAULT_TOLERANCE
        )
        .is_err());
    }
}
