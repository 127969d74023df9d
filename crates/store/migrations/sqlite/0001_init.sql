-- Incidents, their append-only timeline, per-scope ID sequences and API tokens.
-- Times are Unix milliseconds (UTC). JSON columns hold arrays/objects as text.

CREATE TABLE incident_sequences (
    scope    TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
);

CREATE TABLE incidents (
    id                TEXT PRIMARY KEY,
    seq               INTEGER NOT NULL,
    title             TEXT NOT NULL,
    summary           TEXT NOT NULL,
    severity          TEXT NOT NULL,
    category          TEXT,
    services          TEXT NOT NULL,
    status            TEXT NOT NULL,
    customer_facing   INTEGER NOT NULL,
    users_affected    INTEGER,
    roles             TEXT NOT NULL,
    checklist         TEXT NOT NULL,
    declared_by       TEXT NOT NULL,
    impact_started_at INTEGER,
    detected_at       INTEGER NOT NULL,
    declared_at       INTEGER NOT NULL,
    acknowledged_at   INTEGER,
    mitigated_at      INTEGER,
    resolved_at       INTEGER,
    closed_at         INTEGER,
    updated_at        INTEGER NOT NULL,
    last_event_seq    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX incidents_by_declared ON incidents (declared_at DESC, id DESC);
CREATE INDEX incidents_by_status ON incidents (status, declared_at DESC);

CREATE TABLE timeline_events (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (incident_id, seq)
);

-- The timeline is append-only: the database itself refuses edits.
CREATE TRIGGER timeline_events_no_update BEFORE UPDATE ON timeline_events
BEGIN
    SELECT RAISE(ABORT, 'timeline events are append-only');
END;
CREATE TRIGGER timeline_events_no_delete BEFORE DELETE ON timeline_events
BEGIN
    SELECT RAISE(ABORT, 'timeline events are append-only');
END;

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
