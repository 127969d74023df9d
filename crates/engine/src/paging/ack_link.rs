//! One-click acknowledge links: a token naming one incident, the person it
//! was sent to and an expiry, signed with HMAC-SHA256 under a key the
//! server keeps in the database, so any node can check it with no login.

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What a valid link allows: acknowledging `incident_id` as `user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckClaim {
    pub incident_id: String,
    pub user: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckLinkError {
    #[error("this acknowledge link is malformed or was not issued by this Warroom")]
    Invalid,
    #[error("this acknowledge link expired at {0}; acknowledge from the app or CLI instead")]
    Expired(Timestamp),
}

/// Signs and checks acknowledge links.
#[derive(Clone)]
pub struct AckLinks {
    key: Vec<u8>,
}

impl std::fmt::Debug for AckLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AckLinks { key: <secret> }")
    }
}

impl AckLinks {
    pub fn new(key: Vec<u8>) -> AckLinks {
        AckLinks { key }
    }

    fn mac(&self, payload: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(payload);
        mac
    }

    /// A URL-safe token: hex of `incident|user|expiry-ms`, a dot, hex of its MAC.
    pub fn sign(&self, claim: &AckClaim) -> String {
        let payload = format!(
            "{}|{}|{}",
            claim.incident_id,
            claim.user,
            claim.expires_at.as_millisecond()
        );
        let tag = self.mac(payload.as_bytes()).finalize().into_bytes();
        format!("{}.{}", hex::encode(payload), hex::encode(tag))
    }

    /// Checks the signature first (in constant time), then the expiry.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<AckClaim, AckLinkError> {
        let (payload_hex, tag_hex) = token.split_once('.').ok_or(AckLinkError::Invalid)?;
        let payload = hex::decode(payload_hex).map_err(|_| AckLinkError::Invalid)?;
        let tag = hex::decode(tag_hex).map_err(|_| AckLinkError::Invalid)?;
        self.mac(&payload)
            .verify_slice(&tag)
            .map_err(|_| AckLinkError::Invalid)?;
        let payload = String::from_utf8(payload).map_err(|_| AckLinkError::Invalid)?;
        let mut parts = payload.splitn(3, '|');
        let (Some(incident_id), Some(user), Some(expires)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(AckLinkError::Invalid);
        };
        let expires_at = expires
            .parse::<i64>()
            .ok()
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
            .ok_or(AckLinkError::Invalid)?;
        if now >= expires_at {
            return Err(AckLinkError::Expired(expires_at));
        }
        Ok(AckClaim {
            incident_id: incident_id.to_owned(),
            user: user.to_owned(),
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> AckClaim {
        AckClaim {
            incident_id: "INC-2026-0001".into(),
            user: "alice".into(),
            expires_at: "2026-11-25T12:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let links = AckLinks::new(b"k".repeat(32));
        let token = links.sign(&claim());
        let before: Timestamp = "2026-11-25T11:59:59Z".parse().unwrap();
        assert_eq!(links.verify(&token, before), Ok(claim()));
        let at: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        assert!(matches!(
            links.verify(&token, at),
            Err(AckLinkError::Expired(_))
        ));
    }

    #[test]
    fn tampering_or_another_key_is_refused() {
        let links = AckLinks::new(b"k".repeat(32));
        let now: Timestamp = "2026-11-25T11:00:00Z".parse().unwrap();
        let token = links.sign(&claim());
        let other = AckLinks::new(b"x".repeat(32));
        assert_eq!(other.verify(&token, now), Err(AckLinkError::Invalid));
        // Point the link at another incident, keeping the MAC.
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!(
            "{}.{tag}",
            hex::encode(format!(
                "INC-2026-0002|alice|{}",
                claim().expires_at.as_millisecond()
            ))
        );
        assert_eq!(links.verify(&forged, now), Err(AckLinkError::Invalid));
        for junk in ["", ".", "zz.zz", "abc", "00.00"] {
            assert_eq!(
                links.verify(junk, now),
                Err(AckLinkError::Invalid),
                "{junk}"
            );
        }
    }
}
