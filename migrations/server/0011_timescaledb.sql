-- TimescaleDB when present, not required (issue 13). Where the database has the extension (created already,
-- or installed and in shared_preload_libraries, which CREATE EXTENSION needs), beat_chunks becomes a
-- hypertable on wall_ms; elsewhere nothing here changes and beat_chunks stays natively partitioned by month.
-- The layout is chosen once, when this migration runs: installing TimescaleDB later changes nothing (that
-- would be a new migration's conversion, as below).
--
-- What stays the same, so the server has one code path: the table's name, columns, primary key (it holds
-- wall_ms, as a hypertable's unique keys must), the (user_id, version) index, the BRIN on wall_ms, the
-- row-level security policies (copied from the old table, whatever earlier migrations made of them), the app
-- role's privileges and the statement trigger that keeps beat_versions (TimescaleDB refuses transition
-- tables only on ROW triggers and on chunks). Chunks hold 30 days of wall time (like the months); there is
-- no DEFAULT partition, so auren_default_partition_rows answers 0.
--
-- The chunks are tables of their own in _timescaledb_internal, and TimescaleDB gives each the hypertable's
-- grants; row-level security does not reach them (policies bind reads through the hypertable only), so a
-- chunk named directly would bypass it. The app role cannot lose USAGE on that schema (TimescaleDB's reads
-- through the hypertable need it), so it loses its privileges on every chunk instead: reads and writes
-- through the hypertable need none (checked by hand, and tests/it/isolation.rs fails on a chunk the app role
-- can touch). auren_ensure_beat_partitions does that: as on the partitioned layout, the server calls it at
-- start, daily and before writing a month it has not seen, and it makes that month's chunks ahead with
-- TimescaleDB's create_chunk (in _timescaledb_functions: internal, but the call its own tools make) and
-- takes the app role's privileges off every chunk. A chunk TimescaleDB made on its own for an insert
-- (nothing of the server's does that) is fixed at the next call.
--
-- Telemetry is the cluster's setting (timescaledb.telemetry_level): the README says to turn it off.

DO $migration$
DECLARE
    forced   boolean;
    policies jsonb;
    p        jsonb;
    stored   bigint;
    moved    bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
           OR current_setting('shared_preload_libraries') !~ '(^|[\s,"])timescaledb([\s,"]|$)' THEN
            RAISE NOTICE 'TimescaleDB is not present: beat_chunks stays partitioned by month';
            RETURN;
        END IF;
        CREATE EXTENSION timescaledb;
    END IF;

    SELECT c.relforcerowsecurity INTO forced FROM pg_class c WHERE c.oid = 'beat_chunks'::regclass;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'name', policyname, 'permissive', permissive, 'roles', to_jsonb(roles), 'cmd', cmd,
               'qual', qual, 'with_check', with_check)), '[]')
    INTO policies
    FROM pg_policies WHERE schemaname = 'public' AND tablename = 'beat_chunks';

    -- The copy below must see every row: a forced policy would bind the owner too.
    ALTER TABLE beat_chunks NO FORCE ROW LEVEL SECURITY;
    SELECT count(*) INTO stored FROM beat_chunks;
    CREATE TABLE beat_chunks_hyper (LIKE beat_chunks INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
    ALTER TABLE beat_chunks_hyper ADD CONSTRAINT beat_chunks_hyper_pkey
        PRIMARY KEY (user_id, session_key, start_ms, wall_ms);
    PERFORM create_hypertable('beat_chunks_hyper', by_range('wall_ms', 30::bigint * 86400000),
                              create_default_indexes => false);
    INSERT INTO beat_chunks_hyper SELECT * FROM beat_chunks;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved <> stored THEN
        RAISE EXCEPTION 'beat_chunks holds % rows but % were copied into the hypertable', stored, moved;
    END IF;
    -- The partitions, the DEFAULT one, the trigger and the policies go with it; beat_versions keeps its rows.
    DROP TABLE beat_chunks;

    ALTER TABLE beat_chunks_hyper RENAME TO beat_chunks;
    ALTER TABLE beat_chunks RENAME CONSTRAINT beat_chunks_hyper_pkey TO beat_chunks_pkey;
    CREATE INDEX beat_chunks_by_version ON beat_chunks (user_id, version);
    CREATE INDEX beat_chunks_by_time ON beat_chunks USING brin (wall_ms) WITH (autosummarize = on);

    ALTER TABLE beat_chunks ENABLE ROW LEVEL SECURITY;
    IF forced THEN
        ALTER TABLE beat_chunks FORCE ROW LEVEL SECURITY;
    END IF;
    FOR p IN SELECT * FROM jsonb_array_elements(policies) LOOP
        EXECUTE format('CREATE POLICY %I ON beat_chunks AS %s FOR %s TO %s', p->>'name', p->>'permissive',
                       p->>'cmd', (SELECT string_agg(CASE WHEN r = 'public' THEN 'PUBLIC' ELSE quote_ident(r) END, ', ')
                                   FROM jsonb_array_elements_text(p->'roles') r))
                || coalesce(' USING (' || (p->>'qual') || ')', '')
                || coalesce(' WITH CHECK (' || (p->>'with_check') || ')', '');
    END LOOP;
    GRANT SELECT, INSERT, UPDATE, DELETE ON beat_chunks TO auren_app;
    CREATE TRIGGER beat_chunks_note_versions AFTER INSERT ON beat_chunks
        REFERENCING NEW TABLE AS new_chunks
        FOR EACH STATEMENT EXECUTE FUNCTION auren_note_beat_versions();

    -- Chunks of 30 days aligned to the hypertable's grid, covering the UTC months of p_from_ms .. p_to_ms.
    CREATE OR REPLACE FUNCTION auren_ensure_beat_partitions(p_from_ms bigint, p_to_ms bigint) RETURNS integer
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
        DECLARE
            first_ms bigint := (extract(epoch FROM date_trunc('month', to_timestamp(p_from_ms / 1000.0)
                                AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') * 1000)::bigint;
            last_ms  bigint := (extract(epoch FROM (date_trunc('month', to_timestamp(p_to_ms / 1000.0)
                                AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC') * 1000)::bigint - 1;
            width    bigint;
            lo       bigint;
            made     integer := 0;
            chunk    regclass;
        BEGIN
            IF p_to_ms - p_from_ms > 100::bigint * 366 * 86400000 THEN
                RAISE EXCEPTION 'partition range too wide: % .. %', p_from_ms, p_to_ms;
            END IF;
            SELECT d.integer_interval INTO width FROM timescaledb_information.dimensions d
            WHERE d.hypertable_schema = 'public' AND d.hypertable_name = 'beat_chunks';
            lo := first_ms - ((first_ms % width) + width) % width;
            WHILE lo <= last_ms LOOP
                IF (SELECT c.created FROM _timescaledb_functions.create_chunk(
                        'beat_chunks', jsonb_build_object('wall_ms', jsonb_build_array(lo, lo + width))) c) THEN
                    made := made + 1;
                END IF;
                lo := lo + width;
            END LOOP;
            FOR chunk IN
                SELECT format('%I.%I', c.chunk_schema, c.chunk_name)::regclass FROM timescaledb_information.chunks c
                WHERE c.hypertable_schema = 'public' AND c.hypertable_name = 'beat_chunks'
            LOOP
                IF has_table_privilege('auren_app', chunk,
                                       'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') THEN
                    EXECUTE format('REVOKE ALL ON %s FROM auren_app', chunk);
                END IF;
            END LOOP;
            RETURN made;
        END
        $$;
    -- The chunks the copy above made got the app role's grant from the hypertable's: taken off here.
    PERFORM auren_ensure_beat_partitions((extract(epoch FROM now()) * 1000)::bigint,
                                         (extract(epoch FROM now()) * 1000)::bigint);
    CREATE OR REPLACE FUNCTION auren_default_partition_rows() RETURNS bigint
        LANGUAGE sql STABLE
        AS $$ SELECT 0::bigint $$;
END
$migration$;
