// Deployment rows, as raw SQL on the pool returns them (`RawDeploymentRow`: every statement on
// deployment records), to domain records: fromRaw types the columns (as Prisma's `Row`), and
// toDeployment adds the place's names.
import type { Prisma } from "../../gen/prisma/client.js";
import type { Deployment, SlotNames } from "../domain/deployments.js";

export type Row = Prisma.DeploymentGetPayload<Record<string, never>>;

/**
 * The deployments columns raw SQL selects, by name: never `*`. A prepared statement that
 * returns `*` fails ("cached plan must not change result type") once a migration adds a column
 * under a running server, as in a rolling upgrade.
 */
export const DEPLOYMENT_COLUMNS = [
  "id", "seq", "organization_id", "environment_id", "logical_environment_id", "name", "kind", "digest",
  "artifact_name", "artifact_version", "artifact_reference", "status", "created_at", "last_seen_at",
  "superseded_at", "superseded_by_id", "decommissioned_at", "recorded_by_token_id", "recorded_by_name",
  "decommissioned_by_token_id", "decommissioned_by_name", "decommissioned_by_snapshot", "rollback_of_id",
  "override_reason",
] as const satisfies ReadonlyArray<keyof RawDeploymentRow>;
// …and every field of RawDeploymentRow is selected (otherwise the next line does not compile).
const everyRowFieldSelected: Exclude<keyof RawDeploymentRow, (typeof DEPLOYMENT_COLUMNS)[number]> extends never ? true : never = true;
void everyRowFieldSelected;

/** `alias.col, …` for a select list or RETURNING clause. */
export const deploymentColumns = (alias: string) => DEPLOYMENT_COLUMNS.map((c) => `${alias}.${c}`).join(", ");

/** A deployments row as the pg driver or PGlite returns it (DEPLOYMENT_COLUMNS). */
export interface RawDeploymentRow {
  id: string;
  seq: bigint | string | number;
  organization_id: string;
  environment_id: string;
  logical_environment_id: string;
  name: string;
  kind: Row["kind"];
  digest: string;
  artifact_name: string;
  artifact_version: string;
  artifact_reference: string;
  status: Row["status"];
  created_at: Date | string;
  last_seen_at: Date | string;
  superseded_at: Date | string | null;
  superseded_by_id: string | null;
  decommissioned_at: Date | string | null;
  recorded_by_token_id: string | null;
  recorded_by_name: string;
  decommissioned_by_token_id: string | null;
  decommissioned_by_name: string;
  decommissioned_by_snapshot: boolean;
  rollback_of_id: string | null;
  override_reason: string | null;
}


export function toDeployment(r: Row, names: SlotNames, heartbeatIntervalMs?: number): Deployment {
  return {
    ...(heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs } : {}),
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
    recordedBy: r.recordedByTokenId ? { tokenId: r.recordedByTokenId, tokenName: r.recordedByName } : undefined,
    decommissionedBy: r.decommissionedByTokenId
      ? { tokenId: r.decommissionedByTokenId, tokenName: r.decommissionedByName }
      : undefined,
    decommissionedBySnapshot: r.decommissionedBySnapshot,
    rollbackOfId: r.rollbackOfId ?? undefined,
    overrideReason: r.overrideReason ?? undefined,
    seq: r.seq,
  };
}

const date = (v: Date | string) => (v instanceof Date ? v : new Date(v));
const dateOrNull = (v: Date | string | null) => (v === null ? null : date(v));

export function fromRaw(r: RawDeploymentRow): Row {
  return {
    id: r.id,
    seq: BigInt(r.seq),
    organizationId: r.organization_id,
    environmentId: r.environment_id,
    logicalEnvironmentId: r.logical_environment_id,
    name: r.name,
    kind: r.kind,
    digest: r.digest,
    artifactName: r.artifact_name,
    artifactVersion: r.artifact_version,
    artifactReference: r.artifact_reference,
    status: r.status,
    createdAt: date(r.created_at),
    lastSeenAt: date(r.last_seen_at),
    supersededAt: dateOrNull(r.superseded_at),
    supersededById: r.superseded_by_id,
    decommissionedAt: dateOrNull(r.decommissioned_at),
    recordedByTokenId: r.recorded_by_token_id,
    recordedByName: r.recorded_by_name,
    decommissionedByTokenId: r.decommissioned_by_token_id,
    decommissionedByName: r.decommissioned_by_name,
    decommissionedBySnapshot: r.decommissioned_by_snapshot,
    rollbackOfId: r.rollback_of_id,
    overrideReason: r.override_reason,
  } as Row;
}
