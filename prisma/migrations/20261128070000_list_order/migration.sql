-- Lists of deployment records ("newest first") must not depend on the planner's luck. With the
-- list indexes ordered by "seq" DESC, the planner could also walk the unique index on "seq"
-- backwards and filter: it assumes the matching rows are spread evenly, while the records of a
-- quiet environment sit behind everything written since elsewhere. The benchmark caught it
-- choosing that plan for the active list (60,447 rows filtered for a page of 50 at 100k rows),
-- and in a test of that layout at 450k rows a page took 66.9 ms (active) and 124 ms (history of
-- a quiet environment), growing with history.
-- Lists now order by (-seq) (server/data/deployment-pages.ts), which only these indexes provide,
-- so every plan reads one environment's (or organization's) records in order and stops after a
-- page. Prisma's schema language cannot express expression indexes: the drift test lists them.
DROP INDEX "deployments_active_environment_seq_idx";
DROP INDEX "deployments_active_organization_seq_idx";
DROP INDEX "deployments_organization_id_seq_idx";
DROP INDEX "deployments_environment_id_seq_idx";

-- What runs now, newest first.
CREATE INDEX "deployments_active_environment_order_idx" ON "deployments"("environment_id", (-"seq")) WHERE "status" = 'deployed';
CREATE INDEX "deployments_active_organization_order_idx" ON "deployments"("organization_id", (-"seq")) WHERE "status" = 'deployed';

-- All records (history), newest first.
CREATE INDEX "deployments_environment_order_idx" ON "deployments"("environment_id", (-"seq"));
CREATE INDEX "deployments_organization_order_idx" ON "deployments"("organization_id", (-"seq"));
