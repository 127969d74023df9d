-- Firing alerts by when they expire (Alertmanager API v2 endsAt / resolve_timeout).
CREATE INDEX alerts_firing_expiry ON alerts (ends_at, last_seen_at) WHERE status = 'firing';
