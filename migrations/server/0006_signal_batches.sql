-- The strap's contact and link changes of a session (issue 13: the server's contact_lost alerts), pushed by
-- devices as `signals` changes. They are immutable per-session batches like gaps and heart-rate samples, so
-- they live where those do: `session_batches` (kind 'signals', keyed by the batch's first time, `body` the
-- change as pushed), with its row-level security (a user's own rows; a coach reads a granting athlete's),
-- its version mark (batches_version, 0005) and its place in auren_pull. Like the heart-rate samples they are
-- not partitioned: a session has a few changes, far fewer rows than its beats.
--
-- Only the kind's CHECK widens (the migration's transaction holds the table's lock while the rows are checked
-- against it; every existing row passes).
ALTER TABLE session_batches DROP CONSTRAINT session_batches_kind_check;
ALTER TABLE session_batches ADD CONSTRAINT session_batches_kind_check
    CHECK (kind IN ('gaps', 'hr_samples', 'metrics', 'signals'));
