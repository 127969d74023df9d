//! Incidents on PostgreSQL: a changed incident is locked with
//! `FOR UPDATE`, and the per-scope sequence row serializes ID allocation
//! without gaps.

use jiff::Timestamp;
use sqlx::{Postgres, QueryBuilder};
use warroom_domain::incident::Moved;
use warroom_domain::{Incident, NewEvent, TimelineEvent};

use super::{PgStore, PgTx};
use crate::incidents::{like_pattern, page, ChangeRow, ESCALATION_JOB_KINDS};
use crate::row::{
    event_data, ms, number_events, EventRow, IncidentRow, IncidentValues, WRITE_COLUMNS,
};
use crate::{IncidentChange, IncidentFilter, IncidentPage, IncidentStore, IncidentTx, StoreError};

/// JSONB columns come back as text so both backends share `IncidentRow`.
const INCIDENT_COLUMNS: &str = "id, seq, title, summary, severity, category, \
     services::text AS services, status, customer_facing, users_affected, roles::text AS roles, \
     checklist::text AS checklist, declared_by, impact_started_at, detected_at, declared_at, \
     acknowledged_at, mitigated_at, resolved_at, closed_at, updated_at, bridge_url, chat_url";

/// Placeholders for `WRITE_COLUMNS`; JSON goes into JSONB columns.
const WRITE_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11::jsonb, \
     $12::jsonb, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23";

pub(super) async fn load_incident(
    exec: impl sqlx::PgExecutor<'_>,
    id: &str,
    for_update: bool,
) -> Result<Incident, StoreError> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1{lock}");
    let row: Option<IncidentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(exec).await?;
    row.ok_or_else(|| StoreError::NotFound(format!("incident {id}")))?
        .try_into()
}

impl IncidentStore for PgStore {
    async fn get_incident(&self, id: &str) -> Result<Incident, StoreError> {
        load_incident(&self.pool, id, false).await
    }

    async fn list_incidents(&self, f: &IncidentFilter) -> Result<IncidentPage, StoreError> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE TRUE"
        ));
        if !f.statuses.is_empty() {
            let statuses: Vec<String> = f.statuses.iter().map(|s| s.as_str().to_owned()).collect();
            q.push(" AND status = ANY(").push_bind(statuses).push(")");
        }
        if !f.severities.is_empty() {
            q.push(" AND severity = ANY(")
                .push_bind(f.severities.clone())
                .push(")");
        }
        if let Some(service) = &f.service {
            q.push(" AND services @> jsonb_build_array(")
                .push_bind(service.clone())
                .push("::text)");
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
            q.push(" AND (id ILIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR title ILIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR summary ILIKE ")
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
        let rows: Vec<IncidentRow> = q.build_query_as().fetch_all(&self.pool).await?;
        page(rows, limit)
    }

    async fn timeline(
        &self,
        incident_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT incident_id, seq, at, actor, data::text AS data FROM timeline_events \
             WHERE incident_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(incident_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            load_incident(&self.pool, incident_id, false).await?;
        }
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn timeline_tail(
        &self,
        incident_id: &str,
        limit: u32,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT incident_id, seq, at, actor, data::text AS data FROM timeline_events \
             WHERE incident_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(incident_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            load_incident(&self.pool, incident_id, false).await?;
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
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

impl PgTx {
    /// Numbers and inserts `events` after the incident's last one, moving
    /// its `updated_at` too when given: one statement takes the numbers.
    async fn append_events(
        &mut self,
        incident_id: &str,
        events: Vec<NewEvent>,
        updated_at: Option<Timestamp>,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
        let taken: Option<i64> = sqlx::query_scalar(
            "UPDATE incidents SET last_event_seq = last_event_seq + $1, \
             updated_at = COALESCE($2, updated_at) WHERE id = $3 RETURNING last_event_seq",
        )
        .bind(count)
        .bind(updated_at.map(ms))
        .bind(incident_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        let taken = taken.ok_or_else(|| StoreError::NotFound(format!("incident {incident_id}")))?;
        let stored = number_events(incident_id, taken - count, events);
        self.insert_events(&stored).await?;
        Ok(stored)
    }

    async fn insert_events(&mut self, stored: &[TimelineEvent]) -> Result<(), StoreError> {
        // Multi-row inserts: an alert storm appends thousands of events at once.
        for chunk in stored.chunks(500) {
            let mut insert = QueryBuilder::<Postgres>::new(
                "INSERT INTO timeline_events (incident_id, seq, at, actor, kind, data) ",
            );
            insert.push_values(chunk, |mut row, e| {
                row.push_bind(&e.incident_id)
                    .push_bind(e.seq)
                    .push_bind(ms(e.at))
                    .push_bind(&e.actor)
                    .push_bind(e.kind.name())
                    .push_bind(event_data(&e.kind))
                    .push_unseparated("::jsonb");
            });
            insert.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }
}

impl IncidentTx for PgTx {
    async fn declare_incident<F>(
        &mut self,
        scope: &str,
        make: F,
    ) -> Result<(Incident, Vec<TimelineEvent>), StoreError>
    where
        F: FnOnce(i64) -> (Incident, Vec<NewEvent>) + Send,
    {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO incident_sequences (scope, last_seq) VALUES ($1, 1) \
             ON CONFLICT (scope) DO UPDATE SET last_seq = incident_sequences.last_seq + 1 \
             RETURNING last_seq",
        )
        .bind(scope)
        .fetch_one(&mut *self.tx)
        .await?;
        let (incident, events) = make(seq);
        let insert = format!("INSERT INTO incidents ({WRITE_COLUMNS}) VALUES ({WRITE_VALUES})");
        IncidentValues::of(&incident)
            .bind(sqlx::query(&insert))
            .execute(&mut *self.tx)
            .await
            .map_err(|e| crate::error::duplicate_incident(e, &incident.id))?;
        let stored = self.append_events(&incident.id, events, None).await?;
        Ok((incident, stored))
    }

    async fn lock_incident(&mut self, id: &str) -> Result<Incident, StoreError> {
        load_incident(&mut *self.tx, id, true).await
    }

    async fn append_incident_events(
        &mut self,
        incident: &Incident,
        events: Vec<NewEvent>,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        self.append_events(&incident.id, events, Some(incident.updated_at))
            .await
    }

    async fn save_incident(
        &mut self,
        incident: &Incident,
        events: Vec<NewEvent>,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        // The row-value form keeps the column list in one place (`WRITE_COLUMNS`).
        // It also reserves the events' sequence numbers, so saving costs two
        // round trips (this and the insert), not four: the paging engine
        // saves an incident for every step it pages.
        let update = format!(
            "UPDATE incidents SET ({WRITE_COLUMNS}) = ({WRITE_VALUES}), \
             last_event_seq = last_event_seq + $25 WHERE id = $24 RETURNING last_event_seq"
        );
        let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
        let row = IncidentValues::of(incident)
            .bind(sqlx::query(&update))
            .bind(&incident.id)
            .bind(count)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("incident {}", incident.id)))?;
        let last: i64 = sqlx::Row::try_get(&row, 0)?;
        let stored = number_events(&incident.id, last - count, events);
        self.insert_events(&stored).await?;
        Ok(stored)
    }

    async fn move_to_survivor(&mut self, from: &str, into: &str) -> Result<Moved, StoreError> {
        let moved =
            |sql: &'static str| sqlx::query(sql).bind(from.to_owned()).bind(into.to_owned());
        let alerts = moved("UPDATE alerts SET incident_id = $2 WHERE incident_id = $1")
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        moved("UPDATE alert_groups SET incident_id = $2 WHERE incident_id = $1")
            .execute(&mut *self.tx)
            .await?;
        // Sequence numbers count from 1 per incident: `from`'s copies follow `into`'s last.
        let shifted: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE incidents i SET last_event_seq = i.last_event_seq + f.last_event_seq \
             FROM incidents f WHERE i.id = $2 AND f.id = $1 \
             RETURNING i.last_event_seq - f.last_event_seq, f.last_event_seq",
        )
        .bind(from)
        .bind(into)
        .fetch_optional(&mut *self.tx)
        .await?;
        let (base, _) =
            shifted.ok_or_else(|| StoreError::NotFound(format!("incident {from} or {into}")))?;
        // Timelines are append-only (a trigger refuses edits): the events
        // are copied, and the duplicate keeps its own history.
        let events = sqlx::query(
            "INSERT INTO timeline_events (incident_id, seq, at, actor, kind, data) \
             SELECT $2, seq + $3, at, actor, kind, data FROM timeline_events \
             WHERE incident_id = $1",
        )
        .bind(from)
        .bind(into)
        .bind(base)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        let messages = moved("UPDATE outbox SET incident_id = $2 WHERE incident_id = $1")
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        let escalated: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM escalations WHERE incident_id = $1)")
                .bind(into)
                .fetch_one(&mut *self.tx)
                .await?;
        if !escalated {
            moved("UPDATE escalations SET incident_id = $2 WHERE incident_id = $1")
                .execute(&mut *self.tx)
                .await?;
            sqlx::query(&format!(
                "UPDATE paging_jobs SET incident_id = $2 WHERE incident_id = $1 \
                 AND done_at IS NULL AND kind IN {ESCALATION_JOB_KINDS}"
            ))
            .bind(from)
            .bind(into)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(Moved {
            alerts,
            events,
            messages,
        })
    }
}
