// One page of ListDeployments, newest first (keyset on seq), in one SQL statement with the
// environment and logical environment names joined in. In SQL because Prisma's query API can
// express neither the `project` / `project_version` filter (an EXISTS over attestations, which
// have no relation to deployments) nor a status predicate the planner can match to the partial
// indexes on active records; and in one statement because Prisma's `include` took three
// queries more per page.
import type { AttestedFor, DeploymentFilters } from "../domain/deployments.js";
import type { SqlPool } from "./client.js";
import { deploymentColumns, type RawDeploymentRow } from "./deployment-rows.js";

export interface RawPageRow extends RawDeploymentRow {
  environment_name: string;
  logical_environment_name: string;
  heartbeat_interval_ms: number | null;
}

const STATUSES = ["deployed", "superseded", "decommissioned"];

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
 * Active-only pages order by (-seq), not seq DESC: only the partial indexes on active records
 * (migration 20261128070000_active_list_order) provide that order, so the planner cannot walk
 * the unique index on seq backwards and filter. It costs the same as seq DESC when the active
 * records are the newest rows, but it chose that plan from its statistics, and when other
 * environments had churned since (the benchmark's case) it filtered every newer history row:
 * 60,447 rows for a page at 100k rows, growing with history.
 */
export function deploymentPageQuery(
  orgId: string,
  f: DeploymentFilters,
  afterSeq: bigint | undefined,
  limit: number,
): { text: string; params: unknown[] } {
  const activeOnly = f.statuses?.length === 1 && f.statuses[0] === "deployed";
  const { params, param } = sqlParams();
  const where = [`d.organization_id = ${param(orgId)}::uuid`];
  if (f.environmentId) where.push(`d.environment_id = ${param(f.environmentId)}::uuid`);
  if (f.logicalEnvironmentId) where.push(`d.logical_environment_id = ${param(f.logicalEnvironmentId)}::uuid`);
  if (f.name) where.push(`d.name = ${param(f.name)}`);
  if (f.kind) where.push(`d.kind = ${param(f.kind)}::artifact_kind`);
  if (f.digest) where.push(`d.digest = ${param(f.digest)}`);
  // Statuses as literals, not parameters: only then can the planner prove `status = 'deployed'`
  // and use the partial indexes on active records. They come from a closed set.
  if (f.statuses) {
    if (f.statuses.some((s) => !STATUSES.includes(s))) throw new Error(`unknown status in ${f.statuses.join(",")}`);
    where.push(`d.status IN (${f.statuses.map((s) => `'${s}'::deployment_status`).join(", ")})`);
  }
  if (afterSeq !== undefined) {
    where.push(activeOnly ? `(-d.seq) > -(${param(afterSeq.toString())}::bigint)` : `d.seq < ${param(afterSeq.toString())}::bigint`);
  }
  if (f.attestedFor) where.push(attestedForCondition("d.organization_id", "d.digest", f.attestedFor, param));
  const text = `SELECT ${deploymentColumns("d")}, e.name AS environment_name, e.heartbeat_interval_ms, l.name AS logical_environment_name
     FROM deployments d
     JOIN environments e ON e.id = d.environment_id
     JOIN logical_environments l ON l.id = d.logical_environment_id
     WHERE ${where.join(" AND ")}
     ORDER BY ${activeOnly ? "(-d.seq)" : "d.seq DESC"}
     LIMIT ${param(limit)}`;
  return { text, params };
}
