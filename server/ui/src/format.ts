// How the page writes things: kinds, statuses, times, durations, digests and the versions
// shown beside them. Shared by every view; no React here.
import { timestampDate, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ArtifactKind, DeploymentStatus, type Deployment } from "../../../gen/proto/chainloop/v1/deployment_pb.js";

export const KIND_LABEL: Record<number, string> = {
  [ArtifactKind.CONTAINER_IMAGE]: "container image",
  [ArtifactKind.HELM_CHART]: "Helm chart",
};
export const STATUS_LABEL: Record<number, string> = {
  [DeploymentStatus.DEPLOYED]: "deployed",
  [DeploymentStatus.SUPERSEDED]: "superseded",
  [DeploymentStatus.DECOMMISSIONED]: "decommissioned",
};
const LIFECYCLE_ORDER = ["development", "staging", "production"];

/** Built-in lifecycle stages first, in their order; the others by name. */
export function lifecycleCompare(a: string, b: string): number {
  const ia = LIFECYCLE_ORDER.indexOf(a);
  const ib = LIFECYCLE_ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
}

export const ms = (t: Timestamp | undefined) => (t ? timestampDate(t).getTime() : undefined);

/** `sha256:0123456789ab`: the algorithm and the first 12 hex digits. */
export const shortDigest = (d: string) => d.slice(0, d.indexOf(":") + 13);

/** What the recorder said the version was, else the short digest (the matrix's `data-version`). */
export const versionOf = (d: Deployment) => d.artifactVersion || shortDigest(d.digest);

/** `name:version`, `name`, `:version`, or "" when the recorder gave neither. */
function recordedLabel(d: Deployment): string {
  if (d.artifactName && d.artifactVersion) return `${d.artifactName}:${d.artifactVersion}`;
  return d.artifactName || (d.artifactVersion ? `:${d.artifactVersion}` : "");
}

/**
 * What the artifact is, for people: the project and version of its evidence (`api-server
 * v1.2.0`), else what was recorded with it (`ghcr.io/acme/api:v1.2.0`), else "" (then the
 * short digest alone names it). As the CLI's ARTIFACT column.
 */
export function versionLabel(d: Deployment): string {
  if (d.project) return d.projectVersion ? `${d.project} ${d.projectVersion}` : d.project;
  return recordedLabel(d);
}

/** `api-server v1.2.0 (sha256:0123456789ab)`, or the short digest alone. */
export function digestWithVersion(d: Deployment): string {
  const label = versionLabel(d);
  return label ? `${label} (${shortDigest(d.digest)})` : shortDigest(d.digest);
}

export function ago(t: number | undefined, now: number): string {
  if (t === undefined) return "—";
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 1) return "just now";
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export const absolute = (t: number | undefined) => (t === undefined ? "" : new Date(t).toLocaleString());

/** `Mon 3 Nov` style, in UTC (metrics buckets are UTC calendar periods). */
export function shortDate(t: number | undefined): string {
  if (t === undefined) return "";
  return new Date(t).toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
}

/** Stale now: the server said so, or its stale_time has passed since. */
export function isStale(d: Deployment, now: number): boolean {
  if (d.status !== DeploymentStatus.DEPLOYED) return false;
  const at = ms(d.staleTime);
  return d.stale || (at !== undefined && now > at);
}

export const durationSeconds = (d: Duration | undefined) => (d ? Number(d.seconds) + d.nanos / 1e9 : undefined);

/** `0.4s`, `42s`, `5m 3s`, `3h 12m`, `2d 4h`; "—" when unset. */
export function formatDuration(d: Duration | undefined): string {
  const s = durationSeconds(d);
  if (s === undefined) return "—";
  if (s < 10) return `${Math.round(s * 10) / 10}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s - m * 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m - h * 60}m`;
  const days = Math.floor(h / 24);
  return `${days}d ${h - days * 24}h`;
}

/** `16.7%`, `0%`, `100%`. */
export function percent(rate: number): string {
  const p = Math.round(rate * 1000) / 10;
  return `${p}%`;
}

export function describeError(e: unknown): string {
  const err = ConnectError.from(e);
  if (err.code === Code.Unknown && /fetch|network/i.test(err.rawMessage)) return "cannot reach the server";
  return err.rawMessage;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
