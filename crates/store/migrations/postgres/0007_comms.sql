-- Stakeholder communications per incident: how many updates were posted,
-- when the next is due, reminders sent and updates missed, and which
-- audiences have had their initial notification.
CREATE TABLE incident_comms (
    incident_id     TEXT PRIMARY KEY REFERENCES incidents (id),
    updates         BIGINT NOT NULL,
    last_update_at  BIGINT,
    next_update_due BIGINT,
    reminders       BIGINT NOT NULL,
    missed          BIGINT NOT NULL,
    notified        TEXT NOT NULL        -- JSON list of audience names
);

-- Throttling looks up what was recently sent to one destination.
CREATE INDEX outbox_sent_to ON outbox (channel, destination, sent_at) WHERE state = 'sent';
