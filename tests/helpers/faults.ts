// Shared pieces of the fault tests (tests/faults/): a seeded PRNG, a sustained RecordDeployment
// load from concurrent clients that remembers every acknowledged call, and the checks that
// every acknowledged record survived (by id, digest and slot, and heartbeats' last_seen).
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  ArtifactKind,
  DeploymentService,
  DeploymentStatus,
  RecordOutcome,
  type Deployment,
} from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { listAll as everyItem } from "./facts.js";

export type Deployments = Client<typeof DeploymentService>;

export const digestOf = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

/** mulberry32: a small seeded PRNG, so a failing run can be repeated with its printed seed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
    bytes: (n: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
}
export type Prng = ReturnType<typeof prng>;

/** The seed: FAULT_SEED when set (to repeat a run), otherwise a fresh one. Always printed by the tests. */
export function seedFromEnv(): number {
  const raw = process.env.FAULT_SEED;
  if (raw && /^\d+$/.test(raw)) return Number(raw) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

export interface Slot {
  environment: string;
  logicalEnvironment: string;
  deploymentName: string;
  kind: ArtifactKind;
}

export const slotKey = (s: { environment: string; logicalEnvironment: string; deploymentName: string; kind: ArtifactKind }) =>
  `${s.environment}/${s.logicalEnvironment}/${s.deploymentName}/${s.kind}`;

export function makeSlots(environment: string, count: number): Slot[] {
  const logical = ["production", "staging", "development"];
  return Array.from({ length: count }, (_, i) => ({
    environment,
    logicalEnvironment: logical[i % logical.length],
    deploymentName: `svc-${i}`,
    kind: i % 5 === 4 ? ArtifactKind.HELM_CHART : ArtifactKind.CONTAINER_IMAGE,
  }));
}

/** One RecordDeployment the server answered OK. */
export interface Ack {
  id: string;
  digest: string;
  slot: string;
  outcome: RecordOutcome;
  /** last_seen_time the server answered, in ms: a later read must not show an earlier one. */
  lastSeenMs: number;
  /** When the answer arrived (Date.now()). */
  at: number;
}

export interface LoadStats {
  sent: number;
  acked: Ack[];
  /** Error code name (or "transport:<reason>") → count. */
  errors: Record<string, number>;
  /** Every failed call's code, duration and message, in order. */
  failures: Array<{ code: string; ms: number; message: string; startedAt: number; endedAt: number; cause: string; client: number }>;
  /** Durations (ms) of every call, successful or not, with their start time. */
  calls: Array<{ startedAt: number; ms: number; ok: boolean; client: number }>;
}

export function newStats(): LoadStats {
  return { sent: 0, acked: [], errors: {}, failures: [], calls: [] };
}

/**
 * A short, stable name for an error: the Connect code the server answered, or
 * "transport:<code>" when the client never got an answer (connection refused or reset,
 * stream cancelled): connect-node then wraps the Node error as `cause`.
 */
export function errorName(e: unknown): string {
  const err = ConnectError.from(e);
  const name = Code[err.code] ?? String(err.code);
  return isTransportError(err) ? `transport:${name}` : name;
}

/** Errors made in another realm (jest runs tests in a vm context) fail `instanceof Error`. */
const isErrorLike = (x: unknown): x is Error & { code?: unknown; cause?: unknown } =>
  typeof x === "object" && x !== null && typeof (x as { message?: unknown }).message === "string";

/**
 * The Node error code (or message) under a transport failure, e.g. ECONNREFUSED or
 * ERR_HTTP2_STREAM_ERROR; "" for an answer from the server.
 */
export function causeOf(e: unknown): string {
  let c: unknown = ConnectError.from(e).cause;
  for (let i = 0; i < 4 && isErrorLike(c); i++) {
    if (typeof c.code === "string") return c.code;
    if (!isErrorLike(c.cause)) return c.message;
    c = c.cause;
  }
  return "";
}

export function isTransportError(e: unknown): boolean {
  const err = ConnectError.from(e);
  return isErrorLike(err.cause) || /http\/2 stream closed|socket hang up|ECONN|EPIPE|session/i.test(err.rawMessage);
}

export interface LoadOptions {
  clients: Deployments[];
  /** Calls in flight at once. */
  concurrency: number;
  slots: Slot[];
  /** Attested digests to deploy. */
  digests: string[];
  rng: Prng;
  /** Probability that a call repeats the slot's last acknowledged digest (a heartbeat). */
  heartbeatRatio?: number;
  /** Stop sending when this returns true (checked before each call). */
  stop: () => boolean;
  /** Hard bounds. */
  maxCalls: number;
  maxMs: number;
  /** Pause between one worker's calls (ms), to keep a steady rate. */
  pauseMs?: number;
  stats?: LoadStats;
}

/** Runs the load until stop() or a bound; resolves when every worker has its last answer. */
export async function recordLoad(opts: LoadOptions): Promise<LoadStats> {
  const stats = opts.stats ?? newStats();
  const lastDigest = new Map<string, string>();
  const deadline = Date.now() + opts.maxMs;
  const heartbeatRatio = opts.heartbeatRatio ?? 0.3;
  const worker = async (w: number) => {
    const client = opts.clients[w % opts.clients.length];
    while (!opts.stop() && stats.sent < opts.maxCalls && Date.now() < deadline) {
      const slot = opts.rng.pick(opts.slots);
      const key = slotKey(slot);
      const last = lastDigest.get(key);
      const digest = last && opts.rng.chance(heartbeatRatio) ? last : opts.rng.pick(opts.digests);
      stats.sent++;
      const startedAt = Date.now();
      const t0 = performance.now();
      try {
        const res = await client.recordDeployment({ ...slot, digest, artifactName: "registry.local/fault", artifactVersion: `v${stats.sent}` });
        const ms = performance.now() - t0;
        stats.calls.push({ startedAt, ms, ok: true, client: w % opts.clients.length });
        const d = res.deployment!;
        stats.acked.push({ id: d.id, digest: d.digest, slot: key, outcome: res.outcome, lastSeenMs: timestampDate(d.lastSeenTime!).getTime(), at: Date.now() });
        lastDigest.set(key, d.digest);
      } catch (e) {
        const ms = performance.now() - t0;
        const code = errorName(e);
        stats.calls.push({ startedAt, ms, ok: false, client: w % opts.clients.length });
        stats.errors[code] = (stats.errors[code] ?? 0) + 1;
        stats.failures.push({ code, ms, message: ConnectError.from(e).rawMessage, startedAt, endedAt: Date.now(), cause: causeOf(e), client: w % opts.clients.length });
        // A failing server: do not spin.
        await sleep(20);
      }
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => worker(i)));
  return stats;
}

/** Every record, with history, through ListDeployments pages. */
export async function listAll(client: Deployments, filters: Record<string, unknown> = {}): Promise<Deployment[]> {
  return everyItem(async (pageToken) => {
    const res = await client.listDeployments({ history: true, pageSize: 1000, ...filters, pageToken });
    return { items: res.deployments, next: res.nextPageToken };
  });
}

export interface Verification {
  acked: number;
  found: number;
  /** Acknowledged ids missing, or present with another digest or slot. */
  missing: Ack[];
  wrong: Array<{ ack: Ack; got: Deployment }>;
  /** Acknowledged heartbeats whose last_seen went backwards (the heartbeat was lost). */
  lostHeartbeats: Ack[];
  /** Slots with more than one DEPLOYED record. */
  doubleDeployed: string[];
  /** Superseded records whose superseded_by_id names no record. */
  danglingSupersede: string[];
  total: number;
}

/** Reads everything back through the API and checks every acknowledged call against it. */
export async function verifyAcked(client: Deployments, acked: Ack[], environment?: string): Promise<Verification> {
  const all = await listAll(client, environment ? { environment } : {});
  const byId = new Map(all.map((d) => [d.id, d]));
  const missing: Ack[] = [];
  const wrong: Verification["wrong"] = [];
  const lostHeartbeats: Ack[] = [];
  // The latest last_seen acknowledged per id.
  const latestSeen = new Map<string, Ack>();
  for (const a of acked) {
    const prev = latestSeen.get(a.id);
    if (!prev || prev.lastSeenMs < a.lastSeenMs) latestSeen.set(a.id, a);
  }
  let found = 0;
  for (const a of acked) {
    const d = byId.get(a.id);
    if (!d) {
      missing.push(a);
      continue;
    }
    if (d.digest !== a.digest || slotKey(d) !== a.slot) {
      wrong.push({ ack: a, got: d });
      continue;
    }
    found++;
  }
  for (const [id, a] of latestSeen) {
    const d = byId.get(id);
    if (d && timestampDate(d.lastSeenTime!).getTime() < a.lastSeenMs) lostHeartbeats.push(a);
  }
  const active = new Map<string, number>();
  for (const d of all) if (d.status === DeploymentStatus.DEPLOYED) active.set(slotKey(d), (active.get(slotKey(d)) ?? 0) + 1);
  const doubleDeployed = [...active].filter(([, n]) => n > 1).map(([k]) => k);
  const danglingSupersede = all
    .filter((d) => d.status === DeploymentStatus.SUPERSEDED && d.supersededById !== "" && !byId.has(d.supersededById))
    .map((d) => d.id);
  return { acked: acked.length, found, missing, wrong, lostHeartbeats, doubleDeployed, danglingSupersede, total: all.length };
}

/** Resident set size of a process, in KiB, from /proc/<pid>/status. */
export function rssKiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

/** GET /healthz with a bound: status code and body status, or the transport error. */
export function healthz(baseUrl: string, timeoutMs = 5_000): Promise<{ code: number; status: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${baseUrl}/healthz`, { agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        try {
          resolve({ code: res.statusCode ?? 0, status: JSON.parse(body).status });
        } catch {
          resolve({ code: res.statusCode ?? 0, status: body });
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`GET /healthz took over ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `promise`, or `fallback` when it has not settled within ms; the timer does not outlive the wait. */
export async function orAfter<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `check` resolves true, polling; throws after timeoutMs. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      if (await check()) return Date.now() - started;
    } catch {
      /* not yet */
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** Counts by key, for printing. */
export function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

export const outcomeName = (o: RecordOutcome) => RecordOutcome[o] ?? String(o);
