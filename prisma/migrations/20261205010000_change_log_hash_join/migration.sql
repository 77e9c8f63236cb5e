-- The change log's update trigger (migration 20261204000000_change_log) pairs each changed row's
-- old and new versions by joining the statement's two transition tables. Postgres has no
-- statistics for transition tables and planned that join as a nested loop: harmless for a
-- record batch (at most 256 rows), but a 10,000-entry environment snapshot spent 7.6 s in the
-- trigger (10,000 x 10,000 comparisons) against 36 ms with a hash join. Nested loops are off
-- for the trigger's own statement only.
ALTER FUNCTION "chainloop_log_deployment_updates"() SET enable_nestloop = off;
