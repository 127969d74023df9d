-- The dedup lookup moves into the writer's memory (src/sqlite/open_keys.rs).
-- This index's keys are random, so every new alert dirtied a page of its own
-- in every commit: most of what a commit of new alerts wrote.
DROP INDEX alerts_open_key;

-- Which process's writer last loaded the firing keys into memory: a writer
-- that finds another's name here reloads them before its next lookup.
CREATE TABLE alert_keys_owner (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    owner TEXT NOT NULL
);
