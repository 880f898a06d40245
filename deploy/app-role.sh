#!/bin/sh
# Gives the role auren_app a login, so the server's requests connect as it (AUREN_APP_DATABASE_URL) and not
# as the superuser that owns the tables: auren_app owns nothing, so row-level security always applies to
# it, and a session of it cannot RESET ROLE to a superuser. The server's migrations create the role (without
# a login) and grant it what it may use; this script creates it first if it is not there yet (a fresh
# volume, before the server's first start) and sets its login and password. Idempotent: docker-compose.yml
# runs it before every start of the server. Needs PGHOST, PGUSER, PGDATABASE, PGPASSWORD (the owner's) and
# AUREN_APP_PASSWORD.
set -eu
: "${AUREN_APP_PASSWORD:?AUREN_APP_PASSWORD is not set}"
exec psql -v ON_ERROR_STOP=1 -v app_password="$AUREN_APP_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE auren_app NOLOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'auren_app')\gexec
ALTER ROLE auren_app LOGIN PASSWORD :'app_password';
SQL
