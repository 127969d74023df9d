//! The embedded SQLite backend: one file in WAL mode, the transaction
//! writer (`tx.rs`, rusqlite; transactions queue for it in-process), one
//! sqlx connection for the writes outside a transaction (SQLite's write
//! lock orders the two), a small pool of readers that never block on them,
//! and the checkpointer.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use tokio::sync::Mutex;

use crate::{Store, StoreError};

mod accounts;
mod alerts;
mod dead_letters;
mod directory;
mod incidents;
mod ingest;
mod ingest_journal;
mod open_keys;
mod queue;
mod tokens;
mod tx;
mod wal_file;

pub use ingest_journal::SqliteJournal;
pub use tx::SqliteTx;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

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
}

#[cfg(test)]
mod tests;
