-- Recorded sessions and everything measured in them, morning readings, baselines and the sync outbox.
--
-- Times: wall-clock values are Unix milliseconds (INTEGER, `*_at`); times inside a session are milliseconds
-- since the session's `started_at` (REAL, `t_ms`/`at_ms`), as the engine computes them from the RR sums.
-- Days are day numbers (days since 1970-01-01 of the calendar the caller uses).
-- Every table is STRICT, so a NaN (which SQLite binds as NULL) or a wrong type fails the insert.

CREATE TABLE straps (
    address       TEXT    PRIMARY KEY NOT NULL,
    name          TEXT    NOT NULL,
    manufacturer  TEXT,
    model         TEXT,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY,
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER CHECK (ended_at IS NULL OR ended_at >= started_at),
    kind            TEXT    NOT NULL CHECK (kind IN ('rest', 'morning', 'exercise', 'breathing', 'other')),
    source          TEXT    NOT NULL,
    strap_address   TEXT    REFERENCES straps (address),
    label           TEXT,
    -- Kept by the writer in the same transaction as the beats, so listing sessions never counts beats.
    beat_count      INTEGER NOT NULL DEFAULT 0,
    artifact_count  INTEGER NOT NULL DEFAULT 0,
    last_beat_ms    REAL
) STRICT;

CREATE INDEX sessions_by_start ON sessions (started_at);

-- One row per beat: clustered by (session, time), which is the order they arrive in and are read back in.
-- `artifact` is the label of the artifact detector (NULL for a normal beat).
CREATE TABLE beats (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    t_ms       REAL    NOT NULL,
    rr_ms      REAL    NOT NULL CHECK (rr_ms > 0),
    artifact   TEXT,
    PRIMARY KEY (session_id, t_ms)
) STRICT, WITHOUT ROWID;

-- Intervals with no beats (contact lost, link down): kept apart from beats so the beat series stays a
-- series of real beats, never bridged.
CREATE TABLE gaps (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    from_ms    REAL    NOT NULL,
    to_ms      REAL    NOT NULL CHECK (to_ms >= from_ms),
    PRIMARY KEY (session_id, from_ms)
) STRICT, WITHOUT ROWID;

CREATE TABLE hr_samples (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    t_ms       REAL    NOT NULL,
    bpm        REAL    NOT NULL CHECK (bpm >= 0),
    PRIMARY KEY (session_id, t_ms)
) STRICT, WITHOUT ROWID;

-- Windowed metric values (rmssd_60s, dfa_a1, …) as the engine computed them live.
CREATE TABLE metric_snapshots (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    t_ms       REAL    NOT NULL,
    name       TEXT    NOT NULL,
    value      REAL    NOT NULL,
    PRIMARY KEY (session_id, t_ms, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    at_ms      REAL    NOT NULL,
    at         INTEGER NOT NULL, -- wall time: the session's started_at + at_ms, for queries by period
    rule       TEXT    NOT NULL,
    severity   TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    message    TEXT    NOT NULL,
    evidence   TEXT    NOT NULL CHECK (json_valid(evidence))
) STRICT;

CREATE INDEX alerts_by_time ON alerts (at);
CREATE INDEX alerts_by_session ON alerts (session_id, at_ms);

CREATE TABLE tags (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    at_ms      REAL    NOT NULL,
    name       TEXT    NOT NULL
) STRICT;

CREATE INDEX tags_by_session ON tags (session_id, at_ms);

-- The morning readiness reading, one per day (a retake replaces it). The daily trend reads this table only,
-- so it costs one row per day however many beats were recorded.
CREATE TABLE morning_readings (
    day        INTEGER PRIMARY KEY,
    ln_rmssd   REAL    NOT NULL,
    resting_hr REAL    CHECK (resting_hr IS NULL OR resting_hr > 0),
    session_id INTEGER REFERENCES sessions (id) ON DELETE SET NULL
) STRICT;

-- A personal baseline of one metric as of one day (e.g. 60-day mean and SD of morning lnRMSSD). Derived from
-- the morning readings, so it is not synchronised: any side recomputes it.
CREATE TABLE baselines (
    metric TEXT    NOT NULL,
    day    INTEGER NOT NULL,
    mean   REAL    NOT NULL,
    sd     REAL    NOT NULL CHECK (sd >= 0),
    n      INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (metric, day)
) STRICT, WITHOUT ROWID;

-- What the sync server has not acknowledged yet. Rows point at the data (a session, a range of a session's
-- beats, one alert, …) rather than copying it; every insert of the data appends its row in the same
-- transaction. AUTOINCREMENT: an acknowledged (deleted) id is never handed out again.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL CHECK (kind IN ('session', 'beats', 'gaps', 'hr_samples', 'metrics', 'alert', 'tag',
                                                'morning_reading')),
    session_id INTEGER,
    entity_id  INTEGER,
    from_ms    REAL,
    to_ms      REAL,
    rows       INTEGER NOT NULL CHECK (rows >= 0),
    created_at INTEGER NOT NULL
) STRICT;
