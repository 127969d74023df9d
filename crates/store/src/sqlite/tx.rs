//! `SqliteTx`: one write transaction (`BEGIN IMMEDIATE`) on the writer
//! connection, which rusqlite drives on the calling thread. A statement
//! costs microseconds this way; through sqlx, each one was a round trip to
//! the connection's worker thread, tens of microseconds of thread wake-ups
//! that bounded how many batches of alerts the writer could commit.

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::open_keys::OpenKeys;
use super::{blocking, SqliteStore};
use crate::{StoreError, TxStore, WriteTx};

/// Prepared statements kept per connection: every statement the writer
/// runs, each prepared once.
const STATEMENT_CACHE: usize = 96;

/// How long a transaction waits for the writer before it gives up.
const WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The one connection every `SqliteTx` writes through, in turn.
pub(super) struct Writer {
    pub(super) conn: Connection,
    /// `PRAGMA data_version` when the open transaction began: it changes
    /// only when another connection commits.
    data_version: i64,
    /// The firing alerts' keys: the dedup lookup (`open_keys`).
    pub(super) open_keys: OpenKeys,
    /// What this writer puts in `alert_keys_owner` when it loads
    /// `open_keys`: random, so another process's writer never matches it.
    pub(super) owner: String,
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
    pub(super) writer: OwnedMutexGuard<Writer>,
    /// False once committed, or when a run's next `BEGIN` failed: the
    /// connection is then outside any transaction and must not be written.
    open: bool,
    /// Whether this transaction has checked `alert_keys_owner` yet.
    pub(super) keys_checked: bool,
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

    pub(super) fn conn(&self) -> Result<&Connection, StoreError> {
        if self.open {
            Ok(&self.writer.conn)
        } else {
            Err(StoreError::Unavailable(
                "the write transaction has ended; begin a new one".into(),
            ))
        }
    }

    /// Runs one statement with `params`.
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

impl TxStore for SqliteStore {
    type Tx = SqliteTx;

    async fn begin(&self) -> Result<SqliteTx, StoreError> {
        SqliteTx::begin(&self.tx_writer, Synchronous::Full).await
    }
}

impl WriteTx for SqliteTx {
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
}
