//! The ingest writer's storage on SQLite: runs of transactions whose
//! commits skip the fsync until `sync_committed` syncs the WAL once, the
//! journal's applied mark, and the warm-up that loads `open_keys`.

use super::ingest_journal::SqliteJournal;
use super::{blocking, tx, SqliteStore, SqliteTx};
use crate::{IngestStore, IngestTx, StoreError, TxStore as _, WriteTx as _};

impl IngestStore for SqliteStore {
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

    async fn warm_up(&self) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.load_open_keys()?;
        tx.commit().await
    }
}

impl IngestTx for SqliteTx {
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

    async fn commit_and_continue(&mut self) -> Result<bool, StoreError> {
        self.commit_in_run()?;
        Ok(self.begin_in_run())
    }
}
