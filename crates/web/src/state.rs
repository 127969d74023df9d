//! What every handler can reach: the engine's services over one store.

use warroom_engine::{Incidents, Ingestor};
use warroom_store::Store;

#[derive(Clone)]
pub struct AppState<S> {
    pub incidents: Incidents<S>,
    /// The single alert writer (group commit).
    pub ingestor: Ingestor,
}

impl<S: Store> AppState<S> {
    pub fn new(incidents: Incidents<S>, ingestor: Ingestor) -> AppState<S> {
        AppState {
            incidents,
            ingestor,
        }
    }
}
