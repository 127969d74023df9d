//! Integration keys seen recently, so an alert request does not read the
//! database just to learn which integration sent it, nor parse its config:
//! an entry holds the config parsed when the key was loaded.
//!
//! Rotating or revoking through this process (the API, the CLI, the UI)
//! forgets every entry at once; an entry also expires after `TTL`, which
//! bounds how long a change made elsewhere (another node, a restored backup)
//! takes to be seen. Unknown keys are never remembered: a key created a
//! moment ago works on its first request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use warroom_store::IntegrationRecord;

use super::config::IntegrationConfig;

/// How long a looked-up integration is trusted without reading it again.
pub const TTL: SignedDuration = SignedDuration::from_secs(10);

/// Past this many remembered keys the cache starts over, so a sender
/// cycling through keys cannot grow it without bound.
const MAX_ENTRIES: usize = 10_000;

/// A live integration as the alert endpoints use it.
#[derive(Debug)]
pub struct KnownIntegration {
    pub record: IntegrationRecord,
    /// `record.config`, parsed.
    pub config: IntegrationConfig,
}

impl KnownIntegration {
    pub fn new(record: IntegrationRecord) -> KnownIntegration {
        let config = IntegrationConfig::parse(&record.config);
        KnownIntegration { record, config }
    }
}

#[derive(Default)]
pub struct KeyCache {
    /// By the key as presented: integration and when it was read.
    entries: Mutex<HashMap<String, (Arc<KnownIntegration>, Timestamp)>>,
}

impl KeyCache {
    /// The integration `key` named when read less than `TTL` before `now`.
    pub fn get(&self, key: &str, now: Timestamp) -> Option<Arc<KnownIntegration>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (integration, read_at) = entries.get(key)?;
        (now.duration_since(*read_at) < TTL).then(|| Arc::clone(integration))
    }

    /// Remembers that `key` named `integration` at `now`, its config
    /// parsed, and returns what it remembered.
    pub fn put(
        &self,
        key: &str,
        integration: IntegrationRecord,
        now: Timestamp,
    ) -> Arc<KnownIntegration> {
        let known = Arc::new(KnownIntegration::new(integration));
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(key) {
            entries.clear();
        }
        entries.insert(key.to_owned(), (Arc::clone(&known), now));
        known
    }

    /// Forgets every key: an integration was rotated or revoked.
    pub fn forget_all(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integration(id: &str) -> IntegrationRecord {
        IntegrationRecord {
            id: id.to_owned(),
            service: "api".to_owned(),
            name: "prom".to_owned(),
            kind: "prometheus".to_owned(),
            key_hint: "abcdef".to_owned(),
            config: serde_json::json!({}),
            created_at: Timestamp::UNIX_EPOCH,
            revoked_at: None,
        }
    }

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let cache = KeyCache::default();
        let t0: Timestamp = "2026-11-26T00:00:00Z".parse().unwrap();
        assert!(cache.get("k1", t0).is_none());
        cache.put("k1", integration("int_1"), t0);
        assert_eq!(
            cache
                .get("k1", t0 + SignedDuration::from_secs(9))
                .unwrap()
                .record
                .id,
            "int_1"
        );
        assert!(cache.get("k1", t0 + TTL).is_none());
        assert!(cache.get("k2", t0).is_none());
        cache.forget_all();
        assert!(cache.get("k1", t0).is_none());
    }

    #[test]
    fn it_starts_over_past_its_size() {
        let cache = KeyCache::default();
        let t0: Timestamp = "2026-11-26T00:00:00Z".parse().unwrap();
        for i in 0..MAX_ENTRIES {
            cache.put(&format!("k{i}"), integration("int_1"), t0);
        }
        assert!(cache.get("k0", t0).is_some());
        cache.put("one-more", integration("int_2"), t0);
        assert!(cache.get("k0", t0).is_none());
        assert_eq!(cache.get("one-more", t0).unwrap().record.id, "int_2");
    }
}
