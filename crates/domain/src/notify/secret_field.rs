//! Reads a channel's secret fields (`url`, `webhook_url`, `signing_secret`,
//! `password`, `auth_token`) so that the secret itself, written where its
//! reference belongs (`url: https://hooks...`), is refused with a message
//! that names the field and shows the accepted forms. The playbook parser
//! locates the field from that message (`parse::secret_field`).

use std::fmt;

use serde::de::{self, value::MapAccessDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::SecretRef;

/// What every refusal starts with: "`url` is a secret".
pub(crate) const MARKER: &str = "is a secret";

fn inline(field: &str) -> String {
    format!(
        "`{field}` {MARKER}, read from the environment or a file: write \
         `{field}: {{env: VARIABLE}}` or `{field}: {{file: /path/to/secret}}`, not the value itself"
    )
}

struct SecretVisitor(&'static str);

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = Option<SecretRef>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "`{{env: VARIABLE}}` or `{{file: /path/to/secret}}`")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom(inline(self.0)))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom(inline(self.0)))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom(inline(self.0)))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom(inline(self.0)))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom(inline(self.0)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        SecretRef::deserialize(MapAccessDeserializer::new(map)).map(Some)
    }
}

fn required<'de, D: Deserializer<'de>>(d: D, field: &'static str) -> Result<SecretRef, D::Error> {
    d.deserialize_any(SecretVisitor(field))?
        .ok_or_else(|| de::Error::custom(inline(field)))
}

fn optional<'de, D: Deserializer<'de>>(
    d: D,
    field: &'static str,
) -> Result<Option<SecretRef>, D::Error> {
    d.deserialize_any(SecretVisitor(field))
}

pub(super) fn url<'de, D: Deserializer<'de>>(d: D) -> Result<SecretRef, D::Error> {
    required(d, "url")
}

pub(super) fn webhook_url<'de, D: Deserializer<'de>>(d: D) -> Result<SecretRef, D::Error> {
    required(d, "webhook_url")
}

pub(super) fn auth_token<'de, D: Deserializer<'de>>(d: D) -> Result<SecretRef, D::Error> {
    required(d, "auth_token")
}

pub(super) fn signing_secret<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<SecretRef>, D::Error> {
    optional(d, "signing_secret")
}

pub(super) fn password<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretRef>, D::Error> {
    optional(d, "password")
}
