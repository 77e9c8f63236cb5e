-- pgbench script: the smallest correct record transaction (tests/bench/run.ts, the floor).
-- One table (floor_records: a slot, a digest, a status, timestamps) whose only secondary indexes are
-- the partial unique index that keeps one deployed record per slot and the slot + digest index
-- that finds what a new record rolls back; the same CTE shape as the server's record statement:
-- lock the slot's active row, then heartbeat it (same digest) or supersede it and insert the new
-- record, marked as a rollback when the slot ran its digest before and superseded it, unless the
-- logical environment has a promotion policy (a primary-key probe of floor_policies, empty here:
-- the server judges such records before writing them), in one statement and one commit.
-- Variables: :slots (slots seeded), :hb (percent of heartbeats). A heartbeat re-sends the digest
-- the locked active row holds (what a heartbeating agent sends); otherwise a new digest. Two
-- clients meeting on one slot: the second finds the row the first superseded no longer active
-- (a heartbeat then sends a new digest), and an insert racing another into the freed slot is
-- skipped (ON CONFLICT DO NOTHING; the server retries such a loser instead) rather than abort
-- the client.
\set slot random(0, :slots - 1)
\set r random(1, 100)
WITH active AS (
  SELECT id, digest FROM floor_records
  WHERE environment = 1 AND logical_environment = 1 AND name = 'svc-' || :slot AND kind = 'CONTAINER_IMAGE' AND status = 'deployed'
  FOR UPDATE
), input AS (
  SELECT coalesce(CASE WHEN :r <= :hb THEN (SELECT digest FROM active) END, 'sha256:' || md5(random()::text) || md5(random()::text)) AS digest
), beat AS (
  UPDATE floor_records f SET last_seen_at = now()
  FROM active a, input i WHERE f.id = a.id AND a.digest = i.digest
  RETURNING f.id
), old AS (
  UPDATE floor_records f SET status = 'superseded', superseded_at = now()
  FROM active a, input i WHERE f.id = a.id AND a.digest <> i.digest
  RETURNING f.id
)
INSERT INTO floor_records (environment, logical_environment, name, kind, digest, status, rollback_of)
SELECT 1, 1, 'svc-' || :slot, 'CONTAINER_IMAGE', i.digest, 'deployed',
  (SELECT p.id FROM floor_records p
   WHERE p.environment = 1 AND p.logical_environment = 1 AND p.name = 'svc-' || :slot AND p.kind = 'CONTAINER_IMAGE'
     AND p.digest = i.digest AND p.status = 'superseded'
   ORDER BY p.id DESC LIMIT 1)
FROM input i
WHERE NOT EXISTS (SELECT 1 FROM beat) AND (SELECT count(*) FROM old) >= 0
  AND NOT EXISTS (SELECT 1 FROM floor_policies p WHERE p.logical_environment = 1)
ON CONFLICT (environment, logical_environment, name, kind) WHERE status = 'deployed' DO NOTHING;
