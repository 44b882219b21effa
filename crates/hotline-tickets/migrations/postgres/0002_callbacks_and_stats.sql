-- Issue 3: queue priority, IVR path and wrap-up time on tickets; callback list (回拨 / 漏接回拨).
-- New ticket columns are nullable: tickets written before this migration read back with NULLs.
ALTER TABLE tickets ADD COLUMN priority INTEGER;
ALTER TABLE tickets ADD COLUMN ivr_path TEXT;
ALTER TABLE tickets ADD COLUMN wrap_up_secs DOUBLE PRECISION;

-- Interval statistics scan one queue (or agent) over a time range.
CREATE INDEX tickets_queue_queued_at ON tickets (queue, queued_at);
CREATE INDEX tickets_agent_answered_at ON tickets (agent_id, answered_at);

CREATE TABLE callbacks (
    id          BIGSERIAL PRIMARY KEY,
    ticket_id   BIGINT  NOT NULL REFERENCES tickets (id),
    caller      TEXT    NOT NULL,
    line        TEXT    NOT NULL,
    queue       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    agent_id    TEXT,
    last_result TEXT
);
CREATE INDEX callbacks_created_at ON callbacks (created_at);
CREATE INDEX callbacks_status_created_at ON callbacks (status, created_at);
CREATE INDEX callbacks_caller_status ON callbacks (caller, status);
