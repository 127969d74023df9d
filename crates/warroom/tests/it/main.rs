//! End-to-end tests of the `warroom` binary: real server processes on
//! SQLite and PostgreSQL, the CLI client against them, `kill -9` and restart,
//! and `config check`.

/// Declares a test module per function, each running it on SQLite and,
/// when PostgreSQL is reachable, on a fresh PostgreSQL database.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                let url = crate::server::sqlite_url(dir.path());
                super::$name(&url, dir.path()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let dir = tempfile::tempdir().unwrap();
                if let Some(url) = warroom_store::testing::pg_database().await {
                    super::$name(&url, dir.path()).await;
                }
            }
        }
    )*};
}

mod accounts;
mod alerts;
mod browser;
mod cli;
mod comms;
mod config;
mod dead_letters;
mod monitoring;
mod oncall;
mod secret;
mod server;
mod ui;
