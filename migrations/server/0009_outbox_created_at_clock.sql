-- An outbox row's `created_at` is when the row was written, not when its push's transaction began.
-- `now()` is the transaction's start: a push writes its outbox rows last, after the beats' COPY and the
-- merges, so the relay lag measured from it (`auren_relay_lag_seconds`, the outbox age gauge) also counted
-- the push's own time — up to its p99 (~250 ms) under a saturating ingest, time in which the row did not
-- exist for the relay to send. `clock_timestamp()` is read per row at the insert.
ALTER TABLE server_outbox ALTER COLUMN created_at SET DEFAULT clock_timestamp();
