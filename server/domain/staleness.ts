// Staleness: an environment may say how often its deployments report (a heartbeat: recording
// the same digest again). An active record not seen for longer than that interval times
// STALE_TOLERANCE is *stale*: reported by list, describe, watch and the web page, never acted
// on (the record stays `deployed`; only a recorder changes records).
import { InvalidArgument } from "./errors.js";
import type { DeploymentStatus } from "../shared/names.js";

/**
 * How many heartbeat intervals may pass without a heartbeat before an active record is stale.
 * 2 tolerates one missed or late heartbeat (a pipeline that reports every 10 minutes is stale
 * after 20 minutes of silence).
 */
export const STALE_TOLERANCE = 2;

/** Bounds of an environment's heartbeat interval (the database checks the same). */
export const HEARTBEAT_INTERVAL_MIN_MS = 1_000;
export const HEARTBEAT_INTERVAL_MAX_MS = 7 * 24 * 3600 * 1000;

export interface StalenessInput {
  status: DeploymentStatus;
  lastSeenAt: Date;
  /** The environment's heartbeat interval; undefined when it has none. */
  heartbeatIntervalMs?: number;
}

/** When the record becomes (or became) stale without another heartbeat; undefined when it never can. */
export function staleAt(d: StalenessInput): Date | undefined {
  if (d.status !== "deployed" || d.heartbeatIntervalMs === undefined) return undefined;
  return new Date(d.lastSeenAt.getTime() + d.heartbeatIntervalMs * STALE_TOLERANCE);
}

export function isStale(d: StalenessInput, now: Date = new Date()): boolean {
  const at = staleAt(d);
  return at !== undefined && now.getTime() > at.getTime();
}

/**
 * A heartbeat interval given by a caller, in milliseconds: undefined or 0 means none (null,
 * "clear it"); anything else must be whole milliseconds between the bounds.
 */
export function parseHeartbeatInterval(field: string, ms: number | undefined): number | null {
  if (ms === undefined || ms === 0) return null;
  if (!Number.isInteger(ms) || ms < HEARTBEAT_INTERVAL_MIN_MS || ms > HEARTBEAT_INTERVAL_MAX_MS) {
    throw new InvalidArgument(
      `${field} must be whole milliseconds from 1s to 7d (${HEARTBEAT_INTERVAL_MIN_MS} to ${HEARTBEAT_INTERVAL_MAX_MS} ms), ` +
        `got ${Number.isFinite(ms) ? `${ms} ms` : String(ms)}; zero or unset clears it`,
    );
  }
  return ms;
}
