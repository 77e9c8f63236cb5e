// Prometheus metrics at GET /metrics (server/metrics.ts), through real server processes: calls
// over Connect and gRPC move the per-method counters by exactly the calls made, the record and
// snapshot outcome counters by exactly the outcomes produced, the watcher gauge follows an
// open WatchDeployments stream, the pool gauges exist on Postgres; and the scrape token and the
// separate metrics port (HTTP only, so on one database: the first configured).
import { spawn } from "node:child_process";
import { ArtifactKind, DeploymentService, DeploymentStatus } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient, grpcCall, grpcJsClient, grpcTransportClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { ROOT, startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";
import { Watch } from "../helpers/watch.js";
import path from "node:path";
import { digest } from "../helpers/facts.js";


/** A scrape: every sample line, `name{labels} value`. */
class Scrape {
  constructor(readonly text: string) {}
  /** The value of the one sample named `name` whose labels include `labels`; undefined when there is none. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const matches = this.text.split("\n").filter((line) => {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) return false;
      return Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    });
    if (matches.length > 1) throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}:\n${matches.join("\n")}`);
    return matches.length === 0 ? undefined : Number(matches[0].slice(matches[0].lastIndexOf(" ") + 1));
  }
  /** Like value(), 0 when absent (a counter not yet incremented). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.value(name, labels) ?? 0;
  }
}

async function scrape(url: string, token?: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return new Scrape(await res.text());
}

const method = (service: string, name: string, code?: string) => ({
  grpc_type: "unary",
  grpc_service: `chainloop.v1.${service}`,
  grpc_method: name,
  ...(code ? { grpc_code: code } : {}),
});

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 10_000, debug?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${debug ? `: ${await debug()}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(backends())("GET /metrics on %s", (backend) => {
  const served = serveFor(backend, {}, { timeoutMs: 120_000 });

  test("per method and code: calls over Connect and gRPC counted exactly, with a latency histogram", async () => {
    const before = await scrape(served.url);
    await connectClient(EnvironmentService, served.url).listEnvironments({});
    await grpcTransportClient(EnvironmentService, served.url).listEnvironments({});
    const grpcJs = grpcJsClient(path.join(ROOT, "proto/chainloop/v1/environment.proto"), "chainloop.v1.EnvironmentService", served.server.port);
    await expect(grpcCall(grpcJs, "getEnvironment", { name: "no-such-environment" })).rejects.toMatchObject({ code: 5 });
    grpcJs.close();
    const after = await scrape(served.url);

    const delta = (name: string, labels: Record<string, string>) => after.count(name, labels) - before.count(name, labels);
    expect(delta("grpc_server_started_total", method("EnvironmentService", "ListEnvironments"))).toBe(2);
    expect(delta("grpc_server_handled_total", method("EnvironmentService", "ListEnvironments", "OK"))).toBe(2);
    expect(delta("grpc_server_started_total", method("EnvironmentService", "GetEnvironment"))).toBe(1);
    expect(delta("grpc_server_handled_total", method("EnvironmentService", "GetEnvironment", "NotFound"))).toBe(1);
    expect(delta("grpc_server_handled_total", method("EnvironmentService", "GetEnvironment", "OK"))).toBe(0);
    // The histogram: count, sum and cumulative buckets up to +Inf.
    expect(delta("grpc_server_handling_seconds_count", method("EnvironmentService", "ListEnvironments", "OK"))).toBe(2);
    expect(after.value("grpc_server_handling_seconds_bucket", { ...method("EnvironmentService", "ListEnvironments", "OK"), le: "+Inf" })).toBe(
      after.value("grpc_server_handling_seconds_count", method("EnvironmentService", "ListEnvironments", "OK")),
    );
    expect(after.value("grpc_server_handling_seconds_sum", method("EnvironmentService", "GetEnvironment", "NotFound"))).toBeGreaterThan(0);
    expect(after.text).toContain("# TYPE grpc_server_handling_seconds histogram");
    // Default process metrics (prom-client's collectDefaultMetrics).
    expect(after.value("process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(after.text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    // No label but service, method, type and code on the RPC series: nothing per organization or token.
    for (const line of after.text.split("\n").filter((l) => l.startsWith("grpc_server_"))) {
      const labels = [...line.matchAll(/(\w+)="/g)].map((m) => m[1]);
      expect(labels.every((l) => ["grpc_type", "grpc_service", "grpc_method", "grpc_code", "le"].includes(l))).toBe(true);
    }
  });

  test("record and snapshot outcomes move by exactly the outcomes produced", async () => {
    await connectClient(EnvironmentService, served.url).createEnvironment({ name: "metrics-env" });
    const [a1, a2, b1, c1] = ["a1", "a2", "b1", "c1"].map((s) => digest(`metrics ${backend} ${s}`));
    await attest(served.url, [a1, a2, b1, c1]);
    const deployments = connectClient(DeploymentService, served.url);
    const grpc = grpcTransportClient(DeploymentService, served.url);
    const base = { environment: "metrics-env", logicalEnvironment: "staging", deploymentName: "api", kind: ArtifactKind.CONTAINER_IMAGE };

    const before = await scrape(served.url);
    await deployments.recordDeployment({ ...base, digest: a1 }); // created
    await grpc.recordDeployment({ ...base, digest: a1 }); // heartbeat
    await deployments.recordDeployment({ ...base, digest: a2 }); // superseded
    await grpc.recordDeployment({ ...base, digest: a2, status: DeploymentStatus.DECOMMISSIONED }); // decommissioned
    await deployments.recordDeployment({ ...base, digest: a2, status: DeploymentStatus.DECOMMISSIONED }); // already decommissioned
    await deployments.recordDeployment({ ...base, digest: a1 }); // rolled back (a1 was superseded here)
    await expect(deployments.recordDeployment({ ...base, digest: digest("never attested") })).rejects.toThrow(); // FailedPrecondition: no outcome

    const snap = { environment: "metrics-env", logicalEnvironment: "production" };
    const img = (deploymentName: string, d: string) => ({ deploymentName, kind: ArtifactKind.CONTAINER_IMAGE, digest: d });
    await deployments.reportSnapshot({ ...snap, entries: [img("a", a1), img("b", b1)] }); // 2 created
    await grpc.reportSnapshot({ ...snap, entries: [img("a", a2), img("c", c1)] }); // a superseded, c created, b decommissioned
    // a and c heartbeat; x refused (malformed digest): applied, nothing decommissioned.
    await deployments.reportSnapshot({ ...snap, entries: [img("a", a2), img("c", c1), img("x", "sha256:nope")] });
    // a back to a1: rolled back; c heartbeats (not all or nothing: only committed work counts).
    await deployments.reportSnapshot({ ...snap, entries: [img("a", a1), img("c", c1)], decommissionMissing: false });
    // Committing nothing counts nothing: validate-only, and all-or-nothing with a refused entry.
    await deployments.reportSnapshot({ ...snap, entries: [img("a", a1)], validateOnly: true });
    await deployments.reportSnapshot({ ...snap, entries: [img("a", a1), img("x", "sha256:nope")], allOrNothing: true });
    const after = await scrape(served.url);

    const delta = (name: string, outcome: string) => after.count(name, { outcome }) - before.count(name, { outcome });
    expect(
      Object.fromEntries(
        ["created", "heartbeat", "superseded", "rolled_back", "decommissioned", "already_decommissioned"].map((o) => [
          o,
          delta("chainloop_record_outcomes_total", o),
        ]),
      ),
    ).toEqual({ created: 1, heartbeat: 1, superseded: 1, rolled_back: 1, decommissioned: 1, already_decommissioned: 1 });
    expect(
      Object.fromEntries(
        ["created", "heartbeat", "superseded", "rolled_back", "decommissioned", "refused"].map((o) => [o, delta("chainloop_snapshot_outcomes_total", o)]),
      ),
    ).toEqual({ created: 3, heartbeat: 3, superseded: 1, rolled_back: 1, decommissioned: 1, refused: 1 });
    expect(
      after.count("grpc_server_handled_total", method("DeploymentService", "RecordDeployment", "FailedPrecondition")) -
        before.count("grpc_server_handled_total", method("DeploymentService", "RecordDeployment", "FailedPrecondition")),
    ).toBe(1);
  });

  test.each([
    ["Connect over HTTP/1.1", () => connectClient(DeploymentService, served.url, "1.1")],
    // Over HTTP/2 a client's cancel is a stream reset, which the server once missed: the watcher
    // stayed (found with this gauge; now patches/@connectrpc+connect-node+2.1.2.patch).
    ["Connect over HTTP/2", () => connectClient(DeploymentService, served.url, "2")],
    ["gRPC", () => grpcTransportClient(DeploymentService, served.url)],
  ])("active watchers over %s: up while a WatchDeployments stream is open, down when the client cancels it", async (_, client) => {
    const stream = { ...method("DeploymentService", "WatchDeployments"), grpc_type: "server_stream" };
    const before = await scrape(served.url);
    expect(before.value("chainloop_watchers_active")).toBe(0);
    const watch = new Watch(client(), {});
    await watch.ready();
    const open = await scrape(served.url);
    expect(open.value("chainloop_watchers_active")).toBe(1);
    expect(open.count("grpc_server_started_total", stream) - before.count("grpc_server_started_total", stream)).toBe(1);
    expect(open.value("chainloop_change_feed_reading")).toBe(1);
    // Polled every 250 ms at least: on an idle server its position is never seconds old.
    expect(open.value("chainloop_change_feed_lag_seconds")).toBeLessThan(5);
    await watch.close();
    const closed = await until("the watcher to go", async () => {
      const s = await scrape(served.url);
      return s.value("chainloop_watchers_active") === 0 && s.count("grpc_server_handled_total", stream) > before.count("grpc_server_handled_total", stream)
        ? s
        : undefined;
    }, 5_000, async () => (await scrape(served.url)).text.split("\n").filter((l) => l.includes("Watch") || l.startsWith("chainloop_watchers")).join("\n"));
    // The client went away: the stream ended Canceled, counted once.
    expect(closed.count("grpc_server_handled_total", { ...stream, grpc_code: "Canceled" }) - before.count("grpc_server_handled_total", { ...stream, grpc_code: "Canceled" })).toBe(1);
  });

  test(backend === "postgres" ? "the Postgres pool's gauges" : "no pool gauges on the embedded database (one in-process session)", async () => {
    const s = await scrape(served.url);
    if (backend === "postgres") {
      expect(s.value("chainloop_db_pool_connections", { state: "in_use" })).toBeGreaterThanOrEqual(0);
      expect(s.value("chainloop_db_pool_connections", { state: "idle" })).toBeGreaterThanOrEqual(1); // the calls above left connections idle
      expect(s.value("chainloop_db_pool_waiting")).toBe(0);
      expect(s.value("chainloop_db_pool_max_connections")).toBe(10);
    } else {
      expect(s.text).not.toContain("chainloop_db_pool_");
    }
  });

  test("/metrics needs no API token and is not an RPC (not counted, POST refused)", async () => {
    const res = await fetch(`${served.url}/metrics`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(405);
    const s = await scrape(served.url);
    expect(s.text).not.toMatch(/grpc_method="metrics"/i);
  });
});

describe("CHAINLOOP_METRICS_TOKEN and CHAINLOOP_METRICS_PORT", () => {
  const SCRAPE_TOKEN = "scrape-s3cret-0123456789abcdef";
  let db: TestDatabase;
  let db2: TestDatabase;
  let onPort: ServerProcess;
  let onApi: ServerProcess;
  let metricsUrl: string;

  beforeAll(async () => {
    // The HTTP layer's behaviour, the same on either database: the first configured one.
    [db, db2] = await Promise.all([createTestDatabase(backends()[0]), createTestDatabase(backends()[0])]);
    onPort = await startServer({ ...db.env, CHAINLOOP_METRICS_TOKEN: SCRAPE_TOKEN, CHAINLOOP_METRICS_PORT: "0", LOG_LEVEL: "debug" }, { timeoutMs: 120_000 });
    onApi = await startServer({ ...db2.env, CHAINLOOP_METRICS_TOKEN: SCRAPE_TOKEN, LOG_LEVEL: "debug" }, { timeoutMs: 120_000 });
    const line = onPort.logs.map((l) => JSON.parse(l) as { msg?: string; port?: number }).find((e) => e.msg === "metrics listening");
    expect(line?.port).toBeGreaterThan(0);
    expect(line?.port).not.toBe(onPort.port);
    metricsUrl = `http://127.0.0.1:${line!.port}`;
  });
  afterAll(async () => {
    await Promise.all([onPort?.stop(), onApi?.stop()]);
    await Promise.all([db?.drop(), db2?.drop()]);
  });

  const status = async (url: string, authorization?: string) =>
    (await fetch(`${url}/metrics`, { headers: authorization ? { authorization } : {} })).status;

  test("with a token: 401 without it or with a wrong one (an API token included), 200 with it", async () => {
    for (const url of [metricsUrl, onApi.url]) {
      expect(await status(url)).toBe(401);
      expect(await status(url, `Bearer ${SCRAPE_TOKEN}x`)).toBe(401);
      expect(await status(url, `Bearer ${SCRAPE_TOKEN.slice(0, -1)}`)).toBe(401);
      expect(await status(url, `Basic ${SCRAPE_TOKEN}`)).toBe(401);
      expect(await status(url, `Bearer ${TEST_ADMIN_TOKEN}`)).toBe(401);
      expect(await status(url, `Bearer ${SCRAPE_TOKEN}`)).toBe(200);
      expect(await status(url, `bearer  ${SCRAPE_TOKEN}`)).toBe(200);
    }
    const res = await fetch(`${metricsUrl}/metrics`);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
  });

  test("with a metrics port: served there, with the calls made on the API port; the API port answers 404 for /metrics", async () => {
    await connectClient(EnvironmentService, onPort.url).listEnvironments({});
    const s = await scrape(metricsUrl, SCRAPE_TOKEN);
    expect(s.count("grpc_server_handled_total", method("EnvironmentService", "ListEnvironments", "OK"))).toBe(1);
    expect((await fetch(`${onPort.url}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } })).status).toBe(404);
    expect((await fetch(`${onPort.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/healthz`)).status).toBe(404);
    // The API port still serves what it did.
    expect((await fetch(`${onPort.url}/healthz`)).status).toBe(200);
  });

  test("the token never appears in the logs", async () => {
    await Promise.all([onPort.stop(), onApi.stop()]);
    const logs = [...onPort.logs, ...onApi.logs].join("\n");
    expect(logs).toContain('"msg":"listening"');
    expect(logs).not.toContain(SCRAPE_TOKEN);
    expect(logs).not.toContain(SCRAPE_TOKEN.slice(0, 12));
  });
});

describe("CHAINLOOP_METRICS=off", () => {
  const served = serveFor(backends()[0], { CHAINLOOP_METRICS: "off" }, { timeoutMs: 120_000 });

  test("serves no /metrics (an unknown path) and still serves every call", async () => {
    expect((await fetch(`${served.url}/metrics`)).status).toBe(404);
    expect((await connectClient(EnvironmentService, served.url).listEnvironments({})).environments).toEqual([]);
  });

  test("refuses a metrics port or token with metrics off, naming why", async () => {
    const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, "dist/server/main.js")], {
        env: { PATH: process.env.PATH ?? "", ...served.db.env, PORT: "0", CHAINLOOP_METRICS: "off", CHAINLOOP_METRICS_PORT: "0" },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      child.once("close", (code) => resolve({ code, stderr }));
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/CHAINLOOP_METRICS=off serves no \/metrics/);
  });
});
