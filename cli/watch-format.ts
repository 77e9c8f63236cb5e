// How `deployment watch` prints an event in table mode: fixed-width cells (rows arrive one by
// one, so widths cannot follow the content), the time of the event, what happened (a new record
// that is a rollback says so), where, which artifact (its evidence's project and version, else
// the version recorded with it) beside a short digest, the record's status and a stale marker.
//
// Loaded only from inside the action (await import()): it imports generated code at runtime.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { DeploymentStatus, WatchEventType, type WatchDeploymentsResponse } from "../gen/proto/chainloop/v1/deployment_pb.js";
import { shortDigest } from "../server/domain/digest.js";

const EVENT_NAMES: Record<WatchEventType, string> = {
  [WatchEventType.UNSPECIFIED]: "unknown",
  [WatchEventType.SNAPSHOT]: "running",
  [WatchEventType.SNAPSHOT_END]: "snapshot-end",
  [WatchEventType.CREATED]: "created",
  [WatchEventType.HEARTBEAT]: "heartbeat",
  [WatchEventType.SUPERSEDED]: "superseded",
  [WatchEventType.DECOMMISSIONED]: "decommissioned",
  [WatchEventType.STALE]: "stale",
  [WatchEventType.STALE_TIME_CHANGED]: "stale-time",
};

const STATUS_NAMES: Record<DeploymentStatus, string> = {
  [DeploymentStatus.UNSPECIFIED]: "",
  [DeploymentStatus.DEPLOYED]: "deployed",
  [DeploymentStatus.SUPERSEDED]: "superseded",
  [DeploymentStatus.DECOMMISSIONED]: "decommissioned",
};

/** HH:MM:SS in the local time zone. */
function clock(d: Date): string {
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

export function eventCells(ev: WatchDeploymentsResponse): string[] {
  const d = ev.deployment;
  const at = ev.eventTime ? timestampDate(ev.eventTime) : new Date();
  const event = ev.type === WatchEventType.CREATED && d?.rollbackOfId ? "rolled-back" : (EVENT_NAMES[ev.type] ?? `unknown(${ev.type})`);
  return [
    clock(at),
    event,
    d ? `${d.environment}/${d.logicalEnvironment}` : "",
    d?.deploymentName ?? "",
    d ? (d.project && d.projectVersion ? `${d.project} ${d.projectVersion}` : d.artifactVersion || "-") : "",
    d ? shortDigest(d.digest) : "",
    d ? (STATUS_NAMES[d.status] ?? `unknown(${d.status})`) : "",
    d?.stale ? "stale" : "",
  ];
}

/** One line of cells padded (or cut, ending in "…") to the column widths, three spaces apart. */
export function row(columns: Array<[string, number]>, cells: string[]): string {
  return cells
    .map((cell, i) => {
      const width = columns[i][1];
      const text = cell.replace(/[\u0000-\u001f\u007f]+/g, " ");
      return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
    })
    .join("   ")
    .trimEnd();
}
