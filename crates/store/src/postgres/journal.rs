//! `PgJournal`: the ingest journal as the `ingest_journal` table, written
//! through the pool rather than the alert writer's transaction: PostgreSQL
//! locks rows, not the database, so an append never waits for an apply.

use sqlx::postgres::PgPool;

use crate::{IngestJournal, StoreError};

pub struct PgJournal {
    pub(super) pool: PgPool,
}

impl IngestJournal for PgJournal {
    /// A single-statement commit, durable when it returns.
    async fn append(&mut self, seq: i64, body: &[u8]) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO ingest_journal (seq, body) VALUES ($1, $2)")
            .bind(seq)
            .bind(body)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn forget_through(&mut self, seq: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM ingest_journal WHERE seq <= $1")
            .bind(seq)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn entries(&mut self) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT seq, body FROM ingest_journal ORDER BY seq")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
