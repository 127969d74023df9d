//! Test support: a fresh database for each test, on SQLite or PostgreSQL.
//!
//! PostgreSQL comes from `WARROOM_TEST_DATABASE_URL` (default the local
//! server as `postgres` on 127.0.0.1:5432). Each call creates a uniquely named
//! database `warroom_t_*`, `warroom_t_<run>_*` when `WARROOM_TEST_RUN` names
//! a run: `scripts/test` names its run so that it drops the databases it
//! made and never anyone else's (`scripts/test-databases`). When
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
    let dir = temp_dir();
    let url = sqlite_url(dir.path());
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
    let run = std::env::var("WARROOM_TEST_RUN").ok();
    let name = database_name(
        run.as_deref(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos,
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

/// `warroom_t_<run>_<pid>_<n>_<nanos>`; a run id that is not 1 to 16
/// lowercase letters and digits is not used (it could not be in a name).
pub fn database_name(run: Option<&str>, pid: u32, n: u32, nanos: u32) -> String {
    let run = run.filter(|r| {
        (1..=16).contains(&r.len())
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    match run {
        Some(run) => format!("warroom_t_{run}_{pid}_{n}_{nanos}"),
        None => format!("warroom_t_{pid}_{n}_{nanos}"),
    }
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

/// A test database that refuses, as it would any insert it cannot store,
/// alerts with a given summary: what a poisoned alert looks like to the
/// alert writer, on either backend.
pub trait PoisonAlerts {
    /// From now on, inserting an alert whose summary is `summary` fails.
    fn refuse_alerts_titled(&self, summary: &str) -> impl std::future::Future<Output = ()> + Send;
    /// Undoes `refuse_alerts_titled`.
    fn accept_all_alerts(&self) -> impl std::future::Future<Output = ()> + Send;
}

impl PoisonAlerts for SqliteStore {
    async fn refuse_alerts_titled(&self, summary: &str) {
        let sql = format!(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON alerts \
             WHEN NEW.summary = '{summary}' BEGIN SELECT RAISE(ABORT, 'poisoned alert'); END;"
        );
        sqlx::raw_sql(&sql)
            .execute(&self.writer)
            .await
            .expect("trigger");
    }

    async fn accept_all_alerts(&self) {
        sqlx::raw_sql("DROP TRIGGER refuse_poison")
            .execute(&self.writer)
            .await
            .expect("drop trigger");
    }
}

impl PoisonAlerts for PgStore {
    async fn refuse_alerts_titled(&self, summary: &str) {
        let sql = format!(
            "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.summary = '{summary}' THEN RAISE EXCEPTION 'poisoned alert'; END IF; \
             RETURN NEW; END $$; \
             CREATE TRIGGER refuse_poison BEFORE INSERT ON alerts FOR EACH ROW \
             EXECUTE FUNCTION refuse_poison();"
        );
        sqlx::raw_sql(&sql)
            .execute(&self.pool)
            .await
            .expect("trigger");
    }

    async fn accept_all_alerts(&self) {
        sqlx::raw_sql("DROP TRIGGER refuse_poison ON alerts")
            .execute(&self.pool)
            .await
            .expect("drop trigger");
    }
}

/// Declares, for each async function `NAME` listed, a module `NAME` with
/// two tests, `sqlite` and `postgres`, each running `NAME` on a fresh
/// database of that backend. The PostgreSQL half is skipped, saying why,
/// when the server is unreachable outside CI (`pg_database`).
///
/// - `on_both_backends!(a, b)` calls `a(store)` with a migrated store;
/// - `on_both_backends!(setup = path::to::fixture; a, b)` calls
///   `a(fixture(store).await)`, for tests over something built on the
///   store (an in-process API, say);
/// - `on_both_backends!(url; a, b)` calls `a(&url, dir)` with the URL of an
///   empty database and a temporary directory, for tests that start the
///   server themselves.
#[macro_export]
macro_rules! on_both_backends {
    (setup = $setup:path; $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::testing::sqlite().await;
                super::$name($setup(db.store.clone()).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(store) = $crate::testing::postgres().await {
                    super::$name($setup(store).await).await;
                }
            }
        }
    )*};
    (url; $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let dir = $crate::testing::temp_dir();
                let url = $crate::testing::sqlite_url(dir.path());
                super::$name(&url, dir.path()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let dir = $crate::testing::temp_dir();
                if let Some(url) = $crate::testing::pg_database().await {
                    super::$name(&url, dir.path()).await;
                }
            }
        }
    )*};
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!(setup = $crate::testing::ready; $($name),*);
    };
}

/// The store itself, for `on_both_backends!` without a setup.
pub async fn ready<S: Store>(store: S) -> S {
    store
}

/// A temporary directory, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

/// The URL of a SQLite database file in `dir` (created on first open).
pub fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("warroom.db").display())
}

#[cfg(test)]
mod tests {
    use super::database_name;

    #[test]
    fn a_named_run_prefixes_its_databases() {
        assert_eq!(database_name(Some("r17"), 42, 3, 9), "warroom_t_r17_42_3_9");
        assert_eq!(database_name(None, 42, 3, 9), "warroom_t_42_3_9");
        for unusable in ["", "R1", "r-1", "r1; DROP", "r12345678901234567"] {
            assert_eq!(
                database_name(Some(unusable), 42, 3, 9),
                "warroom_t_42_3_9",
                "{unusable:?}"
            );
        }
    }
}
