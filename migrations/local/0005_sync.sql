-- The device side of sync: who this database is signed in as, where pulls stand, the clocks of editable
-- records, rows parked instead of wedging the queue, and which local rows came from other devices.

-- This database's stable replica id: the prefix of the session and tag keys it pushes and its HLC tie-break.
-- Made here, once, so keys stay the same whatever account or device id the server hands out later.
CREATE TABLE sync_replica (
    only_row   INTEGER PRIMARY KEY CHECK (only_row = 1),
    replica_id TEXT    NOT NULL,
    -- The last HLC stamp issued or seen (a local edit always stamps after it).
    hlc_wall    INTEGER NOT NULL DEFAULT 0,
    hlc_counter INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO sync_replica (only_row, replica_id) VALUES (1, lower(hex(randomblob(16))));

-- The account this database syncs with (tokens are NOT here: they live in the OS keychain or a 0600 file).
CREATE TABLE sync_account (
    only_row   INTEGER PRIMARY KEY CHECK (only_row = 1),
    server_url TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    email      TEXT    NOT NULL,
    device_id  TEXT    NOT NULL,
    signed_in_at INTEGER NOT NULL
) STRICT;

-- Where each pull stands: '' for the account's own data, an athlete's user id for a coach. Only ever raised.
CREATE TABLE sync_cursors (
    scope  TEXT    PRIMARY KEY NOT NULL,
    cursor INTEGER NOT NULL CHECK (cursor >= 0)
) STRICT, WITHOUT ROWID;

-- Outbox rows that could not be sent (not buildable, too large) or that the server rejected: kept for a person
-- to see; the local data they point at is never deleted.
CREATE TABLE sync_parked (
    outbox_id INTEGER PRIMARY KEY,
    kind      TEXT    NOT NULL,
    code      TEXT    NOT NULL,
    message   TEXT    NOT NULL,
    parked_at INTEGER NOT NULL
) STRICT;

-- Sessions pulled from other devices or athletes: their key, and whose they are (NULL athlete = the account's).
CREATE TABLE sync_sessions (
    session_id  INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    session_key TEXT    NOT NULL UNIQUE
) STRICT;

-- A coach's copy of an athlete's session carries the athlete's user id; the account's own sessions have NULL.
ALTER TABLE sessions ADD COLUMN athlete TEXT;
CREATE INDEX sessions_by_athlete ON sessions (athlete, started_at) WHERE athlete IS NOT NULL;

-- Tags pulled from other devices, by key.
CREATE TABLE sync_tags (
    tag_id  INTEGER PRIMARY KEY REFERENCES tags (id) ON DELETE CASCADE,
    tag_key TEXT    NOT NULL UNIQUE
) STRICT;

-- The winning value and stamp of every field of every editable record this database knows (tags, notes,
-- mornings, memories, settings). value is JSON.
CREATE TABLE sync_fields (
    collection  TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    field       TEXT    NOT NULL,
    value       TEXT    NOT NULL CHECK (json_valid(value)),
    hlc_wall    INTEGER NOT NULL,
    hlc_counter INTEGER NOT NULL,
    hlc_device  TEXT    NOT NULL,
    PRIMARY KEY (collection, key, field)
) STRICT, WITHOUT ROWID;

-- Deleted records: a delete is final, whatever older or newer edit arrives after it.
CREATE TABLE sync_tombstones (
    collection  TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    hlc_wall    INTEGER NOT NULL,
    hlc_counter INTEGER NOT NULL,
    hlc_device  TEXT    NOT NULL,
    PRIMARY KEY (collection, key)
) STRICT, WITHOUT ROWID;

-- The outbox learns the editable kinds (a session note, memories, settings, tombstones). SQLite cannot change a
-- CHECK, so the table is rebuilt; its AUTOINCREMENT high-water mark is carried over, because an id handed out
-- again after an emptied outbox would be skipped by the server as already applied.
CREATE TABLE outbox_next (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL CHECK (kind IN ('session', 'beats', 'gaps', 'hr_samples', 'metrics', 'alert', 'tag',
                                                'morning_reading', 'note', 'memory', 'setting', 'tombstone')),
    session_id INTEGER,
    entity_id  INTEGER,
    from_ms    REAL,
    to_ms      REAL,
    rows       INTEGER NOT NULL CHECK (rows >= 0),
    created_at INTEGER NOT NULL,
    -- The key of a memory, setting or tombstone, and a tombstone's collection.
    entity_key TEXT,
    collection TEXT
) STRICT;

INSERT INTO outbox_next (id, kind, session_id, entity_id, from_ms, to_ms, rows, created_at)
    SELECT id, kind, session_id, entity_id, from_ms, to_ms, rows, created_at FROM outbox;
DELETE FROM sqlite_sequence WHERE name = 'outbox_next';
INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_next', seq FROM sqlite_sequence WHERE name = 'outbox';
DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;
