-- The full HRV panel of a session's corrected beats, computed once and kept: recomputing it means reading
-- every beat and running the artifact correction, the spectrum, SampEn and DFA (11–30 ms for an hour), which
-- a coach's tool call or a year of morning trends cannot afford each time. Derived data, like baselines: not
-- synchronised, and recomputed by its reader when the session's beats or the method have changed since.
CREATE TABLE session_panels (
    session_id   INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    -- Which computation made it; a reader with another method recomputes.
    method       TEXT    NOT NULL,
    -- The session's beat_count and last_beat_ms when it was computed: beats written since make it stale.
    beat_count   INTEGER NOT NULL CHECK (beat_count >= 0),
    last_beat_ms REAL,
    -- Beats analysed after the correction.
    n_beats      INTEGER NOT NULL CHECK (n_beats >= 0),
    computed_at  INTEGER NOT NULL
) STRICT;

-- One metric of a stored panel; NULL where it could not be computed. REAL columns keep every bit of the value
-- (a JSON text would round-trip through two decimal parsers).
CREATE TABLE session_panel_values (
    session_id INTEGER NOT NULL REFERENCES session_panels (session_id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    value      REAL,
    PRIMARY KEY (session_id, key)
) STRICT, WITHOUT ROWID;
