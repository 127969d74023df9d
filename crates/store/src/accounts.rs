//! Web UI storage: sign-in accounts (not the on-call directory's people),
//! their browser sessions, and the live feed's poll for changed incidents.
//! One SQL text for both backends, like `oncall_sql`; `impl_accounts!`
//! instantiates it per backend.

use std::future::Future;

use jiff::Timestamp;
use warroom_domain::{AccessRole, Status};

use crate::row::ts;
use crate::StoreError;

/// An account as stored. `email` is lower-cased; `password_hash` is an
/// argon2id PHC string.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: AccessRole,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A new account's fields (the id and times come from the store and `now`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAccountRecord {
    pub email: String,
    pub name: String,
    pub role: AccessRole,
    pub password_hash: String,
}

/// The fields of an account to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountUpdate {
    pub name: Option<String>,
    pub role: Option<AccessRole>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

/// A browser session, found by the SHA-256 hex of its cookie secret.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub secret_hash: String,
    pub account_id: i64,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// The absolute end, however active the session is.
    pub expires_at: Timestamp,
}

/// An incident that changed, for the live feed.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentChange {
    pub id: String,
    pub status: Status,
    pub last_event_seq: i64,
    pub updated_at: Timestamp,
}

/// Accounts, sessions and the incident change poll.
pub trait AccountStore: Send + Sync {
    /// A duplicate email (compared lower-cased) is a `Conflict` naming `email`.
    fn insert_account(
        &self,
        account: &NewAccountRecord,
        now: Timestamp,
    ) -> impl Future<Output = Result<AccountRecord, StoreError>> + Send;

    /// Stores the account only if no account exists yet, atomically; `None`
    /// when one already did. Bootstraps the first admin exactly once.
    fn insert_first_account(
        &self,
        account: &NewAccountRecord,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<AccountRecord>, StoreError>> + Send;

    /// `NotFound` when there is no such account.
    fn get_account(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<AccountRecord, StoreError>> + Send;

    /// By email, compared lower-cased.
    fn find_account_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<AccountRecord>, StoreError>> + Send;

    /// All accounts, oldest first.
    fn list_accounts(&self) -> impl Future<Output = Result<Vec<AccountRecord>, StoreError>> + Send;

    /// Changes the given fields and stamps `updated_at`; `NotFound` when
    /// there is no such account.
    fn update_account(
        &self,
        id: i64,
        change: &AccountUpdate,
        now: Timestamp,
    ) -> impl Future<Output = Result<AccountRecord, StoreError>> + Send;

    fn insert_session(
        &self,
        session: &SessionRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The session with this secret hash and its account, whatever their
    /// state (the caller decides about expiry and disabled accounts).
    fn find_session(
        &self,
        secret_hash: &str,
    ) -> impl Future<Output = Result<Option<(SessionRecord, AccountRecord)>, StoreError>> + Send;

    /// Sets `last_seen_at`; nothing when the session is gone.
    fn touch_session(
        &self,
        secret_hash: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Nothing when the session is gone.
    fn delete_session(
        &self,
        secret_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the account's sessions except the one with hash `except`;
    /// returns how many went.
    fn delete_account_sessions(
        &self,
        account_id: i64,
        except: Option<&str>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes sessions past their absolute end (`expires_at <= now`) or
    /// idle since before `idle_before`; returns how many went.
    fn delete_expired_sessions(
        &self,
        now: Timestamp,
        idle_before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Incidents whose timeline grew after `since_ms` (an event with a later
    /// `at`), oldest change first, at most `limit` (clamped to
    /// 1..=`MAX_PAGE`); `updated_at` is the newest such event's time and
    /// `last_event_seq` its sequence number. Timeline events rather than
    /// `incidents.updated_at`, because the workers append page and message
    /// events without changing the incident row. A poller passes the newest
    /// time it saw, minus some slack.
    fn incidents_changed_since(
        &self,
        since_ms: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<IncidentChange>, StoreError>> + Send;
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: i64,
    email: String,
    name: String,
    role: String,
    password_hash: String,
    disabled: bool,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AccountRow> for AccountRecord {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<AccountRecord, StoreError> {
        Ok(AccountRecord {
            role: AccessRole::parse(&r.role)
                .ok_or_else(|| StoreError::Corrupt(format!("account role {:?}", r.role)))?,
            created_at: ts(r.created_at)?,
            updated_at: ts(r.updated_at)?,
            id: r.id,
            email: r.email,
            name: r.name,
            password_hash: r.password_hash,
            disabled: r.disabled,
        })
    }
}

/// A session joined with its account (account columns prefixed `a_`).
#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    secret_hash: String,
    account_id: i64,
    csrf_token: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    a_email: String,
    a_name: String,
    a_role: String,
    a_password_hash: String,
    a_disabled: bool,
    a_created_at: i64,
    a_updated_at: i64,
}

impl TryFrom<SessionRow> for (SessionRecord, AccountRecord) {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<(SessionRecord, AccountRecord), StoreError> {
        let account = AccountRow {
            id: r.account_id,
            email: r.a_email,
            name: r.a_name,
            role: r.a_role,
            password_hash: r.a_password_hash,
            disabled: r.a_disabled,
            created_at: r.a_created_at,
            updated_at: r.a_updated_at,
        };
        let session = SessionRecord {
            secret_hash: r.secret_hash,
            account_id: r.account_id,
            csrf_token: r.csrf_token,
            created_at: ts(r.created_at)?,
            last_seen_at: ts(r.last_seen_at)?,
            expires_at: ts(r.expires_at)?,
        };
        Ok((session, account.try_into()?))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChangeRow {
    id: String,
    status: String,
    last_event_seq: i64,
    updated_at: i64,
}

impl TryFrom<ChangeRow> for IncidentChange {
    type Error = StoreError;
    fn try_from(r: ChangeRow) -> Result<IncidentChange, StoreError> {
        Ok(IncidentChange {
            status: Status::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {:?}", r.status)))?,
            updated_at: ts(r.updated_at)?,
            id: r.id,
            last_event_seq: r.last_event_seq,
        })
    }
}

pub(crate) const ACCOUNT_COLUMNS: &str =
    "id, email, name, role, password_hash, disabled, created_at, updated_at";

/// `find_session`'s join: the session's columns, then its account's.
pub(crate) const SESSION_JOIN: &str = "SELECT s.secret_hash, s.account_id, s.csrf_token, \
     s.created_at, s.last_seen_at, s.expires_at, a.email AS a_email, a.name AS a_name, \
     a.role AS a_role, a.password_hash AS a_password_hash, a.disabled AS a_disabled, \
     a.created_at AS a_created_at, a.updated_at AS a_updated_at FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.secret_hash = $1";

pub(crate) fn duplicate_email(err: sqlx::Error, email: &str) -> StoreError {
    match StoreError::from(err) {
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "email: an account with email {email:?} already exists"
        )),
        other => other,
    }
}

/// Expands to `impl AccountStore for $store`. `$store` must have
/// `write_pool()`, `read_pool()` and `write_begin()`; the optional
/// `$first_lock` statement runs first in `insert_first_account`'s transaction
/// (SQLite's `BEGIN IMMEDIATE` already serializes it).
macro_rules! impl_accounts {
    ($store:ty $(, $first_lock:literal)?) => {
        impl $crate::accounts::AccountStore for $store {
            async fn insert_account(
                &self,
                a: &$crate::accounts::NewAccountRecord,
                now: jiff::Timestamp,
            ) -> Result<$crate::accounts::AccountRecord, StoreError> {
                let email = a.email.to_lowercase();
                let sql = format!(
                    "INSERT INTO accounts (email, name, role, password_hash, disabled, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, FALSE, $5, $5) RETURNING {}",
                    $crate::accounts::ACCOUNT_COLUMNS
                );
                let row: $crate::accounts::AccountRow = sqlx::query_as(&sql)
                    .bind(&email)
                    .bind(&a.name)
                    .bind(a.role.as_str())
                    .bind(&a.password_hash)
                    .bind(ms(now))
                    .fetch_one(self.write_pool())
                    .await
                    .map_err(|e| $crate::accounts::duplicate_email(e, &email))?;
                row.try_into()
            }

            async fn insert_first_account(
                &self,
                a: &$crate::accounts::NewAccountRecord,
                now: jiff::Timestamp,
            ) -> Result<Option<$crate::accounts::AccountRecord>, StoreError> {
                let mut tx = self.write_begin().await?;
                $(sqlx::query($first_lock).execute(&mut *tx).await?;)?
                let sql = format!(
                    "INSERT INTO accounts (email, name, role, password_hash, disabled, \
                     created_at, updated_at) SELECT $1, $2, $3, $4, FALSE, $5, $5 \
                     WHERE NOT EXISTS (SELECT 1 FROM accounts) RETURNING {}",
                    $crate::accounts::ACCOUNT_COLUMNS
                );
                let row: Option<$crate::accounts::AccountRow> = sqlx::query_as(&sql)
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

            async fn get_account(
                &self,
                id: i64,
            ) -> Result<$crate::accounts::AccountRecord, StoreError> {
                let sql = format!(
                    "SELECT {} FROM accounts WHERE id = $1",
                    $crate::accounts::ACCOUNT_COLUMNS
                );
                let row: Option<$crate::accounts::AccountRow> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(self.read_pool())
                    .await?;
                row.ok_or_else(|| StoreError::NotFound(format!("account {id}")))?
                    .try_into()
            }

            async fn find_account_by_email(
                &self,
                email: &str,
            ) -> Result<Option<$crate::accounts::AccountRecord>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM accounts WHERE email = $1",
                    $crate::accounts::ACCOUNT_COLUMNS
                );
                let row: Option<$crate::accounts::AccountRow> = sqlx::query_as(&sql)
                    .bind(email.to_lowercase())
                    .fetch_optional(self.read_pool())
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_accounts(
                &self,
            ) -> Result<Vec<$crate::accounts::AccountRecord>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM accounts ORDER BY id",
                    $crate::accounts::ACCOUNT_COLUMNS
                );
                let rows: Vec<$crate::accounts::AccountRow> =
                    sqlx::query_as(&sql).fetch_all(self.read_pool()).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn update_account(
                &self,
                id: i64,
                c: &$crate::accounts::AccountUpdate,
                now: jiff::Timestamp,
            ) -> Result<$crate::accounts::AccountRecord, StoreError> {
                let sql = format!(
                    "UPDATE accounts SET name = COALESCE($1, name), role = COALESCE($2, role), \
                     disabled = COALESCE($3, disabled), \
                     password_hash = COALESCE($4, password_hash), updated_at = $5 \
                     WHERE id = $6 RETURNING {}",
                    $crate::accounts::ACCOUNT_COLUMNS
                );
                let row: Option<$crate::accounts::AccountRow> = sqlx::query_as(&sql)
                    .bind(c.name.as_deref())
                    .bind(c.role.map(|r| r.as_str()))
                    .bind(c.disabled)
                    .bind(c.password_hash.as_deref())
                    .bind(ms(now))
                    .bind(id)
                    .fetch_optional(self.write_pool())
                    .await?;
                row.ok_or_else(|| StoreError::NotFound(format!("account {id}")))?
                    .try_into()
            }

            async fn insert_session(
                &self,
                s: &$crate::accounts::SessionRecord,
            ) -> Result<(), StoreError> {
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
                .execute(self.write_pool())
                .await?;
                Ok(())
            }

            async fn find_session(
                &self,
                secret_hash: &str,
            ) -> Result<
                Option<($crate::accounts::SessionRecord, $crate::accounts::AccountRecord)>,
                StoreError,
            > {
                let row: Option<$crate::accounts::SessionRow> =
                    sqlx::query_as($crate::accounts::SESSION_JOIN)
                        .bind(secret_hash)
                        .fetch_optional(self.read_pool())
                        .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn touch_session(
                &self,
                secret_hash: &str,
                at: jiff::Timestamp,
            ) -> Result<(), StoreError> {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE secret_hash = $2")
                    .bind(ms(at))
                    .bind(secret_hash)
                    .execute(self.write_pool())
                    .await?;
                Ok(())
            }

            async fn delete_session(&self, secret_hash: &str) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM sessions WHERE secret_hash = $1")
                    .bind(secret_hash)
                    .execute(self.write_pool())
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
                .execute(self.write_pool())
                .await?;
                Ok(done.rows_affected())
            }

            async fn delete_expired_sessions(
                &self,
                now: jiff::Timestamp,
                idle_before: jiff::Timestamp,
            ) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2",
                )
                .bind(ms(now))
                .bind(ms(idle_before))
                .execute(self.write_pool())
                .await?;
                Ok(done.rows_affected())
            }

            async fn incidents_changed_since(
                &self,
                since_ms: i64,
                limit: u32,
            ) -> Result<Vec<$crate::accounts::IncidentChange>, StoreError> {
                let rows: Vec<$crate::accounts::ChangeRow> = sqlx::query_as(
                    "SELECT e.incident_id AS id, i.status, MAX(e.seq) AS last_event_seq, \
                            MAX(e.at) AS updated_at \
                     FROM timeline_events e JOIN incidents i ON i.id = e.incident_id \
                     WHERE e.at > $1 GROUP BY e.incident_id, i.status \
                     ORDER BY MAX(e.at), e.incident_id LIMIT $2",
                )
                .bind(since_ms)
                .bind(i64::from(limit.clamp(1, $crate::MAX_PAGE)))
                .fetch_all(self.read_pool())
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }
    };
}

pub(crate) use impl_accounts;
