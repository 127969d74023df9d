//! Incidents on SQLite: reads on the reader pool, writes in `SqliteTx`.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, ToSql};
use sqlx::{QueryBuilder, Sqlite};
use warroom_domain::incident::Moved;
use warroom_domain::{Incident, NewEvent, TimelineEvent};

use super::{SqliteStore, SqliteTx};
use crate::incidents::{like_pattern, page, ChangeRow, ESCALATION_JOB_KINDS};
use crate::row::{
    event_data, ms, number_events, EventRow, IncidentRow, IncidentValues, WRITE_COLUMNS,
};
use crate::{IncidentChange, IncidentFilter, IncidentPage, IncidentStore, IncidentTx, StoreError};

const INCIDENT_COLUMNS: &str = "id, seq, title, summary, severity, category, services, status, \
     customer_facing, users_affected, roles, checklist, declared_by, impact_started_at, \
     detected_at, declared_at, acknowledged_at, mitigated_at, resolved_at, closed_at, updated_at, \
     bridge_url, chat_url";

/// Placeholders for `WRITE_COLUMNS`.
const WRITE_VALUES: &str = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";

async fn load_incident(
    exec: impl sqlx::SqliteExecutor<'_>,
    id: &str,
) -> Result<Incident, StoreError> {
    let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?");
    let row: Option<IncidentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(exec).await?;
    row.ok_or_else(|| StoreError::NotFound(format!("incident {id}")))?
        .try_into()
}

impl IncidentStore for SqliteStore {
    async fn get_incident(&self, id: &str) -> Result<Incident, StoreError> {
        load_incident(&self.reader, id).await
    }

    async fn list_incidents(&self, f: &IncidentFilter) -> Result<IncidentPage, StoreError> {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE 1 = 1"
        ));
        if !f.statuses.is_empty() {
            q.push(" AND status IN (");
            let mut list = q.separated(", ");
            for s in &f.statuses {
                list.push_bind(s.as_str());
            }
            q.push(")");
        }
        if !f.severities.is_empty() {
            q.push(" AND severity IN (");
            let mut list = q.separated(", ");
            for s in &f.severities {
                list.push_bind(s.clone());
            }
            q.push(")");
        }
        if let Some(service) = &f.service {
            q.push(" AND EXISTS (SELECT 1 FROM json_each(incidents.services) WHERE value = ")
                .push_bind(service.clone())
                .push(")");
        }
        if let Some(category) = &f.category {
            q.push(" AND category = ").push_bind(category.clone());
        }
        if let Some(from) = f.declared_from {
            q.push(" AND declared_at >= ").push_bind(ms(from));
        }
        if let Some(until) = f.declared_until {
            q.push(" AND declared_at < ").push_bind(ms(until));
        }
        if let Some(text) = &f.text {
            let pattern = like_pattern(text);
            q.push(" AND (id LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR title LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR summary LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        if let Some(after) = &f.after {
            q.push(" AND (declared_at, id) < (")
                .push_bind(after.declared_at_ms)
                .push(", ")
                .push_bind(after.id.clone())
                .push(")");
        }
        let limit = f.limit.clamp(1, crate::MAX_PAGE);
        q.push(" ORDER BY declared_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let rows: Vec<IncidentRow> = q.build_query_as().fetch_all(&self.reader).await?;
        page(rows, limit)
    }

    async fn timeline(
        &self,
        incident_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT incident_id, seq, at, actor, data FROM timeline_events \
             WHERE incident_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(incident_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        if rows.is_empty() {
            // Distinguish "no events" from "no such incident".
            load_incident(&self.reader, incident_id).await?;
        }
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn timeline_tail(
        &self,
        incident_id: &str,
        limit: u32,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT incident_id, seq, at, actor, data FROM timeline_events \
             WHERE incident_id = ? ORDER BY seq DESC LIMIT ?",
        )
        .bind(incident_id)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        if rows.is_empty() {
            load_incident(&self.reader, incident_id).await?;
        }
        rows.into_iter().rev().map(TryInto::try_into).collect()
    }

    async fn incidents_changed_since(
        &self,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<IncidentChange>, StoreError> {
        let rows: Vec<ChangeRow> = sqlx::query_as(
            "SELECT e.incident_id AS id, i.status, MAX(e.seq) AS last_event_seq, \
                    MAX(e.at) AS updated_at \
             FROM timeline_events e JOIN incidents i ON i.id = e.incident_id \
             WHERE e.at > $1 GROUP BY e.incident_id, i.status \
             ORDER BY MAX(e.at), e.incident_id LIMIT $2",
        )
        .bind(since_ms)
        .bind(i64::from(limit.clamp(1, crate::MAX_PAGE)))
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

impl SqliteTx {
    /// Numbers and inserts `events` after the incident's last one, moving
    /// its `updated_at` too when given: one statement takes the numbers.
    fn append_events(
        &self,
        incident_id: &str,
        events: Vec<NewEvent>,
        updated_at: Option<Timestamp>,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        let conn = self.conn()?;
        let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
        let taken: Option<i64> = conn
            .prepare_cached(
                "UPDATE incidents SET last_event_seq = last_event_seq + ?1, \
                 updated_at = COALESCE(?2, updated_at) WHERE id = ?3 RETURNING last_event_seq",
            )?
            .query_row((count, updated_at.map(ms), incident_id), |r| r.get(0))
            .optional()?;
        let taken = taken.ok_or_else(|| StoreError::NotFound(format!("incident {incident_id}")))?;
        let stored = number_events(incident_id, taken - count, events);
        let mut insert = conn.prepare_cached(
            "INSERT INTO timeline_events (incident_id, seq, at, actor, kind, data) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for e in &stored {
            insert.execute((
                &e.incident_id,
                e.seq,
                ms(e.at),
                &e.actor,
                e.kind.name(),
                event_data(&e.kind),
            ))?;
        }
        Ok(stored)
    }

    fn load_incident(&self, id: &str) -> Result<Incident, StoreError> {
        let row = self
            .conn()?
            .prepare_cached(&format!(
                "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1"
            ))?
            .query_row([id], IncidentRow::from_sqlite)
            .optional()?;
        row.ok_or_else(|| StoreError::NotFound(format!("incident {id}")))?
            .try_into()
    }
}

impl IncidentTx for SqliteTx {
    async fn declare_incident<F>(
        &mut self,
        scope: &str,
        make: F,
    ) -> Result<(Incident, Vec<TimelineEvent>), StoreError>
    where
        F: FnOnce(i64) -> (Incident, Vec<NewEvent>) + Send,
    {
        let conn = self.conn()?;
        let seq: i64 = conn
            .prepare_cached(
                "INSERT INTO incident_sequences (scope, last_seq) VALUES (?1, 1) \
                 ON CONFLICT (scope) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
            )?
            .query_row([scope], |r| r.get(0))?;
        let (incident, events) = make(seq);
        let values = IncidentValues::of(&incident);
        conn.prepare_cached(&format!(
            "INSERT INTO incidents ({WRITE_COLUMNS}) VALUES ({WRITE_VALUES})"
        ))?
        .execute(&values.sqlite_params()[..])
        .map_err(|e| crate::error::duplicate_incident(e, &incident.id))?;
        let stored = self.append_events(&incident.id, events, None)?;
        Ok((incident, stored))
    }

    async fn lock_incident(&mut self, id: &str) -> Result<Incident, StoreError> {
        // BEGIN IMMEDIATE already holds the database's write lock.
        self.load_incident(id)
    }

    async fn append_incident_events(
        &mut self,
        incident: &Incident,
        events: Vec<NewEvent>,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        self.append_events(&incident.id, events, Some(incident.updated_at))
    }

    async fn save_incident(
        &mut self,
        incident: &Incident,
        events: Vec<NewEvent>,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        // The row-value form keeps the column list in one place (`WRITE_COLUMNS`).
        let update =
            format!("UPDATE incidents SET ({WRITE_COLUMNS}) = ({WRITE_VALUES}) WHERE id = ?");
        let values = IncidentValues::of(incident);
        let mut params: Vec<&dyn ToSql> = values.sqlite_params().to_vec();
        params.push(&incident.id);
        self.conn()?.prepare_cached(&update)?.execute(&params[..])?;
        self.append_events(&incident.id, events, None)
    }

    async fn move_to_survivor(&mut self, from: &str, into: &str) -> Result<Moved, StoreError> {
        let conn = self.conn()?;
        let alerts = conn
            .prepare_cached("UPDATE alerts SET incident_id = ?2 WHERE incident_id = ?1")?
            .execute((from, into))?;
        conn.prepare_cached("UPDATE alert_groups SET incident_id = ?2 WHERE incident_id = ?1")?
            .execute((from, into))?;
        // Sequence numbers count from 1 per incident: `from`'s copies follow `into`'s last.
        let (base, shift): (i64, i64) = conn
            .prepare_cached(
                "SELECT i.last_event_seq, f.last_event_seq FROM incidents i, incidents f \
                 WHERE i.id = ?2 AND f.id = ?1",
            )?
            .query_row((from, into), |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("incident {from} or {into}")))?;
        // Timelines are append-only (a trigger refuses edits): the events
        // are copied, and the duplicate keeps its own history.
        let events = conn
            .prepare_cached(
                "INSERT INTO timeline_events (incident_id, seq, at, actor, kind, data) \
                 SELECT ?2, seq + ?3, at, actor, kind, data FROM timeline_events \
                 WHERE incident_id = ?1 ORDER BY seq",
            )?
            .execute((from, into, base))?;
        conn.prepare_cached(
            "UPDATE incidents SET last_event_seq = last_event_seq + ?2 WHERE id = ?1",
        )?
        .execute((into, shift))?;
        let messages = conn
            .prepare_cached("UPDATE outbox SET incident_id = ?2 WHERE incident_id = ?1")?
            .execute((from, into))?;
        let escalated: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM escalations WHERE incident_id = ?1)")?
            .query_row([into], |r| r.get(0))?;
        if !escalated {
            conn.prepare_cached("UPDATE escalations SET incident_id = ?2 WHERE incident_id = ?1")?
                .execute((from, into))?;
            conn.prepare_cached(&format!(
                "UPDATE paging_jobs SET incident_id = ?2 WHERE incident_id = ?1 \
                 AND done_at IS NULL AND kind IN {ESCALATION_JOB_KINDS}"
            ))?
            .execute((from, into))?;
        }
        Ok(Moved {
            alerts: alerts as u64,
            events: events as u64,
            messages: messages as u64,
        })
    }
}
