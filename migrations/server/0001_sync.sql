-- The sync server's schema: accounts, devices, tokens, coach grants, the synced data, the server outbox.
--
-- Who may see what is decided here, not in the handlers: every table holding a user's rows has row-level
-- security, and the server runs its queries as the role `auren_app`, which owns nothing and so cannot bypass
-- it. The user is set per transaction with set_config('app.user_id', …, true). Once set_config has been used
-- on a connection, current_setting('app.user_id', true) reads '' (not NULL) outside such a transaction, hence
-- NULLIF; policies call auren_current_user() through a scalar subquery so it runs once per query, not per row.
--
-- Times are Unix milliseconds (bigint, `*_ms`) as the devices send them; `version` is the user's version at
-- the write that last changed the row, which pull compares with the device's cursor.

DO $$
BEGIN
    CREATE ROLE auren_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- made by an earlier database on this cluster (roles are cluster-wide)
END
$$;
-- The migrating role must be able to SET ROLE auren_app (a superuser already can).
DO $$
BEGIN
    EXECUTE format('GRANT auren_app TO %I', current_user);
EXCEPTION WHEN OTHERS THEN
    NULL;
END
$$;

CREATE FUNCTION auren_current_user() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;

-- Accounts ---------------------------------------------------------------------------------------------------

CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email)
);

-- The per-user version: pushes take this row's lock (UPDATE … RETURNING) for the rest of their transaction,
-- so versions commit in order and a pull that read version V has seen every row written at V or before.
CREATE TABLE user_versions (
    user_id uuid   PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version bigint NOT NULL DEFAULT 0 CHECK (version >= 0)
);

CREATE TABLE devices (
    id                     uuid        PRIMARY KEY,
    user_id                uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                   text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at             timestamptz NOT NULL DEFAULT now(),
    revoked_at             timestamptz,
    last_seen_at           timestamptz,
    -- The highest outbox id of this device whose effects are committed; advanced in the push transaction.
    last_applied_outbox_id bigint      NOT NULL DEFAULT 0 CHECK (last_applied_outbox_id >= 0)
);
CREATE INDEX devices_by_user ON devices (user_id);

-- One refresh-token family per device sign-in; every refresh rotates the token; a token presented twice
-- revokes its family (someone else holds a copy).
CREATE TABLE refresh_families (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id      uuid        NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    revoked_reason text CHECK (revoked_reason IN ('reuse', 'logout', 'device_removed'))
);
CREATE INDEX refresh_families_by_device ON refresh_families (device_id);

CREATE TABLE refresh_tokens (
    token_hash bytea       PRIMARY KEY, -- SHA-256 of the token; the token itself is never stored
    family_id  uuid        NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);

-- Adding a device: the new device asks for a code, a signed-in device approves the short user code, the new
-- device exchanges its secret device code for tokens once.
CREATE TABLE device_codes (
    device_code_hash bytea       PRIMARY KEY,
    user_code        text        NOT NULL UNIQUE,
    device_name      text        NOT NULL CHECK (length(device_name) BETWEEN 1 AND 200),
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    approved_by      uuid REFERENCES users (id) ON DELETE CASCADE,
    claimed_at       timestamptz
);

CREATE TABLE coach_grants (
    athlete_id uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    coach_id   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The coach's email as the athlete typed it (the athlete cannot read the coach's users row).
    coach_email text       NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    PRIMARY KEY (athlete_id, coach_id),
    CHECK (athlete_id <> coach_id)
);
CREATE INDEX coach_grants_by_coach ON coach_grants (coach_id) WHERE revoked_at IS NULL;

-- Synced data -----------------------------------------------------------------------------------------------
--
-- `device_id` on a data row is the device that pushed it (NULL: the server made it, e.g. consumer alerts);
-- pull reports it as the change's origin. All writes of one user serialise on the user's user_versions row
-- lock, which is what lets the server merge editable records in Rust (read, merge, write) without races.

-- Immutable under (user_id, session_key), except that the end time arrives later (unknown → known, once).
CREATE TABLE sessions (
    user_id     uuid   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_key text   NOT NULL CHECK (length(session_key) BETWEEN 1 AND 200),
    device_id   uuid,
    started_at  bigint NOT NULL,
    ended_at    bigint CHECK (ended_at IS NULL OR ended_at >= started_at),
    kind        text   NOT NULL,
    source      text   NOT NULL,
    strap       jsonb,
    version     bigint NOT NULL,
    PRIMARY KEY (user_id, session_key)
);
CREATE INDEX sessions_by_version ON sessions (user_id, version);

-- A chunk of beats of one session: RR as the strap's raw 1/1024 s integers (exact), one row per chunk (the
-- desktop sends about a minute; 4.3 B/beat measured vs 149 B/beat for a row per beat). `rr_raw` holds the
-- u16 values bit-cast to smallint (values above 32767 read back negative; the server casts them back).
-- `extras` keeps the chunk's rare time breaks, exact-RR overrides and artifact labels (NULL when none).
-- Partitioned by month of `wall_ms` (the session's start + the chunk's start); the server creates partitions
-- ahead (auren_ensure_beat_partitions) before writing; the DEFAULT partition exists only so a race never
-- loses a push, and a row in it raises an alarm metric (it would block creating its month).
CREATE TABLE beat_chunks (
    user_id     uuid       NOT NULL,
    session_key text       NOT NULL,
    start_ms    float8     NOT NULL,
    wall_ms     bigint     NOT NULL,
    device_id   uuid,
    rr_raw      smallint[] NOT NULL CHECK (cardinality(rr_raw) >= 1),
    extras      jsonb,
    version     bigint     NOT NULL,
    PRIMARY KEY (user_id, session_key, start_ms, wall_ms)
) PARTITION BY RANGE (wall_ms);
CREATE TABLE beat_chunks_default PARTITION OF beat_chunks DEFAULT;
CREATE INDEX beat_chunks_by_version ON beat_chunks (user_id, version);
CREATE INDEX beat_chunks_by_time ON beat_chunks USING brin (wall_ms) WITH (autosummarize = on);

-- Natural key (user_id, rule, window_start_ms), the same for the device's detector and the server's
-- consumer, so the two never double up and a replay inserts nothing.
CREATE TABLE alerts (
    user_id         uuid   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rule            text   NOT NULL CHECK (length(rule) BETWEEN 1 AND 200),
    window_start_ms bigint NOT NULL,
    session_key     text   NOT NULL,
    at_ms           float8 NOT NULL,
    at              bigint NOT NULL,
    severity        text   NOT NULL,
    message         text   NOT NULL,
    evidence        jsonb  NOT NULL,
    origin          text   NOT NULL CHECK (origin IN ('device', 'server')),
    device_id       uuid,
    version         bigint NOT NULL,
    CONSTRAINT alerts_natural_key UNIQUE (user_id, rule, window_start_ms)
);
CREATE INDEX alerts_by_version ON alerts (user_id, version);

-- Immutable per-session batches (gaps, HR samples, live metric values), keyed by their first time; `body` is
-- the change as pushed.
CREATE TABLE session_batches (
    user_id     uuid   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_key text   NOT NULL,
    kind        text   NOT NULL CHECK (kind IN ('gaps', 'hr_samples', 'metrics')),
    first_ms    float8 NOT NULL,
    device_id   uuid,
    body        jsonb  NOT NULL,
    version     bigint NOT NULL,
    PRIMARY KEY (user_id, session_key, kind, first_ms)
);
CREATE INDEX session_batches_by_version ON session_batches (user_id, version);

-- Editable records (tags, session notes, morning readings, memories, settings): `body` is the record with
-- every field at its winning value (per-field last writer wins by hybrid logical clock, merged in Rust with
-- auren-protocol's Lww); `tombstone` the latest delete's stamp. Both are kept: an edit newer than the
-- delete brings the record back, an older one does not, and every device decides the same way.
CREATE TABLE records (
    user_id    uuid   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    collection text   NOT NULL CHECK (collection IN ('tag', 'note', 'morning', 'memory', 'setting')),
    key        text   NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    device_id  uuid,
    body       jsonb,
    tombstone  jsonb,
    version    bigint NOT NULL,
    PRIMARY KEY (user_id, collection, key),
    CHECK (body IS NOT NULL OR tombstone IS NOT NULL)
);
CREATE INDEX records_by_version ON records (user_id, version);

-- Rows a push carried that failed validation: answered (2xx, per row) and kept here, never blocking the queue.
CREATE TABLE rejected_rows (
    id         bigserial   PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id  uuid        NOT NULL,
    outbox_id  bigint      NOT NULL,
    code       text        NOT NULL,
    reason     text        NOT NULL,
    payload    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejected_rows_by_user ON rejected_rows (user_id, id);

-- What the relay sends to Kafka, written in the same transaction as the data. Not a user table (the relay
-- reads all of it), so no RLS; the app role may only insert, and the relay's claims run as the owner.
CREATE TABLE server_outbox (
    id         bigserial   PRIMARY KEY,
    topic      text        NOT NULL,
    key        text        NOT NULL,
    payload    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The server's own secrets (the access-token key), made once by the first server to start and shared by
-- every server process, so tokens survive restarts and work across processes. The app role cannot read it.
CREATE TABLE server_keys (
    name       text        PRIMARY KEY,
    key        bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Row-level security -----------------------------------------------------------------------------------------

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_own ON users USING (id = (SELECT auren_current_user()));

ALTER TABLE user_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY user_versions_own ON user_versions USING (user_id = (SELECT auren_current_user()));

ALTER TABLE coach_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY coach_grants_athlete ON coach_grants USING (athlete_id = (SELECT auren_current_user()));
CREATE POLICY coach_grants_coach_reads ON coach_grants FOR SELECT
    USING (coach_id = (SELECT auren_current_user()));

-- A coach reads the data of athletes whose grant is live; revoking ends it at once.
CREATE FUNCTION auren_coached_athletes() RETURNS SETOF uuid
    LANGUAGE sql STABLE
    AS $$ SELECT athlete_id FROM coach_grants WHERE coach_id = auren_current_user() AND revoked_at IS NULL $$;

CREATE POLICY user_versions_coach ON user_versions FOR SELECT
    USING (user_id IN (SELECT auren_coached_athletes()));
CREATE POLICY users_coach ON users FOR SELECT USING (id IN (SELECT auren_coached_athletes()));

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['devices', 'refresh_families', 'refresh_tokens', 'rejected_rows'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I USING (user_id = (SELECT auren_current_user()))', t || '_own', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['sessions', 'beat_chunks', 'alerts', 'session_batches', 'records'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I USING (user_id = (SELECT auren_current_user()))', t || '_own', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT USING (user_id IN (SELECT auren_coached_athletes()))',
                       t || '_coach', t);
    END LOOP;
END
$$;

-- device_codes has RLS and no policy: the app reaches it only through the functions below.
ALTER TABLE device_codes ENABLE ROW LEVEL SECURITY;

-- Functions for the steps that come before a user is known (sign-in, refresh, device code). They run as the
-- owner (SECURITY DEFINER) and return only what the step needs.

CREATE FUNCTION auren_login_lookup(p_email text) RETURNS TABLE (user_id uuid, password_hash text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT id, password_hash FROM users WHERE email = lower(p_email) $$;

CREATE FUNCTION auren_user_id_by_email(p_email text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT id FROM users WHERE email = lower(p_email) $$;

CREATE FUNCTION auren_refresh_lookup(p_hash bytea)
    RETURNS TABLE (user_id uuid, family_id uuid, device_id uuid, used boolean, expired boolean, revoked boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT t.user_id, t.family_id, f.device_id, t.used_at IS NOT NULL, t.expires_at < now(),
               f.revoked_at IS NOT NULL OR d.revoked_at IS NOT NULL
        FROM refresh_tokens t
        JOIN refresh_families f ON f.id = t.family_id
        JOIN devices d ON d.id = f.device_id
        WHERE t.token_hash = p_hash
    $$;

CREATE FUNCTION auren_device_code_start(p_hash bytea, p_user_code text, p_name text, p_ttl interval)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        DELETE FROM device_codes WHERE expires_at < now() - interval '1 day';
        INSERT INTO device_codes (device_code_hash, user_code, device_name, expires_at)
        VALUES (p_hash, p_user_code, p_name, now() + p_ttl);
    $$;

-- Approves for the user of the current transaction (never a user passed in). Returns the device name, or
-- NULL when the code is unknown, expired or already approved.
CREATE FUNCTION auren_device_code_approve(p_user_code text) RETURNS text
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        UPDATE device_codes SET approved_by = auren_current_user()
        WHERE user_code = p_user_code AND approved_by IS NULL AND expires_at > now()
              AND auren_current_user() IS NOT NULL
        RETURNING device_name
    $$;

-- The user who approved, once: 'pending', 'expired', 'unknown' or 'approved' with the user and device name.
CREATE FUNCTION auren_device_code_claim(p_hash bytea)
    RETURNS TABLE (state text, user_id uuid, device_name text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        r device_codes%ROWTYPE;
    BEGIN
        SELECT * INTO r FROM device_codes WHERE device_code_hash = p_hash FOR UPDATE;
        IF NOT FOUND OR r.claimed_at IS NOT NULL THEN
            RETURN QUERY SELECT 'unknown'::text, NULL::uuid, NULL::text;
        ELSIF r.expires_at < now() THEN
            RETURN QUERY SELECT 'expired'::text, NULL::uuid, NULL::text;
        ELSIF r.approved_by IS NULL THEN
            RETURN QUERY SELECT 'pending'::text, NULL::uuid, NULL::text;
        ELSE
            UPDATE device_codes SET claimed_at = now() WHERE device_code_hash = p_hash;
            RETURN QUERY SELECT 'approved'::text, r.approved_by, r.device_name;
        END IF;
    END
    $$;

-- Bumps the user's version under its row lock (held to the end of the caller's transaction) and returns the
-- new version; the Kafka consumer calls it when it writes server-side alerts.
CREATE FUNCTION bump_user_version(p_user uuid) RETURNS bigint
    LANGUAGE sql VOLATILE
    AS $$
        INSERT INTO user_versions AS v (user_id, version) VALUES (p_user, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1
        RETURNING version
    $$;

-- Monthly partitions of beat_chunks covering [p_from_ms, p_to_ms]. Idempotent; runs as the owner (the app
-- role cannot create tables). Returns how many partitions it created.
CREATE FUNCTION auren_ensure_beat_partitions(p_from_ms bigint, p_to_ms bigint) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        month timestamptz := date_trunc('month', to_timestamp(p_from_ms / 1000.0) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
        last  timestamptz := to_timestamp(p_to_ms / 1000.0);
        lo    bigint;
        hi    bigint;
        name  text;
        made  integer := 0;
    BEGIN
        IF p_to_ms - p_from_ms > 100::bigint * 366 * 86400000 THEN
            RAISE EXCEPTION 'partition range too wide: % .. %', p_from_ms, p_to_ms;
        END IF;
        WHILE month <= last LOOP
            lo := (extract(epoch FROM month) * 1000)::bigint;
            hi := (extract(epoch FROM month + interval '1 month') * 1000)::bigint;
            name := 'beat_chunks_' || to_char(month AT TIME ZONE 'UTC', 'YYYY_MM');
            IF to_regclass(name) IS NULL THEN
                EXECUTE format('CREATE TABLE %I PARTITION OF beat_chunks FOR VALUES FROM (%s) TO (%s)', name, lo, hi);
                made := made + 1;
            END IF;
            month := month + interval '1 month';
        END LOOP;
        RETURN made;
    END
    $$;

-- Rows in the DEFAULT partition (should always be 0; the server exports it as an alarm metric).
CREATE FUNCTION auren_default_partition_rows() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT count(*) FROM beat_chunks_default $$;

-- Privileges of the app role ---------------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE, DELETE ON users, user_versions, devices, refresh_families, refresh_tokens,
    coach_grants, sessions, beat_chunks, alerts, session_batches, records, rejected_rows TO auren_app;
GRANT INSERT ON server_outbox TO auren_app;
GRANT USAGE ON SEQUENCE server_outbox_id_seq, rejected_rows_id_seq TO auren_app;
REVOKE ALL ON FUNCTION auren_login_lookup(text), auren_user_id_by_email(text), auren_refresh_lookup(bytea),
    auren_device_code_start(bytea, text, text, interval), auren_device_code_approve(text),
    auren_device_code_claim(bytea), auren_ensure_beat_partitions(bigint, bigint),
    auren_default_partition_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auren_login_lookup(text), auren_user_id_by_email(text), auren_refresh_lookup(bytea),
    auren_device_code_start(bytea, text, text, interval), auren_device_code_approve(text),
    auren_device_code_claim(bytea), auren_ensure_beat_partitions(bigint, bigint),
    auren_default_partition_rows() TO auren_app;
