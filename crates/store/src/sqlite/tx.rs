//! `SqliteTx`: one write transaction (`BEGIN IMMEDIATE`) on the writer connection.

use std::collections::BTreeMap;

use jiff::Timestamp;
use sqlx::{QueryBuilder, Sqlite, Transaction};
use warroom_domain::{Incident, NewEvent, TimelineEvent};

use super::{INCIDENT_COLUMNS, WRITE_VALUES};
use crate::row::{
    event_data, ms, number_events, push_alert_row, AlertRow, AlertValues, IncidentRow,
    IncidentValues, SilenceRow, ALERT_CHUNK, ALERT_WRITE_COLUMNS, WRITE_COLUMNS,
};
use crate::{AlertGroup, AlertRecord, BumpedAlert, Repeat, SilenceRecord, StoreError, WriteTx};

pub(super) const ALERT_COLUMNS: &str = "id, service, dedup_key, status, summary, severity, \
     source_severity, source, origin, integration_id, labels, details, links, generator_url, \
     group_key, incident_id, suppressed_by, event_count, starts_at, ends_at, first_seen_at, \
     last_seen_at, acknowledged_at, resolved_at";

pub struct SqliteTx {
    pub(super) tx: Transaction<'static, Sqlite>,
}

pub(super) async fn load_incident(
    exec: impl sqlx::SqliteExecutor<'_>,
    id: &str,
) -> Result<Incident, StoreError> {
    let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?");
    let row: Option<IncidentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(exec).await?;
    row.ok_or_else(|| StoreError::NotFound(format!("incident {id}")))?
        .try_into()
}

impl SqliteTx {
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
            "UPDATE incidents SET last_event_seq = last_event_seq + ?, \
             updated_at = COALESCE(?, updated_at) WHERE id = ? RETURNING last_event_seq",
        )
        .bind(count)
        .bind(updated_at.map(ms))
        .bind(incident_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        let taken = taken.ok_or_else(|| StoreError::NotFound(format!("incident {incident_id}")))?;
        let stored = number_events(incident_id, taken - count, events);
        // Multi-row inserts: an alert storm appends thousands of events at once.
        for chunk in stored.chunks(500) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO timeline_events (incident_id, seq, at, actor, kind, data) ",
            );
            insert.push_values(chunk, |mut row, e| {
                row.push_bind(&e.incident_id)
                    .push_bind(e.seq)
                    .push_bind(ms(e.at))
                    .push_bind(&e.actor)
                    .push_bind(e.kind.name())
                    .push_bind(event_data(&e.kind));
            });
            insert.build().execute(&mut *self.tx).await?;
        }
        Ok(stored)
    }
}

impl WriteTx for SqliteTx {
    async fn declare_incident<F>(
        &mut self,
        scope: &str,
        make: F,
    ) -> Result<(Incident, Vec<TimelineEvent>), StoreError>
    where
        F: FnOnce(i64) -> (Incident, Vec<NewEvent>) + Send,
    {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO incident_sequences (scope, last_seq) VALUES (?, 1) \
             ON CONFLICT (scope) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
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
        // BEGIN IMMEDIATE already holds the database's write lock.
        load_incident(&mut *self.tx, id).await
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
        let update =
            format!("UPDATE incidents SET ({WRITE_COLUMNS}) = ({WRITE_VALUES}) WHERE id = ?");
        IncidentValues::of(incident)
            .bind(sqlx::query(&update))
            .bind(&incident.id)
            .execute(&mut *self.tx)
            .await?;
        self.append_events(&incident.id, events, None).await
    }

    async fn open_alert(
        &mut self,
        service: &str,
        dedup_key: &str,
    ) -> Result<Option<AlertRecord>, StoreError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts \
             WHERE service = ? AND dedup_key = ? AND status = 'firing'"
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
            // VALUES columns are column1..column8 in SQLite.
            let mut update = QueryBuilder::<Sqlite>::new(
                "UPDATE alerts SET event_count = alerts.event_count + r.column3, \
                 last_seen_at = r.column4, summary = r.column5, details = r.column6, \
                 links = r.column7, ends_at = COALESCE(r.column8, alerts.ends_at) FROM (",
            );
            update.push_values(chunk, |mut row, r| {
                row.push_bind(r.service)
                    .push_bind(r.dedup_key)
                    .push_bind(r.times)
                    .push_bind(ms(r.now))
                    .push_bind(r.summary)
                    .push_bind(serde_json::Value::Object(r.details.clone()).to_string())
                    .push_bind(serde_json::json!(r.links).to_string())
                    .push_bind(r.ends_at.map(ms));
            });
            update.push(
                ") AS r WHERE alerts.service = r.column1 AND alerts.dedup_key = r.column2 \
                 AND alerts.status = 'firing' RETURNING service, dedup_key, id, incident_id",
            );
            let rows: Vec<BumpedAlert> = update.build_query_as().fetch_all(&mut *self.tx).await?;
            bumped.extend(rows);
        }
        Ok(bumped)
    }

    async fn reserve_alert_ids(&mut self, n: u32) -> Result<Vec<i64>, StoreError> {
        // AUTOINCREMENT keeps the highest id ever used in sqlite_sequence, and
        // BEGIN IMMEDIATE holds the only write lock: the ids above it are free
        // until this transaction inserts (the trait's contract).
        let last: i64 = sqlx::query_scalar(
            "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'alerts'), 0)",
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((last + 1..=last + i64::from(n)).collect())
    }

    async fn insert_alerts(&mut self, alerts: &[AlertRecord]) -> Result<(), StoreError> {
        for chunk in alerts.chunks(ALERT_CHUNK) {
            let mut insert = QueryBuilder::<Sqlite>::new(format!(
                "INSERT INTO alerts (id, {ALERT_WRITE_COLUMNS}) "
            ));
            insert.push_values(chunk, |mut row, a| push_alert_row(&mut row, a, ""));
            insert.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn update_alert(&mut self, alert: &AlertRecord) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE alerts SET ({ALERT_WRITE_COLUMNS}) = \
             (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE id = ?"
        );
        AlertValues::of(alert)
            .bind(sqlx::query(&sql))
            .bind(alert.id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn count_paging_alerts(&mut self, incident_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM alerts WHERE incident_id = ? AND status = 'firing' \
             AND suppressed_by IS NULL",
        )
        .bind(incident_id)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn alert_group(&mut self, group_key: &str) -> Result<Option<AlertGroup>, StoreError> {
        let row: Option<(String, String, String, i64)> = sqlx::query_as(
            "SELECT group_key, service, incident_id, last_alert_at FROM alert_groups \
             WHERE group_key = ?",
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
             VALUES (?, ?, ?, ?) ON CONFLICT (group_key) DO UPDATE SET \
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
            "SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at \
             FROM silences WHERE ends_at > ? ORDER BY created_at",
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
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE status = 'firing' AND origin = ? \
             AND ends_at IS NOT NULL AND ends_at <= ? \
             UNION ALL \
             SELECT {ALERT_COLUMNS} FROM alerts WHERE status = 'firing' AND origin = ? \
             AND ends_at IS NULL AND last_seen_at < ? LIMIT ?"
        );
        let rows: Vec<AlertRow> = sqlx::query_as(&sql)
            .bind(origin)
            .bind(ms(now))
            .bind(origin)
            .bind(ms(stale_before))
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn suppressed_firing(&mut self, limit: u32) -> Result<Vec<AlertRecord>, StoreError> {
        let sql = format!(
            // Without statistics SQLite prefers the status index, which scans
            // every firing alert; the partial index holds only suppressed ones.
            "SELECT {ALERT_COLUMNS} FROM alerts INDEXED BY alerts_suppressed \
             WHERE status = 'firing' AND suppressed_by IS NOT NULL ORDER BY id LIMIT ?"
        );
        let rows: Vec<AlertRow> = sqlx::query_as(&sql)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn count_firing(&mut self, service: &str) -> Result<i64, StoreError> {
        let count: Option<i64> =
            sqlx::query_scalar("SELECT firing FROM alert_counts WHERE service = ?")
                .bind(service)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(count.unwrap_or(0))
    }

    async fn add_firing(&mut self, service: &str, delta: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO alert_counts (service, firing) VALUES (?, ?) \
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
            sqlx::query_as("SELECT service, labels FROM alerts WHERE status = 'firing'")
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
            "SELECT MIN(ends_at) FROM alerts WHERE status = 'firing' AND origin = ? \
             AND ends_at IS NOT NULL",
        )
        .bind(origin)
        .fetch_one(&mut *self.tx)
        .await?;
        next.map(crate::row::ts).transpose()
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }

    async fn commit_and_continue(&mut self) -> Result<(), StoreError> {
        // sqlx still counts one open transaction, and there is one again.
        // One round trip to the connection's worker thread: SQLite runs
        // both statements of an unparameterised query.
        sqlx::query("COMMIT; BEGIN IMMEDIATE")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
