-- Pulls read only the tables that hold something past the cursor (issue 13: a data pull's PostgreSQL time
-- went for about a third to starting the executor of auren_pull's read of all five tables, most of them with
-- nothing to return). user_versions gains, per table, the user's last version that wrote it, kept by
-- statement triggers on the tables (whoever writes them: the push, the Kafka consumer's alerts), in the
-- writer's own transaction, on the row the writer's version bump already locked. auren_pull reads them with
-- the version, in the same snapshot as the rows: a table whose mark is at or below the cursor has no row past
-- it in that snapshot and is not read. Beats need no mark: beat_versions (0004) already says whether any
-- version in the range stored chunks. Each table is its own statement, run only when needed (the five-way
-- UNION ALL cost as much as five statements when all five are read: pgbench on the bench's data, one client,
-- backend CPU per call, 183-202 µs either way; 150 µs with the sessions and beats statements alone).
--
-- A mark only moves up; a deleted row leaves it where it was (the table is then read and has nothing: the
-- old cost, never a missed row). Row-level security is unchanged: the marks are columns of user_versions,
-- whose policies apply to the triggers' writes as to the version bump, and the tables are read as before.

ALTER TABLE user_versions
    ADD COLUMN sessions_version bigint NOT NULL DEFAULT 0,
    ADD COLUMN alerts_version   bigint NOT NULL DEFAULT 0,
    ADD COLUMN batches_version  bigint NOT NULL DEFAULT 0,
    ADD COLUMN records_version  bigint NOT NULL DEFAULT 0;

UPDATE user_versions uv SET
    sessions_version = coalesce((SELECT max(t.version) FROM sessions t WHERE t.user_id = uv.user_id), 0),
    alerts_version   = coalesce((SELECT max(t.version) FROM alerts t WHERE t.user_id = uv.user_id), 0),
    batches_version  = coalesce((SELECT max(t.version) FROM session_batches t WHERE t.user_id = uv.user_id), 0),
    records_version  = coalesce((SELECT max(t.version) FROM records t WHERE t.user_id = uv.user_id), 0);

-- TG_ARGV[0] names the table's mark. Transition tables allow one event per trigger, hence an INSERT and an
-- UPDATE trigger per table (an INSERT … ON CONFLICT DO UPDATE fires both, each with its own rows). The
-- version row exists (every writer bumps it first); were it missing, the upsert makes it rather than leave
-- a mark at 0 that would hide the rows.
CREATE FUNCTION auren_note_table_version() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    DECLARE
        mark text := TG_ARGV[0];
    BEGIN
        INSERT INTO user_versions AS uv (user_id, version, sessions_version, alerts_version, batches_version,
                                         records_version)
        SELECT n.user_id, max(n.version),
               CASE WHEN mark = 'sessions' THEN max(n.version) ELSE 0 END,
               CASE WHEN mark = 'alerts' THEN max(n.version) ELSE 0 END,
               CASE WHEN mark = 'batches' THEN max(n.version) ELSE 0 END,
               CASE WHEN mark = 'records' THEN max(n.version) ELSE 0 END
        FROM changed_rows n GROUP BY n.user_id
        ON CONFLICT (user_id) DO UPDATE SET
            sessions_version = greatest(uv.sessions_version, EXCLUDED.sessions_version),
            alerts_version = greatest(uv.alerts_version, EXCLUDED.alerts_version),
            batches_version = greatest(uv.batches_version, EXCLUDED.batches_version),
            records_version = greatest(uv.records_version, EXCLUDED.records_version)
        -- Only when a mark moves: a push writes its rows one statement each, and the rest would each leave
        -- another dead copy of the user's row (the push already holds its lock).
        WHERE EXCLUDED.sessions_version > uv.sessions_version OR EXCLUDED.alerts_version > uv.alerts_version
           OR EXCLUDED.batches_version > uv.batches_version OR EXCLUDED.records_version > uv.records_version;
        RETURN NULL;
    END
    $$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('sessions', 'sessions'), ('alerts', 'alerts'),
                                   ('session_batches', 'batches'), ('records', 'records')) AS v (tab, mark) LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS changed_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION auren_note_table_version(%L)',
                       t.tab || '_note_inserted_version', t.tab, t.mark);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS changed_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION auren_note_table_version(%L)',
                       t.tab || '_note_updated_version', t.tab, t.mark);
    END LOOP;
END
$$;

-- auren_pull as in 0004 (see there for the rows it returns and why), reading only the tables marked past the
-- cursor, each in its own statement, in the order of pull.rs' TABLES (each table's rows in version order).
CREATE OR REPLACE FUNCTION auren_pull(p_me uuid, p_target uuid, p_cursor bigint, p_limit integer, p_upto bigint)
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
        -- The target's last version that wrote each table (0: none).
        v_sessions bigint;
        v_alerts   bigint;
        v_batches  bigint;
        v_records  bigint;
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
                   s.kind, s.source, s.strap, NULL::float8, NULL::smallint[], NULL::jsonb, NULL::float8,
                   NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::jsonb, NULL::jsonb,
                   NULL::jsonb, NULL::text, NULL::text
            FROM sessions s
            WHERE s.user_id = p_target AND s.version > p_cursor AND s.version <= v_upto
            ORDER BY s.version LIMIT v_rows;
        END IF;
        IF v_first_ms IS NOT NULL THEN
            RETURN QUERY
            SELECT 1::smallint, b.version, NULL::boolean, b.device_id, b.session_key, NULL::bigint,
                   NULL::bigint, NULL::text, NULL::text, NULL::jsonb, b.start_ms, b.rr_raw, b.extras,
                   NULL::float8, NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::jsonb,
                   NULL::jsonb, NULL::jsonb, NULL::text, NULL::text
            FROM beat_chunks b
            WHERE b.user_id = p_target AND b.version > p_cursor AND b.version <= v_upto
                  AND b.wall_ms >= v_first_ms AND b.wall_ms <= v_last_ms
            ORDER BY b.version, b.session_key, b.start_ms LIMIT v_rows;
        END IF;
        IF v_alerts > p_cursor THEN
            RETURN QUERY
            SELECT 2::smallint, a.version, NULL::boolean, a.device_id, a.session_key, NULL::bigint,
                   NULL::bigint, NULL::text, NULL::text, NULL::jsonb, NULL::float8, NULL::smallint[],
                   NULL::jsonb, a.at_ms, a.at, a.window_start_ms, a.rule, a.severity, a.message, a.evidence,
                   NULL::jsonb, NULL::jsonb, NULL::text, NULL::text
            FROM alerts a
            WHERE a.user_id = p_target AND a.version > p_cursor AND a.version <= v_upto
            ORDER BY a.version LIMIT v_rows;
        END IF;
        IF v_batches > p_cursor THEN
            RETURN QUERY
            SELECT 3::smallint, sb.version, NULL::boolean, sb.device_id, NULL::text, NULL::bigint,
                   NULL::bigint, NULL::text, NULL::text, NULL::jsonb, NULL::float8, NULL::smallint[],
                   NULL::jsonb, NULL::float8, NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
                   NULL::jsonb, sb.body, NULL::jsonb, NULL::text, NULL::text
            FROM session_batches sb
            WHERE sb.user_id = p_target AND sb.version > p_cursor AND sb.version <= v_upto
            ORDER BY sb.version, sb.session_key, sb.kind, sb.first_ms LIMIT v_rows;
        END IF;
        IF v_records > p_cursor THEN
            RETURN QUERY
            SELECT 4::smallint, r.version, NULL::boolean, r.device_id, NULL::text, NULL::bigint,
                   NULL::bigint, NULL::text, NULL::text, NULL::jsonb, NULL::float8, NULL::smallint[],
                   NULL::jsonb, NULL::float8, NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
                   NULL::jsonb, r.body, r.tombstone, r.collection, r.key
            FROM records r
            WHERE r.user_id = p_target AND r.version > p_cursor AND r.version <= v_upto
            ORDER BY r.version LIMIT v_rows;
        END IF;
    END
    $$;
