-- CreateEnum
CREATE TYPE "attestation_format" AS ENUM ('DSSE_ENVELOPE', 'IN_TOTO_STATEMENT');

-- CreateEnum
CREATE TYPE "artifact_role" AS ENUM ('subject', 'material');

-- CreateEnum
CREATE TYPE "key_algorithm" AS ENUM ('ECDSA_P256', 'ED25519');

-- CreateTable
CREATE TABLE "attestations" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "organization_id" UUID NOT NULL,
    "digest" VARCHAR(71) NOT NULL,
    "content" BYTEA NOT NULL,
    "size_bytes" INTEGER NOT NULL,
    "format" "attestation_format" NOT NULL,
    "statement_type" VARCHAR(256) NOT NULL,
    "predicate_type" VARCHAR(1024) NOT NULL,
    "workflow" VARCHAR(63) NOT NULL,
    "project" VARCHAR(63) NOT NULL,
    "project_version" VARCHAR(128) NOT NULL DEFAULT '',
    "verified" BOOLEAN NOT NULL DEFAULT false,
    "verified_key_fingerprint" VARCHAR(71),
    "verified_key_name" VARCHAR(63),
    "material_count" INTEGER NOT NULL DEFAULT 0,
    "pushed_by_token_id" UUID,
    "pushed_by_name" VARCHAR(63) NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "attestations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "attested_artifacts" (
    "attestation_id" UUID NOT NULL,
    "digest" VARCHAR(135) NOT NULL,
    "role" "artifact_role" NOT NULL,
    "organization_id" UUID NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "position" INTEGER NOT NULL,

    CONSTRAINT "attested_artifacts_pkey" PRIMARY KEY ("attestation_id","digest","role")
);

-- CreateTable
CREATE TABLE "signing_keys" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "name" VARCHAR(63) NOT NULL,
    "algorithm" "key_algorithm" NOT NULL,
    "public_key_pem" VARCHAR(8192) NOT NULL,
    "fingerprint" VARCHAR(71) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "attestations_seq_key" ON "attestations"("seq");

-- CreateIndex
CREATE INDEX "attestations_organization_id_seq_idx" ON "attestations"("organization_id", "seq" DESC);

-- CreateIndex
CREATE INDEX "attestations_organization_id_workflow_seq_idx" ON "attestations"("organization_id", "workflow", "seq" DESC);

-- CreateIndex
CREATE INDEX "attestations_organization_id_project_project_version_seq_idx" ON "attestations"("organization_id", "project", "project_version", "seq" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "attestations_organization_id_digest_key" ON "attestations"("organization_id", "digest");

-- CreateIndex
CREATE INDEX "attested_artifacts_organization_id_digest_idx" ON "attested_artifacts"("organization_id", "digest");

-- CreateIndex
CREATE UNIQUE INDEX "signing_keys_organization_id_name_key" ON "signing_keys"("organization_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "signing_keys_organization_id_fingerprint_key" ON "signing_keys"("organization_id", "fingerprint");

-- AddForeignKey
ALTER TABLE "attestations" ADD CONSTRAINT "attestations_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attested_artifacts" ADD CONSTRAINT "attested_artifacts_attestation_id_fkey" FOREIGN KEY ("attestation_id") REFERENCES "attestations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attested_artifacts" ADD CONSTRAINT "attested_artifacts_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "signing_keys" ADD CONSTRAINT "signing_keys_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Not expressible in schema.prisma (listed in the drift test's allowlist):
-- an attestation is verified exactly when the key that verified it is recorded.
ALTER TABLE "attestations" ADD CONSTRAINT "attestations_verified_key_check" CHECK (
    "verified" = ("verified_key_fingerprint" IS NOT NULL)
    AND ("verified_key_name" IS NULL OR "verified")
);
