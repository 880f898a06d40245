-- The cognitive twin: memories on two timelines, the memory operations waiting for the person's yes, and the
-- hypotheses whose status code computes.
--
-- Two timelines per memory: `valid_from`/`valid_to` is world time (when it was true of the person),
-- `recorded_at`/`superseded_at`/`retracted_at` is system time (when Auren learnt or dropped it). Every column
-- of a memory is written once: supersession fills the old row's `valid_to`, `superseded_at`, `superseded_by` and
-- `supersede_reason` together and inserts the replacement; retraction fills `retracted_at` and
-- `retract_reason`. Only forgetting (the person's right) deletes a row.

CREATE TABLE memories (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL CHECK (kind IN ('fact', 'preference', 'goal', 'milestone', 'insight', 'hypothesis')),
    text             TEXT    NOT NULL CHECK (length(text) > 0),
    importance       REAL    NOT NULL CHECK (importance >= 0 AND importance <= 1),
    -- Where it came from: a message id, a receipt id, or the person directly (no reference). A pointer kept even
    -- when the conversation is deleted later.
    source_kind      TEXT    NOT NULL CHECK (source_kind IN ('message', 'receipt', 'person')),
    source_ref       TEXT    CHECK ((source_kind = 'person') = (source_ref IS NULL)),
    valid_from       INTEGER NOT NULL,
    valid_to         INTEGER CHECK (valid_to IS NULL OR valid_to >= valid_from),
    recorded_at      INTEGER NOT NULL,
    superseded_at    INTEGER CHECK (superseded_at IS NULL OR superseded_at >= recorded_at),
    superseded_by    INTEGER REFERENCES memories (id) ON DELETE SET NULL,
    supersede_reason TEXT,
    retracted_at     INTEGER CHECK (retracted_at IS NULL OR retracted_at >= recorded_at),
    retract_reason   TEXT,
    CHECK ((superseded_at IS NULL) = (supersede_reason IS NULL) AND (superseded_at IS NULL) = (valid_to IS NULL)),
    CHECK ((retracted_at IS NULL) = (retract_reason IS NULL))
) STRICT;

CREATE INDEX memories_by_successor ON memories (superseded_by) WHERE superseded_by IS NOT NULL;
CREATE INDEX memories_by_recorded ON memories (recorded_at);

-- Recall's index holds the active memories only (neither superseded nor retracted), so a search never scores a
-- dropped one. Contentless with deletes: the text lives once, in `memories`; the index keeps only terms.
CREATE VIRTUAL TABLE memories_fts USING fts5 (
    text,
    content = '',
    contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- FTS5's own secure-delete: a deleted row's terms leave the index at once instead of waiting for a merge.
INSERT INTO memories_fts (memories_fts, rank) VALUES ('secure-delete', 1);

CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories
WHEN new.superseded_at IS NULL AND new.retracted_at IS NULL BEGIN
    INSERT INTO memories_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TRIGGER memories_fts_drop AFTER UPDATE OF superseded_at, retracted_at ON memories
WHEN old.superseded_at IS NULL AND old.retracted_at IS NULL
 AND (new.superseded_at IS NOT NULL OR new.retracted_at IS NOT NULL) BEGIN
    DELETE FROM memories_fts WHERE rowid = old.id;
END;

-- Only forgetting rewrites a memory's text (another memory that quoted the forgotten one).
CREATE TRIGGER memories_fts_retext AFTER UPDATE OF text ON memories
WHEN new.superseded_at IS NULL AND new.retracted_at IS NULL BEGIN
    DELETE FROM memories_fts WHERE rowid = old.id;
    INSERT INTO memories_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    DELETE FROM memories_fts WHERE rowid = old.id;
END;

-- Memory operations proposed by the extraction after a turn, waiting for the person (or applied at once,
-- as the setting decides). `target_id` is the memory a supersede or retract acts on; `result_id` the memory
-- an applied add or supersede created.
CREATE TABLE memory_proposals (
    id          INTEGER PRIMARY KEY,
    op          TEXT    NOT NULL CHECK (op IN ('add', 'supersede', 'retract')),
    target_id   INTEGER REFERENCES memories (id) ON DELETE CASCADE,
    kind        TEXT    CHECK (kind IS NULL OR kind IN ('fact', 'preference', 'goal', 'milestone', 'insight', 'hypothesis')),
    text        TEXT,
    importance  REAL    CHECK (importance IS NULL OR (importance >= 0 AND importance <= 1)),
    valid_from  INTEGER,
    reason      TEXT,
    -- The provenance of the memory an add or supersede would create; NULL for a retract.
    source_kind TEXT    CHECK (source_kind IS NULL OR source_kind IN ('message', 'receipt', 'person')),
    source_ref  TEXT,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'applied', 'rejected')),
    created_at  INTEGER NOT NULL,
    decided_at  INTEGER,
    result_id   INTEGER REFERENCES memories (id) ON DELETE SET NULL,
    CHECK ((op = 'add') = (target_id IS NULL)),
    CHECK ((op = 'retract') = (text IS NULL))
) STRICT;

CREATE INDEX memory_proposals_by_status ON memory_proposals (status, id);

-- A testable belief about the person ("alcohol lowers my next-morning lnRMSSD"): a morning metric after days
-- tagged `exposure_tag` (shifted by `lag_days`) against the other days. `status` and `evidence` are the latest
-- test's, computed by code; every test is kept in `hypothesis_tests`.
CREATE TABLE hypotheses (
    id             INTEGER PRIMARY KEY,
    statement      TEXT    NOT NULL CHECK (length(statement) > 0),
    metric         TEXT    NOT NULL,
    exposure_tag   TEXT    NOT NULL,
    lag_days       INTEGER NOT NULL CHECK (lag_days >= 0 AND lag_days <= 7),
    direction      TEXT    NOT NULL CHECK (direction IN ('lower', 'higher', 'either')),
    test           TEXT    NOT NULL,
    alpha          REAL    NOT NULL CHECK (alpha > 0 AND alpha < 1),
    min_n          INTEGER NOT NULL CHECK (min_n >= 2),
    status         TEXT    NOT NULL CHECK (status IN ('open', 'supported', 'refuted', 'inconclusive')),
    evidence       TEXT    CHECK (evidence IS NULL OR json_valid(evidence)),
    last_tested_at INTEGER,
    created_at     INTEGER NOT NULL,
    memory_id      INTEGER REFERENCES memories (id) ON DELETE CASCADE
) STRICT;

CREATE TABLE hypothesis_tests (
    id            INTEGER PRIMARY KEY,
    hypothesis_id INTEGER NOT NULL REFERENCES hypotheses (id) ON DELETE CASCADE,
    tested_at     INTEGER NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('open', 'supported', 'refuted', 'inconclusive')),
    evidence      TEXT    NOT NULL CHECK (json_valid(evidence))
) STRICT;

CREATE INDEX hypothesis_tests_by_hypothesis ON hypothesis_tests (hypothesis_id, id);
