//! What every handler can reach: the engine's services over one store.

use std::sync::Arc;

use warroom_engine::ingest::DeadLetters;
use warroom_engine::notify::Notifier;
use warroom_engine::{
    Accounts, Alerts, ApiTokens, App, Health, Incidents, Ingestor, Integrations, Maintenance,
    Oncall, Paging, Silences, Supervisor,
};
use warroom_store::Store;

use crate::ingest::keys::KeyCache;
use crate::ingest::limit::IngestLimiter;
use crate::ui::live::LiveFeed;
use crate::ui::sign_in_limit::SignInLimiter;

/// Default sustained alert requests per second per integration.
pub const DEFAULT_RATE: u32 = 200;
/// Default burst of alert requests per integration.
pub const DEFAULT_BURST: u32 = 2000;

/// The handle axum clones for every handler and middleware: one `Arc`,
/// since cloning the services themselves (a dozen `Arc`s and stores) cost
/// 2-3% of the alert endpoints' CPU.
pub struct AppState<S>(Arc<Services<S>>);

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState(Arc::clone(&self.0))
    }
}

impl<S> std::ops::Deref for AppState<S> {
    type Target = Services<S>;

    fn deref(&self) -> &Services<S> {
        &self.0
    }
}

/// The engine's services every handler reaches through `AppState`.
#[derive(Clone)]
pub struct Services<S> {
    pub incidents: Incidents<S>,
    /// The single alert writer (group commit).
    pub ingestor: Ingestor,
    /// Per-integration request rate limit of the alert endpoints.
    pub ingest_limit: Arc<IngestLimiter>,
    /// Integration keys recently looked up (forget on rotate and revoke).
    pub integration_keys: Arc<KeyCache>,
    /// Schedules, the directory, warnings, calendar feeds.
    pub oncall: Oncall<S>,
    /// Manual escalation, reassignment and acknowledge links.
    pub paging: Paging<S>,
    /// Resend, test messages, template previews, update cadence.
    pub notifier: Notifier<S>,
    /// Sign-in accounts and browser sessions.
    pub accounts: Accounts<S>,
    /// Failed sign-ins, to refuse password guessing.
    pub sign_in_limit: Arc<SignInLimiter>,
    /// Incident changes fanned out to open browsers.
    pub live: Arc<LiveFeed>,
    /// Accepted alert requests that could not be applied.
    pub dead_letters: DeadLetters<S>,
    /// Alert reads (the writer is `ingestor`).
    pub alerts: Alerts<S>,
    pub silences: Silences<S>,
    pub maintenance: Maintenance<S>,
    /// Integration keys: create, rotate, revoke, authenticate.
    pub integrations: Integrations<S>,
    /// API tokens: mint, list, revoke, authenticate.
    pub tokens: ApiTokens<S>,
    /// The readiness probe's database check.
    pub health: Health<S>,
    /// The server's background tasks, for the status and for shutdown.
    pub supervisor: Supervisor,
}

impl<S: Store> AppState<S> {
    /// The handlers' view of `app`: its services, with the default
    /// per-integration alert rate limit until `with_ingest_limit`.
    pub fn new<C>(app: &App<S, C>) -> AppState<S> {
        AppState(Arc::new(Services {
            dead_letters: app.dead_letters.clone(),
            notifier: app.notifier.clone(),
            accounts: app.accounts.clone(),
            alerts: app.alerts.clone(),
            silences: app.silences.clone(),
            maintenance: app.maintenance.clone(),
            integrations: app.integrations.clone(),
            tokens: app.tokens.clone(),
            health: app.health.clone(),
            sign_in_limit: Arc::default(),
            live: Arc::new(LiveFeed::new(app.supervisor.clone())),
            incidents: app.incidents.clone(),
            ingestor: app.ingestor.clone(),
            ingest_limit: Arc::new(IngestLimiter::new(DEFAULT_RATE, DEFAULT_BURST)),
            integration_keys: Arc::default(),
            oncall: app.oncall.clone(),
            paging: app.paging.clone(),
            supervisor: app.supervisor.clone(),
        }))
    }

    pub fn with_ingest_limit(self, limit: IngestLimiter) -> AppState<S> {
        let mut services = Arc::unwrap_or_clone(self.0);
        services.ingest_limit = Arc::new(limit);
        AppState(Arc::new(services))
    }
}
