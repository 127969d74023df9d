-- Which ingest journal entries are applied, set in the transaction that
-- applies them; the entries are deleted later, by the journal's own
-- connection (store `postgres/journal.rs`), so that accepting alerts never
-- waits on the transaction applying them.
CREATE TABLE ingest_applied (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO ingest_applied (id, seq) VALUES (1, 0);
