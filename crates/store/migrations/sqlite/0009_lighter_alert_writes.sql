-- alerts_by_status held (status, last_seen_at DESC): every repeat of an
-- alert moved its entry, and every new alert went in at the front of the
-- firing range, splitting pages there (two or three pages written per
-- batch of new alerts instead of one). (status) alone keeps the rows in id
-- order, which is the order alert listings use.
DROP INDEX alerts_by_status;
CREATE INDEX alerts_by_status ON alerts (status);
