//! The PostgreSQL backend, for several Warroom nodes sharing one database:
//! row locks (`FOR UPDATE`) serialize changes to one incident, and the
//! per-scope sequence row serializes ID allocation without gaps.

use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, QueryBuilder, Transaction};
use warroom_domain::{AccessRole, DomainError, Incident, NewEvent, TimelineEvent};

use crate::row::{event_data, ms, EventRow, IncidentRow, IncidentValues, TokenRow, WRITE_COLUMNS};
use crate::sqlite::{page, token_conflict};
use crate::{like_pattern, ApiToken, IncidentFilter, IncidentPage, Store, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// JSONB columns come back as text so both backends share `IncidentRow`.
const INCIDENT_COLUMNS: &str = "id, seq, title, summary, severity, category, \
     services::text AS services, status, customer_facing, users_affected, roles::text AS roles, \
     checklist::text AS checklist, declared_by, impact_started_at, detected_at, declared_at, \
     acknowledged_at, mitigated_at, resolved_at, closed_at, updated_at";

/// Placeholders for `WRITE_COLUMNS`; JSON goes into JSONB columns.
const WRITE_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11::jsonb, \
     $12::jsonb, $13, $14, $15, $16, $17, $18, $19, $20, $21";

const TOKEN_COLUMNS: &str = "id, name, role, created_at, revoked_at";

/// Arbitrary constant naming the advisory lock that guards first-token bootstrap.
const FIRST_TOKEN_LOCK: i64 = 0x5741_5252_4f4f_4d01;

#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
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

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn append_events(
    tx: &mut Transaction<'static, Postgres>,
    incident_id: &str,
    events: Vec<NewEvent>,
) -> Result<Vec<TimelineEvent>, StoreError> {
    let mut last: i64 = sqlx::query_scalar("SELECT last_event_seq FROM incidents WHERE id = $1")
        .bind(incident_id)
        .fetch_one(&mut **tx)
        .await?;
    let mut stored = Vec::with_capacity(events.len());
    for e in events {
        last += 1;
        sqlx::query(
            "INSERT INTO timeline_events (incident_id, seq, at, actor, kind, data) \
             VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
        )
        .bind(incident_id)
        .bind(last)
        .bind(ms(e.at))
        .bind(&e.actor)
        .bind(e.kind.name())
        .bind(event_data(&e.kind))
        .execute(&mut **tx)
        .await?;
        stored.push(TimelineEvent {
            incident_id: incident_id.to_owned(),
            seq: last,
            at: e.at,
            actor: e.actor,
            kind: e.kind,
        });
    }
    sqlx::query("UPDATE incidents SET last_event_seq = $1 WHERE id = $2")
        .bind(last)
        .bind(incident_id)
        .execute(&mut **tx)
        .await?;
    Ok(stored)
}

async fn load_incident(
    exec: impl sqlx::PgExecutor<'_>,
    id: &str,
    for_update: bool,
) -> Result<Incident, StoreError> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1{lock}");
    let row: Option<IncidentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(exec).await?;
    row.ok_or_else(|| StoreError::NotFound(format!("incident {id}")))?
        .try_into()
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

    async fn declare_incident<F>(
        &self,
        scope: &str,
        make: F,
    ) -> Result<(Incident, Vec<TimelineEvent>), StoreError>
    where
        F: FnOnce(i64) -> (Incident, Vec<NewEvent>) + Send,
    {
        let mut tx = self.pool.begin().await?;
        // The upsert locks the scope's row until commit: concurrent declares
        // queue here, and a rollback gives the number back.
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO incident_sequences (scope, last_seq) VALUES ($1, 1) \
             ON CONFLICT (scope) DO UPDATE SET last_seq = incident_sequences.last_seq + 1 \
             RETURNING last_seq",
        )
        .bind(scope)
        .fetch_one(&mut *tx)
        .await?;
        let (incident, events) = make(seq);
        let insert = format!("INSERT INTO incidents ({WRITE_COLUMNS}) VALUES ({WRITE_VALUES})");
        IncidentValues::of(&incident)
            .bind(sqlx::query(&insert))
            .execute(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!(
                    "incident id {} already exists; was the ID format changed to one that repeats?",
                    incident.id
                )),
                other => other,
            })?;
        let stored = append_events(&mut tx, &incident.id, events).await?;
        tx.commit().await?;
        Ok((incident, stored))
    }

    async fn modify_incident<F>(
        &self,
        id: &str,
        change: F,
    ) -> Result<(Incident, Vec<TimelineEvent>), StoreError>
    where
        F: FnOnce(&mut Incident) -> Result<Vec<NewEvent>, DomainError> + Send,
    {
        let mut tx = self.pool.begin().await?;
        let mut incident = load_incident(&mut *tx, id, true).await?;
        let events = change(&mut incident)?;
        if events.is_empty() {
            return Ok((incident, Vec::new()));
        }
        // The row-value form keeps the column list in one place (`WRITE_COLUMNS`).
        let update =
            format!("UPDATE incidents SET ({WRITE_COLUMNS}) = ({WRITE_VALUES}) WHERE id = $22");
        IncidentValues::of(&incident)
            .bind(sqlx::query(&update))
            .bind(&incident.id)
            .execute(&mut *tx)
            .await?;
        let stored = append_events(&mut tx, &incident.id, events).await?;
        tx.commit().await?;
        Ok((incident, stored))
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
        let sql = format!(
            "UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL \
             RETURNING {TOKEN_COLUMNS}"
        );
        let row: Option<TokenRow> = sqlx::query_as(&sql)
            .bind(ms(now))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("live token named {name:?}")))?
            .try_into()
    }
}
