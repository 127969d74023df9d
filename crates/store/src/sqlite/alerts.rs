//! Alerts on SQLite. The dedup lookup runs in memory (`open_keys`), on
//! the writer that `SqliteTx` holds; the lists read from the reader pool.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension};
use sqlx::{QueryBuilder, Sqlite};
use warroom_domain::alert::AlertStatus;

use super::open_keys::OpenKeys;
use super::{blocking, SqliteStore, SqliteTx};
use crate::row::{ms, ts, AlertJson, AlertRow, AlertTimes, SilenceRow, ALERT_WRITE_COLUMNS};
use crate::{
    AlertCounts, AlertFilter, AlertGroup, AlertGroupCount, AlertGrouping, AlertRecord, AlertStore,
    AlertTx, BumpedAlert, Repeat, SilenceRecord, StoreError,
};

pub(super) const ALERT_COLUMNS: &str = "id, service, dedup_key, status, summary, severity, \
     source_severity, source, origin, integration_id, labels, details, links, generator_url, \
     group_key, incident_id, suppressed_by, event_count, starts_at, ends_at, first_seen_at, \
     last_seen_at, acknowledged_at, resolved_at";

/// The conditions of `AlertFilter` but `limit` and `before_id`.
fn push_filter(q: &mut QueryBuilder<'_, Sqlite>, f: &AlertFilter) {
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
        q.push(" AND EXISTS (SELECT 1 FROM json_each(alerts.labels) WHERE key = ")
            .push_bind(name.clone())
            .push(" AND value = ")
            .push_bind(value.clone())
            .push(")");
    }
}

impl AlertStore for SqliteStore {
    async fn alert_counts(&self) -> Result<AlertCounts, StoreError> {
        let (firing, suppressed): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN suppressed_by IS NULL THEN 1 ELSE 0 END), 0), \
                    COALESCE(SUM(CASE WHEN suppressed_by IS NULL THEN 0 ELSE 1 END), 0) \
             FROM alerts WHERE status = 'firing'",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(AlertCounts { firing, suppressed })
    }

    async fn list_alerts(&self, f: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE 1 = 1"));
        push_filter(&mut q, f);
        if let Some(before) = f.before_id {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(f.limit.clamp(1, crate::MAX_PAGE)));
        let rows: Vec<AlertRow> = q.build_query_as().fetch_all(&self.reader).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn count_alert_groups(
        &self,
        f: &AlertFilter,
        by: AlertGrouping,
        groups: u32,
    ) -> Result<Vec<AlertGroupCount>, StoreError> {
        let key = match by {
            AlertGrouping::AlertName => "json_extract(labels, '$.alertname')",
            AlertGrouping::Service => "service",
            AlertGrouping::Incident => "incident_id",
        };
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {key} AS key, COUNT(*) AS count FROM alerts WHERE 1 = 1"
        ));
        push_filter(&mut q, f);
        q.push(" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ")
            .push_bind(i64::from(groups.max(1)));
        Ok(q.build_query_as().fetch_all(&self.reader).await?)
    }

    async fn firing_alert_labels(&self) -> Result<Vec<BTreeMap<String, String>>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT service, labels FROM alerts WHERE status = 'firing'")
                .fetch_all(&self.reader)
                .await?;
        rows.into_iter()
            .map(|(service, labels)| crate::row::labels_with_service(service, &labels))
            .collect()
    }

    async fn get_alert(&self, id: i64) -> Result<AlertRecord, StoreError> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?");
        let row: Option<AlertRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("alert {id}")))?
            .try_into()
    }

    async fn insert_silence(&self, s: &SilenceRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment, \
             created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&s.id)
        .bind(s.matchers.to_string())
        .bind(ms(s.starts_at))
        .bind(ms(s.ends_at))
        .bind(&s.created_by)
        .bind(&s.comment)
        .bind(ms(s.created_at))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn list_silences(
        &self,
        live_at: Option<Timestamp>,
    ) -> Result<Vec<SilenceRecord>, StoreError> {
        let rows: Vec<SilenceRow> = sqlx::query_as(
            "SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at \
             FROM silences WHERE ends_at > ? ORDER BY created_at DESC",
        )
        .bind(live_at.map(ms).unwrap_or(i64::MIN))
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn get_silence(&self, id: &str) -> Result<SilenceRecord, StoreError> {
        let row: Option<SilenceRow> = sqlx::query_as(
            "SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at \
             FROM silences WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.reader)
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
        let done = sqlx::query("UPDATE silences SET starts_at = ?, ends_at = ? WHERE id = ?")
            .bind(ms(starts_at))
            .bind(ms(ends_at))
            .bind(id)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("silence {id}")));
        }
        Ok(())
    }
}

impl SqliteTx {
    /// Loads `open_keys` now if this transaction's first lookup would
    /// (`Store::warm_up`).
    pub(super) fn load_open_keys(&mut self) -> Result<(), StoreError> {
        self.open_keys().map(|_| ())
    }

    /// The dedup lookup (`open_keys`). The first use in a transaction
    /// checks `alert_keys_owner`, and reloads the map from the table when
    /// it was never loaded or another writer has written alerts since.
    fn open_keys(&mut self) -> Result<(&Connection, &mut OpenKeys), StoreError> {
        self.conn()?;
        let writer = &mut *self.writer;
        if !self.keys_checked {
            let owner: Option<String> = writer
                .conn
                .prepare_cached("SELECT owner FROM alert_keys_owner WHERE id = 1")?
                .query_row([], |r| r.get(0))
                .optional()?;
            if !writer.open_keys.loaded || owner.as_deref() != Some(writer.owner.as_str()) {
                blocking(|| load_open_keys(&writer.conn, &mut writer.open_keys))?;
                writer
                    .conn
                    .prepare_cached(
                        "INSERT INTO alert_keys_owner (id, owner) VALUES (1, ?1) \
                         ON CONFLICT (id) DO UPDATE SET owner = excluded.owner",
                    )?
                    .execute([&writer.owner])?;
            }
            self.keys_checked = true;
        }
        Ok((&writer.conn, &mut writer.open_keys))
    }

    fn select_alerts(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let mut stmt = self.conn()?.prepare_cached(sql)?;
        let rows = stmt.query_map(params, AlertRow::from_sqlite)?;
        rows.map(|row| row?.try_into()).collect()
    }
}

/// `?1, ?2, … ?n`.
fn numbered(from: usize, to: usize) -> String {
    (from..=to)
        .map(|n| format!("?{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One alert row, id first (`AlertJson::sqlite_params`).
static INSERT_ALERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO alerts (id, {ALERT_WRITE_COLUMNS}) VALUES ({})",
        numbered(1, 24)
    )
});

/// Every column of an alert by id, with the same parameters as `INSERT_ALERT`.
static UPDATE_ALERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE alerts SET ({ALERT_WRITE_COLUMNS}) = ({}) WHERE id = ?1",
        numbered(2, 24)
    )
});

impl AlertTx for SqliteTx {
    async fn open_alert(
        &mut self,
        service: &str,
        dedup_key: &str,
    ) -> Result<Option<AlertRecord>, StoreError> {
        let (_, keys) = self.open_keys()?;
        let candidates: Vec<i64> = keys.candidates(service, dedup_key).collect();
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts \
             WHERE id = ?1 AND service = ?2 AND dedup_key = ?3 AND status = 'firing'"
        );
        for id in candidates {
            if let Some(alert) = self.select_alerts(&sql, (id, service, dedup_key))?.pop() {
                return Ok(Some(alert));
            }
        }
        Ok(None)
    }

    async fn bump_open_alerts(
        &mut self,
        repeats: &[Repeat<'_>],
    ) -> Result<Vec<BumpedAlert>, StoreError> {
        let (conn, keys) = self.open_keys()?;
        // A key not firing (every alert of a storm of new ones) is a miss
        // in memory and costs no statement; a candidate is updated only if
        // its row still fires with that key.
        let mut update = conn.prepare_cached(
            "UPDATE alerts SET event_count = event_count + ?2, last_seen_at = ?3, \
             summary = ?4, details = ?5, links = ?6, ends_at = COALESCE(?7, ends_at) \
             WHERE id = ?1 AND service = ?8 AND dedup_key = ?9 AND status = 'firing' \
             RETURNING incident_id",
        )?;
        let mut bumped = Vec::new();
        for r in repeats {
            for id in keys.candidates(r.service, r.dedup_key) {
                let incident_id: Option<Option<String>> = update
                    .query_row(
                        (
                            id,
                            r.times,
                            ms(r.now),
                            r.summary,
                            crate::row::to_json(&r.details, "{}"),
                            crate::row::to_json(&r.links, "[]"),
                            r.ends_at.map(ms),
                            r.service,
                            r.dedup_key,
                        ),
                        |row| row.get(0),
                    )
                    .optional()?;
                if let Some(incident_id) = incident_id {
                    bumped.push(BumpedAlert {
                        service: r.service.to_owned(),
                        dedup_key: r.dedup_key.to_owned(),
                        id,
                        incident_id,
                    });
                    break;
                }
            }
        }
        Ok(bumped)
    }

    async fn reserve_alert_ids(&mut self, n: u32) -> Result<Vec<i64>, StoreError> {
        // AUTOINCREMENT keeps the highest id ever used in sqlite_sequence, and
        // BEGIN IMMEDIATE holds the only write lock: the ids above it are free
        // until this transaction inserts (the trait's contract).
        let last: i64 = self
            .conn()?
            .prepare_cached(
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'alerts'), 0)",
            )?
            .query_row([], |r| r.get(0))?;
        Ok((last + 1..=last + i64::from(n)).collect())
    }

    async fn insert_alerts(&mut self, alerts: &[AlertRecord]) -> Result<(), StoreError> {
        let (conn, keys) = self.open_keys()?;
        let mut insert = conn.prepare_cached(&INSERT_ALERT)?;
        for a in alerts {
            let firing = a.status == AlertStatus::Firing;
            if firing {
                // One firing alert per (service, dedup key), as the unique
                // index did: a new key has no candidate and costs nothing.
                for id in keys.candidates(&a.service, &a.dedup_key) {
                    if fires_as(conn, id, &a.service, &a.dedup_key)? {
                        return Err(StoreError::Conflict(format!(
                            "alert {id} already fires with dedup key {:?} in service {:?}",
                            a.dedup_key, a.service
                        )));
                    }
                }
            }
            let (json, times) = (AlertJson::of(a), AlertTimes::of(a));
            insert.execute(&json.sqlite_params(a, &times)[..])?;
            if firing {
                keys.add(keys.hash(&a.service, &a.dedup_key), a.id);
            }
        }
        Ok(())
    }

    async fn update_alert(&mut self, alert: &AlertRecord) -> Result<(), StoreError> {
        let (json, times) = (AlertJson::of(alert), AlertTimes::of(alert));
        self.conn()?
            .prepare_cached(&UPDATE_ALERT)?
            .execute(&json.sqlite_params(alert, &times)[..])?;
        let (_, keys) = self.open_keys()?;
        let (service, key) = (&alert.service, &alert.dedup_key);
        if alert.status != AlertStatus::Firing {
            keys.remove(service, key, alert.id);
        } else if !keys.candidates(service, key).any(|id| id == alert.id) {
            keys.add(keys.hash(service, key), alert.id);
        }
        Ok(())
    }

    async fn has_paging_alerts(&mut self, incident_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()?
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM alerts WHERE incident_id = ?1 \
                 AND status = 'firing' AND suppressed_by IS NULL)",
            )?
            .query_row([incident_id], |r| r.get(0))?)
    }

    async fn last_firing_seen(
        &mut self,
        incident_id: &str,
    ) -> Result<Option<Timestamp>, StoreError> {
        let seen: Option<i64> = self
            .conn()?
            .prepare_cached(
                "SELECT MAX(last_seen_at) FROM alerts WHERE incident_id = ?1 AND status = 'firing'",
            )?
            .query_row([incident_id], |r| r.get(0))?;
        seen.map(ts).transpose()
    }

    async fn alert_group(&mut self, group_key: &str) -> Result<Option<AlertGroup>, StoreError> {
        let row: Option<(String, String, String, i64)> = self.query_optional(
            "SELECT group_key, service, incident_id, last_alert_at FROM alert_groups \
             WHERE group_key = ?1",
            [group_key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
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
        self.execute(
            "INSERT INTO alert_groups (group_key, service, incident_id, last_alert_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (group_key) DO UPDATE SET \
             service = excluded.service, incident_id = excluded.incident_id, \
             last_alert_at = excluded.last_alert_at",
            (
                &group.group_key,
                &group.service,
                &group.incident_id,
                ms(group.last_alert_at),
            ),
        )
    }

    async fn live_silences(&mut self, now: Timestamp) -> Result<Vec<SilenceRecord>, StoreError> {
        let rows = self.query_all(
            "SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at \
             FROM silences WHERE ends_at > ?1 ORDER BY created_at",
            [ms(now)],
            SilenceRow::from_sqlite,
        )?;
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
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE status = 'firing' AND origin = ?1 \
             AND ends_at IS NOT NULL AND ends_at <= ?2 \
             UNION ALL \
             SELECT {ALERT_COLUMNS} FROM alerts WHERE status = 'firing' AND origin = ?1 \
             AND ends_at IS NULL AND last_seen_at < ?3 LIMIT ?4"
        );
        self.select_alerts(&sql, (origin, ms(now), ms(stale_before), i64::from(limit)))
    }

    async fn suppressed_firing(&mut self, limit: u32) -> Result<Vec<AlertRecord>, StoreError> {
        let sql = format!(
            // Without statistics SQLite prefers the status index, which scans
            // every firing alert; the partial index holds only suppressed ones.
            "SELECT {ALERT_COLUMNS} FROM alerts INDEXED BY alerts_suppressed \
             WHERE status = 'firing' AND suppressed_by IS NOT NULL ORDER BY id LIMIT ?1"
        );
        self.select_alerts(&sql, [i64::from(limit)])
    }

    async fn count_firing(&mut self, service: &str) -> Result<i64, StoreError> {
        let count = self.query_optional(
            "SELECT firing FROM alert_counts WHERE service = ?1",
            [service],
            |r| r.get(0),
        )?;
        Ok(count.unwrap_or(0))
    }

    async fn add_firing(&mut self, service: &str, delta: i64) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO alert_counts (service, firing) VALUES (?1, ?2) \
             ON CONFLICT (service) DO UPDATE SET firing = alert_counts.firing + excluded.firing",
            (service, delta),
        )
    }

    async fn firing_labels(&mut self) -> Result<Vec<BTreeMap<String, String>>, StoreError> {
        let rows: Vec<(String, String)> = self.query_all(
            "SELECT service, labels FROM alerts WHERE status = 'firing'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        rows.into_iter()
            .map(|(service, labels)| crate::row::labels_with_service(service, &labels))
            .collect()
    }

    async fn next_expiry(&mut self, origin: &str) -> Result<Option<Timestamp>, StoreError> {
        let next: Option<i64> = self
            .conn()?
            .prepare_cached(
                "SELECT MIN(ends_at) FROM alerts WHERE status = 'firing' AND origin = ?1 \
                 AND ends_at IS NOT NULL",
            )?
            .query_row([origin], |r| r.get(0))?;
        next.map(crate::row::ts).transpose()
    }
}

/// Fills `keys` with every firing alert in the table.
fn load_open_keys(conn: &Connection, keys: &mut OpenKeys) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    keys.clear();
    let mut stmt =
        conn.prepare("SELECT id, service, dedup_key FROM alerts WHERE status = 'firing'")?;
    let mut rows = stmt.query([])?;
    let mut count = 0u64;
    while let Some(row) = rows.next()? {
        let (id, service, key): (i64, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        keys.load(&service, &key, id);
        count += 1;
    }
    keys.loaded = true;
    tracing::debug!(count, elapsed = ?started.elapsed(), "loaded the firing alerts' dedup keys");
    Ok(())
}

/// Whether alert `id` fires with this key: a candidate from `open_keys`,
/// checked against its row.
fn fires_as(
    conn: &Connection,
    id: i64,
    service: &str,
    dedup_key: &str,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM alerts WHERE id = ?1 AND service = ?2 \
             AND dedup_key = ?3 AND status = 'firing')",
        )?
        .query_row((id, service, dedup_key), |r| r.get(0))?)
}
