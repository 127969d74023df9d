//! Sign-in accounts and browser sessions for the web UI: create, update,
//! passwords (argon2id PHC strings, hashed off the async threads), sign in,
//! look up and sign out sessions. Distinct from the on-call directory's
//! people, who get paged but need not sign in.
//!
//! A session is a cookie secret (256 random bits, stored only as its SHA-256
//! like API tokens) with a separate CSRF token. It ends after `SESSION_IDLE`
//! without use, `SESSION_MAX` after sign-in, on sign-out, when its account is
//! disabled, or when the account's password changes (except the session that
//! changed it).

use std::fmt;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use jiff::{SignedDuration, Timestamp};
use rand::{Rng, RngCore};
use warroom_domain::{AccessRole, DomainError};
use warroom_store::{
    AccountRecord, AccountStore, AccountUpdate, NewAccountRecord, SessionRecord, StoreError,
};

use crate::{Clock, Tokens};

/// A session unused for this long has ended.
pub const SESSION_IDLE: SignedDuration = SignedDuration::from_hours(12);
/// A session ends this long after sign-in, however much it is used.
pub const SESSION_MAX: SignedDuration = SignedDuration::from_hours(7 * 24);
/// `last_seen_at` is written at most this often per session.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_mins(1);

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 256;
/// Length of generated passwords: about 116 bits from `PASSWORD_ALPHABET`.
const GENERATED_CHARS: usize = 20;
/// Letters and digits without look-alikes (0/O, 1/l/I).
const PASSWORD_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/// An account as the rest of the program sees it: never the password hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: AccessRole,
    pub disabled: bool,
    pub created_at: Timestamp,
}

impl From<AccountRecord> for Account {
    fn from(r: AccountRecord) -> Account {
        Account {
            id: r.id,
            email: r.email,
            name: r.name,
            role: r.role,
            disabled: r.disabled,
            created_at: r.created_at,
        }
    }
}

/// A live session: who is signed in, and the token forms must echo.
#[derive(Clone, PartialEq)]
pub struct Session {
    pub account: Account,
    pub csrf_token: String,
    /// The absolute end (`SESSION_MAX` after sign-in); it ends earlier when idle.
    pub expires_at: Timestamp,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("account", &self.account)
            .field("csrf_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A new session: `secret` goes in the cookie and exists only here.
#[derive(Clone)]
pub struct SignedIn {
    pub secret: String,
    pub session: Session,
}

impl fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedIn")
            .field("secret", &"<redacted>")
            .field("session", &self.session)
            .finish()
    }
}

/// An account to create; without a password one is generated.
#[derive(Clone)]
pub struct NewAccount {
    pub email: String,
    pub name: String,
    pub role: AccessRole,
    pub password: Option<String>,
}

impl fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAccount")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The fields of an account to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountChange {
    pub name: Option<String>,
    pub role: Option<AccessRole>,
    pub disabled: Option<bool>,
}

/// The accounts service.
#[derive(Clone)]
pub struct Accounts<S> {
    store: S,
    clock: Arc<dyn Clock>,
}

impl<S: AccountStore> Accounts<S> {
    pub fn new(store: S, clock: Arc<dyn Clock>) -> Self {
        Accounts { store, clock }
    }

    /// Creates an account. Without a password, a strong one is generated and
    /// returned (once: only its hash is kept).
    pub async fn create(&self, new: NewAccount) -> Result<(Account, Option<String>), StoreError> {
        let email = parse_email(&new.email)?;
        let name = parse_name(&new.name)?;
        let (password, generated) = password_or_generated(new.password, "password")?;
        let record = NewAccountRecord {
            email,
            name,
            role: new.role,
            password_hash: hash_password(password).await?,
        };
        let account = self.store.insert_account(&record, self.clock.now()).await?;
        Ok((account.into(), generated))
    }

    /// On an empty account table, creates an admin with a generated
    /// password and returns both; `None` when any account exists.
    pub async fn bootstrap_admin(
        &self,
        email: &str,
    ) -> Result<Option<(Account, String)>, StoreError> {
        let email = parse_email(email)?;
        if !self.store.list_accounts().await?.is_empty() {
            return Ok(None);
        }
        let password = generate_password();
        let record = NewAccountRecord {
            email,
            name: "Admin".into(),
            role: AccessRole::Admin,
            password_hash: hash_password(password.clone()).await?,
        };
        let account = self
            .store
            .insert_first_account(&record, self.clock.now())
            .await?;
        Ok(account.map(|a| (a.into(), password)))
    }

    /// All accounts, oldest first.
    pub async fn list(&self) -> Result<Vec<Account>, StoreError> {
        let records = self.store.list_accounts().await?;
        Ok(records.into_iter().map(Account::from).collect())
    }

    pub async fn get(&self, id: i64) -> Result<Account, StoreError> {
        Ok(self.store.get_account(id).await?.into())
    }

    /// Renames, changes the role, disables or enables. Disabling ends the
    /// account's sessions. The last enabled admin can be neither disabled
    /// nor demoted, so someone can always manage accounts.
    pub async fn update(&self, id: i64, change: AccountChange) -> Result<Account, StoreError> {
        let name = change.name.as_deref().map(parse_name).transpose()?;
        let current = self.store.get_account(id).await?;
        let loses_admin = current.role.is_admin()
            && !current.disabled
            && (change.disabled == Some(true) || change.role.is_some_and(|role| !role.is_admin()));
        if loses_admin && self.enabled_admins().await? <= 1 {
            return Err(DomainError::Conflict(format!(
                "{} is the last enabled admin; make another admin first",
                current.email
            ))
            .into());
        }
        let update = AccountUpdate {
            name,
            role: change.role,
            disabled: change.disabled,
            password_hash: None,
        };
        let account = self
            .store
            .update_account(id, &update, self.clock.now())
            .await?;
        if account.disabled {
            self.store.delete_account_sessions(id, None).await?;
        }
        Ok(account.into())
    }

    /// Sets a new password (generated and returned when `None`), as an admin
    /// does for someone who forgot theirs; ends all the account's sessions.
    pub async fn reset_password(
        &self,
        id: i64,
        password: Option<String>,
    ) -> Result<Option<String>, StoreError> {
        let (password, generated) = password_or_generated(password, "password")?;
        self.store.get_account(id).await?;
        self.set_hash(id, hash_password(password).await?).await?;
        self.store.delete_account_sessions(id, None).await?;
        Ok(generated)
    }

    /// The signed-in person changes their own password. A wrong `current`
    /// is `invalid("current_password")`, a bad `new` `invalid("new_password")`.
    /// Ends the account's other sessions, keeping the one with `keep_session_secret`.
    pub async fn change_password(
        &self,
        id: i64,
        current: &str,
        new: &str,
        keep_session_secret: &str,
    ) -> Result<(), StoreError> {
        check_password(new, "new_password")?;
        let account = self.store.get_account(id).await?;
        if !verify_password(current.to_owned(), account.password_hash).await? {
            return Err(
                DomainError::invalid("current_password", "is not your current password").into(),
            );
        }
        if new == current {
            return Err(
                DomainError::invalid("new_password", "must differ from the current one").into(),
            );
        }
        self.set_hash(id, hash_password(new.to_owned()).await?)
            .await?;
        let keep = Tokens::hash(keep_session_secret);
        self.store.delete_account_sessions(id, Some(&keep)).await?;
        Ok(())
    }

    /// A new session for the right email and password of an enabled
    /// account; `None` otherwise, after the same work either way, so the
    /// answer's timing does not tell which emails have accounts.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<SignedIn>, StoreError> {
        let found = self.store.find_account_by_email(email.trim()).await?;
        let password = password
            .chars()
            .take(PASSWORD_MAX_CHARS + 1)
            .collect::<String>();
        let (hash, account) = match found {
            Some(account) => (account.password_hash.clone(), Some(account)),
            None => (dummy_hash().await?, None),
        };
        let matches = verify_password(password, hash).await?;
        let Some(account) = account.filter(|a| matches && !a.disabled) else {
            return Ok(None);
        };
        let now = self.clock.now();
        // Sign-ins are rare: a good moment to clear out ended sessions.
        self.store
            .delete_expired_sessions(now, now - SESSION_IDLE)
            .await?;
        let secret = random_hex();
        let record = SessionRecord {
            secret_hash: Tokens::hash(&secret),
            account_id: account.id,
            csrf_token: random_hex(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + SESSION_MAX,
        };
        self.store.insert_session(&record).await?;
        Ok(Some(SignedIn {
            secret,
            session: Session {
                account: account.into(),
                csrf_token: record.csrf_token,
                expires_at: record.expires_at,
            },
        }))
    }

    /// The live session a cookie secret belongs to: `None` when it is
    /// unknown, past `SESSION_MAX`, idle for `SESSION_IDLE`, or its account
    /// is disabled. Records the use at most once a minute.
    pub async fn session(&self, secret: &str) -> Result<Option<Session>, StoreError> {
        if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let hash = Tokens::hash(secret);
        let Some((session, account)) = self.store.find_session(&hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let ended =
            now >= session.expires_at || now.duration_since(session.last_seen_at) >= SESSION_IDLE;
        if ended || account.disabled {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        }
        if now.duration_since(session.last_seen_at) >= TOUCH_EVERY {
            self.store.touch_session(&hash, now).await?;
        }
        Ok(Some(Session {
            account: account.into(),
            csrf_token: session.csrf_token,
            expires_at: session.expires_at,
        }))
    }

    /// Ends the session (nothing when it is already gone).
    pub async fn sign_out(&self, secret: &str) -> Result<(), StoreError> {
        self.store.delete_session(&Tokens::hash(secret)).await
    }

    /// Deletes ended sessions; returns how many. `sign_in` does this too.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        self.store
            .delete_expired_sessions(now, now - SESSION_IDLE)
            .await
    }

    async fn set_hash(&self, id: i64, hash: String) -> Result<(), StoreError> {
        let update = AccountUpdate {
            password_hash: Some(hash),
            ..AccountUpdate::default()
        };
        self.store
            .update_account(id, &update, self.clock.now())
            .await?;
        Ok(())
    }

    async fn enabled_admins(&self) -> Result<usize, StoreError> {
        let all = self.store.list_accounts().await?;
        Ok(all
            .iter()
            .filter(|a| a.role.is_admin() && !a.disabled)
            .count())
    }
}

/// Lower-cased; one `@` with something on each side, no white space, at
/// most 254 characters. Deliverability is not checked.
pub fn parse_email(email: &str) -> Result<String, DomainError> {
    let bad = |why: &str| Err(DomainError::invalid("email", why));
    if email.is_empty() || email.chars().count() > 254 {
        return bad("must be 1 to 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("must not contain spaces");
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(email.to_lowercase())
        }
        _ => bad("must look like name@example.com"),
    }
}

/// Trimmed, 1 to 100 characters, no control characters.
fn parse_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    let count = name.chars().count();
    if count == 0 || count > 100 || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "name",
            "must be 1 to 100 characters without control characters",
        ));
    }
    Ok(name.to_owned())
}

fn check_password(password: &str, field: &str) -> Result<(), DomainError> {
    let count = password.chars().count();
    if (PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&count) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters"),
        ))
    }
}

/// The password to set, and the same again when it was generated.
fn password_or_generated(
    password: Option<String>,
    field: &str,
) -> Result<(String, Option<String>), DomainError> {
    match password {
        Some(p) => {
            check_password(&p, field)?;
            Ok((p, None))
        }
        None => {
            let p = generate_password();
            Ok((p.clone(), Some(p)))
        }
    }
}

fn generate_password() -> String {
    let mut rng = rand::rng();
    (0..GENERATED_CHARS)
        .map(|_| char::from(PASSWORD_ALPHABET[rng.random_range(0..PASSWORD_ALPHABET.len())]))
        .collect()
}

/// 256 random bits as 64 hex digits.
fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// argon2id with the crate's default (OWASP) parameters and a random salt,
/// as a PHC string; on a blocking thread, since it takes tens of milliseconds.
async fn hash_password(password: String) -> Result<String, StoreError> {
    blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Database(format!("hashing a password: {e}")))
    })
    .await
}

/// Whether `password` matches the PHC string `hash`; a hash that does not
/// parse is corrupt data.
async fn verify_password(password: String, hash: String) -> Result<bool, StoreError> {
    blocking(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| StoreError::Corrupt(format!("account password hash: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
}

/// A hash of a random password, verified against for unknown emails.
async fn dummy_hash() -> Result<String, StoreError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash.clone());
    }
    let hash = hash_password(generate_password()).await?;
    Ok(DUMMY.get_or_init(|| hash).clone())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Database(format!("password task failed: {e}")))?
}
