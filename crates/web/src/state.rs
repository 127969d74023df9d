//! What every handler can reach: the engine's services over one store.

use warroom_engine::Incidents;
use warroom_store::Store;

#[derive(Clone)]
pub struct AppState<S> {
    pub incidents: Incidents<S>,
}

impl<S: Store> AppState<S> {
    pub fn new(incidents: Incidents<S>) -> AppState<S> {
        AppState { incidents }
    }
}
