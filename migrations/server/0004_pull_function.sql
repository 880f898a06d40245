-- Pulls that find data, made cheap (issue 13: ~1,400 such pulls/s against the goal's 5,000). Two changes:
--
-- `beat_versions`: per user and version that stored beat chunks, the span of their wall times, kept by a
-- statement trigger on beat_chunks (one row per push, however many chunks). beat_chunks is partitioned by wall
-- time, so a read by (user_id, version) alone visits every monthly partition (18 with the server's defaults);
-- that fan-out was the largest part of a data pull's PostgreSQL time (pgbench, one client, generic plans, on
-- bench-like data: a user's 10 chunks read by version ~110 µs a round trip, ~55 µs with the span named, the
-- same as their one session). With the span named, PostgreSQL drops the other partitions when the plan starts;
-- with no beats in the range, all of them.
--
-- `auren_pull`: a pull in one call, one round trip to PostgreSQL instead of six (the version check; BEGIN with
-- the user's set_config; the cutoff count; a read per table; COMMIT), its statements' plans cached per
-- connection by PL/pgSQL. It sets the user, checks a coach's grant, reads the target's version and returns the
-- rows past the cursor: at most `limit` + 1 of each table in version order, or, with `upto`, every row in
-- (cursor, upto]. The server chooses where the answer stops from the rows it got (whole versions within the
-- limit, the first version always): a table cut short at limit + 1 rows puts the running total over the limit
-- at or before its last version read, so every version below the stop is complete; only when the first
-- version alone is over the limit does the server ask again for exactly that version (`upto`). A pull of one
-- version (cursor = version − 1: what a wake-up asks) is never cut, so it reads without a limit.
--
-- It runs as the caller (SECURITY INVOKER: `auren_app`), so row-level security decides what it may read, as
-- before. The user is set with set_config(…, true), which ends with the caller's transaction; the server calls
-- it outside any explicit transaction, so that is this one statement. It is STABLE: every query in it reads
-- the snapshot of the calling statement — one snapshot for the version and every table, as the REPEATABLE
-- READ READ ONLY transaction gave; rows pushed after it are in neither. Generic plans are forced: left to
-- choose, the plan cache keeps planning the partitioned read anew on every call (a custom plan looks cheaper
-- than the generic one over all partitions, planning time not counted), while the generic plan drops the
-- partitions outside the span when it starts.
--
-- Rows: first a header (kind -1): `version` the target's version, `granted` false when a coach asks for an
-- athlete who granted nothing (then nothing else). Then one row per stored row, `kind` naming its table
-- (0 sessions, 1 beat_chunks, 2 alerts, 3 session_batches, 4 records: the order of pull.rs' TABLES).

CREATE TABLE beat_versions (
    user_id       uuid   NOT NULL,
    version       bigint NOT NULL,
    first_wall_ms bigint NOT NULL,
    last_wall_ms  bigint NOT NULL CHECK (last_wall_ms >= first_wall_ms),
    PRIMARY KEY (user_id, version)
);

INSERT INTO beat_versions (user_id, version, first_wall_ms, last_wall_ms)
SELECT user_id, version, min(wall_ms), max(wall_ms) FROM beat_chunks GROUP BY user_id, version;

ALTER TABLE beat_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY beat_versions_own ON beat_versions USING (user_id = (SELECT auren_current_user()));
CREATE POLICY beat_versions_coach ON beat_versions FOR SELECT USING (user_id IN (SELECT auren_coached_athletes()));
GRANT SELECT, INSERT, UPDATE ON beat_versions TO auren_app;

-- Runs as the pushing user: row-level security applies to its insert as to the chunks'. A version's chunks
-- arrive in one statement today; a second statement would widen the span.
CREATE FUNCTION auren_note_beat_versions() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        INSERT INTO beat_versions AS v (user_id, version, first_wall_ms, last_wall_ms)
        SELECT n.user_id, n.version, min(n.wall_ms), max(n.wall_ms)
        FROM new_chunks n GROUP BY n.user_id, n.version
        ON CONFLICT (user_id, version) DO UPDATE SET
            first_wall_ms = least(v.first_wall_ms, EXCLUDED.first_wall_ms),
            last_wall_ms = greatest(v.last_wall_ms, EXCLUDED.last_wall_ms);
        RETURN NULL;
    END
    $$;

CREATE TRIGGER beat_chunks_note_versions AFTER INSERT ON beat_chunks
    REFERENCING NEW TABLE AS new_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION auren_note_beat_versions();

CREATE FUNCTION auren_pull(p_me uuid, p_target uuid, p_cursor bigint, p_limit integer, p_upto bigint)
    RETURNS TABLE (
        kind            smallint,
        version         bigint,
        granted         boolean,
        device_id       uuid,
        session_key     text,
        started_at      bigint,
        ended_at        bigint,
        session_kind    text,
        source          text,
        strap           jsonb,
        start_ms        float8,
        rr_raw          smallint[],
        extras          jsonb,
        at_ms           float8,
        at              bigint,
        window_start_ms bigint,
        rule            text,
        severity        text,
        message         text,
        evidence        jsonb,
        body            jsonb,
        tombstone       jsonb,
        collection      text,
        key             text
    )
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        v_current  bigint;
        v_upto     bigint;
        -- NULL: no limit (LIMIT NULL is LIMIT ALL).
        v_rows     bigint;
        v_first_ms bigint;
        v_last_ms  bigint;
    BEGIN
        PERFORM set_config('app.user_id', p_me::text, true);
        kind := -1;
        IF p_target <> p_me THEN
            IF NOT EXISTS (
                SELECT 1 FROM coach_grants g
                WHERE g.athlete_id = p_target AND g.coach_id = p_me AND g.revoked_at IS NULL
            ) THEN
                granted := false;
                RETURN NEXT;
                RETURN;
            END IF;
        END IF;
        SELECT uv.version INTO v_current FROM user_versions uv WHERE uv.user_id = p_target;
        version := coalesce(v_current, 0);
        granted := true;
        RETURN NEXT;
        v_upto := least(version, coalesce(p_upto, version));
        IF v_upto <= p_cursor THEN
            RETURN;
        END IF;
        IF p_upto IS NULL AND v_upto - p_cursor > 1 THEN
            v_rows := p_limit::bigint + 1;
        END IF;
        SELECT min(bv.first_wall_ms), max(bv.last_wall_ms) INTO v_first_ms, v_last_ms
        FROM beat_versions bv WHERE bv.user_id = p_target AND bv.version > p_cursor AND bv.version <= v_upto;
        RETURN QUERY
            (SELECT 0::smallint, s.version, NULL::boolean, s.device_id, s.session_key, s.started_at, s.ended_at,
                    s.kind, s.source, s.strap, NULL::float8, NULL::smallint[], NULL::jsonb, NULL::float8,
                    NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::jsonb, NULL::jsonb,
                    NULL::jsonb, NULL::text, NULL::text
             FROM sessions s
             WHERE s.user_id = p_target AND s.version > p_cursor AND s.version <= v_upto
             ORDER BY s.version LIMIT v_rows)
            UNION ALL
            (SELECT 1::smallint, b.version, NULL::boolean, b.device_id, b.session_key, NULL::bigint,
                    NULL::bigint, NULL::text, NULL::text, NULL::jsonb, b.start_ms, b.rr_raw, b.extras,
                    NULL::float8, NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::jsonb,
                    NULL::jsonb, NULL::jsonb, NULL::text, NULL::text
             FROM beat_chunks b
             WHERE b.user_id = p_target AND b.version > p_cursor AND b.version <= v_upto
                   AND b.wall_ms >= v_first_ms AND b.wall_ms <= v_last_ms
             ORDER BY b.version, b.session_key, b.start_ms LIMIT v_rows)
            UNION ALL
            (SELECT 2::smallint, a.version, NULL::boolean, a.device_id, a.session_key, NULL::bigint,
                    NULL::bigint, NULL::text, NULL::text, NULL::jsonb, NULL::float8, NULL::smallint[],
                    NULL::jsonb, a.at_ms, a.at, a.window_start_ms, a.rule, a.severity, a.message, a.evidence,
                    NULL::jsonb, NULL::jsonb, NULL::text, NULL::text
             FROM alerts a
             WHERE a.user_id = p_target AND a.version > p_cursor AND a.version <= v_upto
             ORDER BY a.version LIMIT v_rows)
            UNION ALL
            (SELECT 3::smallint, sb.version, NULL::boolean, sb.device_id, NULL::text, NULL::bigint,
                    NULL::bigint, NULL::text, NULL::text, NULL::jsonb, NULL::float8, NULL::smallint[],
                    NULL::jsonb, NULL::float8, NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
                    NULL::jsonb, sb.body, NULL::jsonb, NULL::text, NULL::text
             FROM session_batches sb
             WHERE sb.user_id = p_target AND sb.version > p_cursor AND sb.version <= v_upto
             ORDER BY sb.version, sb.session_key, sb.kind, sb.first_ms LIMIT v_rows)
            UNION ALL
            (SELECT 4::smallint, r.version, NULL::boolean, r.device_id, NULL::text, NULL::bigint,
                    NULL::bigint, NULL::text, NULL::text, NULL::jsonb, NULL::float8, NULL::smallint[],
                    NULL::jsonb, NULL::float8, NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
                    NULL::jsonb, r.body, r.tombstone, r.collection, r.key
             FROM records r
             WHERE r.user_id = p_target AND r.version > p_cursor AND r.version <= v_upto
             ORDER BY r.version LIMIT v_rows);
    END
    $$;

GRANT EXECUTE ON FUNCTION auren_pull(uuid, uuid, bigint, integer, bigint) TO auren_app;
