// DeploymentRepository on Prisma. The record path is one transaction per attempt:
//   lock the slot's active row (SELECT … FOR UPDATE) →
//     same digest:  UPDATE last_seen_at                         (heartbeat)
//     other digest: UPDATE status = superseded; INSERT; link     (supersede)
//     no row:       INSERT                                       (create)
// Two recorders inserting into an empty slot at once collide on the partial unique index
// "deployments_active_slot_key"; the loser's transaction rolls back and surfaces as
// SlotConflict, which the use case retries (it then sees the winner's row).
import {
  SlotConflict,
  type ArtifactInput,
  type DecommissionResult,
  type Deployment,
  type DeploymentFilters,
  type DeploymentRepository,
  type RecordResult,
  type Slot,
  type SlotNames,
} from "../domain/deployments.js";
import type { Prisma } from "../../gen/prisma/client.js";
import type { PrismaClient } from "./client.js";
import { isRetryableConflict } from "./errors.js";

type Tx = Prisma.TransactionClient;

const withNames = {
  environment: { select: { name: true } },
  logicalEnvironment: { select: { name: true } },
} as const;

type Row = Prisma.DeploymentGetPayload<Record<string, never>>;
type RowWithNames = Prisma.DeploymentGetPayload<{ include: typeof withNames }>;

function toDeployment(r: Row, names: SlotNames): Deployment {
  return {
    id: r.id,
    environment: names.environment,
    logicalEnvironment: names.logicalEnvironment,
    name: r.name,
    kind: r.kind,
    digest: r.digest,
    artifactName: r.artifactName,
    artifactVersion: r.artifactVersion,
    artifactReference: r.artifactReference,
    status: r.status,
    createdAt: r.createdAt,
    lastSeenAt: r.lastSeenAt,
    supersededAt: r.supersededAt ?? undefined,
    supersededById: r.supersededById ?? undefined,
    decommissionedAt: r.decommissionedAt ?? undefined,
    seq: r.seq,
  };
}

const fromRowWithNames = (r: RowWithNames) =>
  toDeployment(r, { environment: r.environment.name, logicalEnvironment: r.logicalEnvironment.name });

/** Interactive transactions queue for a connection (PGlite has exactly one): allow for it. */
const TX_OPTIONS = { maxWait: 30_000, timeout: 30_000 } as const;

export class PrismaDeploymentRepository implements DeploymentRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async resolveSlotNames(orgId: string, environment: string, logicalEnvironment: string | undefined) {
    const [env, lenv] = await Promise.all([
      environment === ""
        ? undefined
        : this.prisma.environment.findUnique({
            where: { organizationId_name: { organizationId: orgId, name: environment } },
            select: { id: true },
          }),
      logicalEnvironment === undefined
        ? undefined
        : this.prisma.logicalEnvironment.findUnique({
            where: { organizationId_name: { organizationId: orgId, name: logicalEnvironment } },
            select: { id: true },
          }),
    ]);
    return { environmentId: env?.id, logicalEnvironmentId: lenv?.id };
  }

  recordDeployed(slot: Slot, artifact: ArtifactInput, names: SlotNames): Promise<RecordResult> {
    return this.inSlotTransaction(async (tx) => {
      const active = await lockActive(tx, slot);
      if (active && active.digest === artifact.digest) {
        const row = await tx.deployment.update({ where: { id: active.id }, data: { lastSeenAt: new Date() } });
        return { outcome: "heartbeat", deployment: toDeployment(row, names) };
      }
      if (active) {
        const now = new Date();
        await tx.deployment.update({ where: { id: active.id }, data: { status: "superseded", supersededAt: now } });
        const created = await insert(tx, slot, artifact, now);
        await tx.deployment.update({ where: { id: active.id }, data: { supersededById: created.id } });
        return { outcome: "superseded", deployment: toDeployment(created, names), supersededId: active.id };
      }
      const created = await insert(tx, slot, artifact, new Date());
      return { outcome: "created", deployment: toDeployment(created, names) };
    });
  }

  decommission(slot: Slot, digest: string, names: SlotNames): Promise<DecommissionResult> {
    return this.inSlotTransaction(async (tx): Promise<DecommissionResult> => {
      const active = await lockActive(tx, slot);
      if (active && active.digest === digest) {
        const row = await tx.deployment.update({
          where: { id: active.id },
          data: { status: "decommissioned", decommissionedAt: new Date() },
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

  async list(orgId: string, f: DeploymentFilters, afterSeq: bigint | undefined, limit: number): Promise<Deployment[]> {
    const rows = await this.prisma.deployment.findMany({
      where: {
        organizationId: orgId,
        ...(f.environmentId ? { environmentId: f.environmentId } : {}),
        ...(f.logicalEnvironmentId ? { logicalEnvironmentId: f.logicalEnvironmentId } : {}),
        ...(f.name ? { name: f.name } : {}),
        ...(f.kind ? { kind: f.kind } : {}),
        ...(f.digest ? { digest: f.digest } : {}),
        ...(f.statuses ? { status: { in: f.statuses } } : {}),
        ...(afterSeq !== undefined ? { seq: { lt: afterSeq } } : {}),
      },
      include: withNames,
      orderBy: { seq: "desc" },
      take: limit,
    });
    return rows.map(fromRowWithNames);
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

function insert(tx: Tx, slot: Slot, artifact: ArtifactInput, now: Date) {
  return tx.deployment.create({
    data: { ...slotWhere(slot), ...artifact, status: "deployed", createdAt: now, lastSeenAt: now },
  });
}
