//! The paging queue on SQLite: escalations, jobs, the outbox and comms.
//! SQLite's one write lock already serializes claims, so no row locks
//! are needed.

use jiff::Timestamp;

use super::{SqliteStore, SqliteTx};
use crate::oncall_rows::{
    convert, notified_json, CommsRow, EscalationRow, JobRow, MessageRow, OverrideRow,
    COMMS_COLUMNS, ESCALATION_COLUMNS, JOB_COLUMNS, MESSAGE_COLUMNS, OVERRIDE_COLUMNS,
};
use crate::row::{ms, ts};
use crate::{
    CommsRecord, CommsTx, DirectoryKind, EscalationRecord, JobRecord, MessageRecord, MessageUpdate,
    NewJob, NewMessage, OverrideRecord, PagingTx, QueueDepths, QueueStore, SentWindow, StoreError,
};

impl QueueStore for SqliteStore {
    async fn get_escalation(
        &self,
        incident_id: &str,
    ) -> Result<Option<EscalationRecord>, StoreError> {
        let sql = format!("SELECT {ESCALATION_COLUMNS} FROM escalations WHERE incident_id = $1");
        let row: Option<EscalationRow> = sqlx::query_as(&sql)
            .bind(incident_id)
            .fetch_optional(&self.reader)
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
             ORDER BY run_at, id LIMIT $3) RETURNING {JOB_COLUMNS}"
        );
        let rows: Vec<JobRow> = sqlx::query_as(&sql)
            .bind(ms(lease_until))
            .bind(ms(now))
            .bind(i64::from(limit))
            .fetch_all(&self.writer)
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
        .fetch_optional(&self.reader)
        .await?;
        let leased: Option<i64> = sqlx::query_scalar(
            "SELECT lease_until FROM paging_jobs WHERE done_at IS NULL \
             AND lease_until IS NOT NULL AND lease_until > run_at \
             ORDER BY lease_until LIMIT 1",
        )
        .fetch_optional(&self.reader)
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
            .fetch_all(&self.reader)
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
             ORDER BY run_at, id LIMIT $3) RETURNING {MESSAGE_COLUMNS}"
        );
        let rows: Vec<MessageRow> = sqlx::query_as(&sql)
            .bind(ms(lease_until))
            .bind(ms(now))
            .bind(i64::from(limit))
            .fetch_all(&self.writer)
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
        .fetch_optional(&self.reader)
        .await?;
        let leased: Option<i64> = sqlx::query_scalar(
            "SELECT lease_until FROM outbox WHERE state = 'sending' \
             ORDER BY lease_until LIMIT 1",
        )
        .fetch_optional(&self.reader)
        .await?;
        due.into_iter().chain(leased).min().map(ts).transpose()
    }

    async fn queue_depths(&self, now: Timestamp) -> Result<QueueDepths, StoreError> {
        let now = now.as_millisecond();
        let jobs: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM paging_jobs WHERE done_at IS NULL AND run_at <= $1",
        )
        .bind(now)
        .fetch_one(&self.reader)
        .await?;
        let messages: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox \
             WHERE state IN ('queued', 'failed', 'sending') AND run_at <= $1",
        )
        .bind(now)
        .fetch_one(&self.reader)
        .await?;
        Ok(QueueDepths { jobs, messages })
    }

    async fn list_messages(&self, incident_id: &str) -> Result<Vec<MessageRecord>, StoreError> {
        let sql =
            format!("SELECT {MESSAGE_COLUMNS} FROM outbox WHERE incident_id = $1 ORDER BY id");
        let rows: Vec<MessageRow> = sqlx::query_as(&sql)
            .bind(incident_id)
            .fetch_all(&self.reader)
            .await?;
        convert(rows)
    }

    async fn get_message(&self, id: i64) -> Result<MessageRecord, StoreError> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM outbox WHERE id = $1");
        let row: Option<MessageRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("message {id}")))?
            .try_into()
    }

    async fn get_comms(&self, incident_id: &str) -> Result<Option<CommsRecord>, StoreError> {
        let sql = format!("SELECT {COMMS_COLUMNS} FROM incident_comms WHERE incident_id = $1");
        let row: Option<CommsRow> = sqlx::query_as(&sql)
            .bind(incident_id)
            .fetch_optional(&self.reader)
            .await?;
        row.map(CommsRecord::try_from).transpose()
    }

    async fn comms_due(&self) -> Result<Vec<CommsRecord>, StoreError> {
        let sql = format!(
            "SELECT {COMMS_COLUMNS} FROM incident_comms WHERE next_update_due IS NOT NULL \
             ORDER BY next_update_due, incident_id"
        );
        let rows: Vec<CommsRow> = sqlx::query_as(&sql).fetch_all(&self.reader).await?;
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
        .fetch_one(&self.writer)
        .await?;
        Ok(SentWindow {
            count,
            oldest: oldest.map(ts).transpose()?,
        })
    }
}

impl PagingTx for SqliteTx {
    async fn escalation(
        &mut self,
        incident_id: &str,
    ) -> Result<Option<EscalationRecord>, StoreError> {
        let row = self.query_optional(
            &format!("SELECT {ESCALATION_COLUMNS} FROM escalations WHERE incident_id = $1"),
            [incident_id],
            EscalationRow::from_sqlite,
        )?;
        row.map(EscalationRecord::try_from).transpose()
    }

    async fn put_escalation(&mut self, r: &EscalationRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO escalations (incident_id, policy, \
     policy_doc, urgency, generation, position, state, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (incident_id) DO UPDATE SET policy = excluded.policy, \
     policy_doc = excluded.policy_doc, urgency = excluded.urgency, \
     generation = excluded.generation, position = excluded.position, \
     state = excluded.state, updated_at = excluded.updated_at",
            (
                &r.incident_id,
                &r.policy,
                &r.policy_doc,
                &r.urgency,
                r.generation,
                r.position,
                r.state.as_str(),
                ms(r.updated_at),
            ),
        )
    }

    async fn schedule_job(&mut self, job: &NewJob) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO paging_jobs \
     (incident_id, kind, generation, position, run_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (incident_id, kind, generation, position) DO NOTHING",
            (
                &job.incident_id,
                job.kind.as_str(),
                job.generation,
                job.position,
                ms(job.run_at),
            ),
        )
    }

    async fn finish_job(&mut self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        self.execute(
            "UPDATE paging_jobs SET done_at = $1, lease_until = NULL WHERE id = $2",
            (ms(now), id),
        )
    }

    async fn finish_jobs(&mut self, ids: &[i64], now: Timestamp) -> Result<(), StoreError> {
        // One prepared statement per job: no round trips to save here.
        for id in ids {
            self.execute(
                "UPDATE paging_jobs SET done_at = $1, lease_until = NULL WHERE id = $2",
                (ms(now), id),
            )?;
        }
        Ok(())
    }

    async fn queue_message(&mut self, m: &NewMessage) -> Result<Option<i64>, StoreError> {
        self.query_optional(
            "INSERT INTO outbox (idempotency_key, incident_id, \
     purpose, user_name, contact_method, channel, destination, subject, body, state, attempts, \
     run_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, $11) \
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            rusqlite::params![
                m.idempotency_key,
                m.incident_id,
                m.purpose,
                m.user_name,
                m.contact_method,
                m.channel,
                m.destination,
                m.subject,
                m.body,
                ms(m.run_at),
                ms(m.created_at),
            ],
            |r| r.get(0),
        )
    }

    async fn update_message(&mut self, u: &MessageUpdate) -> Result<(), StoreError> {
        self.execute(
            "UPDATE outbox SET state = $1, attempts = $2, \
     run_at = $3, last_error = $4, provider_answer = $5, sent_at = $6, lease_until = NULL \
     WHERE id = $7",
            (
                u.state.as_str(),
                u.attempts,
                ms(u.run_at),
                &u.last_error,
                &u.provider_answer,
                u.sent_at.map(ms),
                u.id,
            ),
        )
    }

    async fn directory_doc(
        &mut self,
        kind: DirectoryKind,
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        self.query_optional(
            "SELECT doc FROM directory WHERE kind = $1 AND name = $2",
            (kind.as_str(), name),
            |r| r.get(0),
        )
    }

    async fn overrides_in(
        &mut self,
        schedule: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<OverrideRecord>, StoreError> {
        let rows = self.query_all(
            &format!(
                "SELECT {OVERRIDE_COLUMNS} FROM schedule_overrides WHERE schedule = $1 \
             AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at, id"
            ),
            (schedule, ms(from), ms(to)),
            OverrideRow::from_sqlite,
        )?;
        convert(rows)
    }

    async fn next_team_index(&mut self, team: &str) -> Result<i64, StoreError> {
        let next: Option<i64> = self.query_optional(
            "INSERT INTO team_cursors (team, next_index) \
     VALUES ($1, 1) ON CONFLICT (team) DO UPDATE SET next_index = team_cursors.next_index + 1 \
     RETURNING next_index",
            [team],
            |r| r.get(0),
        )?;
        let next =
            next.ok_or_else(|| StoreError::Database("team cursor returned no row".into()))?;
        Ok(next - 1)
    }
}

impl CommsTx for SqliteTx {
    async fn comms(&mut self, incident_id: &str) -> Result<Option<CommsRecord>, StoreError> {
        let row = self.query_optional(
            &format!("SELECT {COMMS_COLUMNS} FROM incident_comms WHERE incident_id = $1"),
            [incident_id],
            CommsRow::from_sqlite,
        )?;
        row.map(CommsRecord::try_from).transpose()
    }

    async fn put_comms(&mut self, r: &CommsRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO incident_comms (incident_id, updates, \
     last_update_at, next_update_due, reminders, missed, notified) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (incident_id) DO UPDATE SET updates = excluded.updates, \
     last_update_at = excluded.last_update_at, next_update_due = excluded.next_update_due, \
     reminders = excluded.reminders, missed = excluded.missed, notified = excluded.notified",
            (
                &r.incident_id,
                r.updates,
                r.last_update_at.map(ms),
                r.next_update_due.map(ms),
                r.reminders,
                r.missed,
                notified_json(r)?,
            ),
        )
    }
}
