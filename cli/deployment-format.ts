// How deployment records read in the CLI: the names of kinds and statuses as the flags spell
// them (server/shared/names.ts), the ARTIFACT cell, the one-line outcome of `deployment record`, the table columns of
// `deployment list` and the fields of `deployment describe`. Shared by the deployment commands.
//
// Loaded only from inside actions (await import()): it imports generated code at runtime.
import type { Actor } from "../gen/proto/chainloop/v1/api_token_pb.js";
import {
  DeploymentStatus,
  RecordOutcome,
  type ArtifactKind,
  type Deployment,
  type RecordDeploymentResponse,
} from "../gen/proto/chainloop/v1/deployment_pb.js";
import { shortDigest } from "../server/shared/digest.js";
import type { ArtifactKind as KindName, DeploymentStatus as StatusName } from "../server/shared/names.js";
import { ARTIFACT_KIND_PB, DEPLOYMENT_STATUS_PB } from "../server/shared/proto.js";
import type { Cell, Column } from "./output.js";

/** The --kind values, as the CLI's flags spell them; the --status values. */
export type { KindName, StatusName };

export const KIND_TO_PB = ARTIFACT_KIND_PB.toPb;
export const STATUS_TO_PB = DEPLOYMENT_STATUS_PB.toPb;

export function kindName(kind: ArtifactKind): string {
  return ARTIFACT_KIND_PB.nameOf(kind) ?? `UNKNOWN(${kind})`;
}

export function statusName(status: DeploymentStatus): string {
  return DEPLOYMENT_STATUS_PB.nameOf(status) ?? `unknown(${status})`;
}

/** A token as people know it: its name, or its id when it has none; undefined when there is no actor. */
export function actorName(actor: Actor | undefined): string | undefined {
  if (!actor || (!actor.tokenName && !actor.tokenId)) return undefined;
  return actor.tokenName || actor.tokenId;
}

/** `name (id)` for describe. */
function actorFull(actor: Actor | undefined): string | undefined {
  if (!actor || (!actor.tokenName && !actor.tokenId)) return undefined;
  return actor.tokenName && actor.tokenId ? `${actor.tokenName} (token ${actor.tokenId})` : actor.tokenName || actor.tokenId;
}

/** `name:version`, `name`, or "-" when the recorder gave neither. */
export function artifactLabel(d: Deployment): string {
  if (d.artifactName && d.artifactVersion) return `${d.artifactName}:${d.artifactVersion}`;
  return d.artifactName || (d.artifactVersion ? `:${d.artifactVersion}` : "-");
}

/**
 * What the artifact is, for people: the project and version of its evidence
 * (`api-server v1.2.0`), else what was recorded with it (`ghcr.io/acme/api:v1.2.0`), else the
 * evidence's project without a version, else "-".
 * Shown beside a short digest wherever a digest is shown (tables, diff, outcome lines).
 */
export function versionLabel(d: Deployment): string {
  if (d.project && d.projectVersion) return `${d.project} ${d.projectVersion}`;
  const recorded = artifactLabel(d);
  return recorded !== "-" ? recorded : d.project || "-";
}

/** `sha256:0123456789ab (api-server v1.2.0)`, or the short digest alone when nothing names it. */
export function digestWithVersion(d: Deployment): string {
  const label = versionLabel(d);
  return label === "-" ? shortDigest(d.digest) : `${shortDigest(d.digest)} (${label})`;
}

/** `api-server in k8s-east/production` */
function slotLabel(d: Deployment): string {
  return `${d.deploymentName} in ${d.environment}/${d.logicalEnvironment}`;
}

/**
 * What `deployment record` prints in table mode: one line starting with the outcome
 * (`created`, `heartbeat`, `superseded <old id>`, `rolled back to <digest>`, `decommissioned`,
 * `already decommissioned`).
 */
export function outcomeLine(res: RecordDeploymentResponse): string {
  const d = res.deployment!;
  // The answer carries no evidence: the version shown is what the record was made from, if given.
  const digest = digestWithVersion(d);
  const record = `(record ${d.id})`;
  switch (res.outcome) {
    case RecordOutcome.CREATED:
      return `created: ${slotLabel(d)} runs ${digest} ${record}`;
    case RecordOutcome.HEARTBEAT:
      return `heartbeat: ${slotLabel(d)} still runs ${digest}, last seen updated ${record}`;
    case RecordOutcome.SUPERSEDED:
      return `superseded ${res.supersededDeploymentId}: ${slotLabel(d)} now runs ${digest} ${record}`;
    case RecordOutcome.ROLLED_BACK:
      return (
        `rolled back to ${digest}: ${slotLabel(d)} runs it again, as it did in record ${d.rollbackOfId}` +
        `${res.supersededDeploymentId ? `, replacing ${res.supersededDeploymentId}` : ""} ${record}`
      );
    case RecordOutcome.DECOMMISSIONED:
      return `decommissioned: ${digest} no longer runs as ${slotLabel(d)} ${record}`;
    case RecordOutcome.ALREADY_DECOMMISSIONED:
      return `already decommissioned: ${digest} as ${slotLabel(d)}, nothing changed ${record}`;
    default:
      return `recorded (outcome ${res.outcome}): ${slotLabel(d)} ${digest} ${record}`;
  }
}

/** The columns of `deployment list`; `wide` puts the record id first. */
export function listColumns(wide: boolean): Column<Deployment>[] {
  const columns: Column<Deployment>[] = [
    { header: "ENVIRONMENT", value: (d) => d.environment },
    { header: "LOGICAL ENV", value: (d) => d.logicalEnvironment },
    { header: "DEPLOYMENT", value: (d) => d.deploymentName },
    { header: "KIND", value: (d) => kindName(d.kind) },
    { header: "ARTIFACT", value: (d) => versionLabel(d), maxWidth: wide ? undefined : 48 },
    { header: "DIGEST", value: (d) => shortDigest(d.digest) },
    { header: "STATUS", value: (d) => statusName(d.status) },
    { header: "DEPLOYED", value: (d) => d.createTime },
    { header: "LAST SEEN", value: (d) => d.lastSeenTime },
    { header: "RECORDED BY", value: (d) => actorName(d.recordedBy) ?? "-" },
  ];
  return wide ? [{ header: "ID", value: (d) => d.id }, ...columns] : columns;
}

/**
 * `deployment describe`'s `Label: value` lines for the record itself. Fields that only apply
 * to a superseded or decommissioned record are shown only then.
 */
export function deploymentFields(d: Deployment): [label: string, value: Cell][] {
  const fields: [string, Cell][] = [
    ["ID", d.id],
    ["Environment", d.environment],
    ["Logical environment", d.logicalEnvironment],
    ["Deployment", d.deploymentName],
    ["Kind", kindName(d.kind)],
    ["Digest", d.digest],
    ["Artifact name", d.artifactName || "-"],
    ["Artifact version", d.artifactVersion || "-"],
    ["Artifact reference", d.artifactReference || "-"],
    ["Project", d.project ? `${d.project}${d.projectVersion ? ` ${d.projectVersion}` : ""} (from its evidence)` : "-"],
    ["Status", statusName(d.status)],
    ["Deployed", d.createTime],
    ["Last seen", d.lastSeenTime],
    ["Recorded by", actorFull(d.recordedBy) ?? "-"],
  ];
  if (d.status === DeploymentStatus.SUPERSEDED || d.supersededTime || d.supersededById) {
    fields.push(["Superseded", d.supersededTime], ["Superseded by", d.supersededById || "-"]);
  }
  if (d.rollbackOfId) fields.push(["Rollback of", `${d.rollbackOfId} (the slot ran this digest before)`]);
  // Break glass: the promotion policy refused this digest and an admin recorded it anyway.
  if (d.overrideReason) fields.push(["Policy overridden", d.overrideReason]);
  if (d.status === DeploymentStatus.DECOMMISSIONED || d.decommissionTime) {
    fields.push(["Decommissioned", d.decommissionTime], ["Decommissioned by", actorFull(d.decommissionedBy) ?? "-"]);
    if (d.decommissionedBySnapshot) fields.push(["Decommissioned because", "a snapshot of its environment no longer named it"]);
  }
  return fields;
}
