-- A memory pulled from another device kept that device's message id as if it named a message of this one.
-- Conversations stay on the device they were held on, so such a reference is qualified with the replica id of
-- the device the memory was made on (the start of its key): "<replica>:<message id>". Memories made here keep
-- their plain ids; the synced `created` fields are left as they travelled. New pulls are qualified as they
-- are applied (auren-store `SyncTx::materialize_memory`).
UPDATE memories
SET source_ref = substr(key, 1, instr(key, ':') - 1) || ':' || source_ref
WHERE source_kind = 'message'
  AND source_ref NOT LIKE '%:%'
  AND instr(key, ':') > 1
  AND substr(key, 1, instr(key, ':') - 1) <> (SELECT replica_id FROM sync_replica);
