//! Web UI storage: sign-in accounts (not the on-call directory's people)
//! and their browser sessions, behind `AccountStore`.

use std::future::Future;

use jiff::Timestamp;
use warroom_domain::AccessRole;

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

/// Accounts and sessions.
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
