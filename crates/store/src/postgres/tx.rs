//! `PgTx`: one write transaction; incidents are locked with `FOR UPDATE`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use sqlx::{Postgres, QueryBuilder, Transaction};
use warroom_domain::{Incident, NewEvent, TimelineEvent};

use super::{ALERT_VALUES, INCIDENT_COLUMNS, WRITE_VALUES};
use crate::row::{
    event_data, ms, number_events, push_alert_row, AlertRow, AlertValues, IncidentRow,
    IncidentValues, SilenceRow, ALERT_CHUNK, ALERT_WRITE_COLUMNS, WRITE_COLUMNS,
};
use crate::{AlertGroup, AlertRecord, BumpedAlert, Repeat, SilenceRecord, StoreError, WriteTx};

/// JSONB columns come back as text so both backends share `AlertRow`.
pub(super) const ALERT_COLUMNS: &str = "id, service, dedup_key, status, summary, severity, \
     source_severity, source, origin, integration_id, labels::text AS labels, \
     details::text AS details, links::text AS links, generator_url, \
     group_key, incident_id, suppressed_by, event_count, starts_at, ends_at, first_seen_at, \
     last_seen_at, acknowledged_at, resolved_at";

pub struct PgTx {
    pub(super) tx: Transaction<'static, Postgres>,
}

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

impl WriteTx for PgTx {
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
             last_event_seq = last_event_seq + $23 WHERE id = $22 RETURNING last_event_seq"
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

    async fn open_alert(
        &mut self,
        service: &str,
        dedup_key: &str,
    ) -> Result<Option<AlertRecord>, StoreError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts \
             WHERE service = $1 AND dedup_key = $2 AND status = 'firing'"
        );
        let row: Option<AlertRow> = sqlx::query_as(&sql)
            .bind(service)
            .bind(dedup_key)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn bump_open_alerts(
        &mut self,
        repeats: &[Repeat<'_>],
    ) -> Result<Vec<BumpedAlert>, StoreError> {
        let mut bumped = Vec::new();
        for chunk in repeats.chunks(ALERT_CHUNK) {
            let mut update = QueryBuilder::<Postgres>::new(
                "UPDATE alerts AS a SET event_count = a.event_count + r.times, \
                 last_seen_at = r.now, summary = r.summary, details = r.details::jsonb, \
                 links = r.links::jsonb, ends_at = COALESCE(r.ends_at, a.ends_at) FROM (",
            );
            update.push_values(chunk, |mut row, r| {
                row.push_bind(r.service)
                    .push_bind(r.dedup_key)
                    .push_bind(r.times)
                    .push_unseparated("::bigint")
                    .push_bind(ms(r.now))
                    .push_unseparated("::bigint")
                    .push_bind(r.summary)
                    .push_bind(crate::row::to_json(&r.details, "{}"))
                    .push_bind(crate::row::to_json(&r.links, "[]"))
                    .push_bind(r.ends_at.map(ms))
                    .push_unseparated("::bigint");
            });
            update.push(
                ") AS r (service, dedup_key, times, now, summary, details, links, ends_at) \
                 WHERE a.service = r.service AND a.dedup_key = r.dedup_key \
                 AND a.status = 'firing' RETURNING a.service, a.dedup_key, a.id, a.incident_id",
            );
            let rows: Vec<BumpedAlert> = update.build_query_as().fetch_all(&mut *self.tx).await?;
            bumped.extend(rows);
        }
        Ok(bumped)
    }

    async fn reserve_alert_ids(&mut self, n: u32) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence('alerts', 'id')) FROM generate_series(1, $1)",
        )
        .bind(i64::from(n))
        .fetch_all(&mut *self.tx)
        .await?)
    }

    async fn insert_alerts(&mut self, alerts: &[AlertRecord]) -> Result<(), StoreError> {
        for chunk in alerts.chunks(ALERT_CHUNK) {
            let mut insert = QueryBuilder::<Postgres>::new(format!(
                "INSERT INTO alerts (id, {ALERT_WRITE_COLUMNS}) "
            ));
            insert.push_values(chunk, |mut row, a| push_alert_row(&mut row, a, "::jsonb"));
            insert.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn update_alert(&mut self, alert: &AlertRecord) -> Result<(), StoreError> {
        let sql =
            format!("UPDATE alerts SET ({ALERT_WRITE_COLUMNS}) = ({ALERT_VALUES}) WHERE id = $24");
        AlertValues::of(alert)
            .bind(sqlx::query(&sql))
            .bind(alert.id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn has_paging_alerts(&mut self, incident_id: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM alerts WHERE incident_id = $1 \
             AND status = 'firing' AND suppressed_by IS NULL)",
        )
        .bind(incident_id)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn alert_group(&mut self, group_key: &str) -> Result<Option<AlertGroup>, StoreError> {
        let row: Option<(String, String, String, i64)> = sqlx::query_as(
            "SELECT group_key, service, incident_id, last_alert_at FROM alert_groups \
             WHERE group_key = $1",
        )
        .bind(group_key)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|(group_key, service, incident_id, at)| {
            Ok(AlertGroup {
                group_key,
                service,
                incident_id,
                last_alert_at: crate::row::ts(at)?,
            })
        })
        .transpose()
    }

    async fn put_alert_group(&mut self, group: &AlertGroup) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO alert_groups (group_key, service, incident_id, last_alert_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (group_key) DO UPDATE SET \
             service = excluded.service, incident_id = excluded.incident_id, \
             last_alert_at = excluded.last_alert_at",
        )
        .bind(&group.group_key)
        .bind(&group.service)
        .bind(&group.incident_id)
        .bind(ms(group.last_alert_at))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn live_silences(&mut self, now: Timestamp) -> Result<Vec<SilenceRecord>, StoreError> {
        let rows: Vec<SilenceRow> = sqlx::query_as(
            "SELECT id, matchers::text AS matchers, starts_at, ends_at, created_by, comment, \
             created_at FROM silences WHERE ends_at > $1 ORDER BY created_at",
        )
        .bind(ms(now))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn expired_alerts(
        &mut self,
        origin: &str,
        now: Timestamp,
        stale_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE status = 'firing' AND origin = $1 \
             AND ends_at IS NOT NULL AND ends_at <= $2 \
             UNION ALL \
             SELECT {ALERT_COLUMNS} FROM alerts WHERE status = 'firing' AND origin = $1 \
             AND ends_at IS NULL AND last_seen_at < $3 LIMIT $4"
        );
        let rows: Vec<AlertRow> = sqlx::query_as(&sql)
            .bind(origin)
            .bind(ms(now))
            .bind(ms(stale_before))
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn suppressed_firing(&mut self, limit: u32) -> Result<Vec<AlertRecord>, StoreError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE status = 'firing' \
             AND suppressed_by IS NOT NULL ORDER BY id LIMIT $1"
        );
        let rows: Vec<AlertRow> = sqlx::query_as(&sql)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn count_firing(&mut self, service: &str) -> Result<i64, StoreError> {
        let count: Option<i64> =
            sqlx::query_scalar("SELECT firing FROM alert_counts WHERE service = $1")
                .bind(service)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(count.unwrap_or(0))
    }

    async fn add_firing(&mut self, service: &str, delta: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO alert_counts (service, firing) VALUES ($1, $2) \
             ON CONFLICT (service) DO UPDATE SET firing = alert_counts.firing + excluded.firing",
        )
        .bind(service)
        .bind(delta)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn firing_labels(&mut self) -> Result<Vec<BTreeMap<String, String>>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT service, labels::text FROM alerts WHERE status = 'firing'")
                .fetch_all(&mut *self.tx)
                .await?;
        rows.into_iter()
            .map(|(service, labels)| {
                let mut labels: BTreeMap<String, String> = serde_json::from_str(&labels)
                    .map_err(|e| StoreError::Corrupt(format!("alert labels: {e}")))?;
                labels.entry("service".to_owned()).or_insert(service);
                Ok(labels)
            })
            .collect()
    }

    async fn next_expiry(&mut self, origin: &str) -> Result<Option<Timestamp>, StoreError> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(ends_at) FROM alerts WHERE status = 'firing' AND origin = $1 \
             AND ends_at IS NOT NULL",
        )
        .bind(origin)
        .fetch_one(&mut *self.tx)
        .await?;
        next.map(crate::row::ts).transpose()
    }

    async fn journal_applied(&mut self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT seq FROM ingest_applied WHERE id = 1")
                .fetch_one(&mut *self.tx)
                .await?,
        )
    }

    async fn set_journal_applied(&mut self, seq: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE ingest_applied SET seq = GREATEST(seq, $1) WHERE id = 1")
            .bind(seq)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }

    async fn commit_and_continue(&mut self) -> Result<bool, StoreError> {
        // sqlx still counts one open transaction, and there is one again.
        sqlx::query("COMMIT").execute(&mut *self.tx).await?;
        sqlx::query("BEGIN").execute(&mut *self.tx).await?;
        // Other transactions commit between a run's own, at any time.
        Ok(false)
    }
}
