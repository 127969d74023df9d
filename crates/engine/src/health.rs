//! Whether the server can do its work: the readiness probe's question.

use warroom_store::{Store, StoreError};

/// The database behind every service, probed.
#[derive(Clone)]
pub struct Health<S> {
    store: S,
}

impl<S: Store> Health<S> {
    pub fn new(store: S) -> Health<S> {
        Health { store }
    }

    /// Succeeds when the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}
