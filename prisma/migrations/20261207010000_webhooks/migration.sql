-- Notifications: webhook subscriptions and their transactional outbox (WebhookService;
-- server/webhooks/). Record changes reach the outbox through the change log
-- ("deployment_changes", written by triggers in the changing transaction): a fan-out step, run
-- by one server process at a time under an advisory lock, turns the log rows committed since
-- the cursor's snapshot into deliveries and moves the cursor, in one statement. The change
-- log's pruning keeps every row the cursor has not passed, so a change that committed is
-- delivered even after every server stopped, however long.

-- CreateEnum
CREATE TYPE "webhook_delivery_status" AS ENUM ('pending', 'delivered', 'failed');

-- CreateTable
CREATE TABLE "webhook_subscriptions" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "organization_id" UUID NOT NULL,
    "url" VARCHAR(2048) NOT NULL,
    "event_mask" INTEGER NOT NULL,
    "environment_id" UUID,
    "logical_environment_id" UUID,
    "description" VARCHAR(1024) NOT NULL DEFAULT '',
    "secret_ciphertext" TEXT NOT NULL,
    "secret_key_id" VARCHAR(64) NOT NULL,
    "failing_since" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by_token_id" UUID,
    "created_by_name" VARCHAR(63) NOT NULL DEFAULT '',

    CONSTRAINT "webhook_subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "subscription_id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "event_type" VARCHAR(64) NOT NULL,
    "deployment_id" UUID,
    "event_time" TIMESTAMPTZ(6) NOT NULL,
    "payload" TEXT,
    "status" "webhook_delivery_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_attempt_at" TIMESTAMPTZ(6),
    "response_status" INTEGER NOT NULL DEFAULT 0,
    "error" VARCHAR(1024) NOT NULL DEFAULT '',
    "delivered_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_outbox_cursor" (
    "id" INTEGER NOT NULL,
    "snapshot" TEXT NOT NULL,
    "stale_scanned_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_outbox_cursor_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "webhook_subscriptions_seq_key" ON "webhook_subscriptions"("seq");

-- CreateIndex
CREATE INDEX "webhook_subscriptions_organization_id_idx" ON "webhook_subscriptions"("organization_id");

-- CreateIndex
CREATE INDEX "webhook_subscriptions_environment_id_idx" ON "webhook_subscriptions"("environment_id");

-- CreateIndex
CREATE INDEX "webhook_subscriptions_logical_environment_id_idx" ON "webhook_subscriptions"("logical_environment_id");

-- CreateIndex
CREATE INDEX "webhook_deliveries_subscription_id_seq_idx" ON "webhook_deliveries"("subscription_id", "seq" DESC);

-- CreateIndex
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries"("subscription_id", "status", "next_attempt_at", "seq");

-- AddForeignKey
ALTER TABLE "webhook_subscriptions" ADD CONSTRAINT "webhook_subscriptions_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_subscriptions" ADD CONSTRAINT "webhook_subscriptions_environment_id_fkey" FOREIGN KEY ("environment_id") REFERENCES "environments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_subscriptions" ADD CONSTRAINT "webhook_subscriptions_logical_environment_id_fkey" FOREIGN KEY ("logical_environment_id") REFERENCES "logical_environments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "webhook_subscriptions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The cursor starts now: changes committed before this migration are not sent anywhere (there
-- were no subscriptions).
INSERT INTO "webhook_outbox_cursor" ("id", "snapshot") VALUES (1, pg_current_snapshot()::text);
