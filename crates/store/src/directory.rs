//! The on-call directory: users, teams, vendors, schedules and policies
//! kept as JSON documents, schedule overrides, calendar feeds and contact
//! verifications, behind `DirectoryStore`.

use std::future::Future;

use jiff::Timestamp;

use crate::StoreError;

/// What a directory document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectoryKind {
    User,
    Team,
    Vendor,
    Schedule,
    Policy,
}

impl DirectoryKind {
    pub const ALL: [DirectoryKind; 5] = [
        DirectoryKind::User,
        DirectoryKind::Team,
        DirectoryKind::Vendor,
        DirectoryKind::Schedule,
        DirectoryKind::Policy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryKind::User => "user",
            DirectoryKind::Team => "team",
            DirectoryKind::Vendor => "vendor",
            DirectoryKind::Schedule => "schedule",
            DirectoryKind::Policy => "policy",
        }
    }
}

/// Who defined a directory entry. Playbook entries are replaced on every
/// start and cannot be changed through the API.
pub const SOURCE_PLAYBOOK: &str = "playbook";
pub const SOURCE_API: &str = "api";

#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryEntry {
    pub kind: DirectoryKind,
    pub name: String,
    /// The domain type as JSON.
    pub doc: String,
    pub source: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OverrideRecord {
    pub id: String,
    pub schedule: String,
    pub user: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// A secret calendar URL; only the hash of its token is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRecord {
    pub id: String,
    /// `schedule` or `user`.
    pub kind: String,
    pub name: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A pending contact-method verification code (hashed).
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationRecord {
    pub user_name: String,
    pub method_id: String,
    pub code_hash: String,
    pub expires_at: Timestamp,
    pub attempts: i64,
}

/// The directory, overrides, feeds and verifications.
pub trait DirectoryStore: Send + Sync {
    /// Creates an entry; `Conflict` if one of that kind and name exists.
    fn insert_directory(
        &self,
        entry: &DirectoryEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces the document of an entry of the same source; `NotFound` when
    /// there is none, `Conflict` when the playbook owns it.
    fn update_directory(
        &self,
        entry: &DirectoryEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn get_directory(
        &self,
        kind: DirectoryKind,
        name: &str,
    ) -> impl Future<Output = Result<Option<DirectoryEntry>, StoreError>> + Send;

    /// Entries of a kind by name.
    fn list_directory(
        &self,
        kind: DirectoryKind,
    ) -> impl Future<Output = Result<Vec<DirectoryEntry>, StoreError>> + Send;

    /// Deletes an API-defined entry; `NotFound`, or `Conflict` for a playbook one.
    fn delete_directory(
        &self,
        kind: DirectoryKind,
        name: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Makes the playbook's entries exactly `entries`, in one transaction:
    /// playbook entries no longer listed are removed, and a listed name
    /// takes over an API entry of the same name (`Oncall::sync_playbook`
    /// refuses to start before that can happen).
    fn sync_playbook_directory(
        &self,
        entries: &[DirectoryEntry],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn insert_override(
        &self,
        record: &OverrideRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Overrides of a schedule that overlap [from, to), by start.
    fn list_overrides(
        &self,
        schedule: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Future<Output = Result<Vec<OverrideRecord>, StoreError>> + Send;

    fn delete_override(
        &self,
        schedule: &str,
        id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn insert_feed(
        &self,
        feed: &FeedRecord,
        token_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The live feed with this token hash.
    fn find_feed(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<FeedRecord>, StoreError>> + Send;

    fn list_feeds(&self) -> impl Future<Output = Result<Vec<FeedRecord>, StoreError>> + Send;

    /// `NotFound` unless a live feed has this id.
    fn revoke_feed(
        &self,
        id: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores (replacing) a pending verification code.
    fn put_verification(
        &self,
        record: &VerificationRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn get_verification(
        &self,
        user_name: &str,
        method_id: &str,
    ) -> impl Future<Output = Result<Option<VerificationRecord>, StoreError>> + Send;

    /// Counts a wrong guess.
    fn count_verification_attempt(
        &self,
        user_name: &str,
        method_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks the contact method verified in the user's document and drops
    /// the code, atomically. `doc` is the updated user document.
    fn complete_verification(
        &self,
        user_name: &str,
        method_id: &str,
        doc: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The error for changing an entry the playbook defines.
pub(crate) fn managed_by_playbook(kind: DirectoryKind, name: &str) -> StoreError {
    StoreError::Conflict(format!(
        "{} {name} is defined in the playbook; change it there and restart",
        kind.as_str()
    ))
}
