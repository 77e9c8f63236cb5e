-- Live view: a change to an environment's heartbeat interval moves the stale time of every
-- active record there, without a write to those records. So the change is announced on the
-- live view's channel too, from inside the writing transaction (delivered on commit only):
-- {"v":1,"o":org,"t":ms,"c":[],"e":environment name}. The "c" list is empty, so a server
-- that predates this notice reads it as a notice of no record changes and ignores it.
-- Listeners re-read the active records they hold in that environment.
CREATE FUNCTION "chainloop_notify_environment_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('chainloop_deployments', json_build_object(
        'v', 1,
        'o', NEW.organization_id,
        't', floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint,
        'c', json_build_array(),
        'e', NEW.name
    )::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER "environments_notify_heartbeat_interval"
    AFTER UPDATE OF "heartbeat_interval_ms" ON "environments"
    FOR EACH ROW
    WHEN (OLD."heartbeat_interval_ms" IS DISTINCT FROM NEW."heartbeat_interval_ms")
    EXECUTE FUNCTION "chainloop_notify_environment_change"();
