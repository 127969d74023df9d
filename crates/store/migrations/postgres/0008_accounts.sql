-- Sign-in accounts for the web UI (not the on-call directory's people) and
-- their browser sessions. Passwords are argon2id PHC strings; a session is
-- found by the SHA-256 hex of its cookie secret, never the secret itself.
CREATE TABLE accounts (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,     -- lower-cased
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,            -- admin | responder | viewer
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    secret_hash   TEXT PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- The live feed polls for timeline events appended since its last look
-- (every change, including the workers' page and message events, is one).
CREATE INDEX timeline_events_by_at ON timeline_events (at);
