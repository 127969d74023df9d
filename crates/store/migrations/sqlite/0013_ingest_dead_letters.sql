-- Accepted alert requests the writer could not apply (store
-- `dead_letters.rs`): out of the journal, so the ones after them are
-- applied, and kept until an admin retries or drops them.
CREATE TABLE ingest_dead_letters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    accepted_at INTEGER NOT NULL,
    failed_at   INTEGER NOT NULL,
    integration TEXT NOT NULL,
    alerts      INTEGER NOT NULL,
    error       TEXT NOT NULL,
    request     TEXT NOT NULL
);
