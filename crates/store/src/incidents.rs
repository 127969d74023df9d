//! Incidents: the records and filters of the incident list, `IncidentStore`
//! (declaring, changing and reading incidents and their timelines) and
//! `IncidentTx`, the incident writes inside a write transaction.

use std::future::Future;

use jiff::Timestamp;
use warroom_domain::incident::Moved;
use warroom_domain::{DomainError, Incident, NewEvent, Status, TimelineEvent};

use crate::row::ts;
use crate::{StoreError, TxStore, WriteTx};

/// The most incidents one list call returns.
pub const MAX_PAGE: u32 = 500;

/// Which incidents to list. Empty vectors and `None` mean "any".
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub statuses: Vec<Status>,
    pub severities: Vec<String>,
    pub service: Option<String>,
    pub category: Option<String>,
    /// Declared at or after.
    pub declared_from: Option<Timestamp>,
    /// Declared before.
    pub declared_until: Option<Timestamp>,
    /// Case-insensitive substring of id, title or summary.
    pub text: Option<String>,
    /// 1..=MAX_PAGE.
    pub limit: u32,
    /// Continue after this position (from `IncidentPage::next`).
    pub after: Option<PageCursor>,
}

/// Position in the newest-first incident order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    pub declared_at_ms: i64,
    pub id: String,
}

impl PageCursor {
    /// Opaque text form used in the API: `<millis>~<id>`.
    pub fn encode(&self) -> String {
        format!("{}~{}", self.declared_at_ms, self.id)
    }

    pub fn decode(s: &str) -> Option<PageCursor> {
        let (ms, id) = s.split_once('~')?;
        Some(PageCursor {
            declared_at_ms: ms.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct IncidentPage {
    pub incidents: Vec<Incident>,
    /// Present when there may be more incidents after this page.
    pub next: Option<PageCursor>,
}

/// An incident that changed, for the live feed.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentChange {
    pub id: String,
    pub status: Status,
    pub last_event_seq: i64,
    pub updated_at: Timestamp,
}

/// Incidents and their timelines, outside a transaction of the caller's.
pub trait IncidentStore: TxStore {
    /// Allocates the next number in `scope` and stores the incident `make`
    /// builds from it, with its first timeline events, in one transaction.
    /// Numbers within a scope are consecutive and never reused.
    fn declare_incident<F>(
        &self,
        scope: &str,
        make: F,
    ) -> impl Future<Output = Result<(Incident, Vec<TimelineEvent>), StoreError>> + Send
    where
        F: FnOnce(i64) -> (Incident, Vec<NewEvent>) + Send,
    {
        async move {
            let mut tx = self.begin().await?;
            let declared = tx.declare_incident(scope, make).await?;
            tx.commit().await?;
            Ok(declared)
        }
    }

    /// Loads the incident, lets `change` apply a domain operation under a
    /// lock, then saves it with the events `change` returned, atomically.
    /// A domain error aborts without changing anything.
    fn modify_incident<F>(
        &self,
        id: &str,
        change: F,
    ) -> impl Future<Output = Result<(Incident, Vec<TimelineEvent>), StoreError>> + Send
    where
        F: FnOnce(&mut Incident) -> Result<Vec<NewEvent>, DomainError> + Send,
    {
        async move {
            let mut tx = self.begin().await?;
            let mut incident = tx.lock_incident(id).await?;
            let events = change(&mut incident)?;
            if events.is_empty() {
                // Nothing changed: leave the row (and updated_at) alone.
                return Ok((incident, Vec::new()));
            }
            let stored = tx.save_incident(&incident, events).await?;
            tx.commit().await?;
            Ok((incident, stored))
        }
    }

    fn get_incident(&self, id: &str) -> impl Future<Output = Result<Incident, StoreError>> + Send;

    fn list_incidents(
        &self,
        filter: &IncidentFilter,
    ) -> impl Future<Output = Result<IncidentPage, StoreError>> + Send;

    /// Events of one incident in order, those with `seq > after`, at most `limit`.
    fn timeline(
        &self,
        incident_id: &str,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<TimelineEvent>, StoreError>> + Send;

    /// The newest `limit` events of one incident, oldest first.
    fn timeline_tail(
        &self,
        incident_id: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<TimelineEvent>, StoreError>> + Send;

    /// Incidents whose timeline grew after `since_ms` (an event with a later
    /// `at`), oldest change first, at most `limit` (clamped to
    /// 1..=`MAX_PAGE`); `updated_at` is the newest such event's time and
    /// `last_event_seq` its sequence number. Timeline events rather than
    /// `incidents.updated_at`, because the workers append page and message
    /// events without changing the incident row. A poller passes the newest
    /// time it saw, minus some slack.
    fn incidents_changed_since(
        &self,
        since_ms: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<IncidentChange>, StoreError>> + Send;
}

/// The incident writes of a write transaction.
pub trait IncidentTx: Send {
    /// Allocates the next number in `scope` and inserts the incident `make`
    /// builds from it, with its first events.
    fn declare_incident<F>(
        &mut self,
        scope: &str,
        make: F,
    ) -> impl Future<Output = Result<(Incident, Vec<TimelineEvent>), StoreError>> + Send
    where
        F: FnOnce(i64) -> (Incident, Vec<NewEvent>) + Send;

    /// Loads an incident, locking it until commit.
    fn lock_incident(
        &mut self,
        id: &str,
    ) -> impl Future<Output = Result<Incident, StoreError>> + Send;

    /// Appends `events` to an incident whose only change is `updated_at`:
    /// cheaper than `save_incident`, which rewrites the whole row (checklists
    /// and roles included) when an alert storm adds one event per alert.
    fn append_incident_events(
        &mut self,
        incident: &Incident,
        events: Vec<NewEvent>,
    ) -> impl Future<Output = Result<Vec<TimelineEvent>, StoreError>> + Send;

    /// Writes back an incident loaded with `lock_incident` and appends `events`.
    fn save_incident(
        &mut self,
        incident: &Incident,
        events: Vec<NewEvent>,
    ) -> impl Future<Output = Result<Vec<TimelineEvent>, StoreError>> + Send;

    /// A merge's move, both incidents locked by the caller: `from`'s
    /// alerts and alert groups (so its alerts' repeats and new alerts of
    /// its groups join `into`) and its messages go to `into`, and its
    /// timeline events are copied onto `into`'s (numbered after its last,
    /// in their order; timelines are append-only, so `from` keeps its own). Its
    /// escalation and pending paging jobs go too when `into` has no
    /// escalation of its own; otherwise they stay, and stop mattering once
    /// `from` is closed (jobs and pages check the incident's status).
    fn move_to_survivor(
        &mut self,
        from: &str,
        into: &str,
    ) -> impl Future<Output = Result<Moved, StoreError>> + Send;
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChangeRow {
    id: String,
    status: String,
    last_event_seq: i64,
    updated_at: i64,
}

impl TryFrom<ChangeRow> for IncidentChange {
    type Error = StoreError;
    fn try_from(r: ChangeRow) -> Result<IncidentChange, StoreError> {
        Ok(IncidentChange {
            status: Status::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {:?}", r.status)))?,
            updated_at: ts(r.updated_at)?,
            id: r.id,
            last_event_seq: r.last_event_seq,
        })
    }
}

/// Turns `limit + 1` fetched rows into a page and its continuation cursor.
pub(crate) fn page(
    rows: Vec<crate::row::IncidentRow>,
    limit: u32,
) -> Result<IncidentPage, StoreError> {
    let mut incidents: Vec<Incident> = rows
        .into_iter()
        .map(TryInto::try_into)
        .collect::<Result<_, _>>()?;
    let more = incidents.len() > limit as usize;
    incidents.truncate(limit as usize);
    let next = more.then(|| {
        let last = incidents.last().expect("a page with more has a last row");
        PageCursor {
            declared_at_ms: crate::row::ms(last.declared_at),
            id: last.id.clone(),
        }
    });
    Ok(IncidentPage { incidents, next })
}

/// The paging job kinds that belong to an escalation (not update reminders),
/// which move with it in a merge.
pub(crate) const ESCALATION_JOB_KINDS: &str = "('step', 'severity_escalation', 'ack_timeout')";

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
