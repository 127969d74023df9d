//! Test support: a fresh database for each test, on SQLite or PostgreSQL.
//!
//! PostgreSQL comes from `WARROOM_TEST_DATABASE_URL` (default the local
//! server as `postgres` on 127.0.0.1:5432). Each call creates a uniquely named
//! database `warroom_t_*`; `scripts/test` drops leftovers before a run. When
//! the server cannot be reached the PostgreSQL half of a test is skipped, unless
//! `CI` is set, where that is a failure.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

use crate::{PgStore, SqliteStore, Store};

/// Keeps the temporary directory of a SQLite test database alive.
pub struct SqliteDb {
    pub store: SqliteStore,
    pub url: String,
    pub dir: tempfile::TempDir,
}

/// A migrated store on a new SQLite file in a temporary directory.
pub async fn sqlite() -> SqliteDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("warroom.db").display());
    let store = SqliteStore::connect(&url).await.expect("open SQLite");
    store.migrate().await.expect("migrate SQLite");
    SqliteDb { store, url, dir }
}

pub fn pg_admin_url() -> String {
    std::env::var("WARROOM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Creates an empty, uniquely named PostgreSQL database and returns its URL,
/// or `None` (after saying why) when PostgreSQL is unreachable outside CI.
pub async fn pg_database() -> Option<String> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let admin = pg_admin_url();
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set and PostgreSQL at {admin} is unreachable: {e}");
            }
            eprintln!("skipping the PostgreSQL half of this test: {admin} unreachable: {e}");
            return None;
        }
    };
    #[allow(clippy::disallowed_methods)] // only to make a unique name
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "warroom_t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("CREATE DATABASE");
    let _ = conn.close().await;
    let mut url = url::Url::parse(&admin).expect("WARROOM_TEST_DATABASE_URL is a URL");
    url.set_path(&name);
    Some(url.to_string())
}

/// A migrated store on a new PostgreSQL database, or `None` as in `pg_database`.
pub async fn postgres() -> Option<PgStore> {
    let url = pg_database().await?;
    let store = PgStore::connect(&url)
        .await
        .expect("connect to test database");
    store.migrate().await.expect("migrate PostgreSQL");
    Some(store)
}
