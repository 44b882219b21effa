-- Issue 5: the routing core (工单流转). A ticket now carries its intake details, its workflow snapshot
-- (hotline_workflow::Ticket as JSON: the single source of truth for which action is legal) and, beside it,
-- columns derived from that snapshot after every change: state, lead unit, deadlines and the facts the KPI
-- reports count. Derived columns are rewritten in the same transaction as the snapshot, so a report is one
-- GROUP BY over tickets and never replays events.
ALTER TABLE tickets ADD COLUMN state TEXT NOT NULL DEFAULT 'draft';
ALTER TABLE tickets ADD COLUMN ticket_type TEXT;
ALTER TABLE tickets ADD COLUMN urgency TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE tickets ADD COLUMN category TEXT;
ALTER TABLE tickets ADD COLUMN category_major TEXT;
ALTER TABLE tickets ADD COLUMN area TEXT;
ALTER TABLE tickets ADD COLUMN district TEXT;
ALTER TABLE tickets ADD COLUMN address TEXT;
ALTER TABLE tickets ADD COLUMN content TEXT;
ALTER TABLE tickets ADD COLUMN request TEXT;
ALTER TABLE tickets ADD COLUMN caller_name TEXT;
ALTER TABLE tickets ADD COLUMN anonymous BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tickets ADD COLUMN confidential BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tickets ADD COLUMN tags TEXT;
ALTER TABLE tickets ADD COLUMN received_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN updated_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN lead_unit BIGINT;
ALTER TABLE tickets ADD COLUMN repeat_of BIGINT;
ALTER TABLE tickets ADD COLUMN workflow TEXT;
-- The earliest pending warning or automatic supervision (Ticket::poll_timeout); the timer sweeps this index.
ALTER TABLE tickets ADD COLUMN next_timeout TIMESTAMPTZ;
-- KPI facts (see docs/routing.md for the exact definitions).
ALTER TABLE tickets ADD COLUMN dispatched_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN replied_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN closed_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN closed_at_intake BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tickets ADD COLUMN returns_approved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN extensions_approved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN sign_due TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN signed_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN sign_overdue BOOLEAN;
ALTER TABLE tickets ADD COLUMN resolve_due TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN resolve_overdue BOOLEAN;
ALTER TABLE tickets ADD COLUMN callback_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN callback_reached BOOLEAN;
ALTER TABLE tickets ADD COLUMN caller_resolved BOOLEAN;
ALTER TABLE tickets ADD COLUMN satisfied BOOLEAN;
ALTER TABLE tickets ADD COLUMN satisfied_strict BOOLEAN;
ALTER TABLE tickets ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN first_response_due TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN first_response_at TIMESTAMPTZ;

CREATE INDEX tickets_state ON tickets (state, created_at);
CREATE INDEX tickets_next_timeout ON tickets (next_timeout);
CREATE INDEX tickets_received_at ON tickets (received_at);
CREATE INDEX tickets_lead_unit ON tickets (lead_unit, received_at);
CREATE INDEX tickets_caller_category ON tickets (caller, category_major, received_at);

-- The unit tree (承办单位): centre → districts, departments, utilities, partner enterprises → streets → communities.
-- `area` is the area the unit governs (a district government its district): the fallback (兜底) of dispatch.
CREATE TABLE units (
    id         BIGSERIAL PRIMARY KEY,
    code       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    parent_id  BIGINT REFERENCES units (id),
    kind       TEXT    NOT NULL,
    area       TEXT,
    partner    BOOLEAN  NOT NULL DEFAULT FALSE,
    active     BOOLEAN  NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ    NOT NULL
);
CREATE INDEX units_parent ON units (parent_id);

-- People who log in to the API and console. Agents also log in with their SIP credentials from the config.
CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    unit_id       BIGINT REFERENCES units (id),
    password_hash TEXT    NOT NULL,
    active        BOOLEAN  NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ    NOT NULL
);

-- Bearer tokens from POST /api/v1/login; only the SHA-256 of a token is stored.
CREATE TABLE api_tokens (
    token_hash TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    unit_id    BIGINT,
    created_at TIMESTAMPTZ    NOT NULL,
    expires_at TIMESTAMPTZ    NOT NULL
);

-- One row per assignment (one unit's share of a ticket), rewritten from the workflow snapshot on each change:
-- what a unit liaison lists, and what per-unit reports count.
CREATE TABLE assignments (
    ticket_id     BIGINT NOT NULL REFERENCES tickets (id),
    idx           INTEGER NOT NULL,
    unit_id       BIGINT NOT NULL,
    parent_idx    INTEGER,
    level         INTEGER NOT NULL,
    role          TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    dispatched_at TIMESTAMPTZ    NOT NULL,
    sign_due      TIMESTAMPTZ,
    resolve_due   TIMESTAMPTZ,
    signed_at     TIMESTAMPTZ,
    replied_at    TIMESTAMPTZ,
    sign_overdue  BOOLEAN,
    resolve_overdue BOOLEAN,
    pending_requests INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ticket_id, idx)
);
CREATE INDEX assignments_unit ON assignments (unit_id, state, resolve_due);

-- The dispatch catalogue (派单目录): (category, area, time window) → lead unit + co-units.
CREATE TABLE catalogue_rules (
    id          BIGSERIAL PRIMARY KEY,
    position    INTEGER NOT NULL,
    category    TEXT,
    area        TEXT,
    window_from TEXT,
    window_to   TEXT,
    days        TEXT,
    lead_unit   TEXT    NOT NULL,
    co_units    TEXT    NOT NULL DEFAULT '[]',
    note        TEXT    NOT NULL DEFAULT '',
    updated_at  TIMESTAMPTZ    NOT NULL
);

-- Knowledge base (知识库) items searched at intake.
CREATE TABLE kb_items (
    id         BIGSERIAL PRIMARY KEY,
    question   TEXT    NOT NULL,
    answer     TEXT    NOT NULL,
    category   TEXT,
    keywords   TEXT    NOT NULL DEFAULT '',
    active     BOOLEAN  NOT NULL DEFAULT TRUE,
    updated_at TIMESTAMPTZ    NOT NULL
);

-- Calendar edits made through the API, laid over config/calendar/*.toml: a day off or a make-up working day.
CREATE TABLE calendar_days (
    day        TEXT    PRIMARY KEY,
    working    BOOLEAN  NOT NULL,
    note       TEXT    NOT NULL DEFAULT '',
    updated_by TEXT    NOT NULL,
    updated_at TIMESTAMPTZ    NOT NULL
);

-- The audit log: one hash-chained row per change (hotline-audit), appended in the transaction of the change.
-- audit_head holds the chain's tip; every audited transaction updates it first, which serialises them
-- (SQLite's write lock, PostgreSQL's row lock) so the chain never forks.
CREATE TABLE audit_events (
    seq       BIGINT PRIMARY KEY,
    at        TIMESTAMPTZ    NOT NULL,
    actor     TEXT    NOT NULL,
    entity    TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    before    TEXT    NOT NULL,
    after     TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_events_entity ON audit_events (entity, seq);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
