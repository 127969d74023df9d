//! Accounts and sessions on PostgreSQL, through the pool.

use jiff::Timestamp;

use super::PgStore;
use crate::accounts::{duplicate_email, AccountRow, SessionRow, ACCOUNT_COLUMNS, SESSION_JOIN};
use crate::row::ms;
use crate::{
    AccountRecord, AccountStore, AccountUpdate, NewAccountRecord, SessionRecord, StoreError,
};

/// Arbitrary constant naming the advisory lock that guards the first
/// account's bootstrap.
const FIRST_ACCOUNT_LOCK: i64 = 6287397068257316098;

impl AccountStore for PgStore {
    async fn insert_account(
        &self,
        a: &NewAccountRecord,
        now: Timestamp,
    ) -> Result<AccountRecord, StoreError> {
        let email = a.email.to_lowercase();
        let sql = format!(
            "INSERT INTO accounts (email, name, role, password_hash, disabled, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, FALSE, $5, $5) RETURNING {}",
            ACCOUNT_COLUMNS
        );
        let row: AccountRow = sqlx::query_as(&sql)
            .bind(&email)
            .bind(&a.name)
            .bind(a.role.as_str())
            .bind(&a.password_hash)
            .bind(ms(now))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| duplicate_email(e, &email))?;
        row.try_into()
    }

    async fn insert_first_account(
        &self,
        a: &NewAccountRecord,
        now: Timestamp,
    ) -> Result<Option<AccountRecord>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Two nodes starting at once on an empty database must not both
        // create an admin.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(FIRST_ACCOUNT_LOCK)
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "INSERT INTO accounts (email, name, role, password_hash, disabled, \
             created_at, updated_at) SELECT $1, $2, $3, $4, FALSE, $5, $5 \
             WHERE NOT EXISTS (SELECT 1 FROM accounts) RETURNING {}",
            ACCOUNT_COLUMNS
        );
        let row: Option<AccountRow> = sqlx::query_as(&sql)
            .bind(a.email.to_lowercase())
            .bind(&a.name)
            .bind(a.role.as_str())
            .bind(&a.password_hash)
            .bind(ms(now))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn get_account(&self, id: i64) -> Result<AccountRecord, StoreError> {
        let sql = format!("SELECT {} FROM accounts WHERE id = $1", ACCOUNT_COLUMNS);
        let row: Option<AccountRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("account {id}")))?
            .try_into()
    }

    async fn find_account_by_email(
        &self,
        email: &str,
    ) -> Result<Option<AccountRecord>, StoreError> {
        let sql = format!("SELECT {} FROM accounts WHERE email = $1", ACCOUNT_COLUMNS);
        let row: Option<AccountRow> = sqlx::query_as(&sql)
            .bind(email.to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let sql = format!("SELECT {} FROM accounts ORDER BY id", ACCOUNT_COLUMNS);
        let rows: Vec<AccountRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn update_account(
        &self,
        id: i64,
        c: &AccountUpdate,
        now: Timestamp,
    ) -> Result<AccountRecord, StoreError> {
        let sql = format!(
            "UPDATE accounts SET name = COALESCE($1, name), role = COALESCE($2, role), \
             disabled = COALESCE($3, disabled), \
             password_hash = COALESCE($4, password_hash), updated_at = $5 \
             WHERE id = $6 RETURNING {}",
            ACCOUNT_COLUMNS
        );
        let row: Option<AccountRow> = sqlx::query_as(&sql)
            .bind(c.name.as_deref())
            .bind(c.role.map(|r| r.as_str()))
            .bind(c.disabled)
            .bind(c.password_hash.as_deref())
            .bind(ms(now))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("account {id}")))?
            .try_into()
    }

    async fn insert_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (secret_hash, account_id, csrf_token, created_at, \
             last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.secret_hash)
        .bind(s.account_id)
        .bind(&s.csrf_token)
        .bind(ms(s.created_at))
        .bind(ms(s.last_seen_at))
        .bind(ms(s.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_session(
        &self,
        secret_hash: &str,
    ) -> Result<Option<(SessionRecord, AccountRecord)>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(SESSION_JOIN)
            .bind(secret_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn touch_session(&self, secret_hash: &str, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE secret_hash = $2")
            .bind(ms(at))
            .bind(secret_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, secret_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE secret_hash = $1")
            .bind(secret_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_account_sessions(
        &self,
        account_id: i64,
        except: Option<&str>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM sessions WHERE account_id = $1 \
             AND ($2 IS NULL OR secret_hash <> $2)",
        )
        .bind(account_id)
        .bind(except)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn delete_expired_sessions(
        &self,
        now: Timestamp,
        idle_before: Timestamp,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2")
            .bind(ms(now))
            .bind(ms(idle_before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
