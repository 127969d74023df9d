//! The SQLite writer's dedup lookup: the (service, dedup key) of every
//! firing alert, hashed, in memory, pointing at the alert's id.
//!
//! A unique index on `(service, dedup_key) WHERE status = 'firing'` could do
//! this job (migration 0010 drops it), but its keys are random (Alertmanager
//! fingerprints, PagerDuty dedup keys), so each new alert dirties an index
//! page of its own in every commit: most of what a commit of many new alerts
//! writes to the WAL. Here a new key costs one hash-table probe and writes
//! nothing. PostgreSQL keeps its index.
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

pub(super) struct OpenKeys {
    /// Random per process, so nobody can choose keys that pile into one
    /// bucket.
    hasher: RandomState,
    /// Whether the map reflects the table (see `SqliteTx::open_keys`).
    pub(super) loaded: bool,
    /// High 32 bits of a key's hash -> its alert's id as an offset from
    /// `base`: 8 bytes a slot, about 19 MB for a million firing alerts.
    compact: HashMap<u32, u32, BuildHasherDefault<AlreadyHashed>>,
    /// The ids `compact` offsets count from: the first id it held.
    base: Option<i64>,
    /// Keys `compact` cannot hold, by their full hash: their 32-bit slot
    /// was taken (about one new key in 4,000 with a million firing), or
    /// their id lies more than 2^32 past `base`.
    overflow: HashMap<u64, Vec<i64>>,
    /// The open transaction's changes, oldest first.
    undo: Vec<Undo>,
}

enum Undo {
    /// `compact`'s slot held this before.
    Compact(u32, Option<u32>),
    /// An id added to (true) or removed from (false) an `overflow` entry.
    Overflow(u64, i64, bool),
}

impl OpenKeys {
    pub(super) fn new() -> OpenKeys {
        OpenKeys {
            hasher: RandomState::new(),
            loaded: false,
            compact: HashMap::default(),
            base: None,
            overflow: HashMap::new(),
            undo: Vec::new(),
        }
    }

    pub(super) fn hash(&self, service: &str, dedup_key: &str) -> u64 {
        self.hasher.hash_one((service, dedup_key))
    }

    fn slot(hash: u64) -> u32 {
        (hash >> 32) as u32
    }

    fn offset(&self, id: i64) -> Option<u32> {
        u32::try_from(id.checked_sub(self.base?)?).ok()
    }

    /// Ids that may be the firing alert with this key, to check against
    /// their rows: none for a key never seen, which is the common case.
    /// An iterator, not a list: the dedup path allocates nothing.
    pub(super) fn candidates(
        &self,
        service: &str,
        dedup_key: &str,
    ) -> impl Iterator<Item = i64> + '_ {
        let hash = self.hash(service, dedup_key);
        let compact = self
            .compact
            .get(&Self::slot(hash))
            .zip(self.base)
            .map(|(offset, base)| base + i64::from(*offset));
        let overflow = self
            .overflow
            .get(&hash)
            .map(Vec::as_slice)
            .unwrap_or_default();
        compact.into_iter().chain(overflow.iter().copied())
    }

    /// Records a firing alert.
    pub(super) fn add(&mut self, hash: u64, id: i64) {
        if self.base.is_none() {
            self.base = Some(id);
        }
        if let Some(offset) = self.offset(id) {
            if let Entry::Vacant(slot) = self.compact.entry(Self::slot(hash)) {
                slot.insert(offset);
                self.undo.push(Undo::Compact(Self::slot(hash), None));
                return;
            }
        }
        self.overflow.entry(hash).or_default().push(id);
        self.undo.push(Undo::Overflow(hash, id, true));
    }

    /// Forgets alert `id` under this key (it stopped firing).
    pub(super) fn remove(&mut self, service: &str, dedup_key: &str, id: i64) {
        let hash = self.hash(service, dedup_key);
        let slot = Self::slot(hash);
        if self.offset(id).is_some() && self.compact.get(&slot).copied() == self.offset(id) {
            let old = self.compact.remove(&slot);
            self.undo.push(Undo::Compact(slot, old));
            return;
        }
        if let Entry::Occupied(mut entry) = self.overflow.entry(hash) {
            if let Some(at) = entry.get().iter().position(|held| *held == id) {
                entry.get_mut().swap_remove(at);
                if entry.get().is_empty() {
                    entry.remove();
                }
                self.undo.push(Undo::Overflow(hash, id, false));
            }
        }
    }

    /// Empties the map before a reload from the table.
    pub(super) fn clear(&mut self) {
        self.compact = HashMap::default();
        self.overflow = HashMap::new();
        self.base = None;
        self.undo.clear();
        self.loaded = false;
    }

    /// Adds a firing alert read from the table (no undo: a reload happens
    /// before the transaction changes anything).
    pub(super) fn load(&mut self, service: &str, dedup_key: &str, id: i64) {
        self.add(self.hash(service, dedup_key), id);
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
                Undo::Compact(slot, Some(offset)) => {
                    self.compact.insert(slot, offset);
                }
                Undo::Compact(slot, None) => {
                    self.compact.remove(&slot);
                }
                Undo::Overflow(hash, id, true) => {
                    if let Entry::Occupied(mut entry) = self.overflow.entry(hash) {
                        entry.get_mut().retain(|held| *held != id);
                        if entry.get().is_empty() {
                            entry.remove();
                        }
                    }
                }
                Undo::Overflow(hash, id, false) => {
                    self.overflow.entry(hash).or_default().push(id);
                }
            }
        }
    }

    /// Firing keys held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.compact.len() + self.overflow.values().map(Vec::len).sum::<usize>()
    }
}

/// The map's keys are already hashes (SipHash with this process's random
/// keys): hashing them again would only cost time. The 32 bits are copied
/// into both halves, since the table takes its bucket from the low bits
/// and its tag from the top 7.
#[derive(Default)]
struct AlreadyHashed(u64);

impl Hasher for AlreadyHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u32` keys reach here; fold anything else in anyway.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (u64::from(n) << 32) | u64::from(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(keys: &OpenKeys, service: &str, dedup_key: &str) -> Vec<i64> {
        keys.candidates(service, dedup_key).collect()
    }

    #[test]
    fn a_rollback_puts_back_what_the_transaction_changed() {
        let mut keys = OpenKeys::new();
        keys.load("api", "a", 1);
        keys.load("api", "b", 2);
        let h = keys.hash("api", "c");
        keys.add(h, 3);
        keys.remove("api", "a", 1);
        assert_eq!(ids(&keys, "api", "a"), Vec::<i64>::new());
        assert_eq!(ids(&keys, "api", "c"), [3]);
        keys.rolled_back();
        assert_eq!(ids(&keys, "api", "a"), [1]);
        assert_eq!(ids(&keys, "api", "c"), Vec::<i64>::new());
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn a_commit_keeps_the_changes() {
        let mut keys = OpenKeys::new();
        let h = keys.hash("api", "c");
        keys.add(h, 3);
        keys.committed();
        keys.rolled_back();
        assert_eq!(ids(&keys, "api", "c"), [3]);
    }

    #[test]
    fn keys_sharing_a_slot_are_all_candidates() {
        let mut keys = OpenKeys::new();
        let h = keys.hash("api", "a");
        keys.add(h, 1);
        // A second key with the same hash (forced here): both ids come back,
        // and the caller's row check tells them apart.
        keys.add(h, 2);
        let mut held = ids(&keys, "api", "a");
        held.sort_unstable();
        assert_eq!(held, [1, 2]);
        keys.committed();
        keys.remove("api", "a", 2);
        assert_eq!(ids(&keys, "api", "a"), [1]);
        keys.remove("api", "a", 1);
        assert_eq!(keys.len(), 0);
        keys.rolled_back();
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn ids_far_past_the_base_are_kept_too() {
        let mut keys = OpenKeys::new();
        keys.load("api", "old", 5);
        let far = 5 + i64::from(u32::MAX) + 10;
        keys.add(keys.hash("api", "new"), far);
        assert_eq!(ids(&keys, "api", "new"), [far]);
        assert_eq!(ids(&keys, "api", "old"), [5]);
        keys.remove("api", "new", far);
        assert_eq!(ids(&keys, "api", "new"), Vec::<i64>::new());
    }

    #[test]
    fn service_and_key_do_not_run_together() {
        let keys = OpenKeys::new();
        assert_ne!(keys.hash("ab", "c"), keys.hash("a", "bc"));
    }
}
