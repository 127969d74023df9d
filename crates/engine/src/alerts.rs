//! Reading alerts: the list, one alert, and how many fire. Only the ingest
//! writer (`ingest`) changes them.

use warroom_store::{AlertCounts, AlertFilter, AlertRecord, AlertStore, StoreError};

/// Alert reads over one store.
#[derive(Clone)]
pub struct Alerts<S> {
    store: S,
}

impl<S: AlertStore> Alerts<S> {
    pub fn new(store: S) -> Alerts<S> {
        Alerts { store }
    }

    /// Alerts the filter selects, newest first.
    pub async fn list(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        self.store.list_alerts(filter).await
    }

    pub async fn get(&self, id: i64) -> Result<AlertRecord, StoreError> {
        self.store.get_alert(id).await
    }

    /// Firing alerts: those that page and those suppressed.
    pub async fn counts(&self) -> Result<AlertCounts, StoreError> {
        self.store.alert_counts().await
    }
}
