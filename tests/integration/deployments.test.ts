// DeploymentService rules through real server processes, on both database backends.
import { Code, type Client } from "@connectrpc/connect";
import pg from "pg";
import {
  ArtifactKind,
  DeploymentService,
  DeploymentStatus,
  RecordOutcome,
  type RecordDeploymentRequestSchema,
} from "../../gen/proto/chainloop/v1/deployment_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";

type RecordInit = Omit<MessageInitShape<typeof RecordDeploymentRequestSchema>, "$typeName">;
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { backends, createTestDatabase } from "../helpers/backends.js";
import { connectClient, grpc, grpcCall, grpcJsClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { startServer } from "../helpers/server.js";
import { digest, failure, listAll, pagesOf } from "../helpers/facts.js";


type Deployments = Client<typeof DeploymentService>;

function recorder(client: Deployments, base: RecordInit) {
  return (d: string, extra: RecordInit = {}) =>
    client.recordDeployment({ kind: ArtifactKind.CONTAINER_IMAGE, ...base, digest: d, ...extra });
}

async function allRecords(client: Deployments, filters: Record<string, unknown> = {}) {
  return listAll(async (pageToken) => {
    const res = await client.listDeployments({ history: true, pageSize: 1000, ...filters, pageToken });
    return { items: res.deployments, next: res.nextPageToken };
  });
}

describe.each(backends())("DeploymentService on %s", (backend) => {
  const served = serveFor(backend);
  let deployments: Deployments;
  let environments: Client<typeof EnvironmentService>;

  beforeAll(async () => {
    deployments = connectClient(DeploymentService, served.url);
    environments = connectClient(EnvironmentService, served.url);
    await environments.createEnvironment({ name: "k8s-east", description: "Kubernetes US-East" });
    await environments.createEnvironment({ name: "k8s-west" });
    // RecordDeployment refuses digests no attestation mentions: attest every digest this suite deploys.
    const deployed = ["api v1", "api v2", "shared", "worker a", "worker b", "busy", "grpc-js"];
    for (let i = 0; i < 7; i++) deployed.push(`page-${i}`);
    for (let i = 0; i < 4; i++) deployed.push(`race-${i}`);
    await attest(served.url, deployed.map(digest));
  });

  it("creates, heartbeats, supersedes and redeploys without rewriting history", async () => {
    const record = recorder(deployments, { environment: "k8s-east", logicalEnvironment: "production", deploymentName: "api" });
    const v1 = digest("api v1");
    const v2 = digest("api v2");

    const first = await record(v1, { artifactName: "ghcr.io/acme/api", artifactVersion: "v1", artifactReference: "ghcr.io/acme/api:v1" });
    expect(first.outcome).toBe(RecordOutcome.CREATED);
    expect(first.deployment).toMatchObject({
      environment: "k8s-east",
      logicalEnvironment: "production",
      deploymentName: "api",
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest: v1,
      artifactName: "ghcr.io/acme/api",
      artifactVersion: "v1",
      status: DeploymentStatus.DEPLOYED,
    });

    await new Promise((r) => setTimeout(r, 20));
    const beat = await record(v1);
    expect(beat.outcome).toBe(RecordOutcome.HEARTBEAT);
    expect(beat.deployment?.id).toBe(first.deployment?.id);
    expect(beat.deployment?.artifactVersion).toBe("v1"); // a heartbeat rewrites nothing but last_seen
    const seen = (t: { seconds: bigint; nanos: number } | undefined) => Number(t!.seconds) * 1e3 + t!.nanos / 1e6;
    expect(seen(beat.deployment?.lastSeenTime)).toBeGreaterThan(seen(first.deployment?.lastSeenTime));
    expect(seen(beat.deployment?.createTime)).toBe(seen(first.deployment?.createTime));
    expect(await allRecords(deployments, { deploymentName: "api" })).toHaveLength(1);

    const second = await record(v2, { artifactVersion: "v2" });
    expect(second.outcome).toBe(RecordOutcome.SUPERSEDED);
    expect(second.supersededDeploymentId).toBe(first.deployment?.id);
    expect(second.deployment?.id).not.toBe(first.deployment?.id);
    const old = (await deployments.getDeployment({ id: first.deployment!.id })).deployment!;
    expect(old).toMatchObject({ status: DeploymentStatus.SUPERSEDED, supersededById: second.deployment?.id, digest: v1 });
    expect(old.supersededTime).toBeDefined();

    // v1 ran in the slot before and was superseded there: recording it again is a rollback, a
    // new record (history is never rewritten) that names the earlier one.
    const again = await record(v1);
    expect(again.outcome).toBe(RecordOutcome.ROLLED_BACK);
    expect(again.supersededDeploymentId).toBe(second.deployment?.id);
    expect(again.deployment?.id).not.toBe(first.deployment?.id);
    expect(again.deployment?.rollbackOfId).toBe(first.deployment?.id);
    const history = await allRecords(deployments, { deploymentName: "api" });
    expect(history.map((d) => [d.digest, d.status])).toEqual([
      [v1, DeploymentStatus.DEPLOYED],
      [v2, DeploymentStatus.SUPERSEDED],
      [v1, DeploymentStatus.SUPERSEDED],
    ]);
    const active = await deployments.listDeployments({ deploymentName: "api" });
    expect(active.deployments.map((d) => d.id)).toEqual([again.deployment?.id]);
  });

  it("treats environment, logical environment, name and kind as separate slots", async () => {
    const d = digest("shared");
    const base = { environment: "k8s-east", logicalEnvironment: "staging", deploymentName: "slots" };
    const outcomes = [
      await deployments.recordDeployment({ ...base, kind: ArtifactKind.CONTAINER_IMAGE, digest: d }),
      await deployments.recordDeployment({ ...base, kind: ArtifactKind.HELM_CHART, digest: d }),
      await deployments.recordDeployment({ ...base, environment: "k8s-west", kind: ArtifactKind.CONTAINER_IMAGE, digest: d }),
      await deployments.recordDeployment({ ...base, logicalEnvironment: "production", kind: ArtifactKind.CONTAINER_IMAGE, digest: d }),
      await deployments.recordDeployment({ ...base, deploymentName: "slots-2", kind: ArtifactKind.CONTAINER_IMAGE, digest: d }),
    ].map((r) => r.outcome);
    expect(outcomes).toEqual(Array(5).fill(RecordOutcome.CREATED));
    const active = await deployments.listDeployments({ digest: d });
    expect(active.deployments).toHaveLength(5);
    const helm = await deployments.listDeployments({ digest: d, kind: ArtifactKind.HELM_CHART });
    expect(helm.deployments.map((x) => x.kind)).toEqual([ArtifactKind.HELM_CHART]);
  });

  it("decommissions the active digest, idempotently, and refuses other digests", async () => {
    const record = recorder(deployments, { environment: "k8s-east", logicalEnvironment: "staging", deploymentName: "worker" });
    const a = digest("worker a");
    const b = digest("worker b");
    await record(a);
    await record(b);

    const wrong = await failure(record(a, { status: DeploymentStatus.DECOMMISSIONED }));
    expect(wrong.code).toBe(Code.FailedPrecondition);
    expect(wrong.message).toContain(b); // names the active digest
    const never = await failure(record(digest("never"), { status: DeploymentStatus.DECOMMISSIONED }));
    expect(never.code).toBe(Code.NotFound);

    const done = await record(b, { status: DeploymentStatus.DECOMMISSIONED });
    expect(done.outcome).toBe(RecordOutcome.DECOMMISSIONED);
    expect(done.deployment).toMatchObject({ digest: b, status: DeploymentStatus.DECOMMISSIONED });
    expect(done.deployment?.decommissionTime).toBeDefined();
    const repeat = await record(b, { status: DeploymentStatus.DECOMMISSIONED });
    expect(repeat.outcome).toBe(RecordOutcome.ALREADY_DECOMMISSIONED);
    expect(repeat.deployment?.id).toBe(done.deployment?.id);

    // `a` was superseded, not decommissioned, and nothing runs there now.
    const notRunning = await failure(record(a, { status: DeploymentStatus.DECOMMISSIONED }));
    expect(notRunning.code).toBe(Code.FailedPrecondition);
    expect((await deployments.listDeployments({ deploymentName: "worker" })).deployments).toEqual([]);

    const back = await record(b);
    expect(back.outcome).toBe(RecordOutcome.CREATED);
    expect(back.deployment?.id).not.toBe(done.deployment?.id);
    const history = await allRecords(deployments, { deploymentName: "worker" });
    expect(history.map((d) => d.status)).toEqual([
      DeploymentStatus.DEPLOYED,
      DeploymentStatus.DECOMMISSIONED,
      DeploymentStatus.SUPERSEDED,
    ]);
    const decommissioned = await deployments.listDeployments({ deploymentName: "worker", status: DeploymentStatus.DECOMMISSIONED });
    expect(decommissioned.deployments.map((d) => d.digest)).toEqual([b]);
  });

  it("refuses bad input with clear errors and changes nothing", async () => {
    const before = await allRecords(deployments);
    const base = {
      environment: "k8s-east",
      logicalEnvironment: "production",
      deploymentName: "bad-input",
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest: digest("fine"),
    };
    const cases: Array<[RecordInit, Code, string]> = [
      [{ digest: "sha256:" + "A".repeat(64) }, Code.InvalidArgument, "lowercase"],
      [{ digest: "sha256:abc" }, Code.InvalidArgument, "64"],
      [{ digest: "sha512:" + "a".repeat(64) }, Code.InvalidArgument, "128"],
      [{ digest: "sha1:" + "a".repeat(40) }, Code.InvalidArgument, "unsupported algorithm"],
      [{ digest: "a".repeat(64) }, Code.InvalidArgument, "algorithm prefix"],
      [{ digest: "sha256:" + "g".repeat(64) }, Code.InvalidArgument, "hex"],
      [{ digest: "" }, Code.InvalidArgument, "required"],
      [{ kind: ArtifactKind.UNSPECIFIED }, Code.InvalidArgument, "kind is required"],
      [{ kind: 99 as ArtifactKind }, Code.InvalidArgument, "not a known artifact kind"],
      [{ environment: "nowhere" }, Code.NotFound, "chainloop environment create --name nowhere"],
      [{ logicalEnvironment: "prod" }, Code.NotFound, "development, staging, production"],
      [{ deploymentName: "x".repeat(129) }, Code.InvalidArgument, "limit is 128"],
      [{ deploymentName: "Bad Name" }, Code.InvalidArgument, "not valid"],
      [{ environment: "E".repeat(70) }, Code.InvalidArgument, "limit is 63"],
      [{ artifactVersion: "v".repeat(257) }, Code.InvalidArgument, "artifact_version"],
      [{ status: DeploymentStatus.SUPERSEDED }, Code.InvalidArgument, "SUPERSEDED"],
    ];
    for (const [override, code, text] of cases) {
      const res = await failure(deployments.recordDeployment({ ...base, ...override }));
      expect({ override, code: res.code }).toEqual({ override, code });
      expect(res.message).toContain(text);
    }
    expect(await allRecords(deployments)).toEqual(before);

    expect((await failure(deployments.getDeployment({ id: "not-a-uuid" }))).code).toBe(Code.InvalidArgument);
    expect((await failure(deployments.getDeployment({ id: "00000000-0000-4000-8000-000000000000" }))).code).toBe(Code.NotFound);
    expect((await failure(deployments.listDeployments({ environment: "nowhere" }))).code).toBe(Code.NotFound);
    expect((await failure(deployments.listDeployments({ digest: "sha256:nope" }))).code).toBe(Code.InvalidArgument);
  });

  it("pages newest first with tokens bound to their filters", async () => {
    const record = recorder(deployments, { environment: "k8s-west", logicalEnvironment: "development" });
    const names = Array.from({ length: 7 }, (_, i) => `page-${i}`);
    for (const name of names) await record(digest(name), { deploymentName: name });
    const pages = await pagesOf(async (pageToken) => {
      const res = await deployments.listDeployments({ environment: "k8s-west", logicalEnvironment: "development", pageSize: 3, pageToken });
      return { items: res.deployments.map((d) => d.deploymentName), next: res.nextPageToken };
    });
    expect(pages.length).toBe(3);
    expect(pages.flat()).toEqual([...names].reverse());

    const first = await deployments.listDeployments({ environment: "k8s-west", pageSize: 2 });
    const replay = await failure(deployments.listDeployments({ environment: "k8s-east", pageSize: 2, pageToken: first.nextPageToken }));
    expect(replay).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining("different query") });
    const withHistory = await failure(deployments.listDeployments({ environment: "k8s-west", history: true, pageToken: first.nextPageToken }));
    expect(withHistory.code).toBe(Code.InvalidArgument);
    const forged = Buffer.from(JSON.stringify({ v: 1, f: "x", a: ["1; DROP TABLE deployments"] })).toString("base64url");
    expect((await failure(deployments.listDeployments({ pageToken: forged }))).code).toBe(Code.InvalidArgument);
    // The right filters, a cursor past what a bigint holds: refused, not Internal (it was).
    const issued = JSON.parse(Buffer.from(first.nextPageToken, "base64url").toString()) as { a: string[] };
    const withCursor = (cursor: string) => Buffer.from(JSON.stringify({ ...issued, a: [cursor] })).toString("base64url");
    const tooFar = await failure(deployments.listDeployments({ environment: "k8s-west", pageSize: 2, pageToken: withCursor("9223372036854775808") }));
    expect(tooFar).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining("page_token") });
    const last = await deployments.listDeployments({ environment: "k8s-west", pageSize: 2, pageToken: withCursor("9223372036854775807") });
    expect(last.deployments.map((d) => d.id)).toEqual(first.deployments.map((d) => d.id));
  });

  it("refuses to delete environments and logical environments that have records", async () => {
    await environments.createEnvironment({ name: "busy" });
    await environments.createLogicalEnvironment({ name: "canary" });
    await deployments.recordDeployment({
      environment: "busy",
      logicalEnvironment: "canary",
      deploymentName: "svc",
      kind: ArtifactKind.HELM_CHART,
      digest: digest("busy"),
    });
    const env = await failure(environments.deleteEnvironment({ name: "busy" }));
    expect(env).toMatchObject({ code: Code.FailedPrecondition, message: expect.stringContaining("deployment records") });
    const lenv = await failure(environments.deleteLogicalEnvironment({ name: "canary" }));
    expect(lenv.code).toBe(Code.FailedPrecondition);
    expect((await environments.getEnvironment({ name: "busy" })).environment?.name).toBe("busy");
  });

  it("records and lists over @grpc/grpc-js", async () => {
    const client = grpcJsClient("chainloop/v1/deployment.proto", "chainloop.v1.DeploymentService", served.server.port);
    try {
      const d = digest("grpc-js");
      const res = await grpcCall(client, "recordDeployment", {
        environment: "k8s-east",
        logicalEnvironment: "development",
        deploymentName: "grpc-svc",
        kind: "ARTIFACT_KIND_CONTAINER_IMAGE",
        digest: d,
      });
      expect(res).toMatchObject({ outcome: "RECORD_OUTCOME_CREATED", deployment: { digest: d, status: "DEPLOYMENT_STATUS_DEPLOYED" } });
      const list = await grpcCall(client, "listDeployments", { deploymentName: "grpc-svc" });
      expect(list.deployments.map((x: { id: string }) => x.id)).toEqual([res.deployment.id]);
      await expect(grpcCall(client, "recordDeployment", { environment: "k8s-east", logicalEnvironment: "development", deploymentName: "grpc-svc", digest: d })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
      });
    } finally {
      client.close();
    }
  });

  it("keeps one deployed record per slot under 100 concurrent recorders in one process", async () => {
    const digests = [0, 1, 2, 3].map((i) => digest(`race-${i}`));
    const record = recorder(deployments, { environment: "k8s-east", logicalEnvironment: "production", deploymentName: "race-one" });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => record(digests[i % 4])));
    await checkSlotInvariants(deployments, "race-one", results.map((r) => r.outcome));
  });
});

/**
 * Every call succeeded; exactly one deployed record; every superseded record links to an existing
 * successor and the links form one chain; one row per non-heartbeat; and, along the chain, a
 * record is a rollback exactly when an earlier record of the chain ran its digest (and then names
 * the latest such record), whichever process or batch recorded it.
 */
async function checkSlotInvariants(client: Deployments, name: string, outcomes: RecordOutcome[]) {
  const history = await allRecords(client, { deploymentName: name });
  expect(history.filter((d) => d.status === DeploymentStatus.DEPLOYED)).toHaveLength(1);
  const byId = new Map(history.map((d) => [d.id, d]));
  for (const d of history.filter((x) => x.status === DeploymentStatus.SUPERSEDED)) {
    expect(byId.has(d.supersededById)).toBe(true);
  }
  const count = (o: RecordOutcome) => outcomes.filter((x) => x === o).length;
  expect(count(RecordOutcome.CREATED)).toBe(1);
  expect(history).toHaveLength(count(RecordOutcome.CREATED) + count(RecordOutcome.SUPERSEDED) + count(RecordOutcome.ROLLED_BACK));
  // Each successor supersedes exactly one record: the chain is linear.
  const successors = history.filter((d) => d.supersededById).map((d) => d.supersededById);
  expect(new Set(successors).size).toBe(successors.length);
  // Walk the chain from the record nothing superseded into.
  const chain = [history.find((d) => !successors.includes(d.id))!];
  while (chain.at(-1)!.supersededById) chain.push(byId.get(chain.at(-1)!.supersededById)!);
  expect(chain).toHaveLength(history.length);
  const lastOfDigest = new Map<string, string>();
  for (const d of chain) {
    expect(d.rollbackOfId).toBe(lastOfDigest.get(d.digest) ?? "");
    lastOfDigest.set(d.digest, d.id);
  }
  expect(history.filter((d) => d.rollbackOfId)).toHaveLength(count(RecordOutcome.ROLLED_BACK));
}

describe("concurrency across two server processes on one Postgres", () => {
  const run = backends().includes("postgres") ? it : it.skip;
  run("resolves 120 simultaneous records on one slot and racing first heartbeats", async () => {
    const db = await createTestDatabase("postgres");
    const servers = await Promise.all([startServer(db.env), startServer(db.env)]);
    try {
      const clients = servers.map((s) => connectClient(DeploymentService, s.url, "2"));
      await connectClient(EnvironmentService, servers[0].url).createEnvironment({ name: "k8s-east" });
      const digests = [0, 1, 2, 3, 4].map((i) => digest(`multi-${i}`));
      await attest(servers[0].url, [...digests, digest("same")]);
      const base = { environment: "k8s-east", logicalEnvironment: "production", kind: ArtifactKind.CONTAINER_IMAGE };
      const results = await Promise.all(
        Array.from({ length: 120 }, (_, i) =>
          clients[i % 2].recordDeployment({ ...base, deploymentName: "multi", digest: digests[i % 5] }),
        ),
      );
      await checkSlotInvariants(clients[0], "multi", results.map((r) => r.outcome));

      // Heartbeats racing on an empty slot: one row, everything else heartbeats.
      const same = digest("same");
      const beats = await Promise.all(
        Array.from({ length: 60 }, (_, i) => clients[i % 2].recordDeployment({ ...base, deploymentName: "beats", digest: same })),
      );
      expect(beats.filter((r) => r.outcome === RecordOutcome.CREATED)).toHaveLength(1);
      expect(beats.filter((r) => r.outcome === RecordOutcome.HEARTBEAT)).toHaveLength(59);
      expect(await allRecords(clients[1], { deploymentName: "beats" })).toHaveLength(1);

      // The database itself agrees: no slot has two deployed rows.
      const sql = new pg.Client({ connectionString: db.databaseUrl });
      await sql.connect();
      try {
        const dupes = await sql.query(
          `SELECT count(*)::int AS n FROM (SELECT 1 FROM deployments WHERE status = 'deployed'
             GROUP BY organization_id, environment_id, logical_environment_id, name, kind HAVING count(*) > 1) s`,
        );
        expect(dupes.rows[0].n).toBe(0);
      } finally {
        await sql.end();
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await db.drop();
    }
  });
});

describe("a migration under a running server (rolling upgrade)", () => {
  const run = backends().includes("postgres") ? it : it.skip;
  // The record statement is prepared once per pooled connection. Had it returned `*`, a column
  // added by a newer server's migration would make every later record on those connections
  // fail with "cached plan must not change result type" until the server restarted.
  run("keeps recording and listing after a column is added to deployments", async () => {
    const db = await createTestDatabase("postgres");
    const server = await startServer({ ...db.env, CHAINLOOP_DB_POOL_SIZE: "2" });
    try {
      const deployments = connectClient(DeploymentService, server.url, "2");
      await connectClient(EnvironmentService, server.url).createEnvironment({ name: "k8s-east" });
      const digests = [0, 1, 2, 3].map((i) => digest(`rolling-${i}`));
      await attest(server.url, digests);
      const base = { environment: "k8s-east", logicalEnvironment: "production", kind: ArtifactKind.CONTAINER_IMAGE };
      // Warm both pooled connections: each prepares the statement.
      await Promise.all([0, 1].map((i) => deployments.recordDeployment({ ...base, deploymentName: `svc-${i}`, digest: digests[i] })));

      const sql = new pg.Client({ connectionString: db.databaseUrl });
      await sql.connect();
      try {
        await sql.query(`ALTER TABLE deployments ADD COLUMN rolled_out_by text NOT NULL DEFAULT ''`);
      } finally {
        await sql.end();
      }

      const after = await Promise.all(
        [0, 1].map((i) => deployments.recordDeployment({ ...base, deploymentName: `svc-${i}`, digest: digests[i + 2] })),
      );
      expect(after.map((r) => r.outcome)).toEqual([RecordOutcome.SUPERSEDED, RecordOutcome.SUPERSEDED]);
      const beat = await deployments.recordDeployment({ ...base, deploymentName: "svc-0", digest: digests[2] });
      expect(beat.outcome).toBe(RecordOutcome.HEARTBEAT);
      expect(await allRecords(deployments, { environment: "k8s-east" })).toHaveLength(4);
    } finally {
      await server.stop();
      await db.drop();
    }
  });
});
