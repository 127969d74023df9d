//! The on-call directory on PostgreSQL: overrides, feeds and
//! verifications, through the pool.

use jiff::Timestamp;

use super::PgStore;
use crate::directory::managed_by_playbook;
use crate::oncall_rows::{
    convert, DirectoryRow, FeedRow, OverrideRow, VerificationRow, DIRECTORY_COLUMNS,
    OVERRIDE_COLUMNS,
};
use crate::row::ms;
use crate::{
    DirectoryEntry, DirectoryKind, DirectoryStore, FeedRecord, OverrideRecord, StoreError,
    VerificationRecord, SOURCE_PLAYBOOK,
};

impl DirectoryStore for PgStore {
    async fn insert_directory(&self, e: &DirectoryEntry) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO directory (kind, name, doc, source, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, name) DO NOTHING",
        )
        .bind(e.kind.as_str())
        .bind(&e.name)
        .bind(&e.doc)
        .bind(&e.source)
        .bind(ms(e.created_at))
        .bind(ms(e.updated_at))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "a {} named {:?} already exists",
                e.kind.as_str(),
                e.name
            )));
        }
        Ok(())
    }

    async fn update_directory(&self, e: &DirectoryEntry) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE directory SET doc = $1, updated_at = $2 \
             WHERE kind = $3 AND name = $4 AND source = $5",
        )
        .bind(&e.doc)
        .bind(ms(e.updated_at))
        .bind(e.kind.as_str())
        .bind(&e.name)
        .bind(&e.source)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(match self.get_directory(e.kind, &e.name).await? {
                Some(_) => managed_by_playbook(e.kind, &e.name),
                None => StoreError::NotFound(format!("{} {}", e.kind.as_str(), e.name)),
            });
        }
        Ok(())
    }

    async fn get_directory(
        &self,
        kind: DirectoryKind,
        name: &str,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        let sql =
            format!("SELECT {DIRECTORY_COLUMNS} FROM directory WHERE kind = $1 AND name = $2");
        let row: Option<DirectoryRow> = sqlx::query_as(&sql)
            .bind(kind.as_str())
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(DirectoryEntry::try_from).transpose()
    }

    async fn list_directory(&self, kind: DirectoryKind) -> Result<Vec<DirectoryEntry>, StoreError> {
        let sql =
            format!("SELECT {DIRECTORY_COLUMNS} FROM directory WHERE kind = $1 ORDER BY name");
        let rows: Vec<DirectoryRow> = sqlx::query_as(&sql)
            .bind(kind.as_str())
            .fetch_all(&self.pool)
            .await?;
        convert(rows)
    }

    async fn delete_directory(&self, kind: DirectoryKind, name: &str) -> Result<(), StoreError> {
        let done =
            sqlx::query("DELETE FROM directory WHERE kind = $1 AND name = $2 AND source <> $3")
                .bind(kind.as_str())
                .bind(name)
                .bind(SOURCE_PLAYBOOK)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(match self.get_directory(kind, name).await? {
                Some(_) => managed_by_playbook(kind, name),
                None => StoreError::NotFound(format!("{} {name}", kind.as_str())),
            });
        }
        Ok(())
    }

    async fn sync_playbook_directory(&self, entries: &[DirectoryEntry]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let existing: Vec<(String, String)> =
            sqlx::query_as("SELECT kind, name FROM directory WHERE source = $1")
                .bind(SOURCE_PLAYBOOK)
                .fetch_all(&mut *tx)
                .await?;
        for (kind, name) in existing {
            if !entries
                .iter()
                .any(|e| e.kind.as_str() == kind && e.name == name)
            {
                sqlx::query("DELETE FROM directory WHERE kind = $1 AND name = $2")
                    .bind(&kind)
                    .bind(&name)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for e in entries {
            sqlx::query(
                "INSERT INTO directory (kind, name, doc, source, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, name) DO UPDATE \
                 SET doc = excluded.doc, source = excluded.source, \
                 updated_at = excluded.updated_at",
            )
            .bind(e.kind.as_str())
            .bind(&e.name)
            .bind(&e.doc)
            .bind(&e.source)
            .bind(ms(e.created_at))
            .bind(ms(e.updated_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_override(&self, r: &OverrideRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO schedule_overrides (id, schedule, user_name, starts_at, ends_at, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&r.id)
        .bind(&r.schedule)
        .bind(&r.user)
        .bind(ms(r.starts_at))
        .bind(ms(r.ends_at))
        .bind(&r.created_by)
        .bind(ms(r.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_overrides(
        &self,
        schedule: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<OverrideRecord>, StoreError> {
        let sql = format!(
            "SELECT {OVERRIDE_COLUMNS} FROM schedule_overrides WHERE schedule = $1 \
             AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at, id"
        );
        let rows: Vec<OverrideRow> = sqlx::query_as(&sql)
            .bind(schedule)
            .bind(ms(from))
            .bind(ms(to))
            .fetch_all(&self.pool)
            .await?;
        convert(rows)
    }

    async fn delete_override(&self, schedule: &str, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM schedule_overrides WHERE schedule = $1 AND id = $2")
            .bind(schedule)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "override {id} of schedule {schedule}"
            )));
        }
        Ok(())
    }

    async fn insert_feed(&self, f: &FeedRecord, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO calendar_feeds (id, token_hash, kind, name, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&f.id)
        .bind(token_hash)
        .bind(&f.kind)
        .bind(&f.name)
        .bind(ms(f.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_feed(&self, token_hash: &str) -> Result<Option<FeedRecord>, StoreError> {
        let row: Option<FeedRow> = sqlx::query_as(
            "SELECT id, kind, name, created_at, revoked_at FROM calendar_feeds \
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(FeedRecord::try_from).transpose()
    }

    async fn list_feeds(&self) -> Result<Vec<FeedRecord>, StoreError> {
        let rows: Vec<FeedRow> = sqlx::query_as(
            "SELECT id, kind, name, created_at, revoked_at FROM calendar_feeds \
             ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        convert(rows)
    }

    async fn revoke_feed(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE calendar_feeds SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(ms(now))
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("live calendar feed {id}")));
        }
        Ok(())
    }

    async fn put_verification(&self, r: &VerificationRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO contact_verifications (user_name, method_id, code_hash, \
             expires_at, attempts) VALUES ($1, $2, $3, $4, 0) \
             ON CONFLICT (user_name, method_id) DO UPDATE SET \
             code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0",
        )
        .bind(&r.user_name)
        .bind(&r.method_id)
        .bind(&r.code_hash)
        .bind(ms(r.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_verification(
        &self,
        user_name: &str,
        method_id: &str,
    ) -> Result<Option<VerificationRecord>, StoreError> {
        let row: Option<VerificationRow> = sqlx::query_as(
            "SELECT user_name, method_id, code_hash, expires_at, attempts \
             FROM contact_verifications WHERE user_name = $1 AND method_id = $2",
        )
        .bind(user_name)
        .bind(method_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(VerificationRecord::try_from).transpose()
    }

    async fn count_verification_attempt(
        &self,
        user_name: &str,
        method_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE contact_verifications SET attempts = attempts + 1 \
             WHERE user_name = $1 AND method_id = $2",
        )
        .bind(user_name)
        .bind(method_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn complete_verification(
        &self,
        user_name: &str,
        method_id: &str,
        doc: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE directory SET doc = $1, updated_at = $2 WHERE kind = 'user' AND name = $3",
        )
        .bind(doc)
        .bind(ms(now))
        .bind(user_name)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM contact_verifications WHERE user_name = $1 AND method_id = $2")
            .bind(user_name)
            .bind(method_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
