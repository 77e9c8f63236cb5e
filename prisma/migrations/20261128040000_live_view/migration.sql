-- Live view: an environment may expect deployments to report (heartbeat) at an interval;
-- active records unseen for longer than interval × tolerance are reported as stale.
-- (Change notifications use pg_notify on channel "chainloop_deployments" inside the record
-- transaction: no schema object is needed for them.)

-- AlterTable
ALTER TABLE "environments" ADD COLUMN     "heartbeat_interval_ms" INTEGER;

-- From 1 second to 7 days (Prisma's schema language cannot express CHECK constraints).
ALTER TABLE "environments" ADD CONSTRAINT "environments_heartbeat_interval_check"
    CHECK ("heartbeat_interval_ms" IS NULL OR "heartbeat_interval_ms" BETWEEN 1000 AND 604800000);

-- Change notices for the live view (WatchDeployments): every committed change to a deployment
-- record is announced on channel "chainloop_deployments", from inside the writing transaction,
-- so listeners (one LISTEN connection per server process) hear of it on commit only, whichever
-- code path or server wrote it. The payload is small and fixed-size (~150 bytes, far below
-- NOTIFY's 8000-byte limit): organization, change kind (c created, h heartbeat, s superseded,
-- d decommissioned), record id, time in ms; listeners read the record themselves.
CREATE FUNCTION "chainloop_notify_deployment_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    change text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        change := 'c';
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        change := CASE NEW.status WHEN 'superseded' THEN 's' WHEN 'decommissioned' THEN 'd' END;
    ELSIF NEW.status = 'deployed' AND NEW.last_seen_at IS DISTINCT FROM OLD.last_seen_at THEN
        change := 'h';
    END IF;
    IF change IS NOT NULL THEN
        PERFORM pg_notify('chainloop_deployments', json_build_object(
            'v', 1,
            'o', NEW.organization_id,
            't', floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint,
            'c', json_build_array(json_build_array(change, NEW.id))
        )::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER "deployments_notify_change"
    AFTER INSERT OR UPDATE ON "deployments"
    FOR EACH ROW EXECUTE FUNCTION "chainloop_notify_deployment_change"();
