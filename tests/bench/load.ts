// The load process of the benchmark (run by tests/bench/run.ts, never by jest): keeps
// `concurrency` RecordDeployment calls in flight over gRPC (h2c) for `seconds`, across
// `slots` slots, 90 % new digests (supersede) / 10 % heartbeats.
//
// It shares two cores with the server and Postgres, so every CPU millisecond it spends is taken
// from the server. The default client ("lean") is therefore a plain gRPC client in the spirit of
// ghz/h2load: `sessions` node:http2 sessions, one POST per call with a pre-encoded gRPC frame
// (requests are composed from protobuf parts encoded before the timed loop, see `frameFor`),
// and a check of every answer (HTTP 200, grpc-status 0 in the trailers, one well-formed gRPC
// frame that decodes as RecordDeploymentResponse). `client: "connect"` uses the
// @connectrpc/connect-node gRPC client instead, for comparison.
//
// stdout: a line {"event":"start"} when the timed loop starts and {"event":"end"} when it has
// ended (run.ts reads CPU counters then), then one JSON line:
//   { client, sessions, calls, errors, firstError, seconds, latenciesMs: [p50, p95, p99],
//     outcomes: { created, superseded, heartbeat, ... },
//     cpu: { userMs, systemMs, ms, msPerCall, processMs } }
// where cpu covers the timed loop only (processMs: the whole process, tsx start-up included).
import fs from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  Health,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "../../gen/proto/grpc/health/v1/health_pb.js";
import {
  ArtifactKind,
  DeploymentService,
  RecordDeploymentRequestSchema,
  RecordDeploymentResponseSchema,
  RecordOutcome,
} from "../../gen/proto/chainloop/v1/deployment_pb.js";

interface Args {
  url: string;
  token: string;
  concurrency: number;
  seconds: number;
  slots: number;
  environment: string;
  heartbeatRatio: number;
  digests: string[];
  /**
   * "record" (default): RecordDeployment as described above. "health": grpc.health.v1.Health/Check
   * with no token — the cheapest unary call through the same stack (one SELECT 1), a baseline
   * for the server's CPU per call. Lean client only.
   */
  call?: "record" | "health";
  /** Calls made before the measured ones, for this long (not counted). */
  warmupSeconds?: number;
  /** Each slot's active digest when the load starts (an index into digests), if it has one. */
  initial?: number[];
  /** "lean" (default): raw node:http2 gRPC; "connect": @connectrpc/connect-node. */
  client?: "lean" | "connect";
  /** HTTP/2 sessions (TCP connections) of the lean client, calls spread round-robin; default 1. */
  sessions?: number;
}

const args = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as Args;
const CLIENT = args.client ?? "lean";
const SESSIONS = Math.max(1, args.sessions ?? 1);
const LOGICAL_ENVIRONMENT = "production";
const CALL = args.call ?? "record";
const METHOD_PATH =
  CALL === "health"
    ? `/${Health.typeName}/${Health.method.check.name}`
    : `/${DeploymentService.typeName}/${DeploymentService.method.recordDeployment.name}`;
/** Health/Check with service "": an empty message, framed. */
const HEALTH_FRAME = Buffer.from([0, 0, 0, 0, 0]);

// Deterministic PRNG (mulberry32) so runs are comparable.
let seed = 42;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const current = new Map<number, string>((args.initial ?? []).map((d, slot) => [slot, args.digests[d]]));
/** The next call's slot and digest: heartbeat the slot's digest, or move it to another one. */
function nextCall(): { slot: number; digest: number } {
  const slot = Math.floor(random() * args.slots);
  const active = current.get(slot);
  let digest: string;
  if (active && random() < args.heartbeatRatio) digest = active;
  else {
    do digest = args.digests[Math.floor(random() * args.digests.length)];
    while (digest === active);
  }
  current.set(slot, digest);
  return { slot, digest: digestIndex.get(digest)! };
}
const digestIndex = new Map(args.digests.map((d, i) => [d, i]));

const latencies: number[] = [];
let errors = 0;
let firstError: string | undefined;
const outcomes: Record<string, number> = {};
const fail = (text: string) => {
  errors++;
  firstError ??= text;
};
const tally = (outcome: RecordOutcome) => {
  const name = (RecordOutcome[outcome] ?? `OUTCOME_${outcome}`).toLowerCase();
  outcomes[name] = (outcomes[name] ?? 0) + 1;
};

// ---------------------------------------------------------------------------------------------
// Lean client.

// A protobuf message is the concatenation of its encoded fields, so the request for (slot,
// digest) is the encoding of {environment, logicalEnvironment, deploymentName, kind} for the
// slot followed by the encoding of {digest} (field 5, the last one: the result is the canonical
// encoding, checked below against toBinary of the whole message). Both parts are encoded
// before the timed loop; a call only copies ~110 bytes into a fresh frame (~0.5 µs, where
// create + toBinary of the whole message costs ~10-16 µs of CPU on this machine).
const requestFields = (slot: number, digest: string) => ({
  environment: args.environment,
  logicalEnvironment: LOGICAL_ENVIRONMENT,
  deploymentName: `svc-${slot}`,
  kind: ArtifactKind.CONTAINER_IMAGE,
  digest,
});
let slotParts: Uint8Array[] = [];
let digestParts: Uint8Array[] = [];
function preEncode(): void {
  slotParts = Array.from({ length: args.slots }, (_, slot) =>
    toBinary(RecordDeploymentRequestSchema, create(RecordDeploymentRequestSchema, { ...requestFields(slot, ""), digest: "" })),
  );
  digestParts = args.digests.map((digest) => toBinary(RecordDeploymentRequestSchema, create(RecordDeploymentRequestSchema, { digest })));
  for (let i = 0; i < 200; i++) {
    const slot = (i * 7919) % args.slots;
    const digest = (i * 104_729) % args.digests.length;
    const whole = toBinary(RecordDeploymentRequestSchema, create(RecordDeploymentRequestSchema, requestFields(slot, args.digests[digest])));
    if (!Buffer.from(whole).equals(frameFor(slot, digest).subarray(5))) throw new Error(`pre-encoded request differs from toBinary (slot ${slot})`);
  }
}
/** 5-byte gRPC frame header (uncompressed, uint32 BE length) + the request message. */
function frameFor(slot: number, digest: number): Buffer {
  const a = slotParts[slot];
  const b = digestParts[digest];
  const frame = Buffer.allocUnsafe(5 + a.length + b.length);
  frame[0] = 0;
  frame.writeUInt32BE(a.length + b.length, 1);
  frame.set(a, 5);
  frame.set(b, 5 + a.length);
  return frame;
}

const REQUEST_HEADERS: http2.OutgoingHttpHeaders = {
  [http2.constants.HTTP2_HEADER_METHOD]: "POST",
  [http2.constants.HTTP2_HEADER_PATH]: METHOD_PATH,
  "content-type": "application/grpc",
  te: "trailers",
  ...(CALL === "health" ? {} : { authorization: `Bearer ${args.token}` }),
};

const sessions: Array<http2.ClientHttp2Session | undefined> = new Array(SESSIONS);
function openSession(i: number): http2.ClientHttp2Session {
  // noDelay: small HTTP/2 frames must not wait for Nagle (the server sets it on its side too).
  const { hostname, port } = new URL(args.url);
  const s = http2.connect(args.url, {
    settings: { enablePush: false },
    createConnection: () => net.connect({ host: hostname.replace(/^\[|\]$/g, ""), port: Number(port || 80), noDelay: true }),
  });
  s.on("error", () => {}); // surfaces on the streams (counted there); a new session replaces it
  s.on("close", () => sessions[i] === s && (sessions[i] = undefined));
  s.on("goaway", () => sessions[i] === s && (sessions[i] = undefined));
  sessions[i] = s;
  return s;
}
const session = (i: number) => {
  const s = sessions[i];
  return s && !s.closed && !s.destroyed ? s : openSession(i);
};

const percentDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
/** Checks one finished call; returns undefined if it succeeded, else the error text. */
function check(status: unknown, headers: http2.IncomingHttpHeaders, trailers: http2.IncomingHttpHeaders | undefined, chunks: Buffer[]): string | undefined {
  // A trailers-only answer (the usual form of errors) carries grpc-status in the headers.
  const grpcStatus = trailers?.["grpc-status"] ?? headers["grpc-status"];
  if (grpcStatus !== "0") {
    const message = trailers?.["grpc-message"] ?? headers["grpc-message"];
    return `grpc-status ${grpcStatus ?? "missing"} (HTTP ${status}): ${message === undefined ? "" : percentDecode(String(message))}`;
  }
  if (status !== 200) return `HTTP ${status} with grpc-status 0`;
  const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
    return `malformed gRPC response body (${body.length} bytes, flag ${body[0]}, length ${body.length >= 5 ? body.readUInt32BE(1) : "?"})`;
  }
  try {
    if (CALL === "health") {
      const status = fromBinary(HealthCheckResponseSchema, body.subarray(5)).status;
      if (status !== HealthCheckResponse_ServingStatus.SERVING) return `health status ${HealthCheckResponse_ServingStatus[status]}`;
      outcomes.serving = (outcomes.serving ?? 0) + 1;
    } else tally(fromBinary(RecordDeploymentResponseSchema, body.subarray(5)).outcome);
  } catch (e) {
    return `response does not decode as RecordDeploymentResponse: ${(e as Error).message}`;
  }
  return undefined;
}

function leanLoop(deadline: number): Promise<void> {
  let next = 0;
  let running = args.concurrency;
  return new Promise((resolve) => {
    const done = () => {
      if (--running === 0) resolve();
    };
    const issue = (): void => {
      if (performance.now() >= deadline) return done();
      let frame: Buffer = HEALTH_FRAME;
      if (CALL === "record") {
        const { slot, digest } = nextCall();
        frame = frameFor(slot, digest);
      }
      const started = performance.now();
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session(next++ % SESSIONS).request(REQUEST_HEADERS, { endStream: false });
      } catch (e) {
        fail(`request failed: ${(e as Error).message}`);
        setImmediate(issue); // never spin synchronously on a broken session
        return;
      }
      let status: unknown;
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders | undefined;
      let error: Error | undefined;
      const chunks: Buffer[] = [];
      stream.on("response", (h) => ((headers = h), (status = h[":status"])));
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("trailers", (t) => (trailers = t));
      stream.on("error", (e) => (error = e));
      stream.on("close", () => {
        const problem = error
          ? `stream error: ${error.message}`
          : status === undefined
            ? `stream closed without a response (RST code ${stream.rstCode})`
            : check(status, headers, trailers, chunks);
        if (problem === undefined) latencies.push(performance.now() - started);
        else fail(problem);
        issue();
      });
      stream.end(frame);
    };
    for (let i = 0; i < args.concurrency; i++) issue();
  });
}

async function connectLeanSessions(): Promise<void> {
  await Promise.all(
    Array.from({ length: SESSIONS }, (_, i) => {
      const s = openSession(i);
      return new Promise<void>((resolve, reject) => {
        s.once("connect", () => resolve());
        s.once("error", reject);
      });
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Connect client (@connectrpc/connect-node), as before.

async function connectLoop(deadline: number): Promise<void> {
  const transport = createGrpcTransport({
    baseUrl: args.url,
    interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${args.token}`), next(req))],
  });
  const client = createClient(DeploymentService, transport);
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const { slot, digest } = nextCall();
      const started = performance.now();
      try {
        const res = await client.recordDeployment(requestFields(slot, args.digests[digest]));
        latencies.push(performance.now() - started);
        tally(res.outcome);
      } catch (e) {
        fail(String(e));
      }
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
}

// ---------------------------------------------------------------------------------------------

if (CLIENT === "lean") {
  preEncode();
  await connectLeanSessions();
} else if (CLIENT !== "connect") throw new Error(`unknown client ${CLIENT}`);
if (CALL === "health" && CLIENT !== "lean") throw new Error("the health baseline runs with the lean client only");

// Warm-up, not measured: the server's JIT, pools and prepared statements settle first (the
// first second of a cold server otherwise sets the p99).
if ((args.warmupSeconds ?? 0) > 0) {
  await (CLIENT === "lean" ? leanLoop : connectLoop)(performance.now() + args.warmupSeconds! * 1000);
  latencies.length = 0;
  errors = 0;
  firstError = undefined;
  for (const k of Object.keys(outcomes)) delete outcomes[k];
}

process.stdout.write(JSON.stringify({ event: "start" }) + "\n");
const cpuBefore = process.cpuUsage();
const began = performance.now();
const deadline = began + args.seconds * 1000;
await (CLIENT === "lean" ? leanLoop(deadline) : connectLoop(deadline));
const seconds = (performance.now() - began) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const processCpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ event: "end" }) + "\n");

latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(
  JSON.stringify({
    client: CLIENT,
    sessions: CLIENT === "lean" ? SESSIONS : undefined,
    calls: latencies.length,
    errors,
    firstError,
    seconds,
    latenciesMs: [pct(50), pct(95), pct(99)],
    outcomes,
    cpu: {
      userMs: cpu.user / 1000,
      systemMs: cpu.system / 1000,
      ms: cpuMs,
      msPerCall: cpuMs / Math.max(1, latencies.length + errors),
      processMs: (processCpu.user + processCpu.system) / 1000,
    },
  }) + "\n",
);
process.exit(0);
