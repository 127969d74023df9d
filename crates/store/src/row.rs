//! Rows as both backends read and write them, and their conversion to domain types.
//!
//! Both schemas use the same column names and Unix-millisecond times, so one
//! set of row structs serves both; each backend only casts JSONB to text.

use jiff::Timestamp;
use sqlx::query::Query;
use sqlx::{Database, Encode, Type};
use warroom_domain::incident::{Bridge, ChecklistPhase, RoleAssignment};
use warroom_domain::{AccessRole, EventKind, Incident, Status, TimelineEvent};

use crate::{ApiToken, StoreError};

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// Stored labels (JSON text) with `service` added when absent: what
/// silence and inhibition matchers see.
pub(crate) fn labels_with_service(
    service: String,
    labels: &str,
) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
    let mut labels: std::collections::BTreeMap<String, String> = serde_json::from_str(labels)
        .map_err(|e| StoreError::Corrupt(format!("alert labels: {e}")))?;
    labels.entry("service".to_owned()).or_insert(service);
    Ok(labels)
}

pub(crate) fn ts(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(format!("time {ms}: {e}")))
}

fn opt_ts(ms: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    ms.map(ts).transpose()
}

fn json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The incident columns, as selected by `INCIDENT_COLUMNS` of each backend.
#[derive(sqlx::FromRow)]
pub(crate) struct IncidentRow {
    id: String,
    seq: i64,
    title: String,
    summary: String,
    severity: String,
    category: Option<String>,
    services: String,
    status: String,
    customer_facing: bool,
    users_affected: Option<i64>,
    roles: String,
    checklist: String,
    declared_by: String,
    impact_started_at: Option<i64>,
    detected_at: i64,
    declared_at: i64,
    acknowledged_at: Option<i64>,
    mitigated_at: Option<i64>,
    resolved_at: Option<i64>,
    closed_at: Option<i64>,
    updated_at: i64,
    bridge_url: Option<String>,
    chat_url: Option<String>,
}

impl IncidentRow {
    /// Reads a row selected by SQLite's `INCIDENT_COLUMNS` (the field order).
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentRow> {
        Ok(IncidentRow {
            id: r.get(0)?,
            seq: r.get(1)?,
            title: r.get(2)?,
            summary: r.get(3)?,
            severity: r.get(4)?,
            category: r.get(5)?,
            services: r.get(6)?,
            status: r.get(7)?,
            customer_facing: r.get(8)?,
            users_affected: r.get(9)?,
            roles: r.get(10)?,
            checklist: r.get(11)?,
            declared_by: r.get(12)?,
            impact_started_at: r.get(13)?,
            detected_at: r.get(14)?,
            declared_at: r.get(15)?,
            acknowledged_at: r.get(16)?,
            mitigated_at: r.get(17)?,
            resolved_at: r.get(18)?,
            closed_at: r.get(19)?,
            updated_at: r.get(20)?,
            bridge_url: r.get(21)?,
            chat_url: r.get(22)?,
        })
    }
}

impl TryFrom<IncidentRow> for Incident {
    type Error = StoreError;
    fn try_from(r: IncidentRow) -> Result<Incident, StoreError> {
        Ok(Incident {
            status: Status::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {:?}", r.status)))?,
            services: json::<Vec<String>>("services", &r.services)?,
            roles: json::<std::collections::BTreeMap<String, RoleAssignment>>("roles", &r.roles)?,
            checklist: json::<Vec<ChecklistPhase>>("checklist", &r.checklist)?,
            impact_started_at: opt_ts(r.impact_started_at)?,
            detected_at: ts(r.detected_at)?,
            declared_at: ts(r.declared_at)?,
            acknowledged_at: opt_ts(r.acknowledged_at)?,
            mitigated_at: opt_ts(r.mitigated_at)?,
            resolved_at: opt_ts(r.resolved_at)?,
            closed_at: opt_ts(r.closed_at)?,
            updated_at: ts(r.updated_at)?,
            bridge: Bridge {
                bridge_url: r.bridge_url,
                chat_url: r.chat_url,
            },
            id: r.id,
            seq: r.seq,
            title: r.title,
            summary: r.summary,
            severity: r.severity,
            category: r.category,
            customer_facing: r.customer_facing,
            users_affected: r.users_affected,
            declared_by: r.declared_by,
        })
    }
}

/// The columns `IncidentValues::bind` binds, in order. Both backends insert
/// and update through this list, so a new column is added in one place.
pub(crate) const WRITE_COLUMNS: &str = "id, seq, title, summary, severity, category, services, \
     status, customer_facing, users_affected, roles, checklist, declared_by, impact_started_at, \
     detected_at, declared_at, acknowledged_at, mitigated_at, resolved_at, closed_at, updated_at, \
     bridge_url, chat_url";

/// An incident flattened into column values, in `WRITE_COLUMNS` order.
pub(crate) struct IncidentValues {
    id: String,
    seq: i64,
    title: String,
    summary: String,
    severity: String,
    category: Option<String>,
    services: String,
    status: String,
    customer_facing: bool,
    users_affected: Option<i64>,
    roles: String,
    checklist: String,
    declared_by: String,
    impact_started_at: Option<i64>,
    detected_at: i64,
    declared_at: i64,
    acknowledged_at: Option<i64>,
    mitigated_at: Option<i64>,
    resolved_at: Option<i64>,
    closed_at: Option<i64>,
    updated_at: i64,
    bridge_url: Option<String>,
    chat_url: Option<String>,
}

impl IncidentValues {
    pub fn of(i: &Incident) -> IncidentValues {
        IncidentValues {
            id: i.id.clone(),
            seq: i.seq,
            title: i.title.clone(),
            summary: i.summary.clone(),
            severity: i.severity.clone(),
            category: i.category.clone(),
            services: to_json(&i.services, "[]"),
            status: i.status.as_str().to_owned(),
            customer_facing: i.customer_facing,
            users_affected: i.users_affected,
            roles: to_json(&i.roles, "{}"),
            checklist: to_json(&i.checklist, "[]"),
            declared_by: i.declared_by.clone(),
            impact_started_at: i.impact_started_at.map(ms),
            detected_at: ms(i.detected_at),
            declared_at: ms(i.declared_at),
            acknowledged_at: i.acknowledged_at.map(ms),
            mitigated_at: i.mitigated_at.map(ms),
            resolved_at: i.resolved_at.map(ms),
            closed_at: i.closed_at.map(ms),
            updated_at: ms(i.updated_at),
            bridge_url: i.bridge.bridge_url.clone(),
            chat_url: i.bridge.chat_url.clone(),
        }
    }

    /// Every value, in `WRITE_COLUMNS` order, for rusqlite.
    pub fn sqlite_params(&self) -> [&dyn rusqlite::ToSql; 23] {
        [
            &self.id,
            &self.seq,
            &self.title,
            &self.summary,
            &self.severity,
            &self.category,
            &self.services,
            &self.status,
            &self.customer_facing,
            &self.users_affected,
            &self.roles,
            &self.checklist,
            &self.declared_by,
            &self.impact_started_at,
            &self.detected_at,
            &self.declared_at,
            &self.acknowledged_at,
            &self.mitigated_at,
            &self.resolved_at,
            &self.closed_at,
            &self.updated_at,
            &self.bridge_url,
            &self.chat_url,
        ]
    }

    /// Binds every value, in `WRITE_COLUMNS` order, on either backend.
    pub fn bind<'q, DB>(
        self,
        q: Query<'q, DB, DB::Arguments<'q>>,
    ) -> Query<'q, DB, DB::Arguments<'q>>
    where
        DB: Database,
        String: Encode<'q, DB> + Type<DB>,
        Option<String>: Encode<'q, DB> + Type<DB>,
        i64: Encode<'q, DB> + Type<DB>,
        Option<i64>: Encode<'q, DB> + Type<DB>,
        bool: Encode<'q, DB> + Type<DB>,
    {
        q.bind(self.id)
            .bind(self.seq)
            .bind(self.title)
            .bind(self.summary)
            .bind(self.severity)
            .bind(self.category)
            .bind(self.services)
            .bind(self.status)
            .bind(self.customer_facing)
            .bind(self.users_affected)
            .bind(self.roles)
            .bind(self.checklist)
            .bind(self.declared_by)
            .bind(self.impact_started_at)
            .bind(self.detected_at)
            .bind(self.declared_at)
            .bind(self.acknowledged_at)
            .bind(self.mitigated_at)
            .bind(self.resolved_at)
            .bind(self.closed_at)
            .bind(self.updated_at)
            .bind(self.bridge_url)
            .bind(self.chat_url)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    incident_id: String,
    seq: i64,
    at: i64,
    actor: String,
    data: String,
}

impl TryFrom<EventRow> for TimelineEvent {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<TimelineEvent, StoreError> {
        Ok(TimelineEvent {
            kind: json::<EventKind>("timeline event", &r.data)?,
            at: ts(r.at)?,
            incident_id: r.incident_id,
            seq: r.seq,
            actor: r.actor,
        })
    }
}

/// Gives new events of an incident the sequence numbers after `last`.
pub(crate) fn number_events(
    incident_id: &str,
    last: i64,
    events: Vec<warroom_domain::NewEvent>,
) -> Vec<TimelineEvent> {
    (last + 1..)
        .zip(events)
        .map(|(seq, e)| TimelineEvent {
            incident_id: incident_id.to_owned(),
            seq,
            at: e.at,
            actor: e.actor,
            kind: e.kind,
        })
        .collect()
}

pub(crate) fn event_data(kind: &EventKind) -> String {
    serde_json::to_string(kind).expect("timeline events serialize")
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    id: i64,
    name: String,
    role: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<ApiToken, StoreError> {
        Ok(ApiToken {
            role: AccessRole::parse(&r.role)
                .ok_or_else(|| StoreError::Corrupt(format!("token role {:?}", r.role)))?,
            created_at: ts(r.created_at)?,
            revoked_at: opt_ts(r.revoked_at)?,
            id: r.id,
            name: r.name,
        })
    }
}

/// The alert columns, in `AlertValues::bind` order (after `id`).
pub(crate) const ALERT_WRITE_COLUMNS: &str = "service, dedup_key, status, summary, severity, \
     source_severity, source, origin, integration_id, labels, details, links, generator_url, \
     group_key, incident_id, suppressed_by, event_count, starts_at, ends_at, first_seen_at, \
     last_seen_at, acknowledged_at, resolved_at";

#[derive(sqlx::FromRow)]
pub(crate) struct AlertRow {
    id: i64,
    service: String,
    dedup_key: String,
    status: String,
    summary: String,
    severity: String,
    source_severity: Option<String>,
    source: String,
    origin: String,
    integration_id: Option<String>,
    labels: String,
    details: String,
    links: String,
    generator_url: Option<String>,
    group_key: String,
    incident_id: Option<String>,
    suppressed_by: Option<String>,
    event_count: i64,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    first_seen_at: i64,
    last_seen_at: i64,
    acknowledged_at: Option<i64>,
    resolved_at: Option<i64>,
}

impl AlertRow {
    /// Reads a row selected by SQLite's `ALERT_COLUMNS` (the field order).
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
        Ok(AlertRow {
            id: r.get(0)?,
            service: r.get(1)?,
            dedup_key: r.get(2)?,
            status: r.get(3)?,
            summary: r.get(4)?,
            severity: r.get(5)?,
            source_severity: r.get(6)?,
            source: r.get(7)?,
            origin: r.get(8)?,
            integration_id: r.get(9)?,
            labels: r.get(10)?,
            details: r.get(11)?,
            links: r.get(12)?,
            generator_url: r.get(13)?,
            group_key: r.get(14)?,
            incident_id: r.get(15)?,
            suppressed_by: r.get(16)?,
            event_count: r.get(17)?,
            starts_at: r.get(18)?,
            ends_at: r.get(19)?,
            first_seen_at: r.get(20)?,
            last_seen_at: r.get(21)?,
            acknowledged_at: r.get(22)?,
            resolved_at: r.get(23)?,
        })
    }
}

impl TryFrom<AlertRow> for crate::AlertRecord {
    type Error = StoreError;
    fn try_from(r: AlertRow) -> Result<crate::AlertRecord, StoreError> {
        use warroom_domain::alert::AlertStatus;
        Ok(crate::AlertRecord {
            status: match r.status.as_str() {
                "firing" => AlertStatus::Firing,
                "resolved" => AlertStatus::Resolved,
                other => return Err(StoreError::Corrupt(format!("alert status {other:?}"))),
            },
            labels: json("alert labels", &r.labels)?,
            details: json("alert details", &r.details)?,
            links: json("alert links", &r.links)?,
            starts_at: opt_ts(r.starts_at)?,
            ends_at: opt_ts(r.ends_at)?,
            first_seen_at: ts(r.first_seen_at)?,
            last_seen_at: ts(r.last_seen_at)?,
            acknowledged_at: opt_ts(r.acknowledged_at)?,
            resolved_at: opt_ts(r.resolved_at)?,
            id: r.id,
            service: r.service,
            dedup_key: r.dedup_key,
            summary: r.summary,
            severity: r.severity,
            source_severity: r.source_severity,
            source: r.source,
            origin: r.origin,
            integration_id: r.integration_id,
            generator_url: r.generator_url,
            group_key: r.group_key,
            incident_id: r.incident_id,
            suppressed_by: r.suppressed_by,
            event_count: r.event_count,
        })
    }
}

/// `value` as JSON text, straight from its fields (no `serde_json::Value`
/// copy first). Maps with string keys and plain structs cannot fail to
/// encode; were one to, `empty` keeps the column readable.
pub(crate) fn to_json(value: &impl serde::Serialize, empty: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| empty.to_owned())
}

/// An alert's JSON columns, encoded once for rusqlite's borrowed parameters.
pub(crate) struct AlertJson {
    status: &'static str,
    labels: String,
    details: String,
    links: String,
}

impl AlertJson {
    pub fn of(a: &crate::AlertRecord) -> AlertJson {
        AlertJson {
            status: a.status.as_str(),
            labels: to_json(&a.labels, "{}"),
            details: to_json(&a.details, "{}"),
            links: to_json(&a.links, "[]"),
        }
    }

    /// `id`, then every value in `ALERT_WRITE_COLUMNS` order, for rusqlite.
    pub fn sqlite_params<'a>(
        &'a self,
        a: &'a crate::AlertRecord,
        times: &'a AlertTimes,
    ) -> [&'a dyn rusqlite::ToSql; 24] {
        [
            &a.id,
            &a.service,
            &a.dedup_key,
            &self.status,
            &a.summary,
            &a.severity,
            &a.source_severity,
            &a.source,
            &a.origin,
            &a.integration_id,
            &self.labels,
            &self.details,
            &self.links,
            &a.generator_url,
            &a.group_key,
            &a.incident_id,
            &a.suppressed_by,
            &a.event_count,
            &times.0[0],
            &times.0[1],
            &times.0[2],
            &times.0[3],
            &times.0[4],
            &times.0[5],
        ]
    }
}

/// An alert's times as column values: starts, ends, first seen, last seen,
/// acknowledged, resolved.
pub(crate) struct AlertTimes([Option<i64>; 6]);

impl AlertTimes {
    pub fn of(a: &crate::AlertRecord) -> AlertTimes {
        AlertTimes([
            a.starts_at.map(ms),
            a.ends_at.map(ms),
            Some(ms(a.first_seen_at)),
            Some(ms(a.last_seen_at)),
            a.acknowledged_at.map(ms),
            a.resolved_at.map(ms),
        ])
    }
}

/// An alert flattened into column values, in `ALERT_WRITE_COLUMNS` order.
pub(crate) struct AlertValues(crate::AlertRecord);

impl AlertValues {
    pub fn of(a: &crate::AlertRecord) -> AlertValues {
        AlertValues(a.clone())
    }

    pub fn bind<'q, DB>(
        self,
        q: Query<'q, DB, DB::Arguments<'q>>,
    ) -> Query<'q, DB, DB::Arguments<'q>>
    where
        DB: Database,
        String: Encode<'q, DB> + Type<DB>,
        Option<String>: Encode<'q, DB> + Type<DB>,
        i64: Encode<'q, DB> + Type<DB>,
        Option<i64>: Encode<'q, DB> + Type<DB>,
    {
        let a = self.0;
        q.bind(a.service)
            .bind(a.dedup_key)
            .bind(a.status.as_str().to_owned())
            .bind(a.summary)
            .bind(a.severity)
            .bind(a.source_severity)
            .bind(a.source)
            .bind(a.origin)
            .bind(a.integration_id)
            .bind(to_json(&a.labels, "{}"))
            .bind(to_json(&a.details, "{}"))
            .bind(to_json(&a.links, "[]"))
            .bind(a.generator_url)
            .bind(a.group_key)
            .bind(a.incident_id)
            .bind(a.suppressed_by)
            .bind(a.event_count)
            .bind(a.starts_at.map(ms))
            .bind(a.ends_at.map(ms))
            .bind(ms(a.first_seen_at))
            .bind(ms(a.last_seen_at))
            .bind(a.acknowledged_at.map(ms))
            .bind(a.resolved_at.map(ms))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SilenceRow {
    id: String,
    matchers: String,
    starts_at: i64,
    ends_at: i64,
    created_by: String,
    comment: String,
    created_at: i64,
}

impl SilenceRow {
    /// Reads `id, matchers, starts_at, ends_at, created_by, comment, created_at`.
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<SilenceRow> {
        Ok(SilenceRow {
            id: r.get(0)?,
            matchers: r.get(1)?,
            starts_at: r.get(2)?,
            ends_at: r.get(3)?,
            created_by: r.get(4)?,
            comment: r.get(5)?,
            created_at: r.get(6)?,
        })
    }
}

impl TryFrom<SilenceRow> for crate::SilenceRecord {
    type Error = StoreError;
    fn try_from(r: SilenceRow) -> Result<crate::SilenceRecord, StoreError> {
        Ok(crate::SilenceRecord {
            matchers: json("silence matchers", &r.matchers)?,
            starts_at: ts(r.starts_at)?,
            ends_at: ts(r.ends_at)?,
            created_at: ts(r.created_at)?,
            id: r.id,
            created_by: r.created_by,
            comment: r.comment,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct IntegrationRow {
    id: String,
    service: String,
    name: String,
    kind: String,
    key_hint: String,
    config: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<IntegrationRow> for crate::IntegrationRecord {
    type Error = StoreError;
    fn try_from(r: IntegrationRow) -> Result<crate::IntegrationRecord, StoreError> {
        Ok(crate::IntegrationRecord {
            config: json("integration config", &r.config)?,
            created_at: ts(r.created_at)?,
            revoked_at: opt_ts(r.revoked_at)?,
            id: r.id,
            service: r.service,
            name: r.name,
            kind: r.kind,
            key_hint: r.key_hint,
        })
    }
}

/// Pushes one alert row, id first, in `ALERT_WRITE_COLUMNS` order into a
/// multi-row insert; `json_cast` follows each JSON value (`::jsonb` on PostgreSQL).
pub(crate) fn push_alert_row<'args, DB>(
    row: &mut sqlx::query_builder::Separated<'_, 'args, DB, &'static str>,
    a: &crate::AlertRecord,
    json_cast: &'static str,
) where
    DB: Database,
    String: Encode<'args, DB> + Type<DB>,
    Option<String>: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
    Option<i64>: Encode<'args, DB> + Type<DB>,
{
    row.push_bind(a.id)
        .push_bind(a.service.clone())
        .push_bind(a.dedup_key.clone())
        .push_bind(a.status.as_str().to_owned())
        .push_bind(a.summary.clone())
        .push_bind(a.severity.clone())
        .push_bind(a.source_severity.clone())
        .push_bind(a.source.clone())
        .push_bind(a.origin.clone())
        .push_bind(a.integration_id.clone())
        .push_bind(to_json(&a.labels, "{}"))
        .push_unseparated(json_cast)
        .push_bind(to_json(&a.details, "{}"))
        .push_unseparated(json_cast)
        .push_bind(to_json(&a.links, "[]"))
        .push_unseparated(json_cast)
        .push_bind(a.generator_url.clone())
        .push_bind(a.group_key.clone())
        .push_bind(a.incident_id.clone())
        .push_bind(a.suppressed_by.clone())
        .push_bind(a.event_count)
        .push_bind(a.starts_at.map(ms))
        .push_bind(a.ends_at.map(ms))
        .push_bind(ms(a.first_seen_at))
        .push_bind(ms(a.last_seen_at))
        .push_bind(a.acknowledged_at.map(ms))
        .push_bind(a.resolved_at.map(ms));
}

/// Alerts per multi-row statement: 24 values each, well under SQLite's
/// 32,766 and PostgreSQL's 65,535 bind parameters.
pub(crate) const ALERT_CHUNK: usize = 400;
