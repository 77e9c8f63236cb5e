// The load process of the benchmark (run by tests/bench/run.ts, never by jest): keeps
// `concurrency` RecordDeployment calls in flight over gRPC (h2c) for `seconds`, across
// `slots` slots, 90 % new digests (supersede) / 10 % heartbeats, and prints one JSON line:
// { calls, errors, seconds, latenciesMs: [p50, p95, p99] }.
import fs from "node:fs";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ArtifactKind, DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";

interface Args {
  url: string;
  token: string;
  concurrency: number;
  seconds: number;
  slots: number;
  environment: string;
  heartbeatRatio: number;
  digests: string[];
}

const args = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as Args;
const transport = createGrpcTransport({
  baseUrl: args.url,
  interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${args.token}`), next(req))],
});
const client = createClient(DeploymentService, transport);

// Deterministic PRNG (mulberry32) so runs are comparable.
let seed = 42;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const current = new Map<number, string>();
const latencies: number[] = [];
let errors = 0;
const firstError: string[] = [];
const deadline = performance.now() + args.seconds * 1000;

async function worker(): Promise<void> {
  while (performance.now() < deadline) {
    const slot = Math.floor(random() * args.slots);
    const active = current.get(slot);
    let digest: string;
    if (active && random() < args.heartbeatRatio) digest = active;
    else {
      do digest = args.digests[Math.floor(random() * args.digests.length)];
      while (digest === active);
    }
    current.set(slot, digest);
    const started = performance.now();
    try {
      await client.recordDeployment({
        environment: args.environment,
        logicalEnvironment: "production",
        deploymentName: `svc-${slot}`,
        kind: ArtifactKind.CONTAINER_IMAGE,
        digest,
      });
      latencies.push(performance.now() - started);
    } catch (e) {
      errors++;
      if (firstError.length === 0) firstError.push(String(e));
    }
  }
}

const began = performance.now();
await Promise.all(Array.from({ length: args.concurrency }, worker));
const seconds = (performance.now() - began) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
process.stdout.write(
  JSON.stringify({ calls: latencies.length, errors, firstError: firstError[0], seconds, latenciesMs: [pct(50), pct(95), pct(99)] }) + "\n",
);
process.exit(0);
