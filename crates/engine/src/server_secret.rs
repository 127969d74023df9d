//! The server secret: random text kept outside the database (in a file the
//! binary reads), from which keys are derived, so a copy of the database
//! alone cannot sign anything, such as an acknowledge link.
//!
//! The text holds one secret per line: the first is current (it signs), the
//! others are previous ones still accepted when checking, so a rotation
//! does not break what was signed before it. Blank lines and lines starting
//! with `#` are ignored.

use std::fmt;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// A secret shorter than this is refused: 32 characters of hex is 128 bits.
pub const MIN_SECRET_CHARS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("it holds no secret; put one on the first line (`warroom secret generate` makes one)")]
    Empty,
    #[error(
        "line {line} is {chars} characters; a secret needs at least {MIN_SECRET_CHARS} \
         (`warroom secret generate` makes one)"
    )]
    TooShort { line: usize, chars: usize },
    #[error("line {line} contains white space; a secret is one word per line")]
    WhiteSpace { line: usize },
}

/// The server's secrets, current first.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerSecrets {
    secrets: Vec<String>,
}

impl fmt::Debug for ServerSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ServerSecrets {{ {} secrets: <redacted> }}",
            self.secrets.len()
        )
    }
}

impl ServerSecrets {
    /// Reads the text of a secret file.
    pub fn parse(text: &str) -> Result<ServerSecrets, SecretError> {
        let mut secrets = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let secret = line.trim();
            if secret.is_empty() || secret.starts_with('#') {
                continue;
            }
            if secret.chars().any(char::is_whitespace) {
                return Err(SecretError::WhiteSpace { line: line_no });
            }
            let chars = secret.chars().count();
            if chars < MIN_SECRET_CHARS {
                return Err(SecretError::TooShort {
                    line: line_no,
                    chars,
                });
            }
            secrets.push(secret.to_owned());
        }
        if secrets.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(ServerSecrets { secrets })
    }

    /// A new random secret: 256 bits as 64 hex digits.
    pub fn generate() -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    /// How many secrets there are (the current one and previous ones).
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// One key per secret, current first: HMAC-SHA256 keyed by the secret
    /// over `label`, so each use gets its own key and none is the secret.
    pub fn derive(&self, label: &str) -> Vec<[u8; 32]> {
        self.secrets
            .iter()
            .map(|secret| {
                let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                    .expect("HMAC takes any key length");
                mac.update(label.as_bytes());
                mac.finalize().into_bytes().into()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
    const B: &str = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";

    #[test]
    fn lines_are_secrets_current_first() {
        let text = format!("# rotated 2026-11-25\n{B}\n\n  {A}  \n");
        let secrets = ServerSecrets::parse(&text).unwrap();
        assert_eq!(secrets.len(), 2);
        let keys = secrets.derive("warroom ack-link v1");
        assert_eq!(
            keys[0],
            ServerSecrets::parse(B)
                .unwrap()
                .derive("warroom ack-link v1")[0]
        );
        assert_eq!(
            keys[1],
            ServerSecrets::parse(A)
                .unwrap()
                .derive("warroom ack-link v1")[0]
        );
        // Labels give unrelated keys, and none is the secret itself.
        assert_ne!(keys[0], secrets.derive("another use")[0]);
        assert!(!hex::encode(keys[0]).contains(B));
        assert!(!format!("{secrets:?}").contains(A));
    }

    #[test]
    fn bad_files_name_the_line() {
        assert_eq!(ServerSecrets::parse(""), Err(SecretError::Empty));
        assert_eq!(ServerSecrets::parse("# only\n\n"), Err(SecretError::Empty));
        assert_eq!(
            ServerSecrets::parse(&format!("{A}\nshort")),
            Err(SecretError::TooShort { line: 2, chars: 5 })
        );
        assert_eq!(
            ServerSecrets::parse(&format!("{A} {B}")),
            Err(SecretError::WhiteSpace { line: 1 })
        );
        let generated = ServerSecrets::generate();
        assert_eq!(generated.len(), 64);
        assert_ne!(generated, ServerSecrets::generate());
        assert!(ServerSecrets::parse(&generated).is_ok());
    }
}
