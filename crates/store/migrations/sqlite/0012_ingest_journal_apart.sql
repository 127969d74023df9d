-- The ingest journal moved into a file of its own (`<database>-ingest`,
-- store `sqlite/ingest_journal.rs`), so that accepting alerts never waits
-- for SQLite's write lock here. Which of its entries are applied is kept
-- here, in the transaction that applies them. `ingest_journal` stays only
-- until the journal is first opened, which moves what it holds.
CREATE TABLE ingest_applied (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO ingest_applied (id, seq) VALUES (1, 0);
