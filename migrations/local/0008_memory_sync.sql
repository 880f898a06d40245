-- Memories sync between a person's devices. Each memory gets a key every device and the server agree on:
-- `"<replica id>:<local id>"` of the database that made it (like session and tag keys), kept as it was made
-- when another device stores the memory under its own local id.
--
-- The synchronised state of a memory is three LWW fields in `sync_fields` (collection 'memory'):
--   created    {kind, text, importance, source: {kind, ref}, valid_from, recorded_at} — written once;
--   superseded {at, by (the replacement's key or null), reason, valid_to};
--   retracted  {at, reason}.
-- The `memories` row is the merged fields, materialised. Forgetting deletes both and leaves a tombstone.

ALTER TABLE memories ADD COLUMN key TEXT;

UPDATE memories SET key = (SELECT replica_id FROM sync_replica) || ':' || id;

CREATE UNIQUE INDEX memories_by_key ON memories (key);

-- A memory made here gets its key at once; one pulled from another device arrives with its key.
CREATE TRIGGER memories_key AFTER INSERT ON memories WHEN new.key IS NULL BEGIN
    UPDATE memories SET key = (SELECT replica_id FROM sync_replica) || ':' || new.id WHERE id = new.id;
END;

-- The memories made before this migration: their fields, stamped with the system times they were made at, and
-- an outbox row each, so a second device learns them too.
INSERT INTO sync_fields (collection, key, field, value, hlc_wall, hlc_counter, hlc_device)
SELECT 'memory', m.key, 'created',
       json_object('kind', m.kind, 'text', m.text, 'importance', m.importance,
                   'source', json_object('kind', m.source_kind, 'ref', m.source_ref),
                   'valid_from', m.valid_from, 'recorded_at', m.recorded_at),
       m.recorded_at, 0, r.replica_id
FROM memories m, sync_replica r;

INSERT INTO sync_fields (collection, key, field, value, hlc_wall, hlc_counter, hlc_device)
SELECT 'memory', m.key, 'superseded',
       json_object('at', m.superseded_at, 'by', s.key, 'reason', m.supersede_reason, 'valid_to', m.valid_to),
       m.superseded_at, 0, r.replica_id
FROM memories m LEFT JOIN memories s ON s.id = m.superseded_by, sync_replica r
WHERE m.superseded_at IS NOT NULL;

INSERT INTO sync_fields (collection, key, field, value, hlc_wall, hlc_counter, hlc_device)
SELECT 'memory', m.key, 'retracted', json_object('at', m.retracted_at, 'reason', m.retract_reason),
       m.retracted_at, 0, r.replica_id
FROM memories m, sync_replica r
WHERE m.retracted_at IS NOT NULL;

-- A later local edit must stamp after every stamp above.
UPDATE sync_replica
SET hlc_wall = (SELECT MAX(hlc_wall) FROM sync_fields WHERE collection = 'memory'), hlc_counter = 0
WHERE (SELECT MAX(hlc_wall) FROM sync_fields WHERE collection = 'memory') > hlc_wall;

INSERT INTO outbox (kind, rows, created_at, entity_key)
SELECT 'memory', 1, CAST(unixepoch('subsec') * 1000 AS INTEGER), key FROM memories ORDER BY id;
