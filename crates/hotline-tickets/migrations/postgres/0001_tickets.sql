CREATE TABLE tickets (
    id          BIGSERIAL PRIMARY KEY,
    number      TEXT    NOT NULL UNIQUE,
    channel     TEXT    NOT NULL,
    caller      TEXT    NOT NULL,
    line        TEXT    NOT NULL,
    call_id     TEXT    NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    queue       TEXT,
    queued_at   TIMESTAMPTZ,
    answered_at TIMESTAMPTZ,
    agent_id    TEXT,
    ended_at    TIMESTAMPTZ,
    wait_secs   DOUBLE PRECISION,
    talk_secs   DOUBLE PRECISION,
    disposition TEXT
);
CREATE INDEX tickets_created_at ON tickets (created_at);
CREATE INDEX tickets_caller ON tickets (caller, created_at);
CREATE INDEX tickets_call_id ON tickets (call_id);

-- One row per local (UTC+8) day: the last ticket sequence number handed out that day.
CREATE TABLE ticket_day_seq (
    day  TEXT   PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE ticket_interactions (
    id        BIGSERIAL PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    at        TIMESTAMPTZ NOT NULL,
    kind      TEXT    NOT NULL,
    detail    JSONB   NOT NULL
);
CREATE INDEX ticket_interactions_ticket ON ticket_interactions (ticket_id, at);
