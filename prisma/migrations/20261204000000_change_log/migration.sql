-- The write path at fleet scale: record changes are logged, not notified row by row.
--
-- Until now a trigger called pg_notify for every changed deployment record, inside the writing
-- transaction. Postgres serializes the commits of transactions that notified (they take one
-- database-wide lock at commit), so every record's commit queued behind every other's, across all
-- server processes: ~900 commits/s where the same statement without the trigger made ~3,760.
-- Now every statement that changes deployment records appends one row per organization to
-- "deployment_changes" (statement-level triggers over the transition tables: the kind of change and
-- the record id for every changed row), committed with the change itself. Listeners read the log by
-- a commit-safe position (the snapshot of their previous read: server/data/change-feed.ts), so a
-- listener that misses a wake-up still catches up, and no commit waits for another's.
-- Wake-ups are sent by the writers after their commits, outside the transaction (one NOTIFY per
-- server process per few milliseconds at most), on channel "chainloop_changes".
DROP TRIGGER "deployments_notify_change" ON "deployments";
DROP FUNCTION "chainloop_notify_deployment_change"();
DROP TRIGGER "environments_notify_heartbeat_interval" ON "environments";
DROP FUNCTION "chainloop_notify_environment_change"();

-- Index diet: nothing reads deployments by seq alone (pages use the (-seq) list indexes of
-- migration 20261128070000_list_order), and seq comes from a sequence: the unique index on it was
-- one more index to write for every new record.
DROP INDEX "deployments_seq_key";

-- CreateTable
CREATE TABLE "deployment_changes" (
    "xid" BIGINT NOT NULL DEFAULT ((pg_current_xact_id())::text)::bigint,
    "seq" BIGSERIAL NOT NULL,
    "organization_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "changes" TEXT NOT NULL DEFAULT '',
    "deployment_ids" UUID[],
    "environment_name" VARCHAR(63),

    CONSTRAINT "deployment_changes_pkey" PRIMARY KEY ("xid","seq")
);

-- Not expressible in schema.prisma (listed in the drift test's allowlist): the triggers that
-- write the log. Change codes: c created, h heartbeat, s superseded, d decommissioned; one
-- character per id of "deployment_ids", in record order.
CREATE FUNCTION "chainloop_log_deployment_inserts"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "deployment_changes" ("organization_id", "changes", "deployment_ids")
    SELECT "organization_id", string_agg('c', '' ORDER BY "seq"), array_agg("id" ORDER BY "seq")
    FROM new_rows
    GROUP BY "organization_id";
    RETURN NULL;
END
$$;

CREATE FUNCTION "chainloop_log_deployment_updates"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "deployment_changes" ("organization_id", "changes", "deployment_ids")
    SELECT n."organization_id", string_agg(c.code, '' ORDER BY n."seq"), array_agg(n."id" ORDER BY n."seq")
    FROM new_rows n
    JOIN old_rows o ON o."id" = n."id"
    CROSS JOIN LATERAL (SELECT CASE
        WHEN n."status" IS DISTINCT FROM o."status" THEN
            CASE n."status" WHEN 'superseded' THEN 's' WHEN 'decommissioned' THEN 'd' END
        WHEN n."status" = 'deployed' AND n."last_seen_at" IS DISTINCT FROM o."last_seen_at" THEN 'h'
    END AS code) c
    WHERE c.code IS NOT NULL
    GROUP BY n."organization_id";
    RETURN NULL;
END
$$;

CREATE TRIGGER "deployments_log_inserts"
    AFTER INSERT ON "deployments"
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "chainloop_log_deployment_inserts"();

CREATE TRIGGER "deployments_log_updates"
    AFTER UPDATE ON "deployments"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "chainloop_log_deployment_updates"();

-- A changed heartbeat interval moves the stale time of every active record in the environment
-- without writing them: it is logged too, by the environment's name, with no record ids.
CREATE FUNCTION "chainloop_log_environment_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "deployment_changes" ("organization_id", "environment_name") VALUES (NEW."organization_id", NEW."name");
    RETURN NULL;
END
$$;

CREATE TRIGGER "environments_log_heartbeat_interval"
    AFTER UPDATE OF "heartbeat_interval_ms" ON "environments"
    FOR EACH ROW
    WHEN (OLD."heartbeat_interval_ms" IS DISTINCT FROM NEW."heartbeat_interval_ms")
    EXECUTE FUNCTION "chainloop_log_environment_change"();
