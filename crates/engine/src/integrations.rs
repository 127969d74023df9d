//! Integration keys: what a monitoring tool sends so its alerts reach a service.
//!
//! A key is 32 lowercase hex digits, the shape of a PagerDuty routing key, so
//! tools that validate that shape accept it. Like API tokens, only its SHA-256
//! hash is stored and the key is shown once.

use std::sync::Arc;

use rand::RngCore;
use warroom_domain::{DomainError, Playbook};
use warroom_store::{IntegrationRecord, StoreError, TokenStore};

use crate::clock::Clock;
use crate::tokens::Tokens;

/// Formats an integration can be created for.
pub const KINDS: [&str; 7] = [
    "pagerduty",
    "alertmanager",
    "prometheus",
    "grafana",
    "sentry",
    "uptimerobot",
    "generic",
];

/// A new integration and its key, which exists only in this value.
#[derive(Debug, Clone)]
pub struct IssuedIntegration {
    pub key: String,
    pub integration: IntegrationRecord,
}

/// Integrations over one store: created for a playbook service, listed,
/// rotated, revoked, and found by the key a sender presents.
#[derive(Clone)]
pub struct Integrations<S> {
    store: S,
    playbook: Arc<Playbook>,
    clock: Arc<dyn Clock>,
}

impl<S: TokenStore> Integrations<S> {
    pub fn new(store: S, playbook: Arc<Playbook>, clock: Arc<dyn Clock>) -> Integrations<S> {
        Integrations {
            store,
            playbook,
            clock,
        }
    }

    /// Creates an integration for a playbook service. `config` holds
    /// per-integration settings (`severity_map`, and `mapping` for generic).
    pub async fn create(
        &self,
        service: &str,
        name: &str,
        kind: &str,
        config: serde_json::Value,
    ) -> Result<IssuedIntegration, StoreError> {
        let playbook = &self.playbook;
        let service = playbook
            .service(service)
            .ok_or_else(|| {
                DomainError::invalid(
                    "service",
                    format!(
                        "unknown service `{service}`; the playbook has: {}",
                        playbook
                            .services
                            .iter()
                            .map(|s| s.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?
            .id
            .clone();
        Tokens::check_name(name)?;
        if !KINDS.contains(&kind) {
            return Err(DomainError::invalid(
                "kind",
                format!("unknown kind `{kind}`; use one of {}", KINDS.join(", ")),
            )
            .into());
        }
        if !config.is_object() {
            return Err(DomainError::invalid("config", "must be a JSON object").into());
        }
        let key = new_key();
        let mut id_bytes = [0u8; 8];
        rand::rng().fill_bytes(&mut id_bytes);
        let integration = IntegrationRecord {
            id: format!("int_{}", hex::encode(id_bytes)),
            service,
            name: name.to_owned(),
            kind: kind.to_owned(),
            key_hint: key[..6].to_owned(),
            config,
            created_at: self.clock.now(),
            revoked_at: None,
        };
        self.store
            .insert_integration(&integration, &Tokens::hash(&key))
            .await?;
        Ok(IssuedIntegration { key, integration })
    }

    /// Gives a live integration a new key; the old one stops working at once.
    pub async fn rotate(&self, id: &str) -> Result<IssuedIntegration, StoreError> {
        let key = new_key();
        let integration = self
            .store
            .rotate_integration_key(id, &Tokens::hash(&key), &key[..6])
            .await?;
        Ok(IssuedIntegration { key, integration })
    }

    /// Revokes a live integration; its key stops working at once.
    pub async fn revoke(&self, id: &str) -> Result<IntegrationRecord, StoreError> {
        self.store.revoke_integration(id, self.clock.now()).await
    }

    /// Every integration, revoked ones included (never their keys).
    pub async fn list(&self) -> Result<Vec<IntegrationRecord>, StoreError> {
        self.store.list_integrations().await
    }

    /// The live integration a presented key belongs to.
    pub async fn authenticate(&self, key: &str) -> Result<Option<IntegrationRecord>, StoreError> {
        if key.is_empty() || key.len() > 128 {
            return Ok(None);
        }
        self.store.find_integration(&Tokens::hash(key)).await
    }
}

fn new_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
