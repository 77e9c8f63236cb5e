// The ListDeployments `project` / `project_version` filter: records whose digest an
// attestation of that project (and version) names as a subject. Prisma cannot express an
// EXISTS over a table without a relation, so the ids of one page are selected here in SQL
// (keyset on seq, like the rest of the list) and the repository loads those rows.
import { Prisma } from "../../gen/prisma/client.js";
import type { DeploymentFilters } from "../domain/deployments.js";
import type { PrismaClient } from "./client.js";

export async function attestedDeploymentIds(
  prisma: PrismaClient,
  orgId: string,
  f: DeploymentFilters,
  afterSeq: bigint | undefined,
  limit: number,
): Promise<string[]> {
  if (!f.attestedFor) throw new Error("attestedDeploymentIds needs filters.attestedFor");
  const { project, projectVersion } = f.attestedFor;
  const where: Prisma.Sql[] = [Prisma.sql`d.organization_id = ${orgId}::uuid`];
  if (f.environmentId) where.push(Prisma.sql`d.environment_id = ${f.environmentId}::uuid`);
  if (f.logicalEnvironmentId) where.push(Prisma.sql`d.logical_environment_id = ${f.logicalEnvironmentId}::uuid`);
  if (f.name) where.push(Prisma.sql`d.name = ${f.name}`);
  if (f.kind) where.push(Prisma.sql`d.kind = ${f.kind}::artifact_kind`);
  if (f.digest) where.push(Prisma.sql`d.digest = ${f.digest}`);
  if (f.statuses) where.push(Prisma.sql`d.status::text IN (${Prisma.join(f.statuses)})`);
  if (afterSeq !== undefined) where.push(Prisma.sql`d.seq < ${afterSeq}`);
  where.push(Prisma.sql`EXISTS (
    SELECT 1 FROM attested_artifacts aa JOIN attestations a ON a.id = aa.attestation_id
    WHERE aa.organization_id = d.organization_id AND aa.digest = d.digest AND aa.role = 'subject'
      AND a.project = ${project}
      ${projectVersion !== undefined ? Prisma.sql`AND a.project_version = ${projectVersion}` : Prisma.empty})`);
  const rows = await prisma.$queryRaw<Array<{ id: string }>>`
    SELECT d.id::text AS id FROM deployments d
    WHERE ${Prisma.join(where, " AND ")}
    ORDER BY d.seq DESC
    LIMIT ${limit}`;
  return rows.map((r) => r.id);
}
