//! The on-call SQL, written once for both backends: `impl_oncall!` expands
//! to `OncallStore` and `PagingTx` implementations for a backend. Only the
//! job and message claims differ (`FOR UPDATE SKIP LOCKED` on PostgreSQL).

pub(crate) use crate::oncall_rows::*;

pub(crate) const DIRECTORY_COLUMNS: &str = "kind, name, doc, source, created_at, updated_at";
pub(crate) const OVERRIDE_COLUMNS: &str =
    "id, schedule, user_name, starts_at, ends_at, created_by, created_at";
pub(crate) const ESCALATION_COLUMNS: &str =
    "incident_id, policy, policy_doc, urgency, generation, position, state, updated_at";
pub(crate) const JOB_COLUMNS: &str = "id, incident_id, kind, generation, position, run_at";
pub(crate) const MESSAGE_COLUMNS: &str = "id, idempotency_key, incident_id, purpose, user_name, \
     contact_method, channel, destination, subject, body, state, attempts, run_at, last_error, \
     provider_answer, created_at, sent_at";

/// `PagingTx::escalation`: one incident's escalation ($1).
pub(crate) fn select_escalation_sql() -> String {
    format!("SELECT {ESCALATION_COLUMNS} FROM escalations WHERE incident_id = $1")
}

/// `PagingTx::put_escalation`: inserts or replaces, in `ESCALATION_COLUMNS` order.
pub(crate) const PUT_ESCALATION: &str = "INSERT INTO escalations (incident_id, policy, \
     policy_doc, urgency, generation, position, state, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (incident_id) DO UPDATE SET policy = excluded.policy, \
     policy_doc = excluded.policy_doc, urgency = excluded.urgency, \
     generation = excluded.generation, position = excluded.position, \
     state = excluded.state, updated_at = excluded.updated_at";

/// `PagingTx::schedule_job`: a job is scheduled once per (incident, kind,
/// generation, position).
pub(crate) const SCHEDULE_JOB: &str = "INSERT INTO paging_jobs \
     (incident_id, kind, generation, position, run_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (incident_id, kind, generation, position) DO NOTHING";

/// `PagingTx::finish_job`: done at $1, job $2.
pub(crate) const FINISH_JOB: &str =
    "UPDATE paging_jobs SET done_at = $1, lease_until = NULL WHERE id = $2";

/// `PagingTx::queue_message`: returns the new id, none if the idempotency
/// key was queued before.
pub(crate) const QUEUE_MESSAGE: &str = "INSERT INTO outbox (idempotency_key, incident_id, \
     purpose, user_name, contact_method, channel, destination, subject, body, state, attempts, \
     run_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, $11) \
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING id";

/// `PagingTx::update_message`.
pub(crate) const UPDATE_MESSAGE: &str = "UPDATE outbox SET state = $1, attempts = $2, \
     run_at = $3, last_error = $4, provider_answer = $5, sent_at = $6, lease_until = NULL \
     WHERE id = $7";

/// `PagingTx::directory_doc`: kind $1, name $2.
pub(crate) const DIRECTORY_DOC: &str = "SELECT doc FROM directory WHERE kind = $1 AND name = $2";

/// `PagingTx::overrides_in`: schedule $1, overlapping [$2, $3).
pub(crate) fn overrides_in_sql() -> String {
    format!(
        "SELECT {OVERRIDE_COLUMNS} FROM schedule_overrides WHERE schedule = $1 \
         AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at, id"
    )
}

/// `PagingTx::next_team_index`: returns the index after the one to use.
pub(crate) const NEXT_TEAM_INDEX: &str = "INSERT INTO team_cursors (team, next_index) \
     VALUES ($1, 1) ON CONFLICT (team) DO UPDATE SET next_index = team_cursors.next_index + 1 \
     RETURNING next_index";

/// Expands to `impl OncallStore for $store`. `$store` must have
/// `write_pool()`, `read_pool()` and `write_begin()`; `$lock` is appended
/// to the claim subqueries.
macro_rules! impl_oncall {
    ($store:ty, $lock:literal) => {
        use $crate::oncall::{
            DirectoryEntry, DirectoryKind, EscalationRecord, FeedRecord, JobRecord,
            MessageRecord, OncallStore, OverrideRecord, VerificationRecord, SOURCE_PLAYBOOK,
        };
        use $crate::oncall_sql::{
            convert, DirectoryRow, EscalationRow, FeedRow, JobRow, MessageRow, OverrideRow,
            VerificationRow, DIRECTORY_COLUMNS, ESCALATION_COLUMNS, JOB_COLUMNS,
            MESSAGE_COLUMNS, OVERRIDE_COLUMNS,
        };

        impl OncallStore for $store {
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
                .execute(self.write_pool())
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
                .execute(self.write_pool())
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
                let sql = format!(
                    "SELECT {DIRECTORY_COLUMNS} FROM directory WHERE kind = $1 AND name = $2"
                );
                let row: Option<DirectoryRow> = sqlx::query_as(&sql)
                    .bind(kind.as_str())
                    .bind(name)
                    .fetch_optional(self.read_pool())
                    .await?;
                row.map(DirectoryEntry::try_from).transpose()
            }

            async fn list_directory(
                &self,
                kind: DirectoryKind,
            ) -> Result<Vec<DirectoryEntry>, StoreError> {
                let sql = format!(
                    "SELECT {DIRECTORY_COLUMNS} FROM directory WHERE kind = $1 ORDER BY name"
                );
                let rows: Vec<DirectoryRow> = sqlx::query_as(&sql)
                    .bind(kind.as_str())
                    .fetch_all(self.read_pool())
                    .await?;
                convert(rows)
            }

            async fn delete_directory(
                &self,
                kind: DirectoryKind,
                name: &str,
            ) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "DELETE FROM directory WHERE kind = $1 AND name = $2 AND source <> $3",
                )
                .bind(kind.as_str())
                .bind(name)
                .bind(SOURCE_PLAYBOOK)
                .execute(self.write_pool())
                .await?;
                if done.rows_affected() == 0 {
                    return Err(match self.get_directory(kind, name).await? {
                        Some(_) => managed_by_playbook(kind, name),
                        None => StoreError::NotFound(format!("{} {name}", kind.as_str())),
                    });
                }
                Ok(())
            }

            async fn sync_playbook_directory(
                &self,
                entries: &[DirectoryEntry],
            ) -> Result<(), StoreError> {
                let mut tx = self.write_begin().await?;
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
                .execute(self.write_pool())
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
                    .fetch_all(self.read_pool())
                    .await?;
                convert(rows)
            }

            async fn delete_override(&self, schedule: &str, id: &str) -> Result<(), StoreError> {
                let done =
                    sqlx::query("DELETE FROM schedule_overrides WHERE schedule = $1 AND id = $2")
                        .bind(schedule)
                        .bind(id)
                        .execute(self.write_pool())
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
                .execute(self.write_pool())
                .await?;
                Ok(())
            }

            async fn find_feed(&self, token_hash: &str) -> Result<Option<FeedRecord>, StoreError> {
                let row: Option<FeedRow> = sqlx::query_as(
                    "SELECT id, kind, name, created_at, revoked_at FROM calendar_feeds \
                     WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind(token_hash)
                .fetch_optional(self.read_pool())
                .await?;
                row.map(FeedRecord::try_from).transpose()
            }

            async fn list_feeds(&self) -> Result<Vec<FeedRecord>, StoreError> {
                let rows: Vec<FeedRow> = sqlx::query_as(
                    "SELECT id, kind, name, created_at, revoked_at FROM calendar_feeds \
                     ORDER BY created_at, id",
                )
                .fetch_all(self.read_pool())
                .await?;
                convert(rows)
            }

            async fn revoke_feed(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "UPDATE calendar_feeds SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(ms(now))
                .bind(id)
                .execute(self.write_pool())
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
                .execute(self.write_pool())
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
                .fetch_optional(self.write_pool())
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
                .execute(self.write_pool())
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
                let mut tx = self.write_begin().await?;
                sqlx::query(
                    "UPDATE directory SET doc = $1, updated_at = $2 WHERE kind = 'user' AND name = $3",
                )
                .bind(doc)
                .bind(ms(now))
                .bind(user_name)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "DELETE FROM contact_verifications WHERE user_name = $1 AND method_id = $2",
                )
                .bind(user_name)
                .bind(method_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn server_secret(&self, name: &str, candidate: &str) -> Result<String, StoreError> {
                sqlx::query(
                    "INSERT INTO server_secrets (name, value) VALUES ($1, $2) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(candidate)
                .execute(self.write_pool())
                .await?;
                let value: String =
                    sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
                        .bind(name)
                        .fetch_one(self.write_pool())
                        .await?;
                Ok(value)
            }

            async fn get_escalation(
                &self,
                incident_id: &str,
            ) -> Result<Option<EscalationRecord>, StoreError> {
                let sql =
                    format!("SELECT {ESCALATION_COLUMNS} FROM escalations WHERE incident_id = $1");
                let row: Option<EscalationRow> = sqlx::query_as(&sql)
                    .bind(incident_id)
                    .fetch_optional(self.read_pool())
                    .await?;
                row.map(EscalationRecord::try_from).transpose()
            }

            async fn claim_jobs(
                &self,
                now: Timestamp,
                lease_until: Timestamp,
                limit: u32,
            ) -> Result<Vec<JobRecord>, StoreError> {
                let sql = format!(
                    "UPDATE paging_jobs SET lease_until = $1 WHERE id IN (SELECT id FROM paging_jobs \
                     WHERE done_at IS NULL AND run_at <= $2 AND (lease_until IS NULL OR lease_until <= $2) \
                     ORDER BY run_at, id LIMIT $3{}) RETURNING {JOB_COLUMNS}",
                    $lock
                );
                let rows: Vec<JobRow> = sqlx::query_as(&sql)
                    .bind(ms(lease_until))
                    .bind(ms(now))
                    .bind(i64::from(limit))
                    .fetch_all(self.write_pool())
                    .await?;
                let mut jobs: Vec<JobRecord> = convert(rows)?;
                jobs.sort_by_key(|j| (j.run_at, j.id));
                Ok(jobs)
            }

            async fn next_job_at(&self) -> Result<Option<Timestamp>, StoreError> {
                // Two index walks that stop at their first row (`paging_jobs_due`,
                // `paging_jobs_leased`), not a MIN over every pending job: the
                // task asks this after every idle round.
                let free: Option<i64> = sqlx::query_scalar(
                    "SELECT run_at FROM paging_jobs WHERE done_at IS NULL \
                     AND (lease_until IS NULL OR lease_until <= run_at) ORDER BY run_at LIMIT 1",
                )
                .fetch_optional(self.read_pool())
                .await?;
                let leased: Option<i64> = sqlx::query_scalar(
                    "SELECT lease_until FROM paging_jobs WHERE done_at IS NULL \
                     AND lease_until IS NOT NULL AND lease_until > run_at \
                     ORDER BY lease_until LIMIT 1",
                )
                .fetch_optional(self.read_pool())
                .await?;
                free.into_iter().chain(leased).min().map(ts).transpose()
            }

            async fn pending_jobs(&self, incident_id: &str) -> Result<Vec<JobRecord>, StoreError> {
                let sql = format!(
                    "SELECT {JOB_COLUMNS} FROM paging_jobs WHERE incident_id = $1 \
                     AND done_at IS NULL ORDER BY run_at, id"
                );
                let rows: Vec<JobRow> = sqlx::query_as(&sql)
                    .bind(incident_id)
                    .fetch_all(self.read_pool())
                    .await?;
                convert(rows)
            }

            async fn claim_messages(
                &self,
                now: Timestamp,
                lease_until: Timestamp,
                limit: u32,
            ) -> Result<Vec<MessageRecord>, StoreError> {
                let sql = format!(
                    "UPDATE outbox SET state = 'sending', lease_until = $1 WHERE id IN \
                     (SELECT id FROM outbox WHERE state IN ('queued', 'sending', 'failed') \
                     AND run_at <= $2 AND (lease_until IS NULL OR lease_until <= $2) \
                     ORDER BY run_at, id LIMIT $3{}) RETURNING {MESSAGE_COLUMNS}",
                    $lock
                );
                let rows: Vec<MessageRow> = sqlx::query_as(&sql)
                    .bind(ms(lease_until))
                    .bind(ms(now))
                    .bind(i64::from(limit))
                    .fetch_all(self.write_pool())
                    .await?;
                let mut messages: Vec<MessageRecord> = convert(rows)?;
                messages.sort_by_key(|m| (m.run_at, m.id));
                Ok(messages)
            }

            async fn next_message_at(&self) -> Result<Option<Timestamp>, StoreError> {
                // Two index walks (`outbox_due`, `outbox_sending`) that stop at
                // their first row, as `next_job_at` does.
                let due: Option<i64> = sqlx::query_scalar(
                    "SELECT run_at FROM outbox WHERE state IN ('queued', 'failed') \
                     ORDER BY run_at LIMIT 1",
                )
                .fetch_optional(self.read_pool())
                .await?;
                let leased: Option<i64> = sqlx::query_scalar(
                    "SELECT lease_until FROM outbox WHERE state = 'sending' \
                     ORDER BY lease_until LIMIT 1",
                )
                .fetch_optional(self.read_pool())
                .await?;
                due.into_iter().chain(leased).min().map(ts).transpose()
            }

            async fn list_messages(&self, incident_id: &str) -> Result<Vec<MessageRecord>, StoreError> {
                let sql = format!(
                    "SELECT {MESSAGE_COLUMNS} FROM outbox WHERE incident_id = $1 ORDER BY id"
                );
                let rows: Vec<MessageRow> = sqlx::query_as(&sql)
                    .bind(incident_id)
                    .fetch_all(self.read_pool())
                    .await?;
                convert(rows)
            }

            async fn get_message(&self, id: i64) -> Result<MessageRecord, StoreError> {
                let sql = format!("SELECT {MESSAGE_COLUMNS} FROM outbox WHERE id = $1");
                let row: Option<MessageRow> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(self.read_pool())
                    .await?;
                row.ok_or_else(|| StoreError::NotFound(format!("message {id}")))?
                    .try_into()
            }
        }

        fn managed_by_playbook(kind: DirectoryKind, name: &str) -> StoreError {
            StoreError::Conflict(format!(
                "{} {name} is defined in the playbook; change it there and restart",
                kind.as_str()
            ))
        }
    };
}

pub(crate) use impl_oncall;
