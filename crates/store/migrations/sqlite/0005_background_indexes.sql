-- Indexes for the background checks, so each touches only the rows it wants
-- instead of every firing alert: suppressed alerts to re-check, alerts whose
-- endsAt has passed, and alerts without endsAt that stopped being re-sent.
DROP INDEX alerts_firing_expiry;
CREATE INDEX alerts_suppressed ON alerts (id) WHERE status = 'firing' AND suppressed_by IS NOT NULL;
CREATE INDEX alerts_expiring ON alerts (origin, ends_at) WHERE status = 'firing' AND ends_at IS NOT NULL;
CREATE INDEX alerts_stale ON alerts (origin, last_seen_at) WHERE status = 'firing' AND ends_at IS NULL;
