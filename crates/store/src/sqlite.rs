//! The embedded SQLite backend: one file in WAL mode, one writer connection
//! (so writes queue in-process instead of fighting over the lock) and a small
//! pool of readers that never block on it.

use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite, Transaction};
use warroom_domain::{AccessRole, DomainError, Incident, NewEvent, TimelineEvent};

use crate::row::{event_data, ms, EventRow, IncidentRow, IncidentValues, TokenRow, WRITE_COLUMNS};
use crate::{like_pattern, ApiToken, IncidentFilter, IncidentPage, PageCursor, Store, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

const INCIDENT_COLUMNS: &str = "id, seq, title, summary, severity, category, services, status, \
     customer_facing, users_affected, roles, checklist, declared_by, impact_started_at, \
     detected_at, declared_at, acknowledged_at, mitigated_at, resolved_at, closed_at, updated_at";

/// Placeholders for `WRITE_COLUMNS`.
const WRITE_VALUES: &str = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";

const TOKEN_COLUMNS: &str = "id, name, role, created_at, revoked_at";

#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite://path` URL.
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL {url:?}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before we answer 2xx, even if the machine dies.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
        Ok(SqliteStore { writer, reader })
    }

    /// `BEGIN IMMEDIATE` takes the write lock up front, so another process
    /// (say `warroom token create` next to a running server) waits its turn
    /// instead of failing half-way through a read-then-write transaction.
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

async fn append_events(
    tx: &mut Transaction<'static, Sqlite>,
    incident_id: &str,
    events: Vec<NewEvent>,
) -> Result<Vec<TimelineEvent>, StoreError> {
    let mut last: i64 = sqlx::query_scalar("SELECT last_event_seq FROM incidents WHERE id = ?")
        .bind(incident_id)
        .fetch_one(&mut **tx)
        .await?;
    let mut stored = Vec::with_capacity(events.len());
    for e in events {
        last += 1;
        sqlx::query(
            "INSERT INTO timeline_events (incident_id, seq, at, actor, kind, data) \
             VALUES (?, ?, ?, ?, ?, ?)",
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
    sqlx::query("UPDATE incidents SET last_event_seq = ? WHERE id = ?")
        .bind(last)
        .bind(incident_id)
        .execute(&mut **tx)
        .await?;
    Ok(stored)
}

async fn load_incident(
    exec: impl sqlx::SqliteExecutor<'_>,
    id: &str,
) -> Result<Incident, StoreError> {
    let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?");
    let row: Option<IncidentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(exec).await?;
    row.ok_or_else(|| StoreError::NotFound(format!("incident {id}")))?
        .try_into()
}

impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
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
        let mut tx = self.write_tx().await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO incident_sequences (scope, last_seq) VALUES (?, 1) \
             ON CONFLICT (scope) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
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
        let mut tx = self.write_tx().await?;
        let mut incident = load_incident(&mut *tx, id).await?;
        let events = change(&mut incident)?;
        if events.is_empty() {
            // Nothing changed: leave the row (and updated_at) alone.
            return Ok((incident, Vec::new()));
        }
        // The row-value form keeps the column list in one place (`WRITE_COLUMNS`).
        let update =
            format!("UPDATE incidents SET ({WRITE_COLUMNS}) = ({WRITE_VALUES}) WHERE id = ?");
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
        load_incident(&self.reader, id).await
    }

    async fn list_incidents(&self, f: &IncidentFilter) -> Result<IncidentPage, StoreError> {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE 1 = 1"
        ));
        if !f.statuses.is_empty() {
            q.push(" AND status IN (");
            let mut list = q.separated(", ");
            for s in &f.statuses {
                list.push_bind(s.as_str());
            }
            q.push(")");
        }
        if !f.severities.is_empty() {
            q.push(" AND severity IN (");
            let mut list = q.separated(", ");
            for s in &f.severities {
                list.push_bind(s.clone());
            }
            q.push(")");
        }
        if let Some(service) = &f.service {
            q.push(" AND EXISTS (SELECT 1 FROM json_each(incidents.services) WHERE value = ")
                .push_bind(service.clone())
                .push(")");
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
            q.push(" AND (id LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR title LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR summary LIKE ")
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
        let rows: Vec<IncidentRow> = q.build_query_as().fetch_all(&self.reader).await?;
        page(rows, limit)
    }

    async fn timeline(
        &self,
        incident_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT incident_id, seq, at, actor, data FROM timeline_events \
             WHERE incident_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(incident_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        if rows.is_empty() {
            // Distinguish "no events" from "no such incident".
            load_incident(&self.reader, incident_id).await?;
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
            "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES (?, ?, ?, ?) \
             RETURNING {TOKEN_COLUMNS}"
        );
        let row: TokenRow = sqlx::query_as(&sql)
            .bind(name)
            .bind(role.as_str())
            .bind(hash)
            .bind(ms(now))
            .fetch_one(&self.writer)
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
        let mut tx = self.write_tx().await?;
        let sql = format!(
            "INSERT INTO api_tokens (name, role, token_hash, created_at) \
             SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM api_tokens) \
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
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"
        );
        let row: Option<TokenRow> = sqlx::query_as(&sql)
            .bind(hash)
            .fetch_optional(&self.reader)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id");
        let rows: Vec<TokenRow> = sqlx::query_as(&sql).fetch_all(&self.reader).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn revoke_token(&self, name: &str, now: Timestamp) -> Result<ApiToken, StoreError> {
        let sql = format!(
            "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL \
             RETURNING {TOKEN_COLUMNS}"
        );
        let row: Option<TokenRow> = sqlx::query_as(&sql)
            .bind(ms(now))
            .bind(name)
            .fetch_optional(&self.writer)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("live token named {name:?}")))?
            .try_into()
    }
}

/// Turns `limit + 1` fetched rows into a page and its continuation cursor.
pub(crate) fn page(rows: Vec<IncidentRow>, limit: u32) -> Result<IncidentPage, StoreError> {
    let mut incidents: Vec<Incident> = rows
        .into_iter()
        .map(TryInto::try_into)
        .collect::<Result<_, _>>()?;
    let more = incidents.len() > limit as usize;
    incidents.truncate(limit as usize);
    let next = more.then(|| {
        let last = incidents.last().expect("a page with more has a last row");
        PageCursor {
            declared_at_ms: ms(last.declared_at),
            id: last.id.clone(),
        }
    });
    Ok(IncidentPage { incidents, next })
}

pub(crate) fn token_conflict(err: sqlx::Error, name: &str) -> StoreError {
    match StoreError::from(err) {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("a token named {name:?} already exists"))
        }
        other => other,
    }
}
