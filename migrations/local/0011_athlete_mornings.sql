-- A coach's copies of the athletes' data beyond their sessions: each athlete's morning readings, and the
-- athletes whose grants the last sync saw. Kept apart from the account's own tables, so the coach's normal
-- range, readiness and trend never read an athlete's morning (a shared table with an athlete column would
-- make every existing reader of `morning_readings` one forgotten WHERE away from mixing them).

-- One morning reading per athlete and day, as the athlete's devices last wrote it (merged by its stamp in
-- sync_fields, collection 'athlete_morning'). `athlete` is the athlete's email, as `sessions.athlete`.
CREATE TABLE athlete_mornings (
    athlete    TEXT    NOT NULL,
    day        INTEGER NOT NULL,
    ln_rmssd   REAL    NOT NULL,
    resting_hr REAL    CHECK (resting_hr IS NULL OR resting_hr > 0),
    -- The athlete's session it was measured in, when the coach has pulled it.
    session_id INTEGER REFERENCES sessions (id) ON DELETE SET NULL,
    PRIMARY KEY (athlete, day)
) STRICT, WITHOUT ROWID;

-- The athletes who granted this account read access, as the last sync's grant list named them: the
-- History picker lists them even before any of their data has arrived, and without the server.
CREATE TABLE sync_athletes (
    user_id TEXT PRIMARY KEY NOT NULL,
    email   TEXT NOT NULL UNIQUE
) STRICT, WITHOUT ROWID;
