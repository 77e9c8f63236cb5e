// Organizations, API tokens and authorization, through a real server on both backends:
// refused tokens get their codes over gRPC and Connect (every protected RPC against missing,
// malformed, revoked, expired and under-scoped tokens: tests/handlers/auth.test.ts); another
// organization's resources do not exist for the caller; secrets are stored hashed and never
// logged.
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { ApiTokenScope, ApiTokenService } from "../../gen/proto/chainloop/v1/api_token_pb.js";
import { ArtifactKind, DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { createOrganization } from "../helpers/admin.js";
import { attest } from "../helpers/evidence.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient, grpc, grpcCall, grpcJsClient, authMetadata } from "../helpers/clients.js";
import { startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";
import path from "node:path";
import { digest, outcome } from "../helpers/facts.js";

const run = promisify(execFile);

describe.each(backends())("authorization on %s", (backend) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let otherOrgToken: string;
  const tokens: Record<"read" | "write" | "revoked", string> = { read: "", write: "", revoked: "" };

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    // A second organization, made by the operator command before the server holds the database.
    otherOrgToken = await createOrganization(db.env, "other");
    server = await startServer(db.env);
    const admin = connectClient(ApiTokenService, server.url);
    const mint = async (name: string, scope: ApiTokenScope) => (await admin.createApiToken({ name, scope })).secret;
    tokens.read = await mint("reader", ApiTokenScope.READ);
    tokens.write = await mint("ci", ApiTokenScope.WRITE);
    tokens.revoked = await mint("revoked", ApiTokenScope.ADMIN);
    const revokedId = (await admin.listApiTokens({})).tokens.find((t) => t.name === "revoked")!.id;
    await admin.revokeApiToken({ id: revokedId });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it("refuses bad tokens and too small a scope over Connect and gRPC", async () => {
    expect(await outcome(connectClient(EnvironmentService, server.url, "1.1", null).listEnvironments({}))).toMatchObject({
      code: Code.Unauthenticated,
    });
    expect(await outcome(connectClient(EnvironmentService, server.url, "1.1", tokens.read).createEnvironment({ name: "x" }))).toMatchObject({
      code: Code.PermissionDenied,
      message: expect.stringContaining("admin scope"),
    });
    const client = grpcJsClient("chainloop/v1/environment.proto", "chainloop.v1.EnvironmentService", server.port);
    try {
      await expect(grpcCall(client, "listEnvironments", {}, authMetadata(null))).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      await expect(grpcCall(client, "listEnvironments", {}, authMetadata(tokens.revoked))).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
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
    expect(await outcome(theirs.deps.recordDeployment({ ...record, digest: digest("ours") }))).toMatchObject({
      code: Code.FailedPrecondition,
    });
    const mine = await ours.deps.recordDeployment({ ...record, digest: digest("ours") });
    const other = await theirs.deps.recordDeployment({ ...record, digest: digest("theirs") });
    expect(other.outcome).toBe(mine.outcome); // both CREATED: separate slots

    expect((await ours.envs.getEnvironment({ name: "k8s-east" })).environment?.description).toBe("ours");
    expect((await theirs.envs.getEnvironment({ name: "k8s-east" })).environment?.description).toBe("theirs");
    const theirList = await theirs.deps.listDeployments({ history: true });
    expect(theirList.deployments.map((d) => d.digest)).toEqual([digest("theirs")]);
    expect(await outcome(theirs.deps.getDeployment({ id: mine.deployment!.id }))).toMatchObject({ code: Code.NotFound });
    const ourTokenIds = (await ours.tokens.listApiTokens({ showRevoked: true })).tokens.map((t) => t.id);
    const theirTokenNames = (await theirs.tokens.listApiTokens({ showRevoked: true })).tokens.map((t) => t.name);
    expect(theirTokenNames).toEqual(["bootstrap-admin"]);
    for (const id of ourTokenIds) {
      expect(await outcome(theirs.tokens.revokeApiToken({ id }))).toMatchObject({ code: Code.NotFound });
    }
    // A page token from one organization is only a position; it shows nothing of the other.
    await ours.envs.createEnvironment({ name: "zz-ours-only" });
    const page = await ours.envs.listEnvironments({ pageSize: 1 });
    const replay = await theirs.envs.listEnvironments({ pageSize: 1, pageToken: page.nextPageToken });
    expect(replay.environments.map((e) => e.name)).not.toContain("zz-ours-only");
    expect((await ours.envs.getEnvironment({ name: "zz-ours-only" })).environment).toBeDefined();
    expect(await outcome(theirs.envs.getEnvironment({ name: "zz-ours-only" }))).toMatchObject({ code: Code.NotFound });
  });

  it("manages tokens: secret shown once with its prefix, unique names, revocation at once, actor recorded", async () => {
    const admin = connectClient(ApiTokenService, server.url);
    const created = await admin.createApiToken({ name: "deployer", description: "CD", scope: ApiTokenScope.WRITE });
    expect(created.secret).toMatch(/^clp_[0-9A-Za-z]{40}$/);
    expect(created.token).toMatchObject({ name: "deployer", scope: ApiTokenScope.WRITE, createdBy: { tokenName: "bootstrap-admin" } });
    const listed = await admin.listApiTokens({});
    expect(listed.tokens.map((t) => t.name)).toContain("deployer");
    expect(JSON.stringify(listed, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).not.toContain(created.secret);
    expect(await outcome(admin.createApiToken({ name: "deployer", scope: ApiTokenScope.READ }))).toMatchObject({ code: Code.AlreadyExists });
    expect(await outcome(admin.createApiToken({ name: "no-scope" }))).toMatchObject({ code: Code.InvalidArgument });
    expect(
      await outcome(admin.createApiToken({ name: "past", scope: ApiTokenScope.READ, expireTime: timestampFromDate(new Date(Date.now() - 1000)) })),
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
    expect(await outcome(deps.listDeployments({}))).toMatchObject({ code: Code.Unauthenticated, message: expect.stringContaining("revoked") });
    expect((await admin.revokeApiToken({ id: created.token!.id })).token?.revokeTime).toEqual(revoked.token?.revokeTime);
    // The name is free again once revoked.
    expect((await admin.createApiToken({ name: "deployer", scope: ApiTokenScope.READ })).token?.name).toBe("deployer");
    expect((await admin.listApiTokens({ showRevoked: true })).tokens.filter((t) => t.name === "deployer")).toHaveLength(2);
  });

  it("stores only hashes and never logs a secret", async () => {
    const secrets = [TEST_ADMIN_TOKEN, otherOrgToken, tokens.read, tokens.write, tokens.revoked];
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
