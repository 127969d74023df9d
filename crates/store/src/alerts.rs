//! Alerts: their records, `AlertStore` (the alert and silence lists an
//! operator reads and the silences they write) and `AlertTx`, the primitive
//! reads and writes the ingest path runs in a write transaction, with the
//! decisions left to the engine so both backends share one set of rules.

use std::collections::BTreeMap;
use std::future::Future;

use jiff::Timestamp;
use warroom_domain::alert::{AlertLink, AlertStatus};

use crate::StoreError;

/// An alert as stored. `id` is 0 until inserted.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRecord {
    pub id: i64,
    pub service: String,
    pub dedup_key: String,
    pub status: AlertStatus,
    pub summary: String,
    /// A playbook severity name.
    pub severity: String,
    /// The word the source used (`critical`, `warning`, ...).
    pub source_severity: Option<String>,
    pub source: String,
    pub origin: String,
    pub integration_id: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub details: serde_json::Map<String, serde_json::Value>,
    pub links: Vec<AlertLink>,
    pub generator_url: Option<String>,
    pub group_key: String,
    pub incident_id: Option<String>,
    /// Why it pages nobody: `silence:<id>`, `maintenance:<id>`, `inhibited:<rule>`.
    pub suppressed_by: Option<String>,
    /// How many times it was received (repeats bump this, never re-page).
    pub event_count: i64,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub first_seen_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
}

/// A repeat of a firing alert, as `WriteTx::bump_open_alerts` records it.
#[derive(Debug, Clone, Copy)]
pub struct Repeat<'a> {
    pub service: &'a str,
    pub dedup_key: &'a str,
    /// How many times it arrived (a batch can carry the same alert often).
    pub times: i64,
    pub now: Timestamp,
    pub summary: &'a str,
    pub details: &'a serde_json::Map<String, serde_json::Value>,
    pub links: &'a [warroom_domain::alert::AlertLink],
    pub ends_at: Option<Timestamp>,
}

/// A firing alert `bump_open_alerts` counted a repeat of.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BumpedAlert {
    pub service: String,
    pub dedup_key: String,
    pub id: i64,
    pub incident_id: Option<String>,
}

/// Which group of alerts an incident collects, and when it last grew.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertGroup {
    pub group_key: String,
    pub service: String,
    pub incident_id: String,
    pub last_alert_at: Timestamp,
}

/// A silence as stored; matchers are kept as their JSON form.
#[derive(Debug, Clone, PartialEq)]
pub struct SilenceRecord {
    pub id: String,
    pub matchers: serde_json::Value,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub comment: String,
    pub created_at: Timestamp,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub status: Option<AlertStatus>,
    /// `Some(true)`: only suppressed; `Some(false)`: only those that page.
    pub suppressed: Option<bool>,
    pub service: Option<String>,
    pub incident_id: Option<String>,
    /// Each label (name, value) must be on the alert with exactly that value.
    pub labels: Vec<(String, String)>,
    /// Only alerts that came in through this integration.
    pub integration_id: Option<String>,
    pub limit: u32,
    /// Only alerts with a smaller id (newest first paging).
    pub before_id: Option<i64>,
}

/// What the alert list groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertGrouping {
    /// The `alertname` label (alerts without one form one group).
    AlertName,
    Service,
    Incident,
}

/// One group of the alert list: its value (`None`: alerts without one,
/// e.g. suppressed alerts have no incident) and how many alerts it holds.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertGroupCount {
    pub key: Option<String>,
    pub count: i64,
}

/// Firing alerts right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertCounts {
    /// Firing and paging (not silenced, inhibited or in maintenance).
    pub firing: i64,
    /// Firing but suppressed.
    pub suppressed: i64,
}

/// Alerts and silences, outside a transaction.
pub trait AlertStore: Send + Sync {
    /// How many alerts are firing, split by whether they page.
    fn alert_counts(&self) -> impl Future<Output = Result<AlertCounts, StoreError>> + Send;

    /// Alerts newest first.
    fn list_alerts(
        &self,
        filter: &AlertFilter,
    ) -> impl Future<Output = Result<Vec<AlertRecord>, StoreError>> + Send;

    fn get_alert(&self, id: i64) -> impl Future<Output = Result<AlertRecord, StoreError>> + Send;

    /// How many alerts `filter` selects in each group (its `limit` and
    /// `before_id` aside), largest groups first, at most `groups` of them.
    fn count_alert_groups(
        &self,
        filter: &AlertFilter,
        by: AlertGrouping,
        groups: u32,
    ) -> impl Future<Output = Result<Vec<AlertGroupCount>, StoreError>> + Send;

    /// The labels of every firing alert, `service` added when absent: what
    /// a silence's matchers see, to count what one would mute.
    fn firing_alert_labels(
        &self,
    ) -> impl Future<Output = Result<Vec<BTreeMap<String, String>>, StoreError>> + Send;

    fn insert_silence(
        &self,
        silence: &SilenceRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Silences newest first; with `live_at`, only those not ended by then.
    fn list_silences(
        &self,
        live_at: Option<Timestamp>,
    ) -> impl Future<Output = Result<Vec<SilenceRecord>, StoreError>> + Send;

    fn get_silence(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<SilenceRecord, StoreError>> + Send;

    /// Rewrites a silence's window (expiring it).
    fn set_silence_window(
        &self,
        id: &str,
        starts_at: Timestamp,
        ends_at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The alert writes of a write transaction.
pub trait AlertTx: Send {
    /// The firing alert with this key, if any (an index lookup, never a scan).
    fn open_alert(
        &mut self,
        service: &str,
        dedup_key: &str,
    ) -> impl Future<Output = Result<Option<AlertRecord>, StoreError>> + Send;

    /// Counts repeats of firing alerts, many in one statement, keeping each
    /// one's latest summary, details, links and `ends_at` (if given). Returns
    /// those that were firing; the keys must be distinct.
    fn bump_open_alerts(
        &mut self,
        repeats: &[Repeat<'_>],
    ) -> impl Future<Output = Result<Vec<BumpedAlert>, StoreError>> + Send;

    /// Reserves `n` alert ids for `insert_alerts`. Callers insert every id
    /// they use before reserving again or inserting any other way: on SQLite
    /// the ids are free only until this transaction's next insert.
    fn reserve_alert_ids(
        &mut self,
        n: u32,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;

    /// Inserts alerts with ids from `reserve_alert_ids`, many per statement.
    fn insert_alerts(
        &mut self,
        alerts: &[AlertRecord],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn update_alert(
        &mut self,
        alert: &AlertRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Whether any firing, unsuppressed alert is attached to the incident.
    /// An existence test, not a count: resolving each of an incident's N
    /// alerts must not read the other N (a storm of 100,000 expiring alerts
    /// took minutes of CPU when this counted).
    fn has_paging_alerts(
        &mut self,
        incident_id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// When a firing alert of the incident was last seen, repeats included:
    /// re-sent alerts keep their incident's group open.
    fn last_firing_seen(
        &mut self,
        incident_id: &str,
    ) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    fn alert_group(
        &mut self,
        group_key: &str,
    ) -> impl Future<Output = Result<Option<AlertGroup>, StoreError>> + Send;

    fn put_alert_group(
        &mut self,
        group: &AlertGroup,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Silences that have not ended by `now` (pending ones included).
    fn live_silences(
        &mut self,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<SilenceRecord>, StoreError>> + Send;

    /// Firing alerts of `origin` that have expired by `now`: their `ends_at`
    /// has passed, or, without one, they were last seen before `stale_before`.
    fn expired_alerts(
        &mut self,
        origin: &str,
        now: Timestamp,
        stale_before: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AlertRecord>, StoreError>> + Send;

    /// Firing alerts that something suppresses, oldest first.
    fn suppressed_firing(
        &mut self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AlertRecord>, StoreError>> + Send;

    /// How many alerts of the service are firing (from `alert_counts`).
    fn count_firing(
        &mut self,
        service: &str,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Adds `delta` to the service's firing count.
    fn add_firing(
        &mut self,
        service: &str,
        delta: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Labels of every firing alert (with `service` added), for inhibition.
    fn firing_labels(
        &mut self,
    ) -> impl Future<Output = Result<Vec<BTreeMap<String, String>>, StoreError>> + Send;

    /// The earliest `ends_at` of a firing alert of `origin`, if any.
    fn next_expiry(
        &mut self,
        origin: &str,
    ) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;
}
