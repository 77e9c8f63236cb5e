// Promotion policies enforced on the record path, through a real server on both backends:
// RecordDeployment refuses a new digest that misses a rule (FAILED_PRECONDITION naming every
// unmet rule, with a google.rpc.PreconditionFailure detail) and writes nothing; heartbeats and
// decommissions are never refused; an admin may override with a reason (stored, audited), a
// write token may not; validate_only answers what would happen and writes nothing; snapshots
// refuse such entries one by one (SNAPSHOT_REFUSAL_POLICY) and record the rest. In-process: the
// record statement's version check (a record judged at an older policy version is held and
// judged again) and concurrent records into a guarded logical environment.
import { Code, type Client } from "@connectrpc/connect";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { ApiTokenScope, ApiTokenService } from "../../gen/proto/chainloop/v1/api_token_pb.js";
import {
  ArtifactKind,
  DeploymentService,
  DeploymentStatus,
  RecordOutcome,
  SnapshotRefusal,
} from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { PromotionPolicyService } from "../../gen/proto/chainloop/v1/policy_pb.js";
import { PreconditionFailureSchema } from "../../gen/proto/google/rpc/error_details_pb.js";
import { openDatabase, type Database } from "../../server/data/client.js";
import { migrate } from "../../server/data/migrate.js";
import { SqlDeploymentRepository } from "../../server/data/deployments.js";
import type { RecordResult } from "../../server/domain/deployments.js";
import { createLogger } from "../../server/log.js";
import { createUseCases, type UseCases } from "../../server/wiring.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { connectError, digest } from "../helpers/facts.js";

const A = digest("shop 1.0");
const B = digest("shop 1.1");
const C = digest("shop 1.2");
const UNBUILT = digest("shop hotfix");

describe.each(backends())("promotion policies on the record path (%s, server)", (backend) => {
  const served = serveFor(backend);
  let deployments: Client<typeof DeploymentService>;
  let policies: Client<typeof PromotionPolicyService>;
  let writer: Client<typeof DeploymentService>;

  const record = (logicalEnvironment: string, d: string, extra: Record<string, unknown> = {}, client = deployments) =>
    client.recordDeployment({
      environment: "k8s-east",
      logicalEnvironment,
      deploymentName: "shop",
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest: d,
      ...extra,
    });
  const active = async (logicalEnvironment: string) =>
    (await deployments.listDeployments({ environment: "k8s-east", logicalEnvironment })).deployments.map((x) => x.digest);

  beforeAll(async () => {
    deployments = connectClient(DeploymentService, served.url);
    policies = connectClient(PromotionPolicyService, served.url);
    await connectClient(EnvironmentService, served.url).createEnvironment({ name: "k8s-east" });
    await attest(served.url, [A, B, C], { workflow: "build" });
    await attest(served.url, [UNBUILT], { workflow: "hand-made" });
    const secret = (await connectClient(ApiTokenService, served.url).createApiToken({ name: "ci", scope: ApiTokenScope.WRITE })).secret;
    writer = connectClient(DeploymentService, served.url, "1.1", secret);
    await policies.setPromotionPolicy({
      policy: { logicalEnvironment: "production", requireDeployedIn: [{ logicalEnvironment: "staging" }], requireWorkflows: ["build"] },
    });
  });

  test("a digest that misses a rule is refused with every unmet rule, as a PreconditionFailure, and nothing is written", async () => {
    const err = await connectError(record("production", UNBUILT));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("require_deployed_in staging");
    expect(err.rawMessage).toContain("require_workflow build");
    expect(err.rawMessage).toContain("--override-reason");
    const [detail] = err.findDetails(PreconditionFailureSchema);
    expect(detail.violations.map((v) => [v.type, v.subject])).toEqual([
      ["require_deployed_in", "staging"],
      ["require_workflow", "build"],
    ]);
    expect(detail.violations.every((v) => v.description.includes(UNBUILT))).toBe(true);
    expect(await active("production")).toEqual([]);
    // The same answer to validate_only, which writes nothing either way.
    const checked = await connectError(record("production", UNBUILT, { validateOnly: true }));
    expect(checked.code).toBe(Code.FailedPrecondition);
    expect(checked.findDetails(PreconditionFailureSchema)[0].violations).toHaveLength(2);
  });

  test("once the digest ran in staging it is promoted; its heartbeats and decommission are never refused", async () => {
    expect((await record("staging", A)).outcome).toBe(RecordOutcome.CREATED);
    const check = await record("production", A, { validateOnly: true });
    expect(check.outcome).toBe(RecordOutcome.CREATED);
    expect(check.deployment?.id).toBe("");
    expect(await active("production")).toEqual([]);
    const promoted = await record("production", A);
    expect(promoted.outcome).toBe(RecordOutcome.CREATED);
    expect(promoted.policyOverridden).toBe(false);
    // A stricter policy does not stop what already runs from heartbeating or leaving.
    await policies.setPromotionPolicy({
      policy: { logicalEnvironment: "production", requireDeployedIn: [{ logicalEnvironment: "staging", soak: durationFromMs(86_400_000) }] },
    });
    expect((await record("production", A)).outcome).toBe(RecordOutcome.HEARTBEAT);
    expect((await record("production", A, { validateOnly: true })).outcome).toBe(RecordOutcome.HEARTBEAT);
    const soaking = await connectError(record("production", B));
    expect(soaking.code).toBe(Code.FailedPrecondition);
    expect(await active("production")).toEqual([A]);
    expect((await record("production", A, { status: DeploymentStatus.DECOMMISSIONED })).outcome).toBe(RecordOutcome.DECOMMISSIONED);
    await policies.setPromotionPolicy({
      policy: { logicalEnvironment: "production", requireDeployedIn: [{ logicalEnvironment: "staging" }], requireWorkflows: ["build"] },
    });
  });

  test("break glass: a write token may not override; an admin's reason is stored on the record", async () => {
    const denied = await connectError(record("production", C, { overrideReason: "incident 42" }, writer));
    expect(denied.code).toBe(Code.PermissionDenied);
    expect(denied.rawMessage).toContain("admin");
    expect(await active("production")).toEqual([]);
    expect((await connectError(record("production", C, { overrideReason: "   " }))).code).toBe(Code.InvalidArgument);

    const checked = await record("production", C, { overrideReason: "incident 42", validateOnly: true });
    expect(checked.policyOverridden).toBe(true);
    expect(await active("production")).toEqual([]);

    const res = await record("production", C, { overrideReason: "incident 42: hotfix straight to prod" });
    expect(res.outcome).toBe(RecordOutcome.CREATED);
    expect(res.policyOverridden).toBe(true);
    expect(res.policyViolations.map((v) => v.rule)).toEqual(["require_deployed_in"]);
    expect(res.deployment?.overrideReason).toBe("incident 42: hotfix straight to prod");
    const got = await deployments.getDeployment({ id: res.deployment!.id });
    expect(got.deployment?.overrideReason).toBe("incident 42: hotfix straight to prod");
    // A reason given when no rule is unmet is not stored: nothing was overridden.
    expect((await record("staging", C, { overrideReason: "not needed" })).policyOverridden).toBe(false);
  });

  test("snapshots refuse a guarded new digest on its own and keep what already runs", async () => {
    const res = await deployments.reportSnapshot({
      environment: "k8s-east",
      logicalEnvironment: "production",
      entries: [
        { deploymentName: "shop", kind: ArtifactKind.CONTAINER_IMAGE, digest: C }, // running (overridden above): a heartbeat
        { deploymentName: "cart", kind: ArtifactKind.CONTAINER_IMAGE, digest: UNBUILT }, // refused
        { deploymentName: "search", kind: ArtifactKind.CONTAINER_IMAGE, digest: A }, // ran in staging: allowed
      ],
    });
    expect(res.results.map((r) => r.refusal)).toEqual([SnapshotRefusal.UNSPECIFIED, SnapshotRefusal.POLICY, SnapshotRefusal.UNSPECIFIED]);
    expect(res.results[1].message).toContain("require_deployed_in");
    expect(res.results.map((r) => r.outcome)).toEqual([RecordOutcome.HEARTBEAT, RecordOutcome.UNSPECIFIED, RecordOutcome.CREATED]);
    const names = (await deployments.listDeployments({ environment: "k8s-east", logicalEnvironment: "production" })).deployments
      .map((d) => d.deploymentName)
      .sort();
    expect(names).toEqual(["search", "shop"]);
  });
});

describe.each(backends())("promotion policies on the record path (%s, in process)", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let useCases: UseCases;
  let orgId: string;
  const admin = { tokenId: "00000000-0000-4000-8000-000000000001", tokenName: "root", scope: "admin" as const };

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    const logger = createLogger("silent");
    db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger });
    await migrate(db, logger);
    useCases = createUseCases(db);
    orgId = (await useCases.organizations.create("acme")).id;
    await useCases.environments.create(orgId, { name: "k8s", description: "" });
    await db.sql.query(
      `WITH a AS (INSERT INTO attestations (id, organization_id, digest, content, size_bytes, format, statement_type, predicate_type, workflow, project)
                  VALUES (gen_random_uuid(), $1::uuid, 'sha256:' || repeat('0', 64), '\\x00', 1, 'IN_TOTO_STATEMENT', 's', 'p', 'build', 'shop')
                  RETURNING id)
       INSERT INTO attested_artifacts (attestation_id, digest, role, organization_id, position)
       SELECT a.id, x.d, 'subject', $1::uuid, x.n FROM a, unnest($2::text[]) WITH ORDINALITY AS x(d, n)`,
      [orgId, Array.from({ length: 40 }, (_, i) => digest(`svc ${i}`))],
    );
    await useCases.policies.set(
      orgId,
      { logicalEnvironment: "production", requireDeployedIn: [{ logicalEnvironment: "staging", soakMs: 0 }], requireWorkflows: [], requirePredicateTypes: [], requireVerified: false },
      admin,
    );
  });

  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  const input = (name: string, d: string, logicalEnvironment = "production", extra = {}) => ({
    environment: "k8s",
    logicalEnvironment,
    name,
    kind: "CONTAINER_IMAGE" as const,
    digest: d,
    artifactName: "",
    artifactVersion: "",
    artifactReference: "",
    status: undefined,
    ...extra,
  });

  test("an override is audited in the record's own transaction, with its reason", async () => {
    const res = await useCases.deployments.record(orgId, input("audited", digest("svc 0"), "production", { overrideReason: "change 7" }), admin);
    expect(res.policyOverridden).toBe(true);
    const rows = await db.sql.query<{ action: string; resource_name: string; detail: string; actor_name: string; xid: string }>(
      `SELECT action, resource_name, detail, actor_name, xmin::text AS xid FROM audit_events WHERE action = 'deployment.policy_override'`,
      [],
    );
    expect(rows).toEqual([
      expect.objectContaining({ resource_name: `k8s/production/audited@${digest("svc 0")}`, detail: "change 7", actor_name: "root" }),
    ]);
    const [recordXid] = await db.sql.query<{ xid: string }>(`SELECT xmin::text AS xid FROM deployments WHERE id = $1::uuid`, [res.deployment.id]);
    expect(rows[0].xid).toBe(recordXid.xid);
  });

  test("a record judged at an older policy version is held, not written", async () => {
    const repo = new SqlDeploymentRepository(db.sql);
    const [{ id: policyId, version }] = await db.sql.query<{ id: string; version: string }>(
      `SELECT p.id::text AS id, p.version::text AS version FROM promotion_policies p
       JOIN logical_environments l ON l.id = p.logical_environment_id WHERE l.name = 'production'`,
      [],
    );
    const slot = { organizationId: orgId, environment: "k8s", logicalEnvironment: "production", name: "held", kind: "CONTAINER_IMAGE" as const };
    const artifact = { digest: digest("svc 1"), artifactName: "", artifactVersion: "", artifactReference: "" };
    const stale = await repo.recordDeployed(slot, artifact, undefined, { policyId, version: BigInt(version) - 1n });
    expect(stale).toEqual({ guarded: { logicalEnvironmentId: expect.any(String) } });
    // The same version of another policy (one deleted and set again starts at 1 under a new id).
    const other = await repo.recordDeployed(slot, artifact, undefined, { policyId: "00000000-0000-4000-8000-00000000000f", version: BigInt(version) });
    expect("guarded" in other).toBe(true);
    const unjudged = await repo.recordDeployed(slot, artifact, undefined);
    expect("guarded" in unjudged).toBe(true);
    expect(await db.sql.query(`SELECT 1 FROM deployments WHERE name = 'held'`, [])).toHaveLength(0);
    const judged = (await repo.recordDeployed(slot, artifact, undefined, { policyId, version: BigInt(version) })) as RecordResult;
    expect(judged.outcome).toBe("created");
  });

  test("concurrent records into a guarded logical environment: exactly the ones that meet the policy are written", async () => {
    const digests = Array.from({ length: 30 }, (_, i) => digest(`svc ${i + 10}`));
    // Half of them ran in staging first.
    await Promise.all(digests.slice(0, 15).map((d, i) => useCases.deployments.record(orgId, input(`c${i}`, d, "staging"))));
    const results = await Promise.allSettled(
      digests.map((d, i) => useCases.deployments.record(orgId, input(`c${i}`, d), { ...admin, scope: "write" as const })),
    );
    expect(results.slice(0, 15).every((r) => r.status === "fulfilled")).toBe(true);
    expect(results.slice(15).every((r) => r.status === "rejected" && (r.reason as Error).name === "FailedPrecondition")).toBe(true);
    const written = await db.sql.query<{ digest: string }>(
      `SELECT d.digest FROM deployments d JOIN logical_environments l ON l.id = d.logical_environment_id
       WHERE l.name = 'production' AND d.name LIKE 'c%'`,
      [],
    );
    expect(written.map((r) => r.digest).sort()).toEqual(digests.slice(0, 15).sort());
  });
});
