// EnvironmentService through a real server process, over Connect (HTTP/1.1 and HTTP/2),
// gRPC (connect-node) and @grpc/grpc-js, on both database backends.
import { Code } from "@connectrpc/connect";
import { DeploymentService, WatchEventType } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { Health } from "../../gen/proto/grpc/health/v1/health_pb.js";
import { backends, createTestDatabase } from "../helpers/backends.js";
import { connectClient, grpc, grpcCall, grpcJsClient, grpcTransportClient, type GrpcJsClient } from "../helpers/clients.js";
import { serveFor } from "../helpers/served.js";
import { startServer, TEST_ADMIN_TOKEN } from "../helpers/server.js";
import { codeOf, pagesOf } from "../helpers/facts.js";

describe.each(backends())("EnvironmentService on %s", (backend) => {
  let gjs: GrpcJsClient;
  afterAll(() => gjs?.close()); // registered before serveFor: it runs first, closing the client before the server stops
  const served = serveFor(backend);

  beforeAll(async () => {
    gjs = grpcJsClient("chainloop/v1/environment.proto", "chainloop.v1.EnvironmentService", served.server.port);
  });

  it("creates, gets, lists, updates and deletes over Connect", async () => {
    const client = connectClient(EnvironmentService, served.url);
    const created = await client.createEnvironment({ name: "k8s-east", description: "Kubernetes US-East" });
    expect(created.environment).toMatchObject({ name: "k8s-east", description: "Kubernetes US-East" });
    expect(created.environment?.id).toMatch(/^[0-9a-f-]{36}$/);

    const got = await client.getEnvironment({ name: "k8s-east" });
    expect(got.environment?.id).toBe(created.environment?.id);

    const updated = await client.updateEnvironment({
      environment: { name: "k8s-east", description: "US-East cluster" },
      updateMask: { paths: ["description"] },
    });
    expect(updated.environment?.description).toBe("US-East cluster");
    expect((await client.getEnvironment({ name: "k8s-east" })).environment?.description).toBe("US-East cluster");

    const listed = await client.listEnvironments({});
    expect(listed.environments.map((e) => e.name)).toEqual(["k8s-east"]);

    await client.deleteEnvironment({ name: "k8s-east" });
    expect(await codeOf(client.getEnvironment({ name: "k8s-east" }))).toBe(Code.NotFound);
    expect((await client.listEnvironments({})).environments).toEqual([]);
  });

  // The other refusals (names, descriptions, update paths, unknown names): tests/handlers/environments.test.ts.
  it("refuses a duplicate on the database's unique name and a bad name over Connect, changing nothing", async () => {
    const client = connectClient(EnvironmentService, served.url);
    await client.createEnvironment({ name: "dup", description: "first" });
    const dup = client.createEnvironment({ name: "dup", description: "second" });
    await expect(dup).rejects.toMatchObject({ code: Code.AlreadyExists, rawMessage: 'environment "dup" already exists' });
    expect((await client.getEnvironment({ name: "dup" })).environment?.description).toBe("first");
    expect(await codeOf(client.createEnvironment({ name: "Bad Name" }))).toBe(Code.InvalidArgument);

    const names = (await client.listEnvironments({ pageSize: 1000 })).environments.map((e) => e.name);
    expect(names).toEqual(["dup"]);
    await client.deleteEnvironment({ name: "dup" });
  });

  // Page-token misuse (replayed with another query, garbage, negative sizes): tests/handlers/environments.test.ts.
  it("pages with opaque tokens and filters by query", async () => {
    const client = connectClient(EnvironmentService, served.url, "2");
    for (let i = 0; i < 7; i++) {
      await client.createEnvironment({ name: `page-${i}`, description: i % 2 === 0 ? "even cluster" : "odd cluster" });
    }
    const pages = await pagesOf(async (pageToken) => {
      const res = await client.listEnvironments({ pageSize: 3, pageToken });
      return { items: res.environments.map((e) => e.name), next: res.nextPageToken };
    });
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `page-${i}`));

    const even = await client.listEnvironments({ query: "EVEN" });
    expect(even.environments.map((e) => e.name)).toEqual(["page-0", "page-2", "page-4", "page-6"]);
    const byName = await client.listEnvironments({ query: "page-5" });
    expect(byName.environments.map((e) => e.name)).toEqual(["page-5"]);

    for (let i = 0; i < 7; i++) await client.deleteEnvironment({ name: `page-${i}` });
  });

  it("has the built-in logical environments, creates and deletes others, refuses to delete built-ins", async () => {
    const client = connectClient(EnvironmentService, served.url);
    const initial = await client.listLogicalEnvironments({});
    expect(initial.logicalEnvironments.map((l) => [l.name, l.builtIn])).toEqual([
      ["development", true],
      ["staging", true],
      ["production", true],
    ]);
    const qa = await client.createLogicalEnvironment({ name: "qa", description: "Quality assurance" });
    expect(qa.logicalEnvironment).toMatchObject({ name: "qa", builtIn: false });
    expect(await codeOf(client.createLogicalEnvironment({ name: "qa" }))).toBe(Code.AlreadyExists);
    expect(await codeOf(client.deleteLogicalEnvironment({ name: "production" }))).toBe(Code.FailedPrecondition); // the rest: tests/handlers
    await client.deleteLogicalEnvironment({ name: "qa" });
    expect((await client.listLogicalEnvironments({})).logicalEnvironments.map((l) => l.name)).toEqual([
      "development",
      "staging",
      "production",
    ]);
  });

  it("speaks gRPC to @grpc/grpc-js (h2c) with the right status codes", async () => {
    const created = await grpcCall(gjs, "createEnvironment", { name: "grpc-env", description: "via grpc-js" });
    expect(created.environment).toMatchObject({ name: "grpc-env", description: "via grpc-js" });
    expect(Number(created.environment.createTime.seconds)).toBeGreaterThan(1_700_000_000);
    const got = await grpcCall(gjs, "getEnvironment", { name: "grpc-env" });
    expect(got.environment.id).toBe(created.environment.id);
    await expect(grpcCall(gjs, "createEnvironment", { name: "grpc-env" })).rejects.toMatchObject({
      code: grpc.status.ALREADY_EXISTS,
    });
    await expect(grpcCall(gjs, "createEnvironment", { name: "Bad Name" })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining("not a valid name"),
    });
    await expect(grpcCall(gjs, "getEnvironment", { name: "missing" })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: expect.stringContaining("chainloop environment create --name missing"),
    });
    const logical = await grpcCall(gjs, "listLogicalEnvironments", {});
    expect(logical.logicalEnvironments.map((l: { name: string }) => l.name)).toEqual(["development", "staging", "production"]);
    await grpcCall(gjs, "deleteEnvironment", { name: "grpc-env" });
  });

  it("serves gRPC through connect-node's transport and health over gRPC, Connect and /healthz", async () => {
    const envs = grpcTransportClient(EnvironmentService, served.url);
    await envs.createEnvironment({ name: "via-grpc" });
    expect((await envs.getEnvironment({ name: "via-grpc" })).environment?.name).toBe("via-grpc");
    await envs.deleteEnvironment({ name: "via-grpc" });

    const health = grpcTransportClient(Health, served.url);
    expect((await health.check({})).status).toBe(1); // SERVING
    expect((await health.check({ service: "chainloop.v1.EnvironmentService" })).status).toBe(1);
    expect(await codeOf(health.check({ service: "nope.Service" }))).toBe(Code.NotFound);

    const hjs = grpcJsClient("grpc/health/v1/health.proto", "grpc.health.v1.Health", served.server.port);
    try {
      expect(await grpcCall(hjs, "check", { service: "" })).toEqual({ status: "SERVING" });
    } finally {
      hjs.close();
    }
    const res = await fetch(`${served.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "SERVING" });
  });

  it("answers curl-style Connect JSON and logs one line per call with method, code and duration", async () => {
    const res = await fetch(`${served.url}/chainloop.v1.EnvironmentService/CreateEnvironment`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: JSON.stringify({ name: "Bad Name" }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument" });
    const line = served.server.logs
      .map((l) => { try { return JSON.parse(l); } catch { return {}; } })
      .find((e) => e.msg === "call" && e.method === "chainloop.v1.EnvironmentService/CreateEnvironment" && e.code === "invalid_argument");
    expect(line).toMatchObject({ protocol: "connect" });
    expect(typeof line.ms).toBe("number");
  });

  it("logs a server stream when it ends, with the code it ended with, not when it opens", async () => {
    const calls = () =>
      served.server.logs
        .map((l) => { try { return JSON.parse(l); } catch { return {}; } })
        .filter((e) => e.msg === "call" && e.method === "chainloop.v1.DeploymentService/WatchDeployments");
    const abort = new AbortController();
    const events = connectClient(DeploymentService, served.url).watchDeployments({}, { signal: abort.signal })[Symbol.asyncIterator]();
    // The stream is open (the initial set has ended) and nothing is logged for it yet.
    for (let e = await events.next(); !e.done && e.value.type !== WatchEventType.SNAPSHOT_END; e = await events.next());
    await new Promise((r) => setTimeout(r, 200));
    expect(calls()).toEqual([]);
    abort.abort();
    await events.next().catch(() => undefined);
    for (let i = 0; i < 50 && calls().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(calls()).toEqual([expect.objectContaining({ code: "canceled", protocol: "connect", ms: expect.any(Number) })]);
    expect(calls()[0].ms).toBeGreaterThanOrEqual(200);
  });

  it("refuses a request body over the size limit with ResourceExhausted", async () => {
    const client = connectClient(EnvironmentService, served.url);
    expect(await codeOf(client.createEnvironment({ name: "big", description: "x".repeat(5 * 1024 * 1024) }))).toBe(
      Code.ResourceExhausted,
    );
    expect(await codeOf(client.getEnvironment({ name: "big" }))).toBe(Code.NotFound);
  });
});

describe.each(backends())("persistence on %s", (backend) => {
  it("keeps environments across a restart and drains on SIGTERM", async () => {
    const db = await createTestDatabase(backend);
    try {
      let server = await startServer(db.env);
      await connectClient(EnvironmentService, server.url).createEnvironment({ name: "survivor", description: "kept" });
      expect(await server.stop("SIGTERM")).toBe(0);
      expect(server.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);

      server = await startServer(db.env);
      try {
        const got = await connectClient(EnvironmentService, server.url).getEnvironment({ name: "survivor" });
        expect(got.environment?.description).toBe("kept");
        const logical = await connectClient(EnvironmentService, server.url).listLogicalEnvironments({});
        expect(logical.logicalEnvironments).toHaveLength(3); // bootstrap is idempotent
      } finally {
        await server.stop();
      }
    } finally {
      await db.drop();
    }
  });
});
