//! The ingest writer's storage on PostgreSQL: commits are durable when
//! they return, so a run is just transactions one after another, and the
//! journal's applied mark is a row written in them.

use super::journal::PgJournal;
use super::{PgStore, PgTx};
use crate::{IngestStore, IngestTx, StoreError, TxStore as _};

impl IngestStore for PgStore {
    async fn begin_run(&self) -> Result<PgTx, StoreError> {
        self.begin().await
    }

    type Journal = PgJournal;

    async fn open_journal(&self) -> Result<PgJournal, StoreError> {
        Ok(PgJournal {
            pool: self.pool.clone(),
        })
    }

    /// PostgreSQL commits are durable when they return.
    fn sync_committed(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl IngestTx for PgTx {
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

    async fn commit_and_continue(&mut self) -> Result<bool, StoreError> {
        // sqlx still counts one open transaction, and there is one again.
        sqlx::query("COMMIT").execute(&mut *self.tx).await?;
        sqlx::query("BEGIN").execute(&mut *self.tx).await?;
        // Other transactions commit between a run's own, at any time.
        Ok(false)
    }
}
