// How `deployment watch` prints an event in table mode: fixed-width cells (rows arrive one by
// one, so widths cannot follow the content), the time of the event, what happened (a new record
// that is a rollback says so), where, which artifact (its evidence's project and version, else
// the version recorded with it) beside a short digest, the record's status and a stale marker.
//
// Loaded only from inside the action (await import()): it imports generated code at runtime.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { DeploymentStatus, WatchEventType, type WatchDeploymentsResponse } from "../gen/proto/chainloop/v1/deployment_pb.js";
import { shortDigest } from "../server/shared/digest.js";
import type { WatchEventType as EventName } from "../server/shared/names.js";
import { WATCH_EVENT_TYPE_PB } from "../server/shared/proto.js";
import { statusName } from "./deployment-format.js";

/** Where the event column says more than the event's name (the snapshot's records are what runs). */
const EVENT_LABELS: Partial<Record<EventName, string>> = { snapshot: "running", "stale-time-changed": "stale-time" };

function eventLabel(type: WatchEventType): string {
  if (type === WatchEventType.UNSPECIFIED) return "unknown";
  const name = WATCH_EVENT_TYPE_PB.nameOf(type);
  return name ? (EVENT_LABELS[name] ?? name) : `unknown(${type})`;
}

/** HH:MM:SS in the local time zone. */
function clock(d: Date): string {
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

export function eventCells(ev: WatchDeploymentsResponse): string[] {
  const d = ev.deployment;
  const at = ev.eventTime ? timestampDate(ev.eventTime) : new Date();
  const event = ev.type === WatchEventType.CREATED && d?.rollbackOfId ? "rolled-back" : eventLabel(ev.type);
  return [
    clock(at),
    event,
    d ? `${d.environment}/${d.logicalEnvironment}` : "",
    d?.deploymentName ?? "",
    d ? (d.project && d.projectVersion ? `${d.project} ${d.projectVersion}` : d.artifactVersion || "-") : "",
    d ? shortDigest(d.digest) : "",
    d && d.status !== DeploymentStatus.UNSPECIFIED ? statusName(d.status) : "",
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
