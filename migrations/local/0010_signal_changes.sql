-- The strap's contact and link changes of a session, as the live detector was fed them: the inputs of the
-- contact rule (and any rule reading `contact` or `link`), synced so the server's detector is fed the same.
-- `up` is 1 for contact detected / link connected, 0 for contact lost / link down. The rowid keeps the order
-- the detector saw changes of one moment in; a change of one signal is stored once per moment: of two changes
-- of one signal at one ms the first is kept. The strap's emitter cannot send two (a contact change is one per
-- notification, a link change one per connection event, and no two of either share a ms).
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

-- Gaps are keyed by both ends, not their start alone: the strap's emitter sends two gaps from one moment when
-- a late notification comes without contact (the missing notifications, to it) and contact comes back later
-- (the whole time without contact, from the last notification that had it, to then). Keyed by the start,
-- the second was dropped (INSERT into the primary key, OR IGNORE when synced) and never reached the server,
-- whose detector then missed that gap's reset. Rebuilt with every row kept.
CREATE TABLE gaps_next (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    from_ms    REAL    NOT NULL,
    to_ms      REAL    NOT NULL CHECK (to_ms >= from_ms),
    PRIMARY KEY (session_id, from_ms, to_ms)
) STRICT, WITHOUT ROWID;
INSERT INTO gaps_next (session_id, from_ms, to_ms) SELECT session_id, from_ms, to_ms FROM gaps;
DROP TABLE gaps;
ALTER TABLE gaps_next RENAME TO gaps;
