-- Rollbacks: recording, in a slot, a digest that ran there before and was superseded there
-- creates a record marked as a rollback of that earlier record (the newest such one). The
-- record statement (server/data/deployments.ts) finds it through the slot + digest index; a
-- nullable column without a default is added without rewriting the table.
ALTER TABLE "deployments" ADD COLUMN "rollback_of_id" UUID;

ALTER TABLE "deployments" ADD CONSTRAINT "deployments_rollback_of_id_fkey"
  FOREIGN KEY ("rollback_of_id") REFERENCES "deployments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A slot's earlier records of one digest (rollback detection at record time).
CREATE INDEX "deployments_slot_digest_idx" ON "deployments"("environment_id", "logical_environment_id", "name", "kind", "digest");
