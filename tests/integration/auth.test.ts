// Organizations, API tokens and authorization, through a real server on both backends:
// every protected RPC refuses missing, malformed, revoked, expired and under-scoped tokens;
// another organization's resources do not exist for the caller; secrets are stored hashed
// and never logged.
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { ApiTokenScope, ApiTokenService } from "../../gen/proto/chainloop/v1/api_token_pb.js";
import { ArtifactKind, DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { PROTECTED } from "../../server/routes.js";
import { createOrganization } from "../helpers/admin.js";
import { attest } from "../helpers/evidence.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { bearer, connectClient, grpc, grpcCall, grpcJsClient, authMetadata } from "../helpers/clients.js";
import { startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";
import path from "node:path";

const run = promisify(execFile);
const digest = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

async function failure(p: Promise<unknown>): Promise<{ code: Code; message: string } | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    const err = ConnectError.from(e);
    return { code: err.code, message: err.rawMessage };
  }
}

/**
 * Calls `method` with an empty request, whatever its kind, and reports the outcome.
 * `token` is sent as a bearer token; `{ header }` sends that Authorization value verbatim.
 */
function callAny(service: DescService, method: DescMethod, baseUrl: string, token: string | null | { header: string }) {
  const interceptors =
    token !== null && typeof token === "object"
      ? [((next) => (req) => (req.header.set("authorization", token.header), next(req))) as Interceptor]
      : bearer(token);
  const client = createClient(service, createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors })) as unknown as Record<
    string,
    (req: object) => Promise<unknown> | AsyncIterable<unknown>
  >;
  const res = client[method.localName]({});
  if (method.methodKind === "unary") return failure(res as Promise<unknown>);
  return failure(
    (async () => {
      for await (const _ of res as AsyncIterable<unknown>) break;
    })(),
  );
}

const methods = PROTECTED.flatMap(({ service, scopes }) =>
  service.methods.map((m) => ({ service, method: m, scope: scopes[m.localName], label: `${service.name}/${m.name}` })),
);

describe.each(backends())("authorization on %s", (backend) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let otherOrgToken: string;
  const tokens: Record<"read" | "write" | "revoked" | "expired", string> = { read: "", write: "", revoked: "", expired: "" };

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    // A second organization, made by the operator command before the server holds the database.
    otherOrgToken = await createOrganization(db.env, "other");
    server = await startServer(db.env);
    const admin = connectClient(ApiTokenService, server.url);
    const mint = async (name: string, scope: ApiTokenScope, expire?: Date) =>
      (await admin.createApiToken({ name, scope, expireTime: expire ? timestampFromDate(expire) : undefined })).secret;
    tokens.read = await mint("reader", ApiTokenScope.READ);
    tokens.write = await mint("ci", ApiTokenScope.WRITE);
    tokens.revoked = await mint("revoked", ApiTokenScope.ADMIN);
    tokens.expired = await mint("expiring", ApiTokenScope.ADMIN, new Date(Date.now() + 1500));
    const revokedId = (await admin.listApiTokens({})).tokens.find((t) => t.name === "revoked")!.id;
    await admin.revokeApiToken({ id: revokedId });
    await new Promise((r) => setTimeout(r, 1600));
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it.each(methods)("$label refuses bad tokens and too small a scope", async ({ service, method, scope }) => {
    const url = server.url;
    const cases: Array<[string | null, Code]> = [
      [null, Code.Unauthenticated],
      ["clp_not-a-real-token-at-all-000000000000", Code.Unauthenticated],
      [tokens.revoked, Code.Unauthenticated],
      [tokens.expired, Code.Unauthenticated],
    ];
    for (const [token, code] of cases) {
      const res = await callAny(service, method, url, token);
      expect({ token: token?.slice(0, 8) ?? null, res }).toMatchObject({ res: { code } });
    }
    // A malformed header, not a bearer token at all.
    const basic = await callAny(service, method, url, { header: "Basic dXNlcjpwYXNz" });
    expect(basic).toMatchObject({ code: Code.Unauthenticated, message: expect.stringContaining("Bearer") });

    const read = await callAny(service, method, url, tokens.read);
    const write = await callAny(service, method, url, tokens.write);
    if (scope === "read") {
      expect(read === "ok" || ![Code.Unauthenticated, Code.PermissionDenied].includes(read.code)).toBe(true);
    } else {
      expect(read).toMatchObject({ code: Code.PermissionDenied, message: expect.stringContaining(`${scope} scope`) });
    }
    if (scope === "admin") expect(write).toMatchObject({ code: Code.PermissionDenied });
    else expect(write === "ok" || ![Code.Unauthenticated, Code.PermissionDenied].includes(write.code)).toBe(true);
  });

  it("declares the intended scope for the key methods", () => {
    const scopeOf = (label: string) => methods.find((m) => m.label === label)?.scope;
    expect(scopeOf("DeploymentService/RecordDeployment")).toBe("write");
    expect(scopeOf("DeploymentService/ListDeployments")).toBe("read");
    expect(scopeOf("EnvironmentService/CreateEnvironment")).toBe("admin");
    expect(scopeOf("ApiTokenService/CreateApiToken")).toBe("admin");
    expect(methods.every((m) => ["read", "write", "admin"].includes(m.scope))).toBe(true);
  });

  it("refuses bad tokens over gRPC too", async () => {
    const client = grpcJsClient("chainloop/v1/environment.proto", "chainloop.v1.EnvironmentService", server.port);
    try {
      await expect(grpcCall(client, "listEnvironments", {}, authMetadata(null))).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      await expect(grpcCall(client, "createEnvironment", { name: "x" }, authMetadata(tokens.read))).rejects.toMatchObject({
        code: grpc.status.PERMISSION_DENIED,
      });
      expect(await grpcCall(client, "listEnvironments", {}, authMetadata(tokens.read))).toHaveProperty("environments");
    } finally {
      client.close();
    }
  });

  it("keeps organizations apart: same names, separate data, no leaks", async () => {
    const ours = {
      envs: connectClient(EnvironmentService, server.url),
      deps: connectClient(DeploymentService, server.url),
      tokens: connectClient(ApiTokenService, server.url),
    };
    const theirs = {
      envs: connectClient(EnvironmentService, server.url, "1.1", otherOrgToken),
      deps: connectClient(DeploymentService, server.url, "1.1", otherOrgToken),
      tokens: connectClient(ApiTokenService, server.url, "1.1", otherOrgToken),
    };
    for (const [side, description] of [[ours, "ours"], [theirs, "theirs"]] as const) {
      await side.envs.createEnvironment({ name: "k8s-east", description });
    }
    const record = { environment: "k8s-east", logicalEnvironment: "production", deploymentName: "api", kind: ArtifactKind.CONTAINER_IMAGE };
    await attest(server.url, [digest("ours")]);
    await attest(server.url, [digest("theirs")], { token: otherOrgToken });
    // Evidence is per organization too: ours does not count for them.
    expect(await failure(theirs.deps.recordDeployment({ ...record, digest: digest("ours") }))).toMatchObject({
      code: Code.FailedPrecondition,
    });
    const mine = await ours.deps.recordDeployment({ ...record, digest: digest("ours") });
    const other = await theirs.deps.recordDeployment({ ...record, digest: digest("theirs") });
    expect(other.outcome).toBe(mine.outcome); // both CREATED: separate slots

    expect((await ours.envs.getEnvironment({ name: "k8s-east" })).environment?.description).toBe("ours");
    expect((await theirs.envs.getEnvironment({ name: "k8s-east" })).environment?.description).toBe("theirs");
    const theirList = await theirs.deps.listDeployments({ history: true });
    expect(theirList.deployments.map((d) => d.digest)).toEqual([digest("theirs")]);
    expect(await failure(theirs.deps.getDeployment({ id: mine.deployment!.id }))).toMatchObject({ code: Code.NotFound });
    const ourTokenIds = (await ours.tokens.listApiTokens({ showRevoked: true })).tokens.map((t) => t.id);
    const theirTokenNames = (await theirs.tokens.listApiTokens({ showRevoked: true })).tokens.map((t) => t.name);
    expect(theirTokenNames).toEqual(["bootstrap-admin"]);
    for (const id of ourTokenIds) {
      expect(await failure(theirs.tokens.revokeApiToken({ id }))).toMatchObject({ code: Code.NotFound });
    }
    // A page token from one organization is only a position; it shows nothing of the other.
    await ours.envs.createEnvironment({ name: "zz-ours-only" });
    const page = await ours.envs.listEnvironments({ pageSize: 1 });
    const replay = await theirs.envs.listEnvironments({ pageSize: 1, pageToken: page.nextPageToken });
    expect(replay.environments.map((e) => e.name)).not.toContain("zz-ours-only");
    expect((await ours.envs.getEnvironment({ name: "zz-ours-only" })).environment).toBeDefined();
    expect(await failure(theirs.envs.getEnvironment({ name: "zz-ours-only" }))).toMatchObject({ code: Code.NotFound });
  });

  it("manages tokens: secret shown once with its prefix, unique names, revocation at once, actor recorded", async () => {
    const admin = connectClient(ApiTokenService, server.url);
    const created = await admin.createApiToken({ name: "deployer", description: "CD", scope: ApiTokenScope.WRITE });
    expect(created.secret).toMatch(/^clp_[0-9A-Za-z]{40}$/);
    expect(created.token).toMatchObject({ name: "deployer", scope: ApiTokenScope.WRITE, createdBy: { tokenName: "bootstrap-admin" } });
    const listed = await admin.listApiTokens({});
    expect(listed.tokens.map((t) => t.name)).toContain("deployer");
    expect(JSON.stringify(listed, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).not.toContain(created.secret);
    expect(await failure(admin.createApiToken({ name: "deployer", scope: ApiTokenScope.READ }))).toMatchObject({ code: Code.AlreadyExists });
    expect(await failure(admin.createApiToken({ name: "no-scope" }))).toMatchObject({ code: Code.InvalidArgument });
    expect(
      await failure(admin.createApiToken({ name: "past", scope: ApiTokenScope.READ, expireTime: timestampFromDate(new Date(Date.now() - 1000)) })),
    ).toMatchObject({ code: Code.InvalidArgument });

    const deps = connectClient(DeploymentService, server.url, "1.1", created.secret);
    await attest(server.url, [digest("audited")], { token: created.secret }); // write scope may push evidence
    const rec = await deps.recordDeployment({
      environment: "k8s-east",
      logicalEnvironment: "staging",
      deploymentName: "audited",
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest: digest("audited"),
    });
    expect(rec.deployment?.recordedBy).toMatchObject({ tokenId: created.token?.id, tokenName: "deployer" });
    expect((await connectClient(DeploymentService, server.url).getDeployment({ id: rec.deployment!.id })).deployment?.recordedBy?.tokenName).toBe(
      "deployer",
    );

    const revoked = await admin.revokeApiToken({ id: created.token!.id });
    expect(revoked.token?.revokeTime).toBeDefined();
    expect(await failure(deps.listDeployments({}))).toMatchObject({ code: Code.Unauthenticated, message: expect.stringContaining("revoked") });
    expect((await admin.revokeApiToken({ id: created.token!.id })).token?.revokeTime).toEqual(revoked.token?.revokeTime);
    // The name is free again once revoked.
    expect((await admin.createApiToken({ name: "deployer", scope: ApiTokenScope.READ })).token?.name).toBe("deployer");
    expect((await admin.listApiTokens({ showRevoked: true })).tokens.filter((t) => t.name === "deployer")).toHaveLength(2);
  });

  it("stores only hashes and never logs a secret", async () => {
    const secrets = [TEST_ADMIN_TOKEN, otherOrgToken, tokens.read, tokens.write, tokens.revoked, tokens.expired];
    const rows = await readTable(db, "SELECT * FROM api_tokens");
    expect(rows.length).toBeGreaterThanOrEqual(secrets.length);
    const dump = JSON.stringify(rows);
    for (const s of secrets) {
      expect(dump).not.toContain(s);
      expect(dump).toContain(createHash("sha256").update(s).digest("hex"));
    }
    const audit = await readTable(db, "SELECT action, actor_name FROM audit_events ORDER BY seq");
    expect(audit.map((r) => r.action)).toEqual(expect.arrayContaining(["token.create", "token.revoke", "environment.create"]));
    const log = server.logs.join("\n");
    expect(log).toContain('"msg":"call"');
    for (const s of secrets) expect(log).not.toContain(s);
  });
});

async function readTable(db: TestDatabase, sql: string): Promise<Record<string, unknown>[]> {
  if (db.backend === "postgres") {
    const c = new pg.Client({ connectionString: db.databaseUrl });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  }
  // PGlite allows one process: read a copy of the data directory while the server holds it.
  const copy = `${db.dataDir}-copy-${Date.now()}`;
  await run("cp", ["-r", path.join(db.dataDir, "pgdata"), copy]);
  const lite = await PGlite.create(copy);
  try {
    return (await lite.query<Record<string, unknown>>(sql)).rows;
  } finally {
    await lite.close();
    await run("rm", ["-rf", copy]);
  }
}

describe.each(backends())("first start on %s", (backend) => {
  it("generates an admin token, prints it once, writes it 0600 and accepts it", async () => {
    const db = await createTestDatabase(backend);
    try {
      const env = { ...db.env, CHAINLOOP_BOOTSTRAP_TOKEN: "" };
      let server = await startServer(env);
      const file = path.join(db.dataDir, "admin.token");
      const { stdout: mode } = await run("stat", ["-c", "%a", file]);
      expect(mode.trim()).toBe("600");
      const secret = (await import("node:fs")).readFileSync(file, "utf8").trim();
      expect(secret).toMatch(/^clp_/);
      expect(server.logs.filter((l) => l.includes(secret))).toHaveLength(1); // the stderr banner, not a JSON log line
      expect(server.logs.filter((l) => l.startsWith("{") && l.includes(secret))).toHaveLength(0);
      const list = await connectClient(EnvironmentService, server.url, "1.1", secret).listEnvironments({});
      expect(list.environments).toEqual([]);
      await server.stop();

      server = await startServer(env); // second start: no new token, nothing printed
      try {
        expect(server.logs.some((l) => l.includes("clp_"))).toBe(false);
        expect((await connectClient(EnvironmentService, server.url, "1.1", secret).listEnvironments({})).environments).toEqual([]);
      } finally {
        await server.stop();
      }
    } finally {
      await db.drop();
    }
  });
});
