//! One-click acknowledge links: a token naming one incident, the person it
//! was sent to and an expiry, signed with HMAC-SHA256 under a key derived
//! from the server secret (`ServerSecrets`, kept outside the database), so
//! any node with the secret can check it with no login, and a copy of the
//! database cannot forge one.

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;

use crate::server_secret::ServerSecrets;

type HmacSha256 = Hmac<Sha256>;

/// What the acknowledge-link key is derived for from the server secret.
pub const ACK_LINK_LABEL: &str = "warroom ack-link v1";

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

/// Signs acknowledge links with one key and checks them with that key or
/// any previous one, so rotating the server secret keeps links already sent.
#[derive(Clone)]
pub struct AckLinks {
    /// The signing key first, then previous keys still accepted.
    keys: Vec<Vec<u8>>,
}

impl std::fmt::Debug for AckLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AckLinks {{ {} keys: <secret> }}", self.keys.len())
    }
}

impl AckLinks {
    /// One key, signing and checking.
    pub fn new(key: Vec<u8>) -> AckLinks {
        AckLinks { keys: vec![key] }
    }

    /// Keys derived from the server secrets: the current secret's signs,
    /// every secret's checks.
    pub fn from_secrets(secrets: &ServerSecrets) -> AckLinks {
        AckLinks {
            keys: secrets
                .derive(ACK_LINK_LABEL)
                .into_iter()
                .map(|key| key.to_vec())
                .collect(),
        }
    }

    fn mac(key: &[u8], payload: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
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
        let tag = Self::mac(&self.keys[0], payload.as_bytes())
            .finalize()
            .into_bytes();
        format!("{}.{}", hex::encode(payload), hex::encode(tag))
    }

    /// Checks the signature first (in constant time, under each key), then
    /// the expiry.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<AckClaim, AckLinkError> {
        let (payload_hex, tag_hex) = token.split_once('.').ok_or(AckLinkError::Invalid)?;
        let payload = hex::decode(payload_hex).map_err(|_| AckLinkError::Invalid)?;
        let tag = hex::decode(tag_hex).map_err(|_| AckLinkError::Invalid)?;
        let signed = self
            .keys
            .iter()
            .any(|key| Self::mac(key, &payload).verify_slice(&tag).is_ok());
        if !signed {
            return Err(AckLinkError::Invalid);
        }
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

    #[test]
    fn links_signed_before_a_rotation_still_verify() {
        let now: Timestamp = "2026-11-25T11:00:00Z".parse().unwrap();
        let old = "0123456789abcdef0123456789abcdef";
        let new = "fedcba9876543210fedcba9876543210";
        let before = AckLinks::from_secrets(&ServerSecrets::parse(old).unwrap());
        let sent = before.sign(&claim());
        let after =
            AckLinks::from_secrets(&ServerSecrets::parse(&format!("{new}\n{old}")).unwrap());
        assert_eq!(after.verify(&sent, now), Ok(claim()));
        // The new secret signs, and the old alone does not accept that.
        let fresh = after.sign(&claim());
        assert_ne!(fresh, sent);
        assert_eq!(before.verify(&fresh, now), Err(AckLinkError::Invalid));
        // Dropping the old line retires its links.
        let later = AckLinks::from_secrets(&ServerSecrets::parse(new).unwrap());
        assert_eq!(later.verify(&sent, now), Err(AckLinkError::Invalid));
        assert_eq!(later.verify(&fresh, now), Ok(claim()));
        // The key is derived, not the secret itself.
        let raw = AckLinks::new(old.as_bytes().to_vec());
        assert_eq!(
            before.verify(&raw.sign(&claim()), now),
            Err(AckLinkError::Invalid)
        );
    }
}
