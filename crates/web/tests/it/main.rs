//! HTTP API tests: the router served in-process (no port), on SQLite and on
//! PostgreSQL, through one `Api` helper.

mod accounts;
mod alerting;
mod comms;
mod connections;
mod edge_text;
mod helpers;
mod incidents;
mod logging;
mod oncall;
mod openapi;
mod paging;
mod security;
mod sign_in;
mod ui;

/// Generates `<name>::sqlite` and `<name>::postgres` tests from one generic check.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = warroom_store::testing::sqlite().await;
                super::$name($crate::helpers::Api::new(db.store.clone()).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(store) = warroom_store::testing::postgres().await {
                    super::$name($crate::helpers::Api::new(store).await).await;
                }
            }
        }
    )*};
    // The same over an `Api` built with the playbook `$playbook()` returns.
    (playbook = $playbook:path; $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = warroom_store::testing::sqlite().await;
                let api = $crate::helpers::Api::with_playbook(db.store.clone(), $playbook()).await;
                super::$name(api).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(store) = warroom_store::testing::postgres().await {
                    super::$name($crate::helpers::Api::with_playbook(store, $playbook()).await).await;
                }
            }
        }
    )*};
}
