-- Guardrails: promotion policies per logical environment (PromotionPolicyService), enforced by
-- the record statement (server/data/deployments.ts). A new record in a guarded logical
-- environment is written only when the caller evaluated the policy at the version the
-- statement still finds; heartbeats and decommissions are never checked.

-- Break glass: why a record was made past an unmet policy. Nullable, no default: no table rewrite.
ALTER TABLE "deployments" ADD COLUMN "override_reason" VARCHAR(1024);

-- The audit trail says more about an event (the override's reason).
ALTER TABLE "audit_events" ADD COLUMN "detail" VARCHAR(1024) NOT NULL DEFAULT '';

-- CreateTable
CREATE TABLE "promotion_policies" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "logical_environment_id" UUID NOT NULL,
    "require_verified" BOOLEAN NOT NULL DEFAULT false,
    "version" BIGINT NOT NULL DEFAULT 1,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by_token_id" UUID,
    "updated_by_name" VARCHAR(63) NOT NULL DEFAULT '',

    CONSTRAINT "promotion_policies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "promotion_policy_deployed_in" (
    "policy_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "logical_environment_id" UUID NOT NULL,
    "environment_id" UUID,
    "soak_ms" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "promotion_policy_deployed_in_pkey" PRIMARY KEY ("policy_id","position")
);

-- CreateTable
CREATE TABLE "promotion_policy_attestations" (
    "policy_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "rule" VARCHAR(32) NOT NULL,
    "value" VARCHAR(1024) NOT NULL,

    CONSTRAINT "promotion_policy_attestations_pkey" PRIMARY KEY ("policy_id","position")
);

-- CreateIndex
CREATE UNIQUE INDEX "promotion_policies_logical_environment_id_key" ON "promotion_policies"("logical_environment_id");

-- CreateIndex
CREATE INDEX "promotion_policies_organization_id_idx" ON "promotion_policies"("organization_id");

-- CreateIndex
CREATE INDEX "promotion_policy_deployed_in_logical_environment_id_idx" ON "promotion_policy_deployed_in"("logical_environment_id");

-- CreateIndex
CREATE INDEX "promotion_policy_deployed_in_environment_id_idx" ON "promotion_policy_deployed_in"("environment_id");

-- AddForeignKey
ALTER TABLE "promotion_policies" ADD CONSTRAINT "promotion_policies_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion_policies" ADD CONSTRAINT "promotion_policies_logical_environment_id_fkey" FOREIGN KEY ("logical_environment_id") REFERENCES "logical_environments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion_policy_deployed_in" ADD CONSTRAINT "promotion_policy_deployed_in_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "promotion_policies"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion_policy_deployed_in" ADD CONSTRAINT "promotion_policy_deployed_in_logical_environment_id_fkey" FOREIGN KEY ("logical_environment_id") REFERENCES "logical_environments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion_policy_deployed_in" ADD CONSTRAINT "promotion_policy_deployed_in_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion_policy_attestations" ADD CONSTRAINT "promotion_policy_attestations_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "promotion_policies"("id") ON DELETE CASCADE ON UPDATE CASCADE;
