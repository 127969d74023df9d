//! The paging queue on PostgreSQL: escalations, jobs, the outbox and
//! comms. Claims skip rows another node is claiming
//! (`FOR UPDATE SKIP LOCKED`).

use jiff::Timestamp;

use super::{PgStore, PgTx};
use crate::oncall_rows::{
    convert, notified_json, CommsRow, EscalationRow, JobRow, MessageRow, OverrideRow,
    COMMS_COLUMNS, ESCALATION_COLUMNS, JOB_COLUMNS, MESSAGE_COLUMNS, OVERRIDE_COLUMNS,
};
use crate::row::{ms, ts};
use crate::{
    CommsRecord, CommsTx, DirectoryKind, EscalationRecord, JobRecord, MessageRecord, MessageUpdate,
    NewJob, NewMessage, OverrideRecord, PagingTx, QueueDepths, QueueStore, SentWindow, StoreError,
};

impl QueueStore for PgStore {
    async fn get_escalation(
        &self,
        incident_id: &str,
    ) -> Result<Option<EscalationRecord>, StoreError> {
        let sql = format!("SELECT {ESCALATION_COLUMNS} FROM escalations WHERE incident_id = $1");
        let row: Option<EscalationRow> = sqlx::query_as(&sql)
            .bind(incident_id)
            .fetch_optional(&self.pool)
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
             ORDER BY run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING {JOB_COLUMNS}"
        );
        let rows: Vec<JobRow> = sqlx::query_as(&sql)
            .bind(ms(lease_until))
            .bind(ms(now))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
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
        .fetch_optional(&self.pool)
        .await?;
        let leased: Option<i64> = sqlx::query_scalar(
            "SELECT lease_until FROM paging_jobs WHERE done_at IS NULL \
             AND lease_until IS NOT NULL AND lease_until > run_at \
             ORDER BY lease_until LIMIT 1",
        )
        .fetch_optional(&self.pool)
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
            .fetch_all(&self.pool)
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
             ORDER BY run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING {MESSAGE_COLUMNS}"
        );
        let rows: Vec<MessageRow> = sqlx::query_as(&sql)
            .bind(ms(lease_until))
            .bind(ms(now))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
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
        .fetch_optional(&self.pool)
        .await?;
        let leased: Option<i64> = sqlx::query_scalar(
            "SELECT lease_until FROM outbox WHERE state = 'sending' \
             ORDER BY lease_until LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        due.into_iter().chain(leased).min().map(ts).transpose()
    }

    async fn queue_depths(&self, now: Timestamp) -> Result<QueueDepths, StoreError> {
        let now = now.as_millisecond();
        let jobs: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM paging_jobs WHERE done_at IS NULL AND run_at <= $1",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        let messages: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox \
             WHERE state IN ('queued', 'failed', 'sending') AND run_at <= $1",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(QueueDepths { jobs, messages })
    }

    async fn list_messages(&self, incident_id: &str) -> Result<Vec<MessageRecord>, StoreError> {
        let sql =
            format!("SELECT {MESSAGE_COLUMNS} FROM outbox WHERE incident_id = $1 ORDER BY id");
        let rows: Vec<MessageRow> = sqlx::query_as(&sql)
            .bind(incident_id)
            .fetch_all(&self.pool)
            .await?;
        convert(rows)
    }

    async fn get_message(&self, id: i64) -> Result<MessageRecord, StoreError> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM outbox WHERE id = $1");
        let row: Option<MessageRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("message {id}")))?
            .try_into()
    }

    async fn get_comms(&self, incident_id: &str) -> Result<Option<CommsRecord>, StoreError> {
        let sql = format!("SELECT {COMMS_COLUMNS} FROM incident_comms WHERE incident_id = $1");
        let row: Option<CommsRow> = sqlx::query_as(&sql)
            .bind(incident_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(CommsRecord::try_from).transpose()
    }

    async fn comms_due(&self) -> Result<Vec<CommsRecord>, StoreError> {
        let sql = format!(
            "SELECT {COMMS_COLUMNS} FROM incident_comms WHERE next_update_due IS NOT NULL \
             ORDER BY next_update_due, incident_id"
        );
        let rows: Vec<CommsRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(CommsRecord::try_from).collect()
    }

    async fn sent_since(
        &self,
        channel: &str,
        destination: &str,
        since: Timestamp,
    ) -> Result<SentWindow, StoreError> {
        let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(sent_at) FROM outbox WHERE state = 'sent' \
             AND channel = $1 AND destination = $2 AND sent_at >= $3",
        )
        .bind(channel)
        .bind(destination)
        .bind(ms(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(SentWindow {
            count,
            oldest: oldest.map(ts).transpose()?,
        })
    }
}

impl PagingTx for PgTx {
    async fn escalation(
        &mut self,
        incident_id: &str,
    ) -> Result<Option<EscalationRecord>, StoreError> {
        let row: Option<EscalationRow> = sqlx::query_as(&format!(
            "SELECT {ESCALATION_COLUMNS} FROM escalations WHERE incident_id = $1"
        ))
        .bind(incident_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(EscalationRecord::try_from).transpose()
    }

    async fn put_escalation(&mut self, r: &EscalationRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO escalations (incident_id, policy, \
     policy_doc, urgency, generation, position, state, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (incident_id) DO UPDATE SET policy = excluded.policy, \
     policy_doc = excluded.policy_doc, urgency = excluded.urgency, \
     generation = excluded.generation, position = excluded.position, \
     state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(&r.incident_id)
        .bind(&r.policy)
        .bind(&r.policy_doc)
        .bind(&r.urgency)
        .bind(r.generation)
        .bind(r.position)
        .bind(r.state.as_str())
        .bind(ms(r.updated_at))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn schedule_job(&mut self, job: &NewJob) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO paging_jobs \
     (incident_id, kind, generation, position, run_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (incident_id, kind, generation, position) DO NOTHING",
        )
        .bind(&job.incident_id)
        .bind(job.kind.as_str())
        .bind(job.generation)
        .bind(job.position)
        .bind(ms(job.run_at))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn finish_job(&mut self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE paging_jobs SET done_at = $1, lease_until = NULL WHERE id = $2")
            .bind(ms(now))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn finish_jobs(&mut self, ids: &[i64], now: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE paging_jobs SET done_at = $1, lease_until = NULL WHERE id = ANY($2)")
            .bind(ms(now))
            .bind(ids)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn queue_message(&mut self, m: &NewMessage) -> Result<Option<i64>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO outbox (idempotency_key, incident_id, \
     purpose, user_name, contact_method, channel, destination, subject, body, state, attempts, \
     run_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, $11) \
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        )
        .bind(&m.idempotency_key)
        .bind(&m.incident_id)
        .bind(&m.purpose)
        .bind(&m.user_name)
        .bind(&m.contact_method)
        .bind(&m.channel)
        .bind(&m.destination)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(ms(m.run_at))
        .bind(ms(m.created_at))
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(id)
    }

    async fn update_message(&mut self, u: &MessageUpdate) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET state = $1, attempts = $2, \
     run_at = $3, last_error = $4, provider_answer = $5, sent_at = $6, lease_until = NULL \
     WHERE id = $7",
        )
        .bind(u.state.as_str())
        .bind(u.attempts)
        .bind(ms(u.run_at))
        .bind(&u.last_error)
        .bind(&u.provider_answer)
        .bind(u.sent_at.map(ms))
        .bind(u.id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn directory_doc(
        &mut self,
        kind: DirectoryKind,
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT doc FROM directory WHERE kind = $1 AND name = $2")
                .bind(kind.as_str())
                .bind(name)
                .fetch_optional(&mut *self.tx)
                .await?,
        )
    }

    async fn overrides_in(
        &mut self,
        schedule: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<OverrideRecord>, StoreError> {
        let rows: Vec<OverrideRow> = sqlx::query_as(&format!(
            "SELECT {OVERRIDE_COLUMNS} FROM schedule_overrides WHERE schedule = $1 \
             AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at, id"
        ))
        .bind(schedule)
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(&mut *self.tx)
        .await?;
        convert(rows)
    }

    async fn next_team_index(&mut self, team: &str) -> Result<i64, StoreError> {
        let next: i64 = sqlx::query_scalar(
            "INSERT INTO team_cursors (team, next_index) \
     VALUES ($1, 1) ON CONFLICT (team) DO UPDATE SET next_index = team_cursors.next_index + 1 \
     RETURNING next_index",
        )
        .bind(team)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(next - 1)
    }
}

impl CommsTx for PgTx {
    async fn comms(&mut self, incident_id: &str) -> Result<Option<CommsRecord>, StoreError> {
        let row: Option<CommsRow> = sqlx::query_as(&format!(
            "SELECT {COMMS_COLUMNS} FROM incident_comms WHERE incident_id = $1"
        ))
        .bind(incident_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(CommsRecord::try_from).transpose()
    }

    async fn put_comms(&mut self, r: &CommsRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO incident_comms (incident_id, updates, \
     last_update_at, next_update_due, reminders, missed, notified) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (incident_id) DO UPDATE SET updates = excluded.updates, \
     last_update_at = excluded.last_update_at, next_update_due = excluded.next_update_due, \
     reminders = excluded.reminders, missed = excluded.missed, notified = excluded.notified",
        )
        .bind(&r.incident_id)
        .bind(r.updates)
        .bind(r.last_update_at.map(ms))
        .bind(r.next_update_due.map(ms))
        .bind(r.reminders)
        .bind(r.missed)
        .bind(notified_json(r)?)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
