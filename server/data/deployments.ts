// DeploymentRepository on Prisma, and raw SQL for the record path: one statement per attempt
// (RECORD_STATEMENT below) that resolves the slot's names, checks the evidence, then
//   locks the slot's active row (SELECT … FOR UPDATE) →
//     same digest:  UPDATE last_seen_at                         (heartbeat)
//     other digest: UPDATE status = superseded; INSERT; link     (supersede)
//     no row:       INSERT                                       (create)
// Two recorders inserting into an empty slot at once collide on the partial unique index
// "deployments_active_slot_key"; the loser's transaction rolls back and surfaces as
// SlotConflict, which the use case retries (it then sees the winner's row).
import {
  SlotConflict,
  type ArtifactInput,
  type AttestedFor,
  type DecommissionResult,
  type Deployment,
  type DeploymentFilters,
  type DeploymentRepository,
  type NamedSlot,
  type RecordRefusal,
  type RecordResult,
  type Slot,
  type SlotNames,
} from "../domain/deployments.js";
import { randomUUID } from "node:crypto";
import type { Actor } from "../domain/caller.js";
import type { Prisma } from "../../gen/prisma/client.js";
import { attestedForCondition, deploymentPage, sqlParams } from "./deployment-pages.js";
import { deploymentColumns, fromRaw, toDeployment, type RawDeploymentRow } from "./deployment-rows.js";
import type { PrismaClient, SqlPool } from "./client.js";
import { isRetryableConflict } from "./errors.js";
import { TX_OPTIONS } from "./transactions.js";

type Tx = Prisma.TransactionClient;

const withNames = {
  environment: { select: { name: true, heartbeatIntervalMs: true } },
  logicalEnvironment: { select: { name: true } },
} as const;

type RowWithNames = Prisma.DeploymentGetPayload<{ include: typeof withNames }>;

const fromRowWithNames = (r: RowWithNames) =>
  toDeployment(
    r,
    { environment: r.environment.name, logicalEnvironment: r.logicalEnvironment.name },
    r.environment.heartbeatIntervalMs ?? undefined,
  );

export class PrismaDeploymentRepository implements DeploymentRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlPool,
  ) {}

  /** Both ids in one round trip (decommissioning, and naming what a refused record lacks). */
  async resolveSlotNames(orgId: string, environment: string, logicalEnvironment: string | undefined) {
    const rows = await this.prisma.$queryRaw<Array<{ env: string | null; lenv: string | null }>>`
      SELECT (SELECT id::text FROM environments WHERE organization_id = ${orgId}::uuid AND name = ${environment}) AS env,
             (SELECT id::text FROM logical_environments WHERE organization_id = ${orgId}::uuid AND name = ${logicalEnvironment ?? ""}) AS lenv`;
    return {
      environmentId: environment === "" ? undefined : (rows[0]?.env ?? undefined),
      logicalEnvironmentId: logicalEnvironment === undefined ? undefined : (rows[0]?.lenv ?? undefined),
    };
  }

  /**
   * One statement, one round trip, atomic (the record path; raw SQL on the pool as a named
   * prepared statement, bypassing Prisma's query engine). It resolves the environment and
   * logical environment by name and probes the evidence (attested_artifacts, indexed by
   * organization + digest); if all three are there it locks the slot's active row, then: same
   * digest → move last_seen_at; other digest → supersede it (linking the new record) and
   * insert; no active row → insert. The INSERT reads the `old` CTE, which makes Postgres finish
   * superseding before inserting, so the partial unique index sees the slot free; the successor
   * link is checked at the end of the statement, when the new row exists. It always returns
   * one row: the `found` flags, and the record when one was written.
   */
  async recordDeployed(slot: NamedSlot, artifact: ArtifactInput, actor: Actor | undefined): Promise<RecordResult | RecordRefusal> {
    const params = recordParams(slot, artifact, actor);
    let rows: RawRecordRow[];
    try {
      rows = await this.sql.query<RawRecordRow>(RECORD_STATEMENT, params, RECORD_STATEMENT_NAME);
    } catch (e) {
      if (isRetryableConflict(e)) throw new SlotConflict("concurrent record on the same slot", { cause: e });
      throw e;
    }
    const row = rows[0];
    if (!row) throw new Error("record statement returned no row");
    if (!row.env_found) return { missing: "environment" };
    if (!row.lenv_found) return { missing: "logical-environment" };
    if (!row.attested) return { missing: "evidence" };
    if (!row.outcome) throw new Error("record statement wrote nothing");
    return {
      outcome: row.outcome,
      deployment: toDeployment(fromRaw(row), slot),
      ...(row.outcome === "superseded" && row.superseded_id ? { supersededId: row.superseded_id } : {}),
    };
  }

  decommission(slot: Slot, digest: string, names: SlotNames, actor: Actor | undefined): Promise<DecommissionResult> {
    return this.inSlotTransaction(async (tx): Promise<DecommissionResult> => {
      const active = await lockActive(tx, slot);
      if (active && active.digest === digest) {
        const row = await tx.deployment.update({
          where: { id: active.id },
          data: {
            status: "decommissioned",
            decommissionedAt: new Date(),
            decommissionedByTokenId: actor?.tokenId ?? null,
            decommissionedByName: actor?.tokenName ?? "",
          },
        });
        return { outcome: "decommissioned", deployment: toDeployment(row, names) };
      }
      const latest = await tx.deployment.findFirst({
        where: { ...slotWhere(slot), digest },
        orderBy: { seq: "desc" },
      });
      if (!latest) return { outcome: "never-ran" };
      if (active) return { outcome: "other-active", activeDigest: active.digest };
      if (latest.status === "decommissioned") {
        return { outcome: "already-decommissioned", deployment: toDeployment(latest, names) };
      }
      return { outcome: "not-running", deployment: toDeployment(latest, names) };
    });
  }

  async get(orgId: string, id: string): Promise<Deployment | undefined> {
    const row = await this.prisma.deployment.findFirst({ where: { id, organizationId: orgId }, include: withNames });
    return row ? fromRowWithNames(row) : undefined;
  }

  /** Records by id, in the organization only (the live view reads what a change notice names). */
  async getMany(orgId: string, ids: string[]): Promise<Deployment[]> {
    if (ids.length === 0) return [];
    const rows = await this.prisma.deployment.findMany({ where: { organizationId: orgId, id: { in: ids } }, include: withNames });
    return rows.map(fromRowWithNames);
  }

  async attestedSubjects(orgId: string, digests: string[], attestedFor: AttestedFor): Promise<Set<string>> {
    if (digests.length === 0) return new Set();
    const { params, param } = sqlParams();
    const org = `${param(orgId)}::uuid`;
    const rows = await this.sql.query<{ digest: string }>(
      `SELECT x.digest FROM unnest(${param(digests)}::text[]) AS x(digest)
       WHERE ${attestedForCondition(org, "x.digest", attestedFor, param)}`,
      params,
    );
    return new Set(rows.map((r) => r.digest));
  }

  async list(orgId: string, f: DeploymentFilters, afterSeq: bigint | undefined, limit: number): Promise<Deployment[]> {
    const rows = await deploymentPage(this.sql, orgId, f, afterSeq, limit);
    return rows.map((r) =>
      toDeployment(
        fromRaw(r),
        { environment: r.environment_name, logicalEnvironment: r.logical_environment_name },
        r.heartbeat_interval_ms ?? undefined,
      ),
    );
  }

  private async inSlotTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.prisma.$transaction(fn, TX_OPTIONS);
    } catch (e) {
      if (isRetryableConflict(e)) throw new SlotConflict("concurrent record on the same slot", { cause: e });
      throw e;
    }
  }
}

function slotWhere(slot: Slot) {
  return {
    organizationId: slot.organizationId,
    environmentId: slot.environmentId,
    logicalEnvironmentId: slot.logicalEnvironmentId,
    name: slot.name,
    kind: slot.kind,
  };
}

/** Locks the slot's active row, if any, until the transaction ends. */
async function lockActive(tx: Tx, slot: Slot): Promise<{ id: string; digest: string } | undefined> {
  const rows = await tx.$queryRaw<Array<{ id: string; digest: string }>>`
    SELECT id::text AS id, digest FROM deployments
    WHERE organization_id = ${slot.organizationId}::uuid
      AND environment_id = ${slot.environmentId}::uuid
      AND logical_environment_id = ${slot.logicalEnvironmentId}::uuid
      AND name = ${slot.name}
      AND kind = ${slot.kind}::artifact_kind
      AND status = 'deployed'
    FOR UPDATE`;
  return rows[0];
}

/** The record statement's parameters (exported for the benchmark's one-statement floor). */
export function recordParams(slot: NamedSlot, artifact: ArtifactInput, actor: Actor | undefined): unknown[] {
  return [
    slot.organizationId,
    slot.environment,
    slot.logicalEnvironment,
    slot.name,
    slot.kind,
    artifact.digest,
    new Date().toISOString(),
    randomUUID(),
    artifact.artifactName,
    artifact.artifactVersion,
    artifact.artifactReference,
    actor?.tokenId ?? null,
    actor?.tokenName ?? "",
  ];
}

/** Prepared-statement name (pg prepares it once per pooled connection; one process only ever has one text for it). */
export const RECORD_STATEMENT_NAME = "record_deployed_v1";

// $1 organization, $2 environment name, $3 logical environment name, $4 deployment name,
// $5 kind, $6 digest, $7 now, $8 the new record's id, $9–$11 artifact name/version/reference,
// $12–$13 recording token id/name.
export const RECORD_STATEMENT = `
  WITH target AS (
    SELECT (SELECT id FROM environments WHERE organization_id = $1::uuid AND name = $2) AS env_id,
           (SELECT id FROM logical_environments WHERE organization_id = $1::uuid AND name = $3) AS lenv_id,
           EXISTS (SELECT 1 FROM attested_artifacts WHERE organization_id = $1::uuid AND digest = $6) AS attested
  ), slot AS (
    SELECT env_id, lenv_id FROM target WHERE env_id IS NOT NULL AND lenv_id IS NOT NULL AND attested
  ), active AS (
    SELECT d.id, d.digest FROM deployments d JOIN slot s ON d.environment_id = s.env_id AND d.logical_environment_id = s.lenv_id
    WHERE d.organization_id = $1::uuid AND d.name = $4 AND d.kind = $5::artifact_kind AND d.status = 'deployed'
    FOR UPDATE OF d
  ), beat AS (
    -- GREATEST: two heartbeats racing commit in either order; last_seen_at never moves back.
    UPDATE deployments d SET last_seen_at = GREATEST(d.last_seen_at, $7::timestamptz)
    FROM active a WHERE d.id = a.id AND a.digest = $6
    RETURNING ${deploymentColumns("d")}
  ), old AS (
    UPDATE deployments d SET status = 'superseded', superseded_at = $7::timestamptz, superseded_by_id = $8::uuid
    FROM active a WHERE d.id = a.id AND a.digest <> $6
    RETURNING d.id
  ), ins AS (
    INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest,
      artifact_name, artifact_version, artifact_reference, status, created_at, last_seen_at,
      recorded_by_token_id, recorded_by_name)
    SELECT $8::uuid, $1::uuid, s.env_id, s.lenv_id, $4, $5::artifact_kind, $6, $9, $10, $11,
      'deployed', $7::timestamptz, $7::timestamptz, $12::uuid, $13
    FROM slot s
    WHERE NOT EXISTS (SELECT 1 FROM beat) AND (SELECT count(*) FROM old) >= 0
    RETURNING ${deploymentColumns("deployments")}
  )
  SELECT t.env_id IS NOT NULL AS env_found, t.lenv_id IS NOT NULL AS lenv_found, t.attested,
    r.outcome, r.superseded_id, ${deploymentColumns("r")}
  FROM target t LEFT JOIN (
    SELECT 'heartbeat' AS outcome, NULL::text AS superseded_id, ${deploymentColumns("b")} FROM beat b
    UNION ALL
    SELECT CASE WHEN EXISTS (SELECT 1 FROM old) THEN 'superseded' ELSE 'created' END,
           (SELECT id::text FROM old LIMIT 1), ${deploymentColumns("i")}
    FROM ins i
  ) r ON true`;

/** What the record statement returns: its flags, and the written deployments row (all null when refused). */
type RawRecordRow = RawDeploymentRow & {
  env_found: boolean;
  lenv_found: boolean;
  attested: boolean;
  outcome: "heartbeat" | "superseded" | "created" | null;
  superseded_id: string | null;
};
