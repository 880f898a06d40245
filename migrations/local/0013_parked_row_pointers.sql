-- Parked outbox rows keep what they point at, so they can be sent again (issue 13: `auren sync --retry-parked`,
-- and a row the server refused for a change type it did not know, sent again once it lists the type). Until
-- now parking deleted the outbox row and kept only its id, kind and the reason: the data stayed, but nothing
-- said which of it the row stood for, so a parked row could be shown and never retried.
-- Rows parked before this migration keep NULL here (created_at IS NULL): they cannot be sent again.
ALTER TABLE sync_parked ADD COLUMN session_id INTEGER;
ALTER TABLE sync_parked ADD COLUMN entity_id INTEGER;
ALTER TABLE sync_parked ADD COLUMN from_ms REAL;
ALTER TABLE sync_parked ADD COLUMN to_ms REAL;
ALTER TABLE sync_parked ADD COLUMN rows INTEGER;
ALTER TABLE sync_parked ADD COLUMN created_at INTEGER;
ALTER TABLE sync_parked ADD COLUMN entity_key TEXT;
ALTER TABLE sync_parked ADD COLUMN collection TEXT;
-- The change type the server refused because it did not know it (the answer that refused the row did not list
-- the type): the client queues the row again by itself once an answer lists it. NULL for every other refusal,
-- which waits for the person (`auren sync --retry-parked`, the desktop's Retry).
ALTER TABLE sync_parked ADD COLUMN waits_for_type TEXT;
