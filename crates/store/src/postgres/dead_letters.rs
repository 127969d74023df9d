//! PostgreSQL's dead letters (`crate::dead_letters`).

use crate::dead_letters::{
    storable, DeadLetter, DeadLetterRow, DeadLetterStore, NewDeadLetter, COLUMNS,
};
use crate::row::ms;
use crate::{PgStore, StoreError};

impl DeadLetterStore for PgStore {
    async fn add_dead_letter(&self, letter: &NewDeadLetter<'_>) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar(
            "INSERT INTO ingest_dead_letters \
             (accepted_at, failed_at, integration, alerts, error, request) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(ms(letter.accepted_at))
        .bind(ms(letter.failed_at))
        .bind(letter.integration)
        .bind(letter.alerts)
        .bind(storable(letter.error))
        .bind(letter.request)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn list_dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
        let rows: Vec<DeadLetterRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM ingest_dead_letters ORDER BY id LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(DeadLetter::try_from).collect()
    }

    async fn count_dead_letters(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM ingest_dead_letters")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn get_dead_letter(&self, id: i64) -> Result<DeadLetter, StoreError> {
        let row: Option<DeadLetterRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM ingest_dead_letters WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("dead letter {id}")))?
            .try_into()
    }

    async fn delete_dead_letter(&self, id: i64) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM ingest_dead_letters WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("dead letter {id}")));
        }
        Ok(())
    }
}
