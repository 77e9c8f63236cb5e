-- Point in time (ListDeployments `as_of`, DiffDeployments' places `as_of`): the records that were
-- deployed at an instant T, `created_at <= T AND COALESCE(superseded_at, decommissioned_at,
-- 'infinity') > T` (server/data/deployment-pages.ts deployedAtCondition, the one place it is
-- written; the end expression here must stay exactly its expression).
--
-- Measured with EXPLAIN ANALYZE on Postgres 15, 2M records: 1M of a realistic history (4
-- environments of 2,500 slots, skewed churn, over 400 days, some decommissioned, clocks jittered
-- by +-2 s so that some records end before they start) beside 1M of the benchmark's list history;
-- a page of 50 (warm), T one hour back / 300 days back:
--   the list indexes (environment or organization, -seq), newest first by seq, filtering rows:
--     0.1 ms / 99 ms by environment (187,495 rows read and dropped), 238 ms organization-wide
--     (749,981): a page walks back past every record made after T.
--   (environment | organization, -seq, created_at, end), still by seq, the instant checked on the
--     index entries: 0.3 ms / 7.3 ms and 19.5 ms: no row reads, but still every entry made after
--     T, so it grows with the history written since T.
--   GiST on tstzrange(created_at, GREATEST(created_at, end)) (GREATEST: a range constructor
--     raises when the end is before the start): it finds every record deployed at T in the
--     organization (~10,000 here), which are then read, filtered and sorted: 26-60 ms, 30 s to
--     build; and it cannot hold environment_id without btree_gist, an extension.
--   these indexes, (environment | organization, created_at, seq, end), pages ordered by
--     (created_at DESC, seq DESC): 0.3 ms for both instants, with and without an environment;
--     the last page 300 days back (which reads back through 45,000 older entries to know there
--     is no more) 1.9 ms; without the end in the index, where each entry's row is read, 16 ms.
-- So as of a time, pages are newest first by the time each record was made, seq breaking ties
-- (the same order as seq's but for records made within a clock skew of each other): a page starts
-- at T and reads about 50 entries, whatever T and however much was recorded since. The end is a
-- key column (not INCLUDE) so that the condition on it is checked on the index entry, before the
-- row is read. About 55 bytes per record and index. Prisma's schema language cannot express
-- expression indexes: the drift test lists them.
CREATE INDEX "deployments_environment_as_of_idx" ON "deployments"
  ("environment_id", "created_at", "seq", (COALESCE("superseded_at", "decommissioned_at", 'infinity'::timestamptz)));
CREATE INDEX "deployments_organization_as_of_idx" ON "deployments"
  ("organization_id", "created_at", "seq", (COALESCE("superseded_at", "decommissioned_at", 'infinity'::timestamptz)));
