//! The embedded SQLite backend: one file in WAL mode, the transaction
//! writer (`tx.rs`, rusqlite; transactions queue for it in-process), one
//! sqlx connection for the writes outside a transaction (SQLite's write
//! lock orders the two), a small pool of readers that never block on them,
//! and the checkpointer.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite, Transaction};
use tokio::sync::Mutex;
use warroom_domain::{AccessRole, Incident, TimelineEvent};

use crate::row::{ms, AlertRow, EventRow, IncidentRow, IntegrationRow, SilenceRow, TokenRow};
use crate::{
    like_pattern, AlertCounts, AlertFilter, AlertRecord, ApiToken, IncidentFilter, IncidentPage,
    IntegrationRecord, PageCursor, SilenceRecord, Store, StoreError, WriteTx as _,
};

mod dead_letters;
mod ingest_journal;
mod oncall;
mod open_keys;
mod tx;
mod wal_file;

pub use ingest_journal::SqliteJournal;
pub use tx::SqliteTx;
use tx::ALERT_COLUMNS;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

const INCIDENT_COLUMNS: &str = "id, seq, title, summary, severity, category, services, status, \
     customer_facing, users_affected, roles, checklist, declared_by, impact_started_at, \
     detected_at, declared_at, acknowledged_at, mitigated_at, resolved_at, closed_at, updated_at";

/// Placeholders for `WRITE_COLUMNS`.
const WRITE_VALUES: &str = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";

const INTEGRATION_COLUMNS: &str =
    "id, service, name, kind, key_hint, config, created_at, revoked_at";

const TOKEN_COLUMNS: &str = "id, name, role, created_at, revoked_at";

/// The writer connection's page cache: 8 MiB (negative = KiB), a fixed
/// share of memory however many alerts are stored. New alerts append to
/// their B-trees, so the hot pages are few; the default 2 MiB re-read index
/// pages from the OS on every batch. It was 32 MiB while the dedup lookup
/// was a random-keyed index; since that moved into memory (`open_keys`),
/// 8 MiB is as fast and peaks 70 MB lower with a million open alerts.
const WRITER_CACHE_SIZE: &str = "-8192";

/// WAL pages between the writer's checkpoints: ~40 MiB rather than 4, so a
/// page rewritten by many batches is copied back once.
const WRITER_AUTOCHECKPOINT: u32 = 10_000;

/// How long a writer waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct SqliteStore {
    /// sqlx's writer: the writes outside `SqliteTx`.
    pub(crate) writer: SqlitePool,
    reader: SqlitePool,
    /// The connection every `SqliteTx` writes through (rusqlite).
    tx_writer: Arc<Mutex<tx::Writer>>,
    /// The `-wal` file `sync_committed` syncs, kept open. Shared, like
    /// every field: each request clones the store several times over.
    wal: Arc<wal_file::WalFile>,
    /// The database file, beside which the ingest journal keeps its own.
    path: Arc<std::path::PathBuf>,
    /// `checkpoint_wal` runs while any clone of the store lives.
    _checkpointer: Arc<()>,
}

/// How often the checkpointer copies committed WAL pages into the database
/// while nothing is being written.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// How often while the WAL grows: a pass then copies what ~20 ms of writes
/// added (some 500 pages while 100-alert requests stream in), and the
/// writer's own checkpoint finds almost nothing left to copy.
const CHECKPOINT_BUSY_EVERY: Duration = Duration::from_millis(20);

/// Copies committed pages from the WAL into the database file on a
/// connection of its own, so that the writer's automatic checkpoint
/// (`WRITER_AUTOCHECKPOINT`), which runs inside some request's commit, has
/// little to copy. A passive checkpoint takes no lock the writer needs.
/// Only the writer can start the WAL over, and only once every frame is
/// copied: on a slow timer the checkpointer falls behind under load, the
/// writer's own checkpoint then copies thousands of pages and fsyncs inside
/// a commit, and every request in flight waits for it. So while the WAL
/// grows it runs every 20 ms.
async fn checkpoint_wal(options: SqliteConnectOptions, alive: std::sync::Weak<()>) {
    use sqlx::{ConnectOptions as _, Connection as _};
    let mut conn: Option<sqlx::SqliteConnection> = None;
    let mut pause = CHECKPOINT_EVERY;
    let mut last_frames = 0;
    loop {
        tokio::time::sleep(pause).await;
        if alive.strong_count() == 0 {
            break;
        }
        if conn.is_none() {
            match options.connect().await {
                Ok(opened) => conn = Some(opened),
                Err(err) => {
                    tracing::warn!(error = %err, "the WAL checkpointer cannot connect");
                    continue;
                }
            }
        }
        let Some(checkpointer) = conn.as_mut() else {
            continue;
        };
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *checkpointer)
            .await
        {
            Ok((_, frames, _)) => {
                pause = if frames != last_frames {
                    CHECKPOINT_BUSY_EVERY
                } else {
                    CHECKPOINT_EVERY
                };
                last_frames = frames;
            }
            Err(err) => {
                tracing::warn!(error = %err, "a WAL checkpoint failed; retrying on a new connection");
                conn = None;
            }
        }
    }
    if let Some(conn) = conn {
        let _ = conn.close().await;
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("wal", &self.wal.path())
            .finish_non_exhaustive()
    }
}

async fn load_incident(
    exec: impl sqlx::SqliteExecutor<'_>,
    id: &str,
) -> Result<Incident, StoreError> {
    let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?");
    let row: Option<IncidentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(exec).await?;
    row.ok_or_else(|| StoreError::NotFound(format!("incident {id}")))?
        .try_into()
}

/// Runs `f`, which may block on SQLite's lock or an fsync, where it cannot
/// stall other tasks: on a multi-threaded runtime the worker hands its
/// other tasks on first (`block_in_place`); elsewhere it just runs.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite://path` URL.
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL {url:?}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before we answer 2xx, even if the machine dies.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // Statement journals and sorts in memory, not in temporary files:
            // every multi-row insert needs a statement journal.
            .pragma("temp_store", "memory");
        // Writes outside `SqliteTx` (tokens, silences, the directory,
        // claims of jobs and messages) and the migrations.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone().read_only(true))
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
        let filename = options.get_filename();
        if filename == std::path::Path::new(":memory:") {
            return Err(StoreError::Unavailable(format!(
                "{url} is in memory; Warroom keeps its data in a file: use sqlite://PATH"
            )));
        }
        let mut wal = filename.as_os_str().to_owned();
        wal.push("-wal");
        let path = Arc::new(filename.to_owned());
        let writer_path = Arc::clone(&path);
        let tx_writer = tokio::task::spawn_blocking(move || tx::Writer::open(&writer_path))
            .await
            .map_err(|e| StoreError::Unavailable(format!("opening the writer failed: {e}")))??;
        let alive = Arc::new(());
        tokio::spawn(checkpoint_wal(options, Arc::downgrade(&alive)));
        Ok(SqliteStore {
            writer,
            reader,
            tx_writer: Arc::new(Mutex::new(tx_writer)),
            wal: Arc::new(wal_file::WalFile::new(std::path::Path::new(&wal))),
            path,
            _checkpointer: alive,
        })
    }

    /// `BEGIN IMMEDIATE` takes the write lock up front, so another process
    /// (say `warroom token create` next to a running server) waits its turn
    /// instead of failing half-way through a read-then-write transaction.
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    fn write_pool(&self) -> &SqlitePool {
        &self.writer
    }

    fn read_pool(&self) -> &SqlitePool {
        &self.reader
    }

    async fn write_begin(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.write_tx().await
    }

    /// The database file, which other files are named after
    /// (`<database>-ingest`, the server secret's `<database>.secret`).
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    type Tx = SqliteTx;

    async fn begin(&self) -> Result<SqliteTx, StoreError> {
        SqliteTx::begin(&self.tx_writer, tx::Synchronous::Full).await
    }

    type Journal = SqliteJournal;

    /// Opens `<database>-ingest`, first moving into it what the main
    /// database's `ingest_journal` table still holds from a version that
    /// journaled there.
    async fn open_journal(&self) -> Result<SqliteJournal, StoreError> {
        let old: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, body FROM ingest_journal ORDER BY seq")
                .fetch_all(&self.writer)
                .await?;
        let database: String = sqlx::query_scalar("SELECT journal FROM ingest_applied")
            .fetch_one(&self.writer)
            .await?;
        let journal = blocking(|| {
            let mut journal = SqliteJournal::open(&self.path, &database)?;
            if !old.is_empty() {
                journal.adopt(&old)?;
            }
            Ok::<_, StoreError>(journal)
        })?;
        if let Some((last, _)) = old.last() {
            sqlx::query("DELETE FROM ingest_journal WHERE seq <= ?")
                .bind(last)
                .execute(&self.writer)
                .await?;
            tracing::info!(
                entries = old.len(),
                "moved the ingest journal into its own file"
            );
        }
        Ok(journal)
    }

    /// Commits in the run skip SQLite's own fsync (`synchronous = NORMAL`,
    /// set before `BEGIN` since SQLite refuses it inside a transaction);
    /// every transaction sets its own, so the next `begin` syncs again.
    async fn begin_run(&self) -> Result<SqliteTx, StoreError> {
        SqliteTx::begin(&self.tx_writer, tx::Synchronous::Normal).await
    }

    /// One `fdatasync` of the WAL file, where every commit's frames are
    /// written before it returns: once it is on disk, so is each commit
    /// made before this call. (A checkpoint that moved frames into the
    /// database file syncs that file itself before the WAL is reused.)
    fn sync_committed(&self) -> Result<(), StoreError> {
        self.wal.sync()
    }

    async fn warm_up(&self) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.load_open_keys()?;
        tx.commit().await
    }

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

    async fn insert_token(
        &self,
        name: &str,
        role: AccessRole,
        hash: &str,
        now: Timestamp,
    ) -> Result<ApiToken, StoreError> {
        let sql = format!(
            "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES (?, ?, ?, ?) \
             RETURNING {TOKEN_COLUMNS}"
        );
        let row: TokenRow = sqlx::query_as(&sql)
            .bind(name)
            .bind(role.as_str())
            .bind(hash)
            .bind(ms(now))
            .fetch_one(&self.writer)
            .await
            .map_err(|e| token_conflict(e, name))?;
        row.try_into()
    }

    async fn insert_first_token(
        &self,
        name: &str,
        role: AccessRole,
        hash: &str,
        now: Timestamp,
    ) -> Result<Option<ApiToken>, StoreError> {
        let mut tx = self.write_tx().await?;
        let sql = format!(
            "INSERT INTO api_tokens (name, role, token_hash, created_at) \
             SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM api_tokens) \
             RETURNING {TOKEN_COLUMNS}"
        );
        let row: Option<TokenRow> = sqlx::query_as(&sql)
            .bind(name)
            .bind(role.as_str())
            .bind(hash)
            .bind(ms(now))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn find_token(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"
        );
        let row: Option<TokenRow> = sqlx::query_as(&sql)
            .bind(hash)
            .fetch_optional(&self.reader)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id");
        let rows: Vec<TokenRow> = sqlx::query_as(&sql).fetch_all(&self.reader).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn revoke_token(&self, name: &str, now: Timestamp) -> Result<ApiToken, StoreError> {
        // BEGIN IMMEDIATE: the write lock is held from the count to the update.
        let mut tx = self.write_tx().await?;
        let live_admins: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM api_tokens WHERE role = 'admin' AND revoked_at IS NULL",
        )
        .fetch_all(&mut *tx)
        .await?;
        refuse_last_admin_token(name, &live_admins)?;
        let sql = format!(
            "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL \
             RETURNING {TOKEN_COLUMNS}"
        );
        let row: Option<TokenRow> = sqlx::query_as(&sql)
            .bind(ms(now))
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let row = row.ok_or_else(|| StoreError::NotFound(format!("live token named {name:?}")))?;
        tx.commit().await?;
        row.try_into()
    }

    async fn list_alerts(&self, f: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE 1 = 1"));
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
        if let Some(before) = f.before_id {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(f.limit.clamp(1, crate::MAX_PAGE)));
        let rows: Vec<AlertRow> = q.build_query_as().fetch_all(&self.reader).await?;
        rows.into_iter().map(TryInto::try_into).collect()
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

    async fn insert_integration(
        &self,
        i: &IntegrationRecord,
        key_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO integrations (id, service, name, kind, key_hash, key_hint, config, \
             created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&i.id)
        .bind(&i.service)
        .bind(&i.name)
        .bind(&i.kind)
        .bind(key_hash)
        .bind(&i.key_hint)
        .bind(i.config.to_string())
        .bind(ms(i.created_at))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn find_integration(
        &self,
        key_hash: &str,
    ) -> Result<Option<IntegrationRecord>, StoreError> {
        let sql = format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations \
             WHERE key_hash = ? AND revoked_at IS NULL"
        );
        let row: Option<IntegrationRow> = sqlx::query_as(&sql)
            .bind(key_hash)
            .fetch_optional(&self.reader)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_integrations(&self) -> Result<Vec<IntegrationRecord>, StoreError> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations ORDER BY created_at");
        let rows: Vec<IntegrationRow> = sqlx::query_as(&sql).fetch_all(&self.reader).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn rotate_integration_key(
        &self,
        id: &str,
        key_hash: &str,
        key_hint: &str,
    ) -> Result<IntegrationRecord, StoreError> {
        let sql = format!(
            "UPDATE integrations SET key_hash = ?, key_hint = ? \
             WHERE id = ? AND revoked_at IS NULL RETURNING {INTEGRATION_COLUMNS}"
        );
        let row: Option<IntegrationRow> = sqlx::query_as(&sql)
            .bind(key_hash)
            .bind(key_hint)
            .bind(id)
            .fetch_optional(&self.writer)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("live integration {id}")))?
            .try_into()
    }

    async fn revoke_integration(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<IntegrationRecord, StoreError> {
        let sql = format!(
            "UPDATE integrations SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL \
             RETURNING {INTEGRATION_COLUMNS}"
        );
        let row: Option<IntegrationRow> = sqlx::query_as(&sql)
            .bind(ms(now))
            .bind(id)
            .fetch_optional(&self.writer)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("live integration {id}")))?
            .try_into()
    }
}

/// Turns `limit + 1` fetched rows into a page and its continuation cursor.
pub(crate) fn page(rows: Vec<IncidentRow>, limit: u32) -> Result<IncidentPage, StoreError> {
    let mut incidents: Vec<Incident> = rows
        .into_iter()
        .map(TryInto::try_into)
        .collect::<Result<_, _>>()?;
    let more = incidents.len() > limit as usize;
    incidents.truncate(limit as usize);
    let next = more.then(|| {
        let last = incidents.last().expect("a page with more has a last row");
        PageCursor {
            declared_at_ms: ms(last.declared_at),
            id: last.id.clone(),
        }
    });
    Ok(IncidentPage { incidents, next })
}

/// `Conflict` when `name` is the only live admin token in `live_admins`.
pub(crate) fn refuse_last_admin_token(
    name: &str,
    live_admins: &[String],
) -> Result<(), StoreError> {
    if live_admins.len() == 1 && live_admins[0] == name {
        return Err(StoreError::Conflict(format!(
            "{name:?} is the last live admin token; create another admin token first \
             (warroom token create --role admin), then revoke this one"
        )));
    }
    Ok(())
}

pub(crate) fn token_conflict(err: sqlx::Error, name: &str) -> StoreError {
    match StoreError::from(err) {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("a token named {name:?} already exists"))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests;
