-- CreateEnum
CREATE TYPE "artifact_kind" AS ENUM ('CONTAINER_IMAGE', 'HELM_CHART');

-- CreateEnum
CREATE TYPE "deployment_status" AS ENUM ('deployed', 'superseded', 'decommissioned');

-- CreateTable
CREATE TABLE "deployments" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "organization_id" UUID NOT NULL,
    "environment_id" UUID NOT NULL,
    "logical_environment_id" UUID NOT NULL,
    "name" VARCHAR(128) NOT NULL,
    "kind" "artifact_kind" NOT NULL,
    "digest" VARCHAR(135) NOT NULL,
    "artifact_name" VARCHAR(512) NOT NULL DEFAULT '',
    "artifact_version" VARCHAR(256) NOT NULL DEFAULT '',
    "artifact_reference" VARCHAR(1024) NOT NULL DEFAULT '',
    "status" "deployment_status" NOT NULL DEFAULT 'deployed',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "superseded_at" TIMESTAMPTZ(6),
    "superseded_by_id" UUID,
    "decommissioned_at" TIMESTAMPTZ(6),

    CONSTRAINT "deployments_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "deployments_seq_key" ON "deployments"("seq");

-- CreateIndex
CREATE INDEX "deployments_slot_seq_idx" ON "deployments"("organization_id", "environment_id", "logical_environment_id", "name", "kind", "seq" DESC);

-- CreateIndex
CREATE INDEX "deployments_organization_id_digest_idx" ON "deployments"("organization_id", "digest");

-- CreateIndex
CREATE INDEX "deployments_organization_id_seq_idx" ON "deployments"("organization_id", "seq" DESC);

-- CreateIndex
CREATE INDEX "deployments_environment_id_seq_idx" ON "deployments"("environment_id", "seq" DESC);

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_logical_environment_id_fkey" FOREIGN KEY ("logical_environment_id") REFERENCES "logical_environments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_superseded_by_id_fkey" FOREIGN KEY ("superseded_by_id") REFERENCES "deployments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Not expressible in schema.prisma (listed in the drift test's allowlist):
-- at most one deployed record per slot, enforced by the database.
CREATE UNIQUE INDEX "deployments_active_slot_key" ON "deployments"("organization_id", "environment_id", "logical_environment_id", "name", "kind") WHERE "status" = 'deployed';

-- The state machine's shape: only superseded records name a successor and a supersede time,
-- only decommissioned ones a decommission time.
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_status_fields_check" CHECK (
    ("status" = 'superseded') = ("superseded_at" IS NOT NULL)
    AND ("superseded_by_id" IS NULL OR "status" = 'superseded')
    AND ("status" = 'decommissioned') = ("decommissioned_at" IS NOT NULL)
);
