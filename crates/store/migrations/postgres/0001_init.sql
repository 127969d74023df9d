-- Incidents, their append-only timeline, per-scope ID sequences and API tokens.
-- Times are Unix milliseconds (UTC), the same as the SQLite backend.

CREATE TABLE incident_sequences (
    scope    TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);

CREATE TABLE incidents (
    id                TEXT PRIMARY KEY,
    seq               BIGINT NOT NULL,
    title             TEXT NOT NULL,
    summary           TEXT NOT NULL,
    severity          TEXT NOT NULL,
    category          TEXT,
    services          JSONB NOT NULL,
    status            TEXT NOT NULL,
    customer_facing   BOOLEAN NOT NULL,
    users_affected    BIGINT,
    roles             JSONB NOT NULL,
    checklist         JSONB NOT NULL,
    declared_by       TEXT NOT NULL,
    impact_started_at BIGINT,
    detected_at       BIGINT NOT NULL,
    declared_at       BIGINT NOT NULL,
    acknowledged_at   BIGINT,
    mitigated_at      BIGINT,
    resolved_at       BIGINT,
    closed_at         BIGINT,
    updated_at        BIGINT NOT NULL,
    last_event_seq    BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX incidents_by_declared ON incidents (declared_at DESC, id DESC);
CREATE INDEX incidents_by_status ON incidents (status, declared_at DESC);
CREATE INDEX incidents_services ON incidents USING GIN (services);

CREATE TABLE timeline_events (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    data        JSONB NOT NULL,
    PRIMARY KEY (incident_id, seq)
);

-- The timeline is append-only: the database itself refuses edits.
CREATE FUNCTION timeline_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'timeline events are append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER timeline_events_no_change BEFORE UPDATE OR DELETE ON timeline_events
    FOR EACH ROW EXECUTE FUNCTION timeline_events_append_only();

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
