//! The PostgreSQL backend, for several Warroom nodes sharing one database:
//! row locks (`FOR UPDATE`) serialize changes to one incident, and the
//! per-scope sequence row serializes ID allocation without gaps.

use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, QueryBuilder};
use warroom_domain::{AccessRole, Incident, TimelineEvent};

use crate::row::{ms, AlertRow, EventRow, IncidentRow, IntegrationRow, SilenceRow, TokenRow};
use crate::sqlite::{page, refuse_last_admin_token, token_conflict};
use crate::{
    like_pattern, AlertCounts, AlertFilter, AlertRecord, ApiToken, IncidentFilter, IncidentPage,
    IntegrationRecord, SilenceRecord, Store, StoreError,
};

mod dead_letters;
mod journal;
mod oncall;
mod tx;

pub use journal::PgJournal;
pub use tx::PgTx;
use tx::{load_incident, ALERT_COLUMNS};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// JSONB columns come back as text so both backends share `IncidentRow`.
const INCIDENT_COLUMNS: &str = "id, seq, title, summary, severity, category, \
     services::text AS services, status, customer_facing, users_affected, roles::text AS roles, \
     checklist::text AS checklist, declared_by, impact_started_at, detected_at, declared_at, \
     acknowledged_at, mitigated_at, resolved_at, closed_at, updated_at";

/// Placeholders for `WRITE_COLUMNS`; JSON goes into JSONB columns.
const WRITE_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11::jsonb, \
     $12::jsonb, $13, $14, $15, $16, $17, $18, $19, $20, $21";

/// Placeholders for `ALERT_WRITE_COLUMNS`; JSON goes into JSONB columns.
const ALERT_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, \
     $12::jsonb, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23";

const INTEGRATION_COLUMNS: &str =
    "id, service, name, kind, key_hint, config::text AS config, created_at, revoked_at";

const TOKEN_COLUMNS: &str = "id, name, role, created_at, revoked_at";

/// Arbitrary constant naming the advisory lock that guards first-token bootstrap.
const FIRST_TOKEN_LOCK: i64 = 0x5741_5252_4f4f_4d01;

#[derive(Clone, Debug)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    /// Connects to a `postgres://` URL.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
        // One direct connection first: a pool only reports "timed out", while
        // this says why (refused, unknown database, authentication failed).
        let probe = tokio::time::timeout(
            Duration::from_secs(10),
            PgConnection::connect_with(&options),
        )
        .await
        .map_err(|_| StoreError::Unavailable("PostgreSQL did not answer within 10 s".into()))?
        .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        let _ = probe.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(PgStore { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn write_pool(&self) -> &PgPool {
        &self.pool
    }

    fn read_pool(&self) -> &PgPool {
        &self.pool
    }

    async fn write_begin(&self) -> Result<sqlx::Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Store for PgStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    type Tx = PgTx;

    async fn begin(&self) -> Result<PgTx, StoreError> {
        Ok(PgTx {
            tx: self.pool.begin().await?,
        })
    }

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

    async fn get_incident(&self, id: &str) -> Result<Incident, StoreError> {
        load_incident(&self.pool, id, false).await
    }

    async fn list_incidents(&self, f: &IncidentFilter) -> Result<IncidentPage, StoreError> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE TRUE"
        ));
        if !f.statuses.is_empty() {
            let statuses: Vec<String> = f.statuses.iter().map(|s| s.as_str().to_owned()).collect();
            q.push(" AND status = ANY(").push_bind(statuses).push(")");
        }
        if !f.severities.is_empty() {
            q.push(" AND severity = ANY(")
                .push_bind(f.severities.clone())
                .push(")");
        }
        if let Some(service) = &f.service {
            q.push(" AND services @> jsonb_build_array(")
                .push_bind(service.clone())
                .push("::text)");
        }
        if let Some(category) = &f.category {
            q.push(" AND category = ").push_bind(category.clone());
        }
        if let Some(from) = f.declared_from {
            q.push(" AND declared_at >= ").push_bind(ms(from));
        }
        if let Some(until) = f.declared_until {
            q.push(" AND declared_at < ").push_bind(ms(until));
        }
        if let Some(text) = &f.text {
            let pattern = like_pattern(text);
            q.push(" AND (id ILIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR title ILIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR summary ILIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        if let Some(after) = &f.after {
            q.push(" AND (declared_at, id) < (")
                .push_bind(after.declared_at_ms)
                .push(", ")
                .push_bind(after.id.clone())
                .push(")");
        }
        let limit = f.limit.clamp(1, crate::MAX_PAGE);
        q.push(" ORDER BY declared_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let rows: Vec<IncidentRow> = q.build_query_as().fetch_all(&self.pool).await?;
        page(rows, limit)
    }

    async fn timeline(
        &self,
        incident_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT incident_id, seq, at, actor, data::text AS data FROM timeline_events \
             WHERE incident_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(incident_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            load_incident(&self.pool, incident_id, false).await?;
        }
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn timeline_tail(
        &self,
        incident_id: &str,
        limit: u32,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT incident_id, seq, at, actor, data::text AS data FROM timeline_events \
             WHERE incident_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(incident_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            load_incident(&self.pool, incident_id, false).await?;
        }
        rows.into_iter().rev().map(TryInto::try_into).collect()
    }

    async fn alert_counts(&self) -> Result<AlertCounts, StoreError> {
        let (firing, suppressed): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN suppressed_by IS NULL THEN 1 ELSE 0 END), 0), \
                    COALESCE(SUM(CASE WHEN suppressed_by IS NULL THEN 0 ELSE 1 END), 0) \
             FROM alerts WHERE status = 'firing'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(AlertCounts { firing, suppressed })
    }

    async fn insert_token(
        &self,
        name: &str,
        role: AccessRole,
        hash: &str,
        now: Timestamp,
    ) -> Result<ApiToken, StoreError> {
        let sql = format!(
            "INSERT INTO api_tokens (name, role, token_hash, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING {TOKEN_COLUMNS}"
        );
        let row: TokenRow = sqlx::query_as(&sql)
            .bind(name)
            .bind(role.as_str())
            .bind(hash)
            .bind(ms(now))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| token_conflict(e, name))?;
        row.try_into()
    }

    async fn insert_first_token(
        &self,
        name: &str,
        role: AccessRole,
        hash: &str,
        now: Timestamp,
    ) -> Result<Option<ApiToken>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Two nodes starting at once on an empty database must not both mint an admin.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(FIRST_TOKEN_LOCK)
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "INSERT INTO api_tokens (name, role, token_hash, created_at) \
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM api_tokens) \
             RETURNING {TOKEN_COLUMNS}"
        );
        let row: Option<TokenRow> = sqlx::query_as(&sql)
            .bind(name)
            .bind(role.as_str())
            .bind(hash)
            .bind(ms(now))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn find_token(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        );
        let row: Option<TokenRow> = sqlx::query_as(&sql)
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id");
        let rows: Vec<TokenRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn revoke_token(&self, name: &str, now: Timestamp) -> Result<ApiToken, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Locking the live admin tokens makes a concurrent revoke wait, then
        // see this one's result (READ COMMITTED re-checks locked rows).
        let live_admins: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM api_tokens WHERE role = 'admin' AND revoked_at IS NULL \
             ORDER BY id FOR UPDATE",
        )
        .fetch_all(&mut *tx)
        .await?;
        refuse_last_admin_token(name, &live_admins)?;
        let sql = format!(
            "UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL \
             RETURNING {TOKEN_COLUMNS}"
        );
        let row: Option<TokenRow> = sqlx::query_as(&sql)
            .bind(ms(now))
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let row = row.ok_or_else(|| StoreError::NotFound(format!("live token named {name:?}")))?;
        tx.commit().await?;
        row.try_into()
    }

    async fn list_alerts(&self, f: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE TRUE"));
        if let Some(status) = f.status {
            q.push(" AND status = ").push_bind(status.as_str());
        }
        match f.suppressed {
            Some(true) => {
                q.push(" AND suppressed_by IS NOT NULL");
            }
            Some(false) => {
                q.push(" AND suppressed_by IS NULL");
            }
            None => {}
        }
        if let Some(service) = &f.service {
            q.push(" AND service = ").push_bind(service.clone());
        }
        if let Some(incident) = &f.incident_id {
            q.push(" AND incident_id = ").push_bind(incident.clone());
        }
        if let Some(before) = f.before_id {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(f.limit.clamp(1, crate::MAX_PAGE)));
        let rows: Vec<AlertRow> = q.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn get_alert(&self, id: i64) -> Result<AlertRecord, StoreError> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1");
        let row: Option<AlertRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("alert {id}")))?
            .try_into()
    }

    async fn insert_silence(&self, s: &SilenceRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment, \
             created_at) VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7)",
        )
        .bind(&s.id)
        .bind(s.matchers.to_string())
        .bind(ms(s.starts_at))
        .bind(ms(s.ends_at))
        .bind(&s.created_by)
        .bind(&s.comment)
        .bind(ms(s.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_silences(
        &self,
        live_at: Option<Timestamp>,
    ) -> Result<Vec<SilenceRecord>, StoreError> {
        let rows: Vec<SilenceRow> = sqlx::query_as(
            "SELECT id, matchers::text AS matchers, starts_at, ends_at, created_by, comment, \
             created_at FROM silences WHERE ends_at > $1 ORDER BY created_at DESC",
        )
        .bind(live_at.map(ms).unwrap_or(i64::MIN))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn get_silence(&self, id: &str) -> Result<SilenceRecord, StoreError> {
        let row: Option<SilenceRow> = sqlx::query_as(
            "SELECT id, matchers::text AS matchers, starts_at, ends_at, created_by, comment, \
             created_at FROM silences WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("silence {id}")))?
            .try_into()
    }

    async fn set_silence_window(
        &self,
        id: &str,
        starts_at: Timestamp,
        ends_at: Timestamp,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE silences SET starts_at = $1, ends_at = $2 WHERE id = $3")
            .bind(ms(starts_at))
            .bind(ms(ends_at))
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("silence {id}")));
        }
        Ok(())
    }

    async fn insert_integration(
        &self,
        i: &IntegrationRecord,
        key_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO integrations (id, service, name, kind, key_hash, key_hint, config, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)",
        )
        .bind(&i.id)
        .bind(&i.service)
        .bind(&i.name)
        .bind(&i.kind)
        .bind(key_hash)
        .bind(&i.key_hint)
        .bind(i.config.to_string())
        .bind(ms(i.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_integration(
        &self,
        key_hash: &str,
    ) -> Result<Option<IntegrationRecord>, StoreError> {
        let sql = format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations \
             WHERE key_hash = $1 AND revoked_at IS NULL"
        );
        let row: Option<IntegrationRow> = sqlx::query_as(&sql)
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_integrations(&self) -> Result<Vec<IntegrationRecord>, StoreError> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations ORDER BY created_at");
        let rows: Vec<IntegrationRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn rotate_integration_key(
        &self,
        id: &str,
        key_hash: &str,
        key_hint: &str,
    ) -> Result<IntegrationRecord, StoreError> {
        let sql = format!(
            "UPDATE integrations SET key_hash = $1, key_hint = $2 \
             WHERE id = $3 AND revoked_at IS NULL RETURNING {INTEGRATION_COLUMNS}"
        );
        let row: Option<IntegrationRow> = sqlx::query_as(&sql)
            .bind(key_hash)
            .bind(key_hint)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("live integration {id}")))?
            .try_into()
    }

    async fn revoke_integration(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<IntegrationRecord, StoreError> {
        let sql = format!(
            "UPDATE integrations SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
             RETURNING {INTEGRATION_COLUMNS}"
        );
        let row: Option<IntegrationRow> = sqlx::query_as(&sql)
            .bind(ms(now))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("live integration {id}")))?
            .try_into()
    }
}
