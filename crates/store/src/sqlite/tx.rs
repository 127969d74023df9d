//! `SqliteTx`: one write transaction (`BEGIN IMMEDIATE`) on the writer
//! connection, which rusqlite drives on the calling thread. A statement
//! costs microseconds this way; through sqlx, each one was a round trip to
//! the connection's worker thread, tens of microseconds of thread wake-ups
//! that bounded how many batches of alerts the writer could commit.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, ToSql};
use tokio::sync::{Mutex, OwnedMutexGuard};
use warroom_domain::{Incident, NewEvent, TimelineEvent};

use super::open_keys::OpenKeys;
use super::{blocking, INCIDENT_COLUMNS, WRITE_VALUES};
use crate::row::{
    event_data, ms, number_events, AlertJson, AlertRow, AlertTimes, IncidentRow, IncidentValues,
    SilenceRow, ALERT_WRITE_COLUMNS, WRITE_COLUMNS,
};
use crate::{AlertGroup, AlertRecord, BumpedAlert, Repeat, SilenceRecord, StoreError, WriteTx};
use warroom_domain::alert::AlertStatus;

pub(super) const ALERT_COLUMNS: &str = "id, service, dedup_key, status, summary, severity, \
     source_severity, source, origin, integration_id, labels, details, links, generator_url, \
     group_key, incident_id, suppressed_by, event_count, starts_at, ends_at, first_seen_at, \
     last_seen_at, acknowledged_at, resolved_at";

/// Prepared statements kept per connection: every statement the writer
/// runs, each prepared once.
const STATEMENT_CACHE: usize = 96;

/// How long a transaction waits for the writer before it gives up.
const WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The one connection every `SqliteTx` writes through, in turn.
pub(super) struct Writer {
    conn: Connection,
    /// `PRAGMA data_version` when the open transaction began: it changes
    /// only when another connection commits.
    data_version: i64,
    /// The firing alerts' keys: the dedup lookup (`open_keys`).
    open_keys: OpenKeys,
    /// What this writer puts in `alert_keys_owner` when it loads
    /// `open_keys`: random, so another process's writer never matches it.
    owner: String,
}

impl Writer {
    /// Opens the writer on an existing database file (sqlx created it and
    /// put it in WAL mode).
    pub(super) fn open(path: &std::path::Path) -> Result<Writer, StoreError> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(super::BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // As the sqlx connections (see `SqliteStore::connect`), plus the
        // writer's own page cache and checkpoint interval.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA temp_store = memory; PRAGMA cache_size = {}; \
             PRAGMA wal_autocheckpoint = {};",
            super::WRITER_CACHE_SIZE,
            super::WRITER_AUTOCHECKPOINT,
        ))?;
        let open_keys = OpenKeys::new();
        let owner = format!(
            "{:016x}-{}",
            std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), std::process::id()),
            std::process::id()
        );
        Ok(Writer {
            conn,
            data_version: 0,
            open_keys,
            owner,
        })
    }

    fn begin(&mut self, synchronous: Synchronous) -> Result<(), StoreError> {
        // Cached statements: a run begins a transaction per batch, and
        // preparing these each time showed up in its profile.
        let pragma = match synchronous {
            Synchronous::Full => "PRAGMA synchronous = FULL",
            Synchronous::Normal => "PRAGMA synchronous = NORMAL",
        };
        self.conn.prepare_cached(pragma)?.execute([])?;
        self.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        match self.read_data_version() {
            Ok(version) => {
                self.data_version = version;
                Ok(())
            }
            Err(err) => {
                // No `SqliteTx` will own this transaction: end it here.
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(err)
            }
        }
    }

    fn read_data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?)
    }
}

/// How the transaction's commit syncs: `Full` fsyncs the WAL in COMMIT,
/// `Normal` leaves it to `Store::sync_committed` (a run's transactions).
#[derive(Clone, Copy)]
pub(super) enum Synchronous {
    Full,
    Normal,
}

pub struct SqliteTx {
    writer: OwnedMutexGuard<Writer>,
    /// False once committed, or when a run's next `BEGIN` failed: the
    /// connection is then outside any transaction and must not be written.
    open: bool,
    /// Whether this transaction has checked `alert_keys_owner` yet.
    keys_checked: bool,
}

impl SqliteTx {
    /// Waits for the writer, then begins with `synchronous` (`FULL`: each
    /// commit fsyncs; `NORMAL` in a run, synced by `sync_committed`).
    pub(super) async fn begin(
        writer: &Arc<Mutex<Writer>>,
        synchronous: Synchronous,
    ) -> Result<SqliteTx, StoreError> {
        // As sqlx's pools do: a writer held for this long is stuck, and an
        // error beats a request that never answers.
        let mut guard = tokio::time::timeout(WRITER_WAIT, writer.clone().lock_owned())
            .await
            .map_err(|_| {
                StoreError::Unavailable(format!(
                    "the SQLite writer stayed busy for {} s",
                    WRITER_WAIT.as_secs()
                ))
            })?;
        // May wait for another process's write lock (the busy timeout).
        blocking(|| guard.begin(synchronous))?;
        Ok(SqliteTx {
            writer: guard,
            open: true,
            keys_checked: false,
        })
    }

    fn conn(&self) -> Result<&Connection, StoreError> {
        if self.open {
            Ok(&self.writer.conn)
        } else {
            Err(StoreError::Unavailable(
                "the write transaction has ended; begin a new one".into(),
            ))
        }
    }

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

    fn select_alerts(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let mut stmt = self.conn()?.prepare_cached(sql)?;
        let rows = stmt.query_map(params, AlertRow::from_sqlite)?;
        rows.map(|row| row?.try_into()).collect()
    }

    /// Runs one statement with `params`, for the `PagingTx` and `CommsTx`
    /// writes.
    pub(super) fn execute(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<(), StoreError> {
        self.conn()?.prepare_cached(sql)?.execute(params)?;
        Ok(())
    }

    /// The first row of `sql`, if any, read by `map`.
    pub(super) fn query_optional<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self
            .conn()?
            .prepare_cached(sql)?
            .query_row(params, map)
            .optional()?)
    }

    /// Every row of `sql`, each read by `map`.
    pub(super) fn query_all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn()?.prepare_cached(sql)?;
        let rows = stmt.query_map(params, map)?;
        Ok(rows.collect::<rusqlite::Result<Vec<T>>>()?)
    }
}

impl SqliteTx {
    /// A run's commit: the transaction ends, the connection stays held.
    pub(super) fn commit_in_run(&mut self) -> Result<(), StoreError> {
        self.conn()?.execute_batch("COMMIT")?;
        self.open = false;
        self.writer.open_keys.committed();
        Ok(())
    }

    /// Begins a run's next transaction after `commit_in_run`; whether no
    /// other connection committed in between. A failure only ends the run
    /// (the last batch is committed): this transaction stays closed.
    pub(super) fn begin_in_run(&mut self) -> bool {
        let previous = self.writer.data_version;
        match self.writer.begin(Synchronous::Normal) {
            Ok(()) => {
                self.open = true;
                self.keys_checked = false;
                self.writer.data_version == previous
            }
            Err(err) => {
                tracing::warn!(error = %err, "the SQLite writer could not begin its next transaction");
                false
            }
        }
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if self.open {
            if let Err(err) = self.writer.conn.execute_batch("ROLLBACK") {
                tracing::warn!(error = %err, "rolling back a SQLite write transaction failed");
            }
        }
        // Whatever did not commit is gone from the table: from the map too.
        self.writer.open_keys.rolled_back();
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

impl WriteTx for SqliteTx {
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
            .map(|(service, labels)| {
                let mut labels: BTreeMap<String, String> = serde_json::from_str(&labels)
                    .map_err(|e| StoreError::Corrupt(format!("alert labels: {e}")))?;
                labels.entry("service".to_owned()).or_insert(service);
                Ok(labels)
            })
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

    async fn journal_applied(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .conn()?
            .prepare_cached("SELECT seq FROM ingest_applied WHERE id = 1")?
            .query_row([], |r| r.get(0))?)
    }

    async fn set_journal_applied(&mut self, seq: i64) -> Result<(), StoreError> {
        self.conn()?
            .prepare_cached("UPDATE ingest_applied SET seq = max(seq, ?1) WHERE id = 1")?
            .execute([seq])?;
        Ok(())
    }

    async fn commit(mut self) -> Result<(), StoreError> {
        if !self.open {
            return Ok(());
        }
        // With synchronous = FULL the commit waits for its fsync.
        let result = blocking(|| self.writer.conn.execute_batch("COMMIT"));
        // Committed, or rolled back by SQLite: no longer open. A failed
        // commit that left it open is rolled back by `Drop`, which also
        // takes the transaction's changes out of `open_keys`.
        self.open = !self.writer.conn.is_autocommit();
        if result.is_ok() {
            self.writer.open_keys.committed();
        }
        Ok(result?)
    }

    async fn commit_and_continue(&mut self) -> Result<bool, StoreError> {
        self.commit_in_run()?;
        Ok(self.begin_in_run())
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
