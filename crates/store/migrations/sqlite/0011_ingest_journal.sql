-- Alert requests accepted but not yet applied to the alert and incident
-- tables (engine `ingest::journal`): one row per batch the writer accepted,
-- appended in one small commit before the senders get their 2xx, and
-- deleted in the transaction that applies it. What is here after a crash
-- is applied again at startup.
CREATE TABLE ingest_journal (
    seq  INTEGER PRIMARY KEY,
    body BLOB NOT NULL
);
