-- Firing alerts per service, kept in step with `alerts` so the open-alert cap
-- is one row read, not a count over every firing alert.
CREATE TABLE alert_counts (
    service TEXT PRIMARY KEY,
    firing  INTEGER NOT NULL
);
INSERT INTO alert_counts (service, firing)
    SELECT service, COUNT(*) FROM alerts WHERE status = 'firing' GROUP BY service;
