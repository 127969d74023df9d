//! The SQLite writer's dedup lookup: the (service, dedup key) of every
//! firing alert, hashed, in memory, pointing at the alert's id.
//!
//! A unique index on `(service, dedup_key) WHERE status = 'firing'` did this
//! job until migration 0010 dropped it. Its keys are random (Alertmanager
//! fingerprints, PagerDuty dedup keys), so each new alert dirtied a page of
//! its own in every commit: 717 of the 888 WAL frames of a commit with 100
//! new alerts per request, and about 40% of that case's time. Here a new key
//! costs one hash-table probe and writes nothing. PostgreSQL keeps its index.
//!
//! Invariants (kept by `SqliteTx`, the only code that writes alerts):
//! - Outside a transaction, the map holds the key of every firing alert as
//!   committed. Inside one it also holds that transaction's changes, and
//!   `undo` reverts them if the transaction rolls back.
//! - A hit is a candidate, not an answer: the caller checks the row's
//!   service, key and status, so a stale or colliding entry only costs a read.
//! - Another process writing alerts to the same file (a second server by
//!   mistake) takes the `alert_keys_owner` row; a writer that finds the row
//!   is not its own reloads the map from the table before using it.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

/// An alert's identity while it fires.
pub(super) type AlertKey = (String, String);

pub(super) struct OpenKeys {
    /// Random per process, so nobody can choose keys that pile into one
    /// bucket of `by_hash`.
    hasher: RandomState,
    /// Whether the map reflects the table (see `SqliteTx::open_keys`).
    pub(super) loaded: bool,
    /// Key hash -> id of the firing alert with that key.
    by_hash: HashMap<u64, i64, BuildHasherDefault<AlreadyHashed>>,
    /// Firing keys whose hash another firing key held in `by_hash` when
    /// they were added: a 64-bit collision, expected never, kept exact here.
    collided: HashMap<AlertKey, i64>,
    /// The open transaction's changes, oldest first, as the values they
    /// replaced.
    undo: Vec<Undo>,
}

enum Undo {
    ByHash(u64, Option<i64>),
    Collided(AlertKey, Option<i64>),
}

impl OpenKeys {
    pub(super) fn new() -> OpenKeys {
        OpenKeys {
            hasher: RandomState::new(),
            loaded: false,
            by_hash: HashMap::default(),
            collided: HashMap::new(),
            undo: Vec::new(),
        }
    }

    pub(super) fn hash(&self, service: &str, dedup_key: &str) -> u64 {
        self.hasher.hash_one((service, dedup_key))
    }

    /// Ids that may be the firing alert with this key, to check against
    /// their rows: none for a key never seen, which is the common case.
    pub(super) fn candidates(&self, service: &str, dedup_key: &str) -> [Option<i64>; 2] {
        let first = self.by_hash.get(&self.hash(service, dedup_key)).copied();
        let second = if self.collided.is_empty() {
            None
        } else {
            self.collided
                .get(&(service.to_owned(), dedup_key.to_owned()))
                .copied()
        };
        [first, second]
    }

    /// Records a firing alert: in the hash's slot when it is free, else
    /// (the slot holds another key) by its exact key.
    pub(super) fn add(&mut self, hash: u64, service: &str, dedup_key: &str, id: i64) {
        match self.by_hash.entry(hash) {
            Entry::Vacant(slot) => {
                slot.insert(id);
                self.undo.push(Undo::ByHash(hash, None));
            }
            Entry::Occupied(_) => {
                let key = (service.to_owned(), dedup_key.to_owned());
                let old = self.collided.insert(key.clone(), id);
                self.undo.push(Undo::Collided(key, old));
            }
        }
    }

    /// Forgets alert `id` under this key (it stopped firing).
    pub(super) fn remove(&mut self, service: &str, dedup_key: &str, id: i64) {
        let hash = self.hash(service, dedup_key);
        if self.by_hash.get(&hash) == Some(&id) {
            self.by_hash.remove(&hash);
            self.undo.push(Undo::ByHash(hash, Some(id)));
        }
        if !self.collided.is_empty() {
            let key = (service.to_owned(), dedup_key.to_owned());
            if self.collided.get(&key) == Some(&id) {
                self.collided.remove(&key);
                self.undo.push(Undo::Collided(key, Some(id)));
            }
        }
    }

    /// Empties the map before a reload from the table.
    pub(super) fn clear(&mut self) {
        self.by_hash = HashMap::default();
        self.collided.clear();
        self.undo.clear();
        self.loaded = false;
    }

    /// Adds a firing alert read from the table (no undo: a reload happens
    /// before the transaction changes anything).
    pub(super) fn load(&mut self, service: &str, dedup_key: &str, id: i64) {
        self.add(self.hash(service, dedup_key), service, dedup_key, id);
        self.undo.clear();
    }

    /// The transaction committed: its changes stay.
    pub(super) fn committed(&mut self) {
        self.undo.clear();
    }

    /// The transaction rolled back: puts back what it changed, newest first.
    pub(super) fn rolled_back(&mut self) {
        while let Some(change) = self.undo.pop() {
            match change {
                Undo::ByHash(hash, Some(id)) => {
                    self.by_hash.insert(hash, id);
                }
                Undo::ByHash(hash, None) => {
                    self.by_hash.remove(&hash);
                }
                Undo::Collided(key, Some(id)) => {
                    self.collided.insert(key, id);
                }
                Undo::Collided(key, None) => {
                    self.collided.remove(&key);
                }
            }
        }
    }

    /// Firing keys held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_hash.len() + self.collided.len()
    }
}

/// The map's keys are already hashes (SipHash with this process's random
/// keys): hashing them again would only cost time.
#[derive(Default)]
struct AlreadyHashed(u64);

impl Hasher for AlreadyHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys reach here; fold anything else in anyway.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rollback_puts_back_what_the_transaction_changed() {
        let mut keys = OpenKeys::new();
        keys.load("api", "a", 1);
        keys.load("api", "b", 2);
        let h = keys.hash("api", "c");
        keys.add(h, "api", "c", 3);
        keys.remove("api", "a", 1);
        assert_eq!(keys.candidates("api", "a"), [None, None]);
        assert_eq!(keys.candidates("api", "c"), [Some(3), None]);
        keys.rolled_back();
        assert_eq!(keys.candidates("api", "a"), [Some(1), None]);
        assert_eq!(keys.candidates("api", "c"), [None, None]);
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn a_commit_keeps_the_changes() {
        let mut keys = OpenKeys::new();
        let h = keys.hash("api", "c");
        keys.add(h, "api", "c", 3);
        keys.committed();
        keys.rolled_back();
        assert_eq!(keys.candidates("api", "c"), [Some(3), None]);
    }

    #[test]
    fn a_key_whose_hash_slot_is_taken_is_kept_by_its_exact_key() {
        let mut keys = OpenKeys::new();
        let h = keys.hash("api", "a");
        keys.add(h, "api", "a", 1);
        // Pretend "b" collides with "a": same hash, different key.
        keys.add(h, "api", "b", 2);
        assert_eq!(keys.by_hash.get(&h), Some(&1));
        assert_eq!(keys.candidates("api", "b")[1], Some(2));
        keys.remove("api", "b", 2);
        assert_eq!(keys.candidates("api", "b")[1], None);
        keys.rolled_back();
        assert_eq!(keys.candidates("api", "b")[1], None);
        assert_eq!(keys.len(), 0);
    }

    #[test]
    fn service_and_key_do_not_run_together() {
        let keys = OpenKeys::new();
        assert_ne!(keys.hash("ab", "c"), keys.hash("a", "bc"));
    }
}
