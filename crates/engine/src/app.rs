//! The one place the application is built: every engine service over one
//! store, the alert writer, and the background workers under one
//! supervisor. `warroom serve`, the tests and the benchmarks all build it
//! here, so a test runs what production runs.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use warroom_domain::Playbook;
use warroom_store::Store;

use crate::delivery::{Channels, Delivery};
use crate::ingest::DeadLetters;
use crate::notify::Notifier;
use crate::paging::AckLinks;
use crate::supervisor::{OnExit, Supervisor};
use crate::{
    Accounts, Alerts, ApiTokens, Clock, Health, Incidents, IngestRules, Ingestor, Integrations,
    Maintenance, Oncall, Paging, Silences,
};

/// Names of the tasks, as the status shows them.
pub mod task {
    pub const ALERT_WRITER: &str = "alert writer";
    pub const ALERT_EXPIRY: &str = "alert expiry";
    pub const PAGING: &str = "paging";
    pub const DELIVERY: &str = "delivery";
}

/// What the app is built with besides the store, playbook and clock.
pub struct AppOptions<C> {
    /// Base URL of this server as people reach it, for links in messages
    /// and pages; `http://localhost` if `None`.
    pub public_url: Option<String>,
    /// Keys that sign acknowledge links; a random key if `None` (links
    /// then stop working at a restart).
    pub ack_links: Option<AckLinks>,
    /// What the outbox sends through.
    pub channels: Arc<C>,
}

impl<C> AppOptions<C> {
    pub fn new(channels: C) -> AppOptions<C> {
        AppOptions {
            public_url: None,
            ack_links: None,
            channels: Arc::new(channels),
        }
    }
}

/// The running application: its services (cheap to clone, each over the
/// same store) and the supervisor of its tasks.
pub struct App<S, C> {
    pub store: S,
    pub playbook: Arc<Playbook>,
    pub clock: Arc<dyn Clock>,
    pub incidents: Incidents<S>,
    pub rules: Arc<IngestRules>,
    /// The single alert writer.
    pub ingestor: Ingestor,
    pub oncall: Oncall<S>,
    pub paging: Paging<S>,
    pub notifier: Notifier<S>,
    pub delivery: Delivery<S, C>,
    pub accounts: Accounts<S>,
    pub dead_letters: DeadLetters<S>,
    pub alerts: Alerts<S>,
    pub silences: Silences<S>,
    pub maintenance: Maintenance<S>,
    pub integrations: Integrations<S>,
    pub tokens: ApiTokens<S>,
    pub health: Health<S>,
    pub supervisor: Supervisor,
}

impl<S: Store, C: Channels> App<S, C> {
    /// Builds every service over `store` and starts the alert writer (the
    /// server stops if it dies). The workers that run on their own wait
    /// for `start_workers`, so a test can drive their rounds with a manual
    /// clock instead.
    pub fn build(
        store: S,
        playbook: Arc<Playbook>,
        clock: Arc<dyn Clock>,
        options: AppOptions<C>,
    ) -> App<S, C> {
        let supervisor = Supervisor::new();
        let public_url = options
            .public_url
            .unwrap_or_else(|| "http://localhost".to_owned());
        let paging_wake = Arc::new(Notify::new());
        let channels = Arc::clone(&options.channels);
        let notifications = &playbook.notifications;
        let delivery = Delivery::new(
            store.clone(),
            options.channels,
            Arc::clone(&clock),
            notifications.max_attempts,
        )
        .with_throttles(notifications.throttles.clone(), &notifications.channels);
        let incidents = Incidents::new(store.clone(), Arc::clone(&playbook), Arc::clone(&clock))
            .with_public_url(&public_url)
            .with_paging_wake(Arc::clone(&paging_wake))
            .with_delivery_wake(delivery.wake_handle());
        let rules = Arc::new(IngestRules::new(Arc::clone(&playbook)).with_public_url(&public_url));
        let heartbeat = supervisor.register(task::ALERT_WRITER);
        let (ingestor, writer) = Ingestor::start(
            store.clone(),
            Arc::clone(&rules),
            Arc::clone(&clock),
            Arc::clone(&paging_wake),
            heartbeat.clone(),
        );
        supervisor.watch(&heartbeat, writer);
        let ack_links = options.ack_links.unwrap_or_else(|| {
            let key: [u8; 32] = rand::random();
            AckLinks::new(key.to_vec())
        });
        let paging = Paging::new(
            store.clone(),
            Arc::clone(&playbook),
            Arc::clone(&clock),
            ack_links,
            &public_url,
            paging_wake,
        )
        .with_delivery_wake(delivery.wake_handle());
        let silences = Silences::new(store.clone(), Arc::clone(&clock));
        App {
            alerts: Alerts::new(store.clone()),
            maintenance: Maintenance::new(silences.clone(), Arc::clone(&playbook)),
            silences,
            integrations: Integrations::new(
                store.clone(),
                Arc::clone(&playbook),
                Arc::clone(&clock),
            ),
            tokens: ApiTokens::new(store.clone(), Arc::clone(&clock)),
            health: Health::new(store.clone()),
            oncall: Oncall::new(store.clone(), Arc::clone(&playbook), Arc::clone(&clock))
                .with_carrier(move |kind| channels.carries_contact_kind(kind)),
            notifier: Notifier::new(
                store.clone(),
                Arc::clone(&playbook),
                Arc::clone(&clock),
                delivery.wake_handle(),
            ),
            accounts: Accounts::new(store.clone(), Arc::clone(&clock)),
            dead_letters: DeadLetters::new(store.clone(), ingestor.clone()),
            store,
            playbook,
            clock,
            incidents,
            rules,
            ingestor,
            paging,
            delivery,
            supervisor,
        }
    }

    /// Starts the workers over durable rows (alert expiry, paging, the
    /// outbox), each restarted if it dies.
    pub fn start_workers(&self) {
        let (store, rules, clock, ingestor) = (
            self.store.clone(),
            Arc::clone(&self.rules),
            Arc::clone(&self.clock),
            self.ingestor.clone(),
        );
        self.supervisor
            .spawn(task::ALERT_EXPIRY, OnExit::Restart, move |task| {
                crate::expiry::run(
                    store.clone(),
                    Arc::clone(&rules),
                    Arc::clone(&clock),
                    ingestor.clone(),
                    task,
                )
            });
        let paging = self.paging.clone();
        self.supervisor
            .spawn(task::PAGING, OnExit::Restart, move |task| {
                paging.clone().run(task)
            });
        let delivery = self.delivery.clone();
        self.supervisor
            .spawn(task::DELIVERY, OnExit::Restart, move |task| {
                delivery.clone().run(task)
            });
    }

    /// Stops the app: the workers finish the round they are in (a send in
    /// flight completes, or its lease lapses and the next start sends it),
    /// the alert writer applies everything accepted (the journal included)
    /// and makes it durable. Call it once nothing sends requests any more
    /// (the web server has stopped). Waits at most `grace`; returns the
    /// tasks still running then.
    pub async fn shutdown(&self, grace: Duration) -> Vec<&'static str> {
        let deadline = tokio::time::Instant::now() + grace;
        self.supervisor.request_shutdown();
        // Waits only while the writer's queue is full.
        let _ = tokio::time::timeout_at(deadline, self.ingestor.stop()).await;
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        self.supervisor.shutdown(left).await
    }
}
