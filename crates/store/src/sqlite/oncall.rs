//! On-call storage on SQLite: the shared SQL of `oncall_sql`. SQLite's one
//! write lock already serializes claims, so no row locks are needed.

use jiff::Timestamp;

use super::{SqliteStore, SqliteTx};
use crate::comms::{CommsRecord, CommsRow, CommsTx};
// The rest (records, rows) comes with `impl_oncall!`.
use crate::oncall::{MessageUpdate, NewJob, NewMessage, PagingTx};
use crate::oncall_sql;
use crate::row::{ms, ts};
use crate::StoreError;

crate::oncall_sql::impl_oncall!(SqliteStore, "");

crate::comms::impl_comms!(SqliteStore);

crate::accounts::impl_accounts!(SqliteStore);

impl PagingTx for SqliteTx {
    async fn escalation(
        &mut self,
        incident_id: &str,
    ) -> Result<Option<EscalationRecord>, StoreError> {
        let row = self.query_optional(
            &oncall_sql::select_escalation_sql(),
            [incident_id],
            EscalationRow::from_sqlite,
        )?;
        row.map(EscalationRecord::try_from).transpose()
    }

    async fn put_escalation(&mut self, r: &EscalationRecord) -> Result<(), StoreError> {
        self.execute(
            oncall_sql::PUT_ESCALATION,
            (
                &r.incident_id,
                &r.policy,
                &r.policy_doc,
                &r.urgency,
                r.generation,
                r.position,
                &r.state,
                ms(r.updated_at),
            ),
        )
    }

    async fn schedule_job(&mut self, job: &NewJob) -> Result<(), StoreError> {
        self.execute(
            oncall_sql::SCHEDULE_JOB,
            (
                &job.incident_id,
                &job.kind,
                job.generation,
                job.position,
                ms(job.run_at),
            ),
        )
    }

    async fn finish_job(&mut self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        self.execute(oncall_sql::FINISH_JOB, (ms(now), id))
    }

    async fn finish_jobs(&mut self, ids: &[i64], now: Timestamp) -> Result<(), StoreError> {
        // One prepared statement per job: no round trips to save here.
        for id in ids {
            self.execute(oncall_sql::FINISH_JOB, (ms(now), id))?;
        }
        Ok(())
    }

    async fn queue_message(&mut self, m: &NewMessage) -> Result<Option<i64>, StoreError> {
        self.query_optional(
            oncall_sql::QUEUE_MESSAGE,
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
            oncall_sql::UPDATE_MESSAGE,
            (
                &u.state,
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
        self.query_optional(oncall_sql::DIRECTORY_DOC, (kind.as_str(), name), |r| {
            r.get(0)
        })
    }

    async fn overrides_in(
        &mut self,
        schedule: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<OverrideRecord>, StoreError> {
        let rows = self.query_all(
            &oncall_sql::overrides_in_sql(),
            (schedule, ms(from), ms(to)),
            OverrideRow::from_sqlite,
        )?;
        oncall_sql::convert(rows)
    }

    async fn next_team_index(&mut self, team: &str) -> Result<i64, StoreError> {
        let next: Option<i64> =
            self.query_optional(oncall_sql::NEXT_TEAM_INDEX, [team], |r| r.get(0))?;
        let next =
            next.ok_or_else(|| StoreError::Database("team cursor returned no row".into()))?;
        Ok(next - 1)
    }
}

impl CommsTx for SqliteTx {
    async fn comms(&mut self, incident_id: &str) -> Result<Option<CommsRecord>, StoreError> {
        let row = self.query_optional(
            &crate::comms::select_comms_sql(),
            [incident_id],
            CommsRow::from_sqlite,
        )?;
        row.map(CommsRecord::try_from).transpose()
    }

    async fn put_comms(&mut self, r: &CommsRecord) -> Result<(), StoreError> {
        self.execute(
            crate::comms::PUT_COMMS,
            (
                &r.incident_id,
                r.updates,
                r.last_update_at.map(ms),
                r.next_update_due.map(ms),
                r.reminders,
                r.missed,
                crate::comms::notified_json(r)?,
            ),
        )
    }
}
