// One page of ListDeployments, newest first (keyset on seq), in one SQL statement with the
// environment and logical environment names joined in. In SQL because Prisma's query API can
// express neither the `project` / `project_version` filter (an EXISTS over attestations, which
// have no relation to deployments) nor a status predicate the planner can match to the partial
// indexes on active records; and in one statement because Prisma's `include` took three
// queries more per page.
import type { AttestedFor, DeploymentFilters } from "../domain/deployments.js";
import { DEPLOYMENT_STATUSES } from "../shared/names.js";
import type { SqlPool } from "./client.js";
import { deploymentColumns, type RawDeploymentRow } from "./deployment-rows.js";

export interface RawPageRow extends RawDeploymentRow {
  environment_name: string;
  logical_environment_name: string;
  heartbeat_interval_ms: number | null;
  /** From the newest attestation naming the digest as a subject (PROVENANCE_JOIN); null when none. */
  project: string | null;
  project_version: string | null;
}

/**
 * What a read of records selects besides the row: the environment's and logical environment's
 * names, the heartbeat interval, and the artifact's provenance (project and version of the
 * newest attestation of the organization naming the digest as a subject). `FROM deployments d`
 * followed by this; list pages and records by id both read it. One index probe per record
 * (attested_artifacts by organization + digest).
 */
export const WITH_NAMES_SELECT = `${deploymentColumns("d")}, e.name AS environment_name, e.heartbeat_interval_ms,
       l.name AS logical_environment_name, pv.project, pv.project_version`;
export const WITH_NAMES_JOIN = `JOIN environments e ON e.id = d.environment_id
     JOIN logical_environments l ON l.id = d.logical_environment_id
     LEFT JOIN LATERAL (
       SELECT a.project, a.project_version FROM attested_artifacts aa JOIN attestations a ON a.id = aa.attestation_id
       WHERE aa.organization_id = d.organization_id AND aa.digest = d.digest AND aa.role = 'subject'
       ORDER BY a.seq DESC LIMIT 1) pv ON true`;

/** When a record stopped being deployed (superseded or decommissioned); infinity while it runs. */
const asOfEnd = (alias: string) => `COALESCE(${alias}.superseded_at, ${alias}.decommissioned_at, 'infinity'::timestamptz)`;

/**
 * Point in time, the one place it is written: the record `alias` was deployed at the instant
 * `at` (an SQL timestamptz expression): created at or before it, and neither superseded nor
 * decommissioned by then. The end may be before the start (records get their server process's
 * clock, and two processes' clocks may disagree by a little): a range constructor would raise
 * on such a record; here it matches no instant.
 *
 * Two comparisons, each on a key column of the point-in-time indexes (migration
 * 20261206010000_point_in_time, which says why these): `created_at <= at` bounds their scan, and
 * the end (asOfEnd, exactly the indexes' expression, or they cannot check it) is checked on each
 * index entry before its row is read.
 */
export function deployedAtCondition(alias: string, at: string): string {
  return `${alias}.created_at <= ${at} AND ${asOfEnd(alias)} > ${at}`;
}

/** Positional parameters for a statement built piece by piece: param(v) adds v and returns its `$n`. */
export function sqlParams() {
  const params: unknown[] = [];
  return { params, param: (v: unknown) => (params.push(v), `$${params.length}`) };
}

/**
 * The project filter in SQL, the one place it is written: an attestation of the organization
 * `orgExpr` whose project (and version, when given) matches names `digestExpr` as a subject.
 * List pages and the live view's event filter (deployments.ts attestedSubjects) both use it.
 */
export function attestedForCondition(orgExpr: string, digestExpr: string, f: AttestedFor, param: (v: unknown) => string): string {
  return `EXISTS (
      SELECT 1 FROM attested_artifacts aa JOIN attestations a ON a.id = aa.attestation_id
      WHERE aa.organization_id = ${orgExpr} AND aa.digest = ${digestExpr} AND aa.role = 'subject'
        AND a.project = ${param(f.project)}
        ${f.projectVersion !== undefined ? `AND a.project_version = ${param(f.projectVersion)}` : ""})`;
}

export async function deploymentPage(
  sql: SqlPool,
  orgId: string,
  f: DeploymentFilters,
  afterSeq: bigint | undefined,
  limit: number,
): Promise<RawPageRow[]> {
  const { text, params } = deploymentPageQuery(orgId, f, afterSeq, limit);
  return sql.query<RawPageRow>(text, params);
}

/**
 * The statement deploymentPage runs (exported for the benchmark's EXPLAIN).
 *
 * Pages order by (-seq), not seq DESC: only the list indexes (migration 20261128070000_list_order)
 * provide that order, so the planner cannot walk the unique index on seq backwards and filter.
 * That plan costs the same when the matching records are the newest rows, and the planner chose
 * it from its statistics; when other environments had written since (the benchmark's case, or a
 * quiet environment's history), it filtered every newer row: 60,447 rows for a page at 100k.
 * So a page reads about `limit` index entries when filtered by environment (or by nothing but
 * the organization); other filters read one environment's or organization's records in order.
 *
 * As of a time (`f.asOf`) a page is ordered by (created_at DESC, seq DESC), newest first by the
 * time each record was made (seq breaks ties): only that order lets a page start at the instant
 * instead of behind every record written since (migration 20261206010000_point_in_time, with
 * the figures). The point-in-time indexes provide it and check the end of each record on the
 * index entry, so a page reads about `limit` entries near the instant and, further back, index
 * entries only.
 */
export function deploymentPageQuery(
  orgId: string,
  f: DeploymentFilters,
  afterSeq: bigint | undefined,
  limit: number,
): { text: string; params: unknown[] } {
  const { params, param } = sqlParams();
  const org = `${param(orgId)}::uuid`;
  // With an environment (resolved by name in the organization), its records are found by it
  // alone and the organization is checked on the environment's row: a condition on
  // d.organization_id would let the planner walk the organization's list index and filter by
  // environment, which in a one-organization database it prefers (that column's correlation
  // with the table's order is 1), again reading every newer record of other environments.
  const where = f.environmentId
    ? [`d.environment_id = ${param(f.environmentId)}::uuid`, `e.organization_id = ${org}`]
    : [`d.organization_id = ${org}`];
  if (f.logicalEnvironmentId) where.push(`d.logical_environment_id = ${param(f.logicalEnvironmentId)}::uuid`);
  if (f.name) where.push(`d.name = ${param(f.name)}`);
  if (f.kind) where.push(`d.kind = ${param(f.kind)}::artifact_kind`);
  if (f.digest) where.push(`d.digest = ${param(f.digest)}`);
  // Statuses as literals, not parameters: only then can the planner prove `status = 'deployed'`
  // and use the partial indexes on active records. They come from a closed set.
  if (f.asOf) where.push(deployedAtCondition("d", `${param(f.asOf.toISOString())}::timestamptz`));
  if (f.rollbacksOnly) where.push("d.rollback_of_id IS NOT NULL");
  if (f.statuses) {
    if (f.statuses.some((s) => !DEPLOYMENT_STATUSES.includes(s))) throw new Error(`unknown status in ${f.statuses.join(",")}`);
    where.push(`d.status IN (${f.statuses.map((s) => `'${s}'::deployment_status`).join(", ")})`);
  }
  if (afterSeq !== undefined) {
    const after = `${param(afterSeq.toString())}::bigint`;
    // As of a time the key is (created_at, seq); the token holds the seq of the page's last
    // record, whose created_at is looked up here (one probe of the organization's list index).
    // A seq that is no record of the organization gives an empty page.
    where.push(
      f.asOf
        ? `(d.created_at, d.seq) < ((SELECT p.created_at FROM deployments p WHERE p.organization_id = ${org} AND (-p.seq) = -${after}), ${after})`
        : `(-d.seq) > -${after}`,
    );
  }
  if (f.attestedFor) where.push(attestedForCondition(org, "d.digest", f.attestedFor, param));
  const text = `SELECT ${WITH_NAMES_SELECT}
     FROM deployments d
     ${WITH_NAMES_JOIN}
     WHERE ${where.join(" AND ")}
     ORDER BY ${f.asOf ? "d.created_at DESC, d.seq DESC" : "(-d.seq)"}
     LIMIT ${param(limit)}`;
  return { text, params };
}
