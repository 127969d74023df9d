//! Contact-method verification: a 6-digit code sent through the outbox,
//! checked against its hash, with an expiry and a cap on attempts.

use jiff::SignedDuration;
use rand::Rng;
use warroom_domain::oncall::User;
use warroom_domain::DomainError;
use warroom_store::{
    DirectoryStore, NewMessage, PagingTx, StoreError, TxStore, VerificationRecord, WriteTx,
    SOURCE_PLAYBOOK,
};

use super::{encode, hash_secret, Oncall, Stored};

/// Verification codes expire after this long.
pub const CODE_TTL: SignedDuration = SignedDuration::from_mins(15);
/// Wrong guesses allowed per code.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

impl<S: DirectoryStore + TxStore> Oncall<S> {
    /// Sends a 6-digit code to a contact method (through the outbox). The
    /// code is returned only so tests and the CLI can show where it went; the
    /// API never returns it.
    pub async fn start_verification(
        &self,
        user: &str,
        method_id: &str,
    ) -> Result<String, StoreError> {
        let stored: Stored<User> = self.get(user).await?;
        let method = stored
            .doc
            .contact_method(method_id)
            .ok_or_else(|| {
                StoreError::NotFound(format!("contact method {method_id} of user {user}"))
            })?
            .clone();
        if stored.source == SOURCE_PLAYBOOK || method.verified {
            return Err(DomainError::Conflict(format!(
                "contact method {method_id} of {user} is already verified"
            ))
            .into());
        }
        let kind = method.kind.as_str();
        if !(self.carrier)(kind) {
            let how = match kind {
                "email" => "configure an smtp channel under notifications.channels",
                _ => "configure a twilio channel under notifications.channels",
            };
            return Err(DomainError::Conflict(format!(
                "no channel can carry a code to {user}'s {kind} contact method {method_id}: {how}, or start the server with --page-relay-url"
            ))
            .into());
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
        let now = self.clock.now();
        self.store
            .put_verification(&VerificationRecord {
                user_name: user.to_owned(),
                method_id: method_id.to_owned(),
                code_hash: hash_secret(&format!("{user}:{method_id}:{code}")),
                expires_at: now + CODE_TTL,
                attempts: 0,
            })
            .await?;
        let mut tx = self.store.begin().await?;
        tx.queue_message(&NewMessage {
            idempotency_key: format!("verify:{user}:{method_id}:{}", now.as_millisecond()),
            incident_id: None,
            purpose: "verification".into(),
            user_name: Some(user.to_owned()),
            contact_method: Some(method_id.to_owned()),
            channel: method.kind.as_str().to_owned(),
            destination: method.address.clone(),
            subject: "Your Warroom verification code".into(),
            body: serde_json::json!({
                "type": "verification",
                "user": user,
                "contact_method": {"id": method.id, "kind": method.kind, "address": method.address},
                "code": code,
                "expires_at": now + CODE_TTL,
            })
            .to_string(),
            run_at: now,
            created_at: now,
        })
        .await?;
        tx.commit().await?;
        Ok(code)
    }

    /// The code pending for a contact method, if one was sent (hashed).
    pub async fn pending_verification(
        &self,
        user: &str,
        method_id: &str,
    ) -> Result<Option<VerificationRecord>, StoreError> {
        self.store.get_verification(user, method_id).await
    }

    /// Checks a code; on success the method is verified.
    pub async fn verify(
        &self,
        user: &str,
        method_id: &str,
        code: &str,
    ) -> Result<Stored<User>, StoreError> {
        let now = self.clock.now();
        let pending = self
            .store
            .get_verification(user, method_id)
            .await?
            .ok_or_else(|| {
                DomainError::Conflict(format!(
                    "no verification is pending for {method_id} of {user}; request a code first"
                ))
            })?;
        if pending.expires_at <= now || pending.attempts >= MAX_CODE_ATTEMPTS {
            return Err(DomainError::Conflict(
                "the code expired or was guessed wrong too often; request a new one".into(),
            )
            .into());
        }
        if hash_secret(&format!("{user}:{method_id}:{code}")) != pending.code_hash {
            self.store
                .count_verification_attempt(user, method_id)
                .await?;
            return Err(DomainError::invalid("code", "is not the code that was sent").into());
        }
        let mut stored: Stored<User> = self.get(user).await?;
        for m in &mut stored.doc.contact_methods {
            if m.id == method_id {
                m.verified = true;
            }
        }
        self.store
            .complete_verification(user, method_id, &encode(&stored.doc)?, now)
            .await?;
        self.get(user).await
    }
}
