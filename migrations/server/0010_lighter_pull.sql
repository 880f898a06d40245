-- A pull's PostgreSQL work, cut by a sixth (issue 13: pulls finding two versions fell short of 5,000/s in
-- whole bench runs, where PostgreSQL's CPU is most of a pull). Counted with callgrind, which counts the
-- backend's instructions whatever else the machine runs: pgbench as `auren_app`, `-M prepared`, one client,
-- the instructions of 700 calls less those of 200, on a database of 2,000 accounts each with a session and
-- ten minute chunks in two versions and 300,000 more chunks; the call 757k instructions before this file.
-- Starting the executor is most of a call (its statements' plans are cached; each run builds its nodes'
-- state anew), and two things made that start dear:
--
-- * The coaches' policies. `user_id IN (SELECT auren_coached_athletes())` plans as a hashed SubPlan, and every
--   statement on a user table built it — its hash table's operators, its projection — even though a user's
--   own reads never run it (the own policy comes first in the OR). The policies now compare with an array
--   the same grants give: `(SELECT auren_coached_athlete_ids())` is an InitPlan, one cheap node to start,
--   run once per statement and only when a row is not the reader's own. The same rows pass: the athletes
--   whose grant to the reading coach is live; coach_grants' own policies still decide what the function can
--   see. 757k → 709k instructions per call. (Every statement of the push and the other handlers gains the
--   same.)
--
-- * auren_pull's 24 columns, a column per field of every table. Each statement's nodes (scan, sort, limit;
--   the function's result) build a tuple descriptor and a projection of all of them, one catalog lookup per
--   column each — ~225 column entries per call. Its rows now share 14 columns by type (below). With the
--   set_config now a PL/pgSQL assignment (run as an expression, without a statement's executor):
--   709k → 622k instructions per call. Together: −18 %.
--
-- The columns of auren_pull's rows, by `kind` (pull.rs reads them so):
--   -1 header    version (the target's), granted
--    0 sessions  int_a started_at, int_b ended_at, text_a kind, text_b source, json_a strap
--    1 beats     float_a start_ms, json_a extras, rr_raw
--    2 alerts    int_a at, int_b window_start_ms, float_a at_ms, text_a rule, text_b severity, text_c message,
--                json_a evidence
--    3 batches   json_a body
--    4 records   text_a collection, text_b key, json_a body, json_b tombstone
-- and every data row: version, device_id; session_key for sessions, beats and alerts.

CREATE FUNCTION auren_coached_athlete_ids() RETURNS uuid[]
    LANGUAGE sql STABLE
    AS $$
        SELECT coalesce(array_agg(athlete_id), '{}') FROM coach_grants
        WHERE coach_id = auren_current_user() AND revoked_at IS NULL
    $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['user_versions', 'sessions', 'beat_chunks', 'alerts', 'session_batches',
                             'beat_versions'] LOOP
        EXECUTE format('ALTER POLICY %I ON %I USING (user_id = ANY ((SELECT auren_coached_athlete_ids())::uuid[]))',
                       t || '_coach', t);
    END LOOP;
END
$$;
ALTER POLICY users_coach ON users USING (id = ANY ((SELECT auren_coached_athlete_ids())::uuid[]));
ALTER POLICY records_coach ON records
    USING (user_id = ANY ((SELECT auren_coached_athlete_ids())::uuid[]) AND collection NOT IN ('memory', 'setting'));

DROP FUNCTION auren_coached_athletes();

-- auren_pull as in 0005 (see there and 0004 for what it returns and why), its rows in the columns above.
DROP FUNCTION auren_pull(uuid, uuid, bigint, integer, bigint);
CREATE FUNCTION auren_pull(p_me uuid, p_target uuid, p_cursor bigint, p_limit integer, p_upto bigint)
    RETURNS TABLE (
        kind        smallint,
        version     bigint,
        granted     boolean,
        device_id   uuid,
        session_key text,
        int_a       bigint,
        int_b       bigint,
        float_a     float8,
        text_a      text,
        text_b      text,
        text_c      text,
        json_a      jsonb,
        json_b      jsonb,
        rr_raw      smallint[]
    )
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        v_user     text;
        v_current  bigint;
        v_upto     bigint;
        -- NULL: no limit (LIMIT NULL is LIMIT ALL).
        v_rows     bigint;
        v_first_ms bigint;
        v_last_ms  bigint;
        -- The target's last version that wrote each table (0: none).
        v_sessions bigint;
        v_alerts   bigint;
        v_batches  bigint;
        v_records  bigint;
    BEGIN
        v_user := set_config('app.user_id', p_me::text, true);
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
        SELECT uv.version, uv.sessions_version, uv.alerts_version, uv.batches_version, uv.records_version
        INTO v_current, v_sessions, v_alerts, v_batches, v_records
        FROM user_versions uv WHERE uv.user_id = p_target;
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
        IF v_sessions > p_cursor THEN
            RETURN QUERY
            SELECT 0::smallint, s.version, NULL::boolean, s.device_id, s.session_key, s.started_at, s.ended_at,
                   NULL::float8, s.kind, s.source, NULL::text, s.strap, NULL::jsonb, NULL::smallint[]
            FROM sessions s
            WHERE s.user_id = p_target AND s.version > p_cursor AND s.version <= v_upto
            ORDER BY s.version LIMIT v_rows;
        END IF;
        IF v_first_ms IS NOT NULL THEN
            RETURN QUERY
            SELECT 1::smallint, b.version, NULL::boolean, b.device_id, b.session_key, NULL::bigint, NULL::bigint,
                   b.start_ms, NULL::text, NULL::text, NULL::text, b.extras, NULL::jsonb, b.rr_raw
            FROM beat_chunks b
            WHERE b.user_id = p_target AND b.version > p_cursor AND b.version <= v_upto
                  AND b.wall_ms >= v_first_ms AND b.wall_ms <= v_last_ms
            ORDER BY b.version, b.session_key, b.start_ms LIMIT v_rows;
        END IF;
        IF v_alerts > p_cursor THEN
            RETURN QUERY
            SELECT 2::smallint, a.version, NULL::boolean, a.device_id, a.session_key, a.at, a.window_start_ms,
                   a.at_ms, a.rule, a.severity, a.message, a.evidence, NULL::jsonb, NULL::smallint[]
            FROM alerts a
            WHERE a.user_id = p_target AND a.version > p_cursor AND a.version <= v_upto
            ORDER BY a.version LIMIT v_rows;
        END IF;
        IF v_batches > p_cursor THEN
            RETURN QUERY
            SELECT 3::smallint, sb.version, NULL::boolean, sb.device_id, NULL::text, NULL::bigint, NULL::bigint,
                   NULL::float8, NULL::text, NULL::text, NULL::text, sb.body, NULL::jsonb, NULL::smallint[]
            FROM session_batches sb
            WHERE sb.user_id = p_target AND sb.version > p_cursor AND sb.version <= v_upto
            ORDER BY sb.version, sb.session_key, sb.kind, sb.first_ms LIMIT v_rows;
        END IF;
        IF v_records > p_cursor THEN
            RETURN QUERY
            SELECT 4::smallint, r.version, NULL::boolean, r.device_id, NULL::text, NULL::bigint, NULL::bigint,
                   NULL::float8, r.collection, r.key, NULL::text, r.body, r.tombstone, NULL::smallint[]
            FROM records r
            WHERE r.user_id = p_target AND r.version > p_cursor AND r.version <= v_upto
            ORDER BY r.version LIMIT v_rows;
        END IF;
    END
    $$;

GRANT EXECUTE ON FUNCTION auren_pull(uuid, uuid, bigint, integer, bigint) TO auren_app;
