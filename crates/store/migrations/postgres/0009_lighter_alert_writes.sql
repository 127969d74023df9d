-- alerts_by_status held (status, last_seen_at DESC): every repeat of an
-- alert moved its entry. Alert listings filter by status and sort by id.
DROP INDEX alerts_by_status;
CREATE INDEX alerts_by_status ON alerts (status, id);
