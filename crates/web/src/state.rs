//! What every handler can reach: the engine's services over one store.

use std::sync::Arc;

use warroom_engine::{Incidents, Ingestor};
use warroom_store::Store;

use crate::ingest::limit::IngestLimiter;

/// Default sustained alert requests per second per integration.
pub const DEFAULT_RATE: u32 = 200;
/// Default burst of alert requests per integration.
pub const DEFAULT_BURST: u32 = 2000;

#[derive(Clone)]
pub struct AppState<S> {
    pub incidents: Incidents<S>,
    /// The single alert writer (group commit).
    pub ingestor: Ingestor,
    /// Per-integration request rate limit of the alert endpoints.
    pub ingest_limit: Arc<IngestLimiter>,
}

impl<S: Store> AppState<S> {
    pub fn new(incidents: Incidents<S>, ingestor: Ingestor) -> AppState<S> {
        AppState {
            incidents,
            ingestor,
            ingest_limit: Arc::new(IngestLimiter::new(DEFAULT_RATE, DEFAULT_BURST)),
        }
    }

    pub fn with_ingest_limit(mut self, limit: IngestLimiter) -> AppState<S> {
        self.ingest_limit = Arc::new(limit);
        self
    }
}
