// One page of ListDeployments, as ids, newest first (keyset on seq). In SQL because Prisma's
// query API can express neither the `project` / `project_version` filter (an EXISTS over
// attestations, which have no relation to deployments) nor a status predicate the planner can
// match to the partial indexes on active records. The repository then loads those rows.
import { Prisma } from "../../gen/prisma/client.js";
import type { DeploymentFilters } from "../domain/deployments.js";
import type { PrismaClient } from "./client.js";

export async function deploymentPageIds(
  prisma: PrismaClient,
  orgId: string,
  f: DeploymentFilters,
  afterSeq: bigint | undefined,
  limit: number,
): Promise<string[]> {
  const where: Prisma.Sql[] = [Prisma.sql`d.organization_id = ${orgId}::uuid`];
  if (f.environmentId) where.push(Prisma.sql`d.environment_id = ${f.environmentId}::uuid`);
  if (f.logicalEnvironmentId) where.push(Prisma.sql`d.logical_environment_id = ${f.logicalEnvironmentId}::uuid`);
  if (f.name) where.push(Prisma.sql`d.name = ${f.name}`);
  if (f.kind) where.push(Prisma.sql`d.kind = ${f.kind}::artifact_kind`);
  if (f.digest) where.push(Prisma.sql`d.digest = ${f.digest}`);
  // Statuses as literals, not parameters: only then can the planner prove `status = 'deployed'`
  // and use the partial indexes on active records. They come from a closed set.
  if (f.statuses) {
    const known = ["deployed", "superseded", "decommissioned"];
    if (f.statuses.some((s) => !known.includes(s))) throw new Error(`unknown status in ${f.statuses.join(",")}`);
    where.push(Prisma.sql`d.status IN (${Prisma.raw(f.statuses.map((s) => `'${s}'::deployment_status`).join(", "))})`);
  }
  if (afterSeq !== undefined) where.push(Prisma.sql`d.seq < ${afterSeq}`);
  if (f.attestedFor) {
    const { project, projectVersion } = f.attestedFor;
    where.push(Prisma.sql`EXISTS (
      SELECT 1 FROM attested_artifacts aa JOIN attestations a ON a.id = aa.attestation_id
      WHERE aa.organization_id = d.organization_id AND aa.digest = d.digest AND aa.role = 'subject'
        AND a.project = ${project}
        ${projectVersion !== undefined ? Prisma.sql`AND a.project_version = ${projectVersion}` : Prisma.empty})`);
  }
  const rows = await prisma.$queryRaw<Array<{ id: string }>>`
    SELECT d.id::text AS id FROM deployments d
    WHERE ${Prisma.join(where, " AND ")}
    ORDER BY d.seq DESC
    LIMIT ${limit}`;
  return rows.map((r) => r.id);
}
