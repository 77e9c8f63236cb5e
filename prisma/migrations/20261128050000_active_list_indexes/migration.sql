-- Not expressible in schema.prisma (listed in the drift test's allowlist):
-- "what runs now, newest first" by environment and organization-wide. Without them, listing
-- active records scans every superseded row newer than the oldest active one (EXPLAIN on 100k
-- rows: 87,664 rows filtered, 15.7 ms; see the benchmark).
CREATE INDEX "deployments_active_environment_seq_idx" ON "deployments"("environment_id", "seq" DESC) WHERE "status" = 'deployed';

CREATE INDEX "deployments_active_organization_seq_idx" ON "deployments"("organization_id", "seq" DESC) WHERE "status" = 'deployed';
