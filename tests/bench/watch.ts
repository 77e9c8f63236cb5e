// The benchmark's watcher (run by tests/bench/run.ts, never by jest): one WatchDeployments
// stream (gRPC, every record of the organization) against a server process other than the one
// under load, measuring how long each change takes to reach it: the time an event arrives minus
// the time its record was written (created, superseded, decommissioned or last seen: the
// timestamps the record statement writes before it commits). Both servers and this process run
// on one machine, so they share a clock.
//
//   node --import tsx tests/bench/watch.ts URL TOKEN
// stdout: {"event":"ready"} after the snapshot, then one JSON line per "report" command.
// stdin commands, one per line: "phase NAME" (events from now on count for NAME), "report"
// (prints {phases: {NAME: {events, byType, latencyMs: {p50, p99, max}}}, error}), "quit".
import readline from "node:readline";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { DeploymentService, WatchEventType, type Deployment } from "../../gen/proto/chainloop/v1/deployment_pb.js";

const [url, token] = process.argv.slice(2);
const client = createClient(
  DeploymentService,
  createGrpcTransport({ baseUrl: url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))] }),
);

interface Phase {
  events: number;
  byType: Record<string, number>;
  latencies: number[];
}
const phases = new Map<string, Phase>();
let phase: Phase | undefined;
let error: string | undefined;
const abort = new AbortController();

const ms = (t: Timestamp | undefined) => (t ? timestampMs(t) : undefined);
/** When the change an event reports was written. */
function writtenAt(type: WatchEventType, d: Deployment): number | undefined {
  switch (type) {
    case WatchEventType.CREATED:
      return ms(d.createTime);
    case WatchEventType.HEARTBEAT:
      return ms(d.lastSeenTime);
    case WatchEventType.SUPERSEDED:
      return ms(d.supersededTime);
    case WatchEventType.DECOMMISSIONED:
      return ms(d.decommissionTime);
    default:
      return undefined;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function watch(): Promise<void> {
  try {
    for await (const res of client.watchDeployments({}, { signal: abort.signal })) {
      if (res.type === WatchEventType.SNAPSHOT_END) {
        process.stdout.write(JSON.stringify({ event: "ready" }) + "\n");
        continue;
      }
      if (!phase || !res.deployment || res.type === WatchEventType.SNAPSHOT) continue;
      const at = writtenAt(res.type, res.deployment);
      const name = WatchEventType[res.type];
      phase.events++;
      phase.byType[name] = (phase.byType[name] ?? 0) + 1;
      if (at !== undefined) phase.latencies.push(Date.now() - at);
    }
  } catch (e) {
    if (!abort.signal.aborted) error = e instanceof Error ? e.message : String(e);
  }
}

const done = watch();
for await (const line of readline.createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.trim().split(/\s+/, 2);
  if (cmd === "phase") {
    phase = { events: 0, byType: {}, latencies: [] };
    phases.set(arg, phase);
  } else if (cmd === "report") {
    const out: Record<string, unknown> = {};
    for (const [name, p] of phases) {
      const sorted = [...p.latencies].sort((a, b) => a - b);
      out[name] = {
        events: p.events,
        byType: p.byType,
        latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN },
      };
    }
    process.stdout.write(JSON.stringify({ phases: out, error: error ?? null }) + "\n");
  } else if (cmd === "quit") {
    break;
  }
}
abort.abort();
await done;
