-- Accepted alert requests the writer could not apply (store
-- `dead_letters.rs`): out of the journal, so the ones after them are
-- applied, and kept until an admin retries or drops them.
CREATE TABLE ingest_dead_letters (
    id          BIGSERIAL PRIMARY KEY,
    accepted_at BIGINT NOT NULL,
    failed_at   BIGINT NOT NULL,
    integration TEXT NOT NULL,
    alerts      BIGINT NOT NULL,
    error       TEXT NOT NULL,
    request     TEXT NOT NULL
);
