-- The strap's contact and link changes of a session, as the live detector was fed them: the inputs of the
-- contact rule (and any rule reading `contact` or `link`), synced so the server's detector is fed the same.
-- `up` is 1 for contact detected / link connected, 0 for contact lost / link down. The rowid keeps the order
-- the detector saw changes of one moment in; a change of one signal is stored once per moment.
CREATE TABLE signal_changes (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    t_ms       REAL    NOT NULL,
    signal     TEXT    NOT NULL CHECK (signal IN ('contact', 'link')),
    up         INTEGER NOT NULL CHECK (up IN (0, 1)),
    UNIQUE (session_id, t_ms, signal)
) STRICT;

-- The outbox learns the `signals` kind. SQLite cannot change a CHECK, so the table is rebuilt as in 0005, its
-- AUTOINCREMENT high-water mark carried over (an id handed out again would be skipped by the server as
-- already applied) and every pending row kept.
CREATE TABLE outbox_next (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL CHECK (kind IN ('session', 'beats', 'gaps', 'hr_samples', 'metrics', 'alert', 'tag',
                                                'morning_reading', 'note', 'memory', 'setting', 'tombstone',
                                                'signals')),
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

INSERT INTO outbox_next (id, kind, session_id, entity_id, from_ms, to_ms, rows, created_at, entity_key, collection)
    SELECT id, kind, session_id, entity_id, from_ms, to_ms, rows, created_at, entity_key, collection FROM outbox;
DELETE FROM sqlite_sequence WHERE name = 'outbox_next';
INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_next', seq FROM sqlite_sequence WHERE name = 'outbox';
DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;
