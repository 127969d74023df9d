-- Integrations (keys that monitoring tools send with), alerts, the group ->
-- incident map and silences.

CREATE TABLE integrations (
    id          TEXT PRIMARY KEY,
    service     TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    key_hint    TEXT NOT NULL,
    config      JSONB NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE alerts (
    id              BIGSERIAL PRIMARY KEY,
    service         TEXT NOT NULL,
    dedup_key       TEXT NOT NULL,
    status          TEXT NOT NULL,
    summary         TEXT NOT NULL,
    severity        TEXT NOT NULL,
    source_severity TEXT,
    source          TEXT NOT NULL,
    origin          TEXT NOT NULL,
    integration_id  TEXT,
    labels          JSONB NOT NULL,
    details         JSONB NOT NULL,
    links           JSONB NOT NULL,
    generator_url   TEXT,
    group_key       TEXT NOT NULL,
    incident_id     TEXT REFERENCES incidents (id),
    suppressed_by   TEXT,
    event_count     BIGINT NOT NULL,
    starts_at       BIGINT,
    ends_at         BIGINT,
    first_seen_at   BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    acknowledged_at BIGINT,
    resolved_at     BIGINT
);

-- One open alert per (service, dedup key): the dedup lookup is this index.
CREATE UNIQUE INDEX alerts_open_key ON alerts (service, dedup_key) WHERE status = 'firing';
CREATE INDEX alerts_by_incident ON alerts (incident_id, status);
CREATE INDEX alerts_by_status ON alerts (status, last_seen_at DESC);

CREATE TABLE alert_groups (
    group_key     TEXT PRIMARY KEY,
    service       TEXT NOT NULL,
    incident_id   TEXT NOT NULL REFERENCES incidents (id),
    last_alert_at BIGINT NOT NULL
);

CREATE TABLE silences (
    id          TEXT PRIMARY KEY,
    matchers    JSONB NOT NULL,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    comment     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX silences_by_end ON silences (ends_at);
