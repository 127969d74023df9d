//! On-call storage on PostgreSQL: the shared SQL of `oncall_sql`, with
//! claims that skip rows another node is claiming (`FOR UPDATE SKIP LOCKED`).

use jiff::Timestamp;

use super::{PgStore, PgTx};
// The rest (records, rows) comes with `impl_oncall!`.
use crate::oncall::{MessageUpdate, NewJob, NewMessage, PagingTx};
use crate::oncall_sql;
use crate::row::{ms, ts};
use crate::StoreError;

crate::oncall_sql::impl_oncall!(PgStore, " FOR UPDATE SKIP LOCKED");

impl PagingTx for PgTx {
    async fn escalation(
        &mut self,
        incident_id: &str,
    ) -> Result<Option<EscalationRecord>, StoreError> {
        let row: Option<EscalationRow> = sqlx::query_as(&oncall_sql::select_escalation_sql())
            .bind(incident_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(EscalationRecord::try_from).transpose()
    }

    async fn put_escalation(&mut self, r: &EscalationRecord) -> Result<(), StoreError> {
        sqlx::query(oncall_sql::PUT_ESCALATION)
            .bind(&r.incident_id)
            .bind(&r.policy)
            .bind(&r.policy_doc)
            .bind(&r.urgency)
            .bind(r.generation)
            .bind(r.position)
            .bind(&r.state)
            .bind(ms(r.updated_at))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn schedule_job(&mut self, job: &NewJob) -> Result<(), StoreError> {
        sqlx::query(oncall_sql::SCHEDULE_JOB)
            .bind(&job.incident_id)
            .bind(&job.kind)
            .bind(job.generation)
            .bind(job.position)
            .bind(ms(job.run_at))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn finish_job(&mut self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query(oncall_sql::FINISH_JOB)
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
        let id: Option<i64> = sqlx::query_scalar(oncall_sql::QUEUE_MESSAGE)
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
        sqlx::query(oncall_sql::UPDATE_MESSAGE)
            .bind(&u.state)
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
        Ok(sqlx::query_scalar(oncall_sql::DIRECTORY_DOC)
            .bind(kind.as_str())
            .bind(name)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    async fn overrides_in(
        &mut self,
        schedule: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<OverrideRecord>, StoreError> {
        let rows: Vec<OverrideRow> = sqlx::query_as(&oncall_sql::overrides_in_sql())
            .bind(schedule)
            .bind(ms(from))
            .bind(ms(to))
            .fetch_all(&mut *self.tx)
            .await?;
        oncall_sql::convert(rows)
    }

    async fn next_team_index(&mut self, team: &str) -> Result<i64, StoreError> {
        let next: i64 = sqlx::query_scalar(oncall_sql::NEXT_TEAM_INDEX)
            .bind(team)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(next - 1)
    }
}

crate::comms::impl_comms!(PgStore);

impl crate::comms::CommsTx for PgTx {
    async fn comms(
        &mut self,
        incident_id: &str,
    ) -> Result<Option<crate::comms::CommsRecord>, StoreError> {
        let row: Option<crate::comms::CommsRow> = sqlx::query_as(&crate::comms::select_comms_sql())
            .bind(incident_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(crate::comms::CommsRecord::try_from).transpose()
    }

    async fn put_comms(&mut self, r: &crate::comms::CommsRecord) -> Result<(), StoreError> {
        sqlx::query(crate::comms::PUT_COMMS)
            .bind(&r.incident_id)
            .bind(r.updates)
            .bind(r.last_update_at.map(ms))
            .bind(r.next_update_due.map(ms))
            .bind(r.reminders)
            .bind(r.missed)
            .bind(crate::comms::notified_json(r)?)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

// Two nodes starting at once on an empty database must not both create an admin.
crate::accounts::impl_accounts!(PgStore, "SELECT pg_advisory_xact_lock(6287397068257316098)");
