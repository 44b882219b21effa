-- Issue 4: emergency linkage (三方通话 / 转接 to 120, 110, 119, 122 or any number), SOS handsets and
-- call recordings.
-- New ticket columns are nullable: tickets written before this migration read back with NULLs.
-- sos_profile: JSON snapshot of the elder's SOS device record at call time (the registry row may
-- change or go later; the ticket must show what the agent saw).
-- location: JSON {"source": "pidf-lo"|"registered", "description", "lat", "lon", "radius_m"}.
-- recording: the recording file path, stored as given by the switch.
ALTER TABLE tickets ADD COLUMN sos_profile JSONB;
ALTER TABLE tickets ADD COLUMN location JSONB;
ALTER TABLE tickets ADD COLUMN recording TEXT;

-- One row per third party brought into (or handed) a call.
CREATE TABLE handoffs (
    id            BIGSERIAL PRIMARY KEY,
    ticket_id     BIGINT  NOT NULL REFERENCES tickets (id),
    partner       TEXT    NOT NULL,
    number        TEXT    NOT NULL,
    mode          TEXT    NOT NULL,
    agent_id      TEXT,
    dialled_at    TIMESTAMPTZ NOT NULL,
    answered_at   TIMESTAMPTZ,
    agent_left_at TIMESTAMPTZ,
    ended_at      TIMESTAMPTZ,
    outcome       TEXT,
    detail        JSONB
);
CREATE INDEX handoffs_ticket ON handoffs (ticket_id, dialled_at);
