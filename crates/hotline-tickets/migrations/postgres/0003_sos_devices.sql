-- SOS handset registry (一键通): one row per elder's one-key SOS phone, keyed by the device's
-- normalised phone number (the caller ID the switch looks up).
-- Emergency contacts are a JSON array in `contacts`, in call order: they are always read and
-- written together with the device and never queried on their own, so a child table would only
-- add joins and ordering columns.
CREATE TABLE sos_devices (
    number             TEXT    NOT NULL PRIMARY KEY,
    name               TEXT    NOT NULL,
    age                INTEGER,
    gender             TEXT,
    address            TEXT    NOT NULL,
    medical_notes      TEXT    NOT NULL DEFAULT '',
    contacts           JSONB   NOT NULL DEFAULT '[]',
    community          TEXT,
    preferred_hospital TEXT,
    latitude           DOUBLE PRECISION,
    longitude          DOUBLE PRECISION,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
-- Listing by community (a community's liaison works through its own elders).
CREATE INDEX sos_devices_community ON sos_devices (community, number);
