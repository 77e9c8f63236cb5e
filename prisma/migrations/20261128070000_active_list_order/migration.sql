-- "What runs now, newest first" must not depend on the planner's luck. With the indexes of
-- 20261128050000 ordered by "seq" DESC, the planner could also walk the unique index on "seq"
-- backwards and filter: it assumes the matching rows are spread evenly, while the active
-- records of a quiet environment sit behind all the history written since. The benchmark
-- caught it choosing that plan: 60,447 rows filtered for a page of 50 at 100k rows, and the
-- cost grows with history (66.9 ms at 450k rows in a test of that layout).
-- Active lists now order by (-seq) (server/data/deployment-pages.ts), which only these two
-- partial indexes provide, so every plan for them reads the active records of one environment
-- (or organization) in order and stops after a page.
DROP INDEX "deployments_active_environment_seq_idx";
DROP INDEX "deployments_active_organization_seq_idx";

CREATE INDEX "deployments_active_environment_order_idx" ON "deployments"("environment_id", (-"seq")) WHERE "status" = 'deployed';

CREATE INDEX "deployments_active_organization_order_idx" ON "deployments"("organization_id", (-"seq")) WHERE "status" = 'deployed';
