-- On-call: the directory (users, teams, vendors, schedules, escalation
-- policies as JSON documents), schedule overrides, calendar feeds, the paging
-- engine's escalations and jobs, and the outbox of messages to deliver.

CREATE TABLE directory (
    kind        TEXT NOT NULL,      -- user | team | vendor | schedule | policy
    name        TEXT NOT NULL,
    doc         TEXT NOT NULL,      -- the domain type as JSON
    source      TEXT NOT NULL,      -- playbook | api
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
);

CREATE TABLE schedule_overrides (
    id          TEXT PRIMARY KEY,
    schedule    TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX schedule_overrides_window ON schedule_overrides (schedule, ends_at);

CREATE TABLE calendar_feeds (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,      -- schedule | user
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE contact_verifications (
    user_name   TEXT NOT NULL,
    method_id   TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_name, method_id)
);

-- Round-robin position of each team, shared by every incident.
CREATE TABLE team_cursors (
    team        TEXT PRIMARY KEY,
    next_index  INTEGER NOT NULL
);

-- Secrets the server generates once (the acknowledge-link key).
CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL
);

-- One escalation per paged incident; `generation` grows when paging restarts
-- (re-trigger, acknowledgement timeout, manual re-escalation), which makes
-- the jobs of earlier generations stale.
CREATE TABLE escalations (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
    policy      TEXT NOT NULL,
    policy_doc  TEXT NOT NULL,      -- the policy as it was when paging started
    urgency     TEXT NOT NULL,
    generation  INTEGER NOT NULL,
    position    INTEGER NOT NULL,   -- the last step paged, counting repeats; -1 before the first
    state       TEXT NOT NULL,      -- active | acknowledged | exhausted | stopped
    updated_at  INTEGER NOT NULL
);

-- Timed paging work: run at `run_at`, claimed with a lease, done once.
CREATE TABLE paging_jobs (
    id          INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    kind        TEXT NOT NULL,      -- step | severity_escalation | ack_timeout
    generation  INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    run_at      INTEGER NOT NULL,
    lease_until INTEGER,
    done_at     INTEGER,
    UNIQUE (incident_id, kind, generation, position)
);
CREATE INDEX paging_jobs_due ON paging_jobs (run_at) WHERE done_at IS NULL;
-- Leased jobs by lease expiry, for `next_job_at` (a few rows at a time).
CREATE INDEX paging_jobs_leased ON paging_jobs (lease_until)
    WHERE done_at IS NULL AND lease_until IS NOT NULL;

-- Every outbound message, sent at most once per idempotency key.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    incident_id     TEXT REFERENCES incidents (id),
    purpose         TEXT NOT NULL,  -- page | verification
    user_name       TEXT,
    contact_method  TEXT,
    channel         TEXT NOT NULL,  -- email | sms | voice | slack | webhook
    destination     TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,  -- JSON payload
    state           TEXT NOT NULL,  -- queued | sending | sent | failed | dead | cancelled
    attempts        INTEGER NOT NULL DEFAULT 0,
    run_at          INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT,
    provider_answer TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (run_at) WHERE state IN ('queued', 'failed');
CREATE INDEX outbox_sending ON outbox (lease_until) WHERE state = 'sending';
CREATE INDEX outbox_by_incident ON outbox (incident_id, id);
