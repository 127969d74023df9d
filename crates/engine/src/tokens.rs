//! API tokens: minted here, shown once, stored only as a SHA-256 hash.
//!
//! Tokens are 256 random bits, so a fast hash is the right tool (a slow
//! password hash such as argon2 protects low-entropy secrets; it would only
//! add latency to every request here).

use std::sync::Arc;

use jiff::Timestamp;
use rand::RngCore;
use sha2::{Digest, Sha256};
use warroom_domain::{AccessRole, DomainError};
use warroom_store::{ApiToken, StoreError, TokenStore};

use crate::clock::Clock;

/// Every secret starts with this, so leaked tokens are easy to grep for.
pub const TOKEN_PREFIX: &str = "wr_";

/// A freshly minted token: the secret exists only in this value.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub secret: String,
    pub token: ApiToken,
}

pub struct Tokens;

impl Tokens {
    pub fn hash(secret: &str) -> String {
        hex::encode(Sha256::digest(secret.as_bytes()))
    }

    fn mint() -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
    }

    pub fn check_name(name: &str) -> Result<(), DomainError> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
        if ok {
            Ok(())
        } else {
            Err(DomainError::invalid(
                "name",
                "use 1 to 64 letters, digits, '-', '_', '.' or '@'",
            ))
        }
    }

    pub async fn create<S: TokenStore>(
        store: &S,
        name: &str,
        role: AccessRole,
        now: Timestamp,
    ) -> Result<IssuedToken, StoreError> {
        Self::check_name(name)?;
        let secret = Self::mint();
        let token = store
            .insert_token(name, role, &Self::hash(&secret), now)
            .await?;
        Ok(IssuedToken { secret, token })
    }

    /// Revokes a live token by name. The last live admin token is refused
    /// (`Conflict`), as the last enabled admin account is, so someone can
    /// always manage tokens: create another admin token first.
    pub async fn revoke<S: TokenStore>(
        store: &S,
        name: &str,
        now: Timestamp,
    ) -> Result<ApiToken, StoreError> {
        store.revoke_token(name, now).await
    }

    /// On an empty token table, mints the first admin token; `None` otherwise.
    pub async fn bootstrap_admin<S: TokenStore>(
        store: &S,
        now: Timestamp,
    ) -> Result<Option<IssuedToken>, StoreError> {
        let secret = Self::mint();
        let token = store
            .insert_first_token("admin", AccessRole::Admin, &Self::hash(&secret), now)
            .await?;
        Ok(token.map(|token| IssuedToken { secret, token }))
    }

    /// The live token a presented secret belongs to, if any.
    pub async fn authenticate<S: TokenStore>(
        store: &S,
        secret: &str,
    ) -> Result<Option<ApiToken>, StoreError> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
            return Ok(None);
        }
        store.find_token(&Self::hash(secret)).await
    }
}

/// `Tokens` over one store and the clock, for the HTTP edge: mint, list,
/// revoke and authenticate.
#[derive(Clone)]
pub struct ApiTokens<S> {
    store: S,
    clock: Arc<dyn Clock>,
}

impl<S: TokenStore> ApiTokens<S> {
    pub fn new(store: S, clock: Arc<dyn Clock>) -> ApiTokens<S> {
        ApiTokens { store, clock }
    }

    pub async fn create(&self, name: &str, role: AccessRole) -> Result<IssuedToken, StoreError> {
        Tokens::create(&self.store, name, role, self.clock.now()).await
    }

    /// Every token, revoked ones included (never their secrets).
    pub async fn list(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.store.list_tokens().await
    }

    /// See `Tokens::revoke`.
    pub async fn revoke(&self, name: &str) -> Result<ApiToken, StoreError> {
        Tokens::revoke(&self.store, name, self.clock.now()).await
    }

    pub async fn authenticate(&self, secret: &str) -> Result<Option<ApiToken>, StoreError> {
        Tokens::authenticate(&self.store, secret).await
    }
}
