// OpenTelemetry traces (server/tracing.ts), through real server processes and a small OTLP/HTTP
// receiver of our own (the exporter sends OTLP JSON): a call carrying a W3C traceparent gets a
// SERVER span in the caller's trace, under the caller's span, named and attributed as the
// README says, with the database work as its children; no token and no parameter value is in
// what is exported; spans still buffered are flushed on SIGTERM; and without an OTLP endpoint
// the SDK is not even loaded.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import { ArtifactKind, DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { ROOT, startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";
import { digest } from "../helpers/facts.js";


type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: AnyValue }>;
  status?: { code?: number; message?: string };
}
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

/** An OTLP/HTTP receiver: POST /v1/traces, JSON. Keeps every body as received, and the spans with their resource. */
class Receiver {
  readonly bodies: string[] = [];
  readonly spans: Array<OtlpSpan & { service: string | undefined }> = [];
  private server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      this.bodies.push(body);
      const doc = JSON.parse(body) as {
        resourceSpans: Array<{ resource?: { attributes?: OtlpSpan["attributes"] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
      };
      for (const rs of doc.resourceSpans) {
        const service = attr({ attributes: rs.resource?.attributes } as OtlpSpan, "service.name") as string | undefined;
        for (const ss of rs.scopeSpans) for (const s of ss.spans) this.spans.push({ ...s, service });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
  async waitFor(what: string, pred: (s: OtlpSpan) => boolean, timeoutMs = 15_000): Promise<OtlpSpan> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.spans.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no span ${what} within ${timeoutMs} ms; got ${this.spans.map((s) => s.name).join(", ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function attr(span: OtlpSpan, key: string): string | number | boolean | undefined {
  const v = span.attributes?.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.boolValue;
}

/** A caller's span: its own trace and span ids, sent as `traceparent`. */
function callerSpan() {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  const interceptors: Interceptor[] = [
    (next) => (req) => {
      req.header.set("authorization", `Bearer ${TEST_ADMIN_TOKEN}`);
      req.header.set("traceparent", `00-${traceId}-${spanId}-01`);
      return next(req);
    },
  ];
  return {
    traceId,
    spanId,
    connect: <S extends DescService>(s: S, baseUrl: string) => createClient(s, createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors })),
    grpc: <S extends DescService>(s: S, baseUrl: string) => createClient(s, createGrpcTransport({ baseUrl, interceptors })),
  };
}

const otelEnv = (receiver: Receiver, delayMs: number) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  OTEL_BSP_SCHEDULE_DELAY: String(delayMs),
});

describe.each(backends())("traces on %s", (backend) => {
  let db: TestDatabase;
  let server: ServerProcess;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    db = await createTestDatabase(backend);
    server = await startServer({ ...db.env, ...otelEnv(receiver, 100) }, { timeoutMs: 120_000 });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    await receiver.close();
  });

  test("a call continues the caller's trace: a SERVER span under the caller's span, the database work as its children", async () => {
    await connectClient(EnvironmentService, server.url).createEnvironment({ name: "traced" });
    const d = digest(`traced ${backend}`);
    await attest(server.url, [d]);

    const record = callerSpan();
    const res = await record.connect(DeploymentService, server.url).recordDeployment({
      environment: "traced",
      logicalEnvironment: "production",
      deploymentName: "api",
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest: d,
    });
    const rpc = await receiver.waitFor("RecordDeployment", (s) => s.traceId === record.traceId && s.kind === SPAN_KIND_SERVER);
    expect(rpc).toMatchObject({ name: "chainloop.v1.DeploymentService/RecordDeployment", parentSpanId: record.spanId, kind: SPAN_KIND_SERVER });
    expect(attr(rpc, "rpc.system")).toBe("connect_rpc");
    expect(attr(rpc, "rpc.service")).toBe("chainloop.v1.DeploymentService");
    expect(attr(rpc, "rpc.method")).toBe("RecordDeployment");
    expect(attr(rpc, "rpc.grpc.status_code")).toBe(0);
    expect(attr(rpc, "rpc.status_code")).toBe("OK");
    expect(attr(rpc, "chainloop.organization.id")).toMatch(/^[0-9a-f-]{36}$/);
    expect((rpc as OtlpSpan & { service?: string }).service).toBe("chainloop-server");

    // The record statement (group-committed, raw SQL on the pool) is a child of the call's span.
    const recordStatement = await receiver.waitFor("the record statement", (s) => s.parentSpanId === rpc.spanId && attr(s, "db.statement.name") !== undefined);
    expect(recordStatement.traceId).toBe(record.traceId);
    expect(recordStatement.kind).toBe(SPAN_KIND_CLIENT);
    expect(attr(recordStatement, "db.system")).toBe("postgresql");
    expect(attr(recordStatement, "db.query.summary")).toMatch(/^record_deployed/);

    // A list over gRPC: its page query is a child too, with a summary naming its table.
    const list = callerSpan();
    const page = await list.grpc(DeploymentService, server.url).listDeployments({ environment: "traced" });
    expect(page.deployments.map((x) => x.id)).toEqual([res.deployment!.id]);
    const listRpc = await receiver.waitFor("ListDeployments", (s) => s.traceId === list.traceId && s.kind === SPAN_KIND_SERVER);
    expect(listRpc).toMatchObject({ name: "chainloop.v1.DeploymentService/ListDeployments", parentSpanId: list.spanId });
    expect(attr(listRpc, "rpc.system")).toBe("grpc");
    const listQuery = await receiver.waitFor("the list query", (s) => s.parentSpanId === listRpc.spanId && /deployments/.test(String(attr(s, "db.query.text"))));
    expect(attr(listQuery, "db.system")).toBe("postgresql");
    expect(attr(listQuery, "db.query.summary")).toMatch(/^(SELECT|WITH) /);

    // Prisma's statements (the environment lookup of GetEnvironment) are children as well.
    const get = callerSpan();
    await get.connect(EnvironmentService, server.url).getEnvironment({ name: "traced" });
    const getRpc = await receiver.waitFor("GetEnvironment", (s) => s.traceId === get.traceId && s.kind === SPAN_KIND_SERVER);
    await receiver.waitFor("a Prisma statement", (s) => s.parentSpanId === getRpc.spanId && /environments/.test(String(attr(s, "db.query.text"))));

    // A change and its audit entry are one Prisma transaction: one BEGIN and one COMMIT in its
    // trace (spans are exported in the order they end, so all of them are in by the call's own).
    const update = callerSpan();
    await update.connect(EnvironmentService, server.url).updateEnvironment({ environment: { name: "traced", description: "changed" } });
    await receiver.waitFor("UpdateEnvironment", (s) => s.traceId === update.traceId && s.kind === SPAN_KIND_SERVER);
    const statements = receiver.spans.filter((s) => s.traceId === update.traceId).map((s) => String(attr(s, "db.query.text") ?? ""));
    expect(statements.filter((t) => /^BEGIN\b/i.test(t))).toHaveLength(1);
    expect(statements.filter((t) => /^COMMIT\b/i.test(t))).toHaveLength(1);

    // Nothing secret or from the request's parameters in anything exported: no token, no digest.
    const exported = receiver.bodies.join("\n");
    expect(exported).not.toContain(TEST_ADMIN_TOKEN);
    expect(exported).not.toContain("clp_");
    expect(exported).not.toContain(d.slice("sha256:".length));
    expect(exported).not.toMatch(/authorization/i);
  });

  test("an error code is the span's result; a server fault's status is ERROR, a caller's is not", async () => {
    const call = callerSpan();
    await expect(call.grpc(EnvironmentService, server.url).getEnvironment({ name: "no-such-environment" })).rejects.toThrow();
    const span = await receiver.waitFor("GetEnvironment NotFound", (s) => s.traceId === call.traceId && s.kind === SPAN_KIND_SERVER);
    expect(attr(span, "rpc.grpc.status_code")).toBe(5);
    expect(attr(span, "rpc.status_code")).toBe("NOT_FOUND");
    expect(span.status?.code ?? 0).not.toBe(2); // STATUS_CODE_ERROR
  });
});

describe("tracing on and off", () => {
  let db: TestDatabase;
  let probeDir: string;
  const receiver = new Receiver();
  const probe = pathToFileURL(path.join(ROOT, "tests/helpers/module-probe.mjs")).href;

  beforeAll(async () => {
    await receiver.start();
    db = await createTestDatabase(backends()[0]);
    probeDir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-probe-"));
  });
  afterAll(async () => {
    await db?.drop();
    await receiver.close();
    fs.rmSync(probeDir, { recursive: true, force: true });
  });

  test("without an OTLP endpoint no @opentelemetry module is loaded, and the start-up log says tracing is off", async () => {
    const file = path.join(probeDir, "off.txt");
    const server = await startServer({ ...db.env, NODE_OPTIONS: `--import=${probe}`, MODULE_PROBE_FILE: file }, { timeoutMs: 120_000 });
    try {
      await connectClient(EnvironmentService, server.url).listEnvironments({});
    } finally {
      await server.stop();
    }
    const resolved = fs.readFileSync(file, "utf8").split("\n");
    expect(resolved).toContain("prom-client"); // the probe sees the server's package imports…
    expect(resolved.filter((s) => s.includes("opentelemetry") || s.includes("tracing-otel"))).toEqual([]); // …and no OpenTelemetry
    expect(server.logs.some((l) => l.includes('"tracing":"off"'))).toBe(true);
  });

  test("with one, the SDK is loaded; spans still buffered are exported on SIGTERM", async () => {
    const file = path.join(probeDir, "on.txt");
    // A minute's batch delay: nothing goes out on the timer during this test, only at shutdown.
    const server = await startServer(
      { ...db.env, ...otelEnv(receiver, 60_000), NODE_OPTIONS: `--import=${probe}`, MODULE_PROBE_FILE: file },
      { timeoutMs: 120_000 },
    );
    const call = callerSpan();
    await call.connect(EnvironmentService, server.url).listEnvironments({});
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.spans.filter((s) => s.traceId === call.traceId)).toEqual([]);
    expect(await server.stop("SIGTERM")).toBe(0);
    const span = await receiver.waitFor("ListEnvironments, flushed at shutdown", (s) => s.traceId === call.traceId && s.kind === SPAN_KIND_SERVER, 1_000);
    expect(span.name).toBe("chainloop.v1.EnvironmentService/ListEnvironments");
    expect(fs.readFileSync(file, "utf8").split("\n")).toContain("@opentelemetry/sdk-trace-node");
    expect(server.logs.some((l) => l.includes('"tracing":"otlp"'))).toBe(true);
  });
});
