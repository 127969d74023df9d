//! Alerts on PostgreSQL: the dedup lookup is a unique index, and the
//! writes go many rows per statement.

use std::collections::BTreeMap;

use jiff::Timestamp;
use sqlx::{Postgres, QueryBuilder};

use super::{PgStore, PgTx};
use crate::row::{
    ms, push_alert_row, ts, AlertRow, AlertValues, SilenceRow, ALERT_CHUNK, ALERT_WRITE_COLUMNS,
};
use crate::{
    AlertCounts, AlertFilter, AlertGroup, AlertGroupCount, AlertGrouping, AlertRecord, AlertStore,
    AlertTx, BumpedAlert, Repeat, SilenceRecord, StoreError,
};

/// JSONB columns come back as text so both backends share `AlertRow`.
const ALERT_COLUMNS: &str = "id, service, dedup_key, status, summary, severity, \
     source_severity, source, origin, integration_id, labels::text AS labels, \
     details::text AS details, links::text AS links, generator_url, \
     group_key, incident_id, suppressed_by, event_count, starts_at, ends_at, first_seen_at, \
     last_seen_at, acknowledged_at, resolved_at";

/// Placeholders for `ALERT_WRITE_COLUMNS`; JSON goes into JSONB columns.
const ALERT_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, \
     $12::jsonb, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23";

/// The conditions of `AlertFilter` but `limit` and `before_id`.
fn push_filter(q: &mut QueryBuilder<'_, Postgres>, f: &AlertFilter) {
    if let Some(status) = f.status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    match f.suppressed {
        Some(true) => {
            q.push(" AND suppressed_by IS NOT NULL");
        }
        Some(false) => {
            q.push(" AND suppressed_by IS NULL");
        }
        None => {}
    }
    if let Some(service) = &f.service {
        q.push(" AND service = ").push_bind(service.clone());
    }
    if let Some(incident) = &f.incident_id {
        q.push(" AND incident_id = ").push_bind(incident.clone());
    }
    if let Some(integration) = &f.integration_id {
        q.push(" AND integration_id = ")
            .push_bind(integration.clone());
    }
    for (name, value) in &f.labels {
        q.push(" AND labels ->> ")
            .push_bind(name.clone())
            .push(" = ")
            .push_bind(value.clone());
    }
}

impl AlertStore for PgStore {
    async fn alert_counts(&self) -> Result<AlertCounts, StoreError> {
        let (firing, suppressed): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN suppressed_by IS NULL THEN 1 ELSE 0 END), 0), \
                    COALESCE(SUM(CASE WHEN suppressed_by IS NULL THEN 0 ELSE 1 END), 0) \
             FROM alerts WHERE status = 'firing'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(AlertCounts { firing, suppressed })
    }

    async fn list_alerts(&self, f: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE TRUE"));
        push_filter(&mut q, f);
        if let Some(before) = f.before_id {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(f.limit.clamp(1, crate::MAX_PAGE)));
        let rows: Vec<AlertRow> = q.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn count_alert_groups(
        &self,
        f: &AlertFilter,
        by: AlertGrouping,
        groups: u32,
    ) -> Result<Vec<AlertGroupCount>, StoreError> {
        let key = match by {
            AlertGrouping::AlertName => "labels ->> 'alertname'",
            AlertGrouping::Service => "service",
            AlertGrouping::Incident => "incident_id",
        };
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {key} AS key, COUNT(*) AS count FROM alerts WHERE TRUE"
        ));
        push_filter(&mut q, f);
        q.push(" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ")
            .push_bind(i64::from(groups.max(1)));
        Ok(q.build_query_as().fetch_all(&self.pool).await?)
    }

    async fn firing_alert_labels(&self) -> Result<Vec<BTreeMap<String, String>>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT service, labels::text FROM alerts WHERE status = 'firing'")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(service, labels)| crate::row::labels_with_service(service, &labels))
            .collect()
    }

    async fn get_alert(&self, id: i64) -> Result<AlertRecord, StoreError> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1");
        let row: Option<AlertRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("alert {id}")))?
            .try_into()
    }

    async fn insert_silence(&self, s: &SilenceRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment, \
             created_at) VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7)",
        )
        .bind(&s.id)
        .bind(s.matchers.to_string())
        .bind(ms(s.starts_at))
        .bind(ms(s.ends_at))
        .bind(&s.created_by)
        .bind(&s.comment)
        .bind(ms(s.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_silences(
        &self,
        live_at: Option<Timestamp>,
    ) -> Result<Vec<SilenceRecord>, StoreError> {
        let rows: Vec<SilenceRow> = sqlx::query_as(
            "SELECT id, matchers::text AS matchers, starts_at, ends_at, created_by, comment, \
             created_at FROM silences WHERE ends_at > $1 ORDER BY created_at DESC",
        )
        .bind(live_at.map(ms).unwrap_or(i64::MIN))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn get_silence(&self, id: &str) -> Result<SilenceRecord, StoreError> {
        let row: Option<SilenceRow> = sqlx::query_as(
            "SELECT id, matchers::text AS matchers, starts_at, ends_at, created_by, comment, \
             created_at FROM silences WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("silence {id}")))?
            .try_into()
    }

    async fn set_silence_window(
        &self,
        id: &str,
        starts_at: Timestamp,
        ends_at: Timestamp,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE silences SET starts_at = $1, ends_at = $2 WHERE id = $3")
            .bind(ms(starts_at))
            .bind(ms(ends_at))
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("silence {id}")));
        }
        Ok(())
    }
}

impl AlertTx for PgTx {
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

    async fn last_firing_seen(
        &mut self,
        incident_id: &str,
    ) -> Result<Option<Timestamp>, StoreError> {
        let seen: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(last_seen_at) FROM alerts WHERE incident_id = $1 AND status = 'firing'",
        )
        .bind(incident_id)
        .fetch_one(&mut *self.tx)
        .await?;
        seen.map(ts).transpose()
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
            .map(|(service, labels)| crate::row::labels_with_service(service, &labels))
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
}
