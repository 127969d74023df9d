//! Tokens, integrations and server secrets on PostgreSQL; an advisory
//! lock keeps two nodes from both bootstrapping the first token.

use jiff::Timestamp;
use warroom_domain::AccessRole;

use super::PgStore;
use crate::row::{ms, IntegrationRow, TokenRow};
use crate::tokens::{refuse_last_admin_token, token_conflict};
use crate::{ApiToken, IntegrationRecord, StoreError, TokenStore};

const INTEGRATION_COLUMNS: &str =
    "id, service, name, kind, key_hint, config::text AS config, created_at, revoked_at";

const TOKEN_COLUMNS: &str = "id, name, role, created_at, revoked_at";

/// Arbitrary constant naming the advisory lock that guards first-token bootstrap.
const FIRST_TOKEN_LOCK: i64 = 0x5741_5252_4f4f_4d01;

impl TokenStore for PgStore {
    async fn insert_token(
        &self,
        name: &str,
        role: AccessRole,
        hash: &str,
        now: Timestamp,
    ) -> Result<ApiToken, StoreError> {
        let sql = format!(
            "INSERT INTO api_tokens (name, role, token_hash, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING {TOKEN_COLUMNS}"
        );
        let row: TokenRow = sqlx::query_as(&sql)
            .bind(name)
            .bind(role.as_str())
            .bind(hash)
            .bind(ms(now))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| token_conflict(e, name))?;
        row.try_into()
    }

    async fn insert_first_token(
        &self,
        name: &str,
        role: AccessRole,
        hash: &str,
        now: Timestamp,
    ) -> Result<Option<ApiToken>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Two nodes starting at once on an empty database must not both mint an admin.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(FIRST_TOKEN_LOCK)
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "INSERT INTO api_tokens (name, role, token_hash, created_at) \
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM api_tokens) \
             RETURNING {TOKEN_COLUMNS}"
        );
        let row: Option<TokenRow> = sqlx::query_as(&sql)
            .bind(name)
            .bind(role.as_str())
            .bind(hash)
            .bind(ms(now))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn find_token(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        );
        let row: Option<TokenRow> = sqlx::query_as(&sql)
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id");
        let rows: Vec<TokenRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn revoke_token(&self, name: &str, now: Timestamp) -> Result<ApiToken, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Locking the live admin tokens makes a concurrent revoke wait, then
        // see this one's result (READ COMMITTED re-checks locked rows).
        let live_admins: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM api_tokens WHERE role = 'admin' AND revoked_at IS NULL \
             ORDER BY id FOR UPDATE",
        )
        .fetch_all(&mut *tx)
        .await?;
        refuse_last_admin_token(name, &live_admins)?;
        let sql = format!(
            "UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL \
             RETURNING {TOKEN_COLUMNS}"
        );
        let row: Option<TokenRow> = sqlx::query_as(&sql)
            .bind(ms(now))
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let row = row.ok_or_else(|| StoreError::NotFound(format!("live token named {name:?}")))?;
        tx.commit().await?;
        row.try_into()
    }

    async fn insert_integration(
        &self,
        i: &IntegrationRecord,
        key_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO integrations (id, service, name, kind, key_hash, key_hint, config, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)",
        )
        .bind(&i.id)
        .bind(&i.service)
        .bind(&i.name)
        .bind(&i.kind)
        .bind(key_hash)
        .bind(&i.key_hint)
        .bind(i.config.to_string())
        .bind(ms(i.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_integration(
        &self,
        key_hash: &str,
    ) -> Result<Option<IntegrationRecord>, StoreError> {
        let sql = format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations \
             WHERE key_hash = $1 AND revoked_at IS NULL"
        );
        let row: Option<IntegrationRow> = sqlx::query_as(&sql)
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_integrations(&self) -> Result<Vec<IntegrationRecord>, StoreError> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations ORDER BY created_at");
        let rows: Vec<IntegrationRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn rotate_integration_key(
        &self,
        id: &str,
        key_hash: &str,
        key_hint: &str,
    ) -> Result<IntegrationRecord, StoreError> {
        let sql = format!(
            "UPDATE integrations SET key_hash = $1, key_hint = $2 \
             WHERE id = $3 AND revoked_at IS NULL RETURNING {INTEGRATION_COLUMNS}"
        );
        let row: Option<IntegrationRow> = sqlx::query_as(&sql)
            .bind(key_hash)
            .bind(key_hint)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("live integration {id}")))?
            .try_into()
    }

    async fn revoke_integration(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<IntegrationRecord, StoreError> {
        let sql = format!(
            "UPDATE integrations SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
             RETURNING {INTEGRATION_COLUMNS}"
        );
        let row: Option<IntegrationRow> = sqlx::query_as(&sql)
            .bind(ms(now))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("live integration {id}")))?
            .try_into()
    }

    async fn server_secret(&self, name: &str, candidate: &str) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .execute(&self.pool)
        .await?;
        let value: String = sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(value)
    }
}
