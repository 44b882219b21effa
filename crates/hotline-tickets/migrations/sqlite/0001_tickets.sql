-- Timestamps are stored as RFC 3339 text in UTC (sqlx's chrono encoding), which sorts correctly.
CREATE TABLE tickets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    number      TEXT    NOT NULL UNIQUE,
    channel     TEXT    NOT NULL,
    caller      TEXT    NOT NULL,
    line        TEXT    NOT NULL,
    call_id     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    queue       TEXT,
    queued_at   TEXT,
    answered_at TEXT,
    agent_id    TEXT,
    ended_at    TEXT,
    wait_secs   REAL,
    talk_secs   REAL,
    disposition TEXT
);
CREATE INDEX tickets_created_at ON tickets (created_at);
CREATE INDEX tickets_caller ON tickets (caller, created_at);
CREATE INDEX tickets_call_id ON tickets (call_id);

-- One row per local (UTC+8) day: the last ticket sequence number handed out that day.
CREATE TABLE ticket_day_seq (
    day  TEXT    PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE ticket_interactions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    at        TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    detail    TEXT    NOT NULL
);
CREATE INDEX ticket_interactions_ticket ON ticket_interactions (ticket_id, at);
