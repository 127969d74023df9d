//! Storage errors as the rest of the program sees them: sqlx and rusqlite never leak past here.

use warroom_domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The domain refused the change; nothing was written.
    #[error(transparent)]
    Rejected(#[from] DomainError),
    /// The database cannot be reached or is overloaded; worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Stored data that does not decode: a bug or manual tampering.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => StoreError::NotFound("row".into()),
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => StoreError::Unavailable(err.to_string()),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            sqlx::Error::Database(db) if db.code().as_deref().is_some_and(is_transient) => {
                StoreError::Unavailable(db.message().to_owned())
            }
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                StoreError::Corrupt(err.to_string())
            }
            _ => StoreError::Database(err.to_string()),
        }
    }
}

/// Whether a database error code says "try again later" rather than
/// "never with this input": SQLITE_BUSY and SQLITE_LOCKED after the busy
/// timeout, and PostgreSQL's classes for connection trouble (08), rolled
/// back transactions (40: serialization failure, deadlock), insufficient
/// resources (53), operator intervention (57: shutdown, statement timeout)
/// and system errors (58). Everything else is the statement's own fault,
/// which the alert writer answers by dead-lettering the request.
fn is_transient(code: &str) -> bool {
    matches!(code, "5" | "6")
        || (code.len() == 5 && ["08", "40", "53", "57", "58"].contains(&&code[..2]))
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(format!("migration failed: {err}"))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match &err {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound("row".into()),
            rusqlite::Error::SqliteFailure(e, message) => match e.code {
                ErrorCode::ConstraintViolation
                    if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
                {
                    StoreError::Conflict(message.clone().unwrap_or_else(|| err.to_string()))
                }
                // After the busy timeout, as for sqlx above.
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    StoreError::Unavailable(err.to_string())
                }
                ErrorCode::CannotOpen | ErrorCode::DiskFull | ErrorCode::SystemIoFailure => {
                    StoreError::Unavailable(err.to_string())
                }
                _ => StoreError::Database(err.to_string()),
            },
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::InvalidColumnType(..) => StoreError::Corrupt(err.to_string()),
            _ => StoreError::Database(err.to_string()),
        }
    }
}

/// A unique violation on insert of an incident means its id repeated.
pub(crate) fn duplicate_incident(err: impl Into<StoreError>, id: &str) -> StoreError {
    match err.into() {
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "incident id {id} already exists; was the ID format changed to one that repeats?"
        )),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::is_transient;

    #[test]
    fn transient_codes() {
        for code in [
            "5", "6", "08006", "40001", "40P01", "53100", "57014", "57P01", "58030",
        ] {
            assert!(is_transient(code), "{code}");
        }
        // NUL in text, a check constraint, a syntax error, SQLITE_ERROR.
        for code in ["22021", "23514", "42601", "1", "2067"] {
            assert!(!is_transient(code), "{code}");
        }
    }
}
