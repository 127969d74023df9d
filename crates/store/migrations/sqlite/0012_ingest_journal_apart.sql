-- The ingest journal moved into a file of its own (`<database>-ingest`,
-- store `sqlite/ingest_journal.rs`), so that accepting alerts never waits
-- for SQLite's write lock here. Which of its entries are applied is kept
-- here, in the transaction that applies them. `ingest_journal` stays only
-- until the journal is first opened, which moves what it holds. `journal`
-- names this database in its journal file, so that a journal left beside a
-- replaced database is never applied to it.
CREATE TABLE ingest_applied (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    seq     INTEGER NOT NULL,
    journal TEXT NOT NULL
);
INSERT INTO ingest_applied (id, seq, journal) VALUES (1, 0, lower(hex(randomblob(16))));
