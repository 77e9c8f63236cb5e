// Promotion policies on both database backends. Through a real server: PromotionPolicyService's
// round trip, replace semantics and versions, one refusal of each kind on the wire (every
// validation and scope case is tests/handlers/policies.test.ts), concurrent sets, and what
// deleting environments and logical environments does to policies and what policies do to those
// deletes. Then, in-process on the same database once the server has stopped (PGlite has one
// process at a time): the audit trail those calls left, and the evaluation
// (PolicyUseCase.evaluate) against records and evidence made through the use cases: soak, any
// versus a named environment, superseded versus decommissioned and rolled back records,
// workflows, predicate types, subjects versus materials, verified evidence, other organizations,
// and 500 digests judged in the same three statements as one.
// Enforcement by RecordDeployment and ReportSnapshot is tests/integration/promotion.test.ts.
import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { ApiTokenScope, ApiTokenService } from "../../gen/proto/chainloop/v1/api_token_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { PromotionPolicyService, type PromotionPolicy as PromotionPolicyPb } from "../../gen/proto/chainloop/v1/policy_pb.js";
import { openDatabase, type Database, type SqlPool } from "../../server/data/client.js";
import { migrate } from "../../server/data/migrate.js";
import { PrismaPolicyRepository, SqlPolicyFacts } from "../../server/data/policies.js";
import { audited } from "../../server/data/transactions.js";
import type { Actor } from "../../server/domain/caller.js";
import { PolicyUseCase, type PolicyInput, type PolicyViolation } from "../../server/domain/policies.js";
import { createLogger } from "../../server/log.js";
import { createUseCases, type UseCases } from "../../server/wiring.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { statementFor } from "../helpers/evidence.js";
import { startServer, type ServerProcess } from "../helpers/server.js";
import { digest, failure } from "../helpers/facts.js";
import { DAY, FULL_POLICY, HOUR, SLSA, soak } from "../helpers/policies.js";

const logger = createLogger("silent");


/** The rules of a policy as the API returns them (without the output-only fields). */
const rulesOf = (p: PromotionPolicyPb | undefined) => ({
  logicalEnvironment: p?.logicalEnvironment,
  requireDeployedIn: p?.requireDeployedIn.map((r) => ({
    logicalEnvironment: r.logicalEnvironment,
    environment: r.environment,
    soakMs: r.soak ? Number(r.soak.seconds) * 1000 + r.soak.nanos / 1e6 : 0,
  })),
  requireWorkflows: p?.requireWorkflows,
  requirePredicateTypes: p?.requirePredicateTypes,
  requireVerified: p?.requireVerified,
});

describe.each(backends())("promotion policies on %s", (backend) => {
  let tdb: TestDatabase;
  /** What the server phase did that the audit trail must show, in order. */
  const expectedAudit: Array<{ action: string; resource_name: string; actor_name: string }> = [];

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  describe("PromotionPolicyService through a server", () => {
    let server: ServerProcess;
    let policies: Client<typeof PromotionPolicyService>;
    let environments: Client<typeof EnvironmentService>;
    let readPolicies: Client<typeof PromotionPolicyService>;
    let writePolicies: Client<typeof PromotionPolicyService>;

    beforeAll(async () => {
      server = await startServer(tdb.env);
      policies = connectClient(PromotionPolicyService, server.url);
      environments = connectClient(EnvironmentService, server.url);
      for (const name of ["k8s-east", "k8s-west"]) await environments.createEnvironment({ name });
      for (const name of ["qa", "canary", "race"]) await environments.createLogicalEnvironment({ name });
      const tokens = connectClient(ApiTokenService, server.url);
      const reader = (await tokens.createApiToken({ name: "reader", scope: ApiTokenScope.READ })).secret;
      const writer = (await tokens.createApiToken({ name: "deployer", scope: ApiTokenScope.WRITE })).secret;
      readPolicies = connectClient(PromotionPolicyService, server.url, "1.1", reader);
      writePolicies = connectClient(PromotionPolicyService, server.url, "1.1", writer);
    });
    afterAll(async () => {
      await server?.stop();
    });

    const set = async (policy: Parameters<typeof policies.setPromotionPolicy>[0]["policy"]) => {
      const res = await policies.setPromotionPolicy({ policy });
      expectedAudit.push({ action: "policy.set", resource_name: res.policy!.logicalEnvironment, actor_name: "bootstrap-admin" });
      return res.policy!;
    };

    const full = FULL_POLICY;

    it("sets, gets and lists a policy as given, at version 1, with who set it and when", async () => {
      const before = Date.now();
      const created = await set(full);
      expect(rulesOf(created)).toEqual({
        logicalEnvironment: "production",
        requireDeployedIn: [
          { logicalEnvironment: "staging", environment: "", soakMs: HOUR },
          { logicalEnvironment: "qa", environment: "k8s-east", soakMs: 0 },
          { logicalEnvironment: "staging", environment: "k8s-west", soakMs: 366 * DAY },
        ],
        requireWorkflows: ["build", "test"],
        requirePredicateTypes: [SLSA, "https://spdx.dev/Document"],
        requireVerified: true,
      });
      expect(created.version).toBe(1n);
      expect(created.updatedBy?.tokenName).toBe("bootstrap-admin");
      const at = Number(created.updateTime!.seconds) * 1000;
      expect(at).toBeGreaterThanOrEqual(before - 2000);
      expect(at).toBeLessThanOrEqual(Date.now() + 2000);

      const got = (await policies.getPromotionPolicy({ logicalEnvironment: "production" })).policy;
      expect(got).toEqual(created);
      expect((await policies.listPromotionPolicies({})).policies).toEqual([created]);
    });

    it("replaces the whole policy on every set, one version up", async () => {
      const replaced = await set({ logicalEnvironment: "production", requireWorkflows: ["deploy"] });
      expect(replaced.version).toBe(2n);
      expect(rulesOf(replaced)).toEqual({
        logicalEnvironment: "production",
        requireDeployedIn: [],
        requireWorkflows: ["deploy"],
        requirePredicateTypes: [],
        requireVerified: false,
      });
      expect((await policies.getPromotionPolicy({ logicalEnvironment: "production" })).policy).toEqual(replaced);
      // Back to the full policy: version 3, every rule back in order.
      const again = await set(full);
      expect(again.version).toBe(3n);
      expect(rulesOf(again).requireDeployedIn).toHaveLength(3);
      expect(rulesOf(again).requirePredicateTypes).toEqual([SLSA, "https://spdx.dev/Document"]);
    });

    it("lists the organization's policies by logical environment name; delete removes one, and a new one starts at version 1", async () => {
      await set({ logicalEnvironment: "staging", requireDeployedIn: [{ logicalEnvironment: "development" }] });
      await set({ logicalEnvironment: "canary", requireVerified: true });
      expect((await policies.listPromotionPolicies({})).policies.map((p) => [p.logicalEnvironment, p.version])).toEqual([
        ["canary", 1n],
        ["production", 3n],
        ["staging", 1n],
      ]);

      await policies.deletePromotionPolicy({ logicalEnvironment: "staging" });
      expectedAudit.push({ action: "policy.delete", resource_name: "staging", actor_name: "bootstrap-admin" });
      expect(await failure(policies.getPromotionPolicy({ logicalEnvironment: "staging" }))).toEqual({
        code: Code.NotFound,
        message: "logical environment staging has no promotion policy",
      });
      expect(await failure(policies.deletePromotionPolicy({ logicalEnvironment: "staging" }))).toEqual({
        code: Code.NotFound,
        message: "logical environment staging has no promotion policy",
      });
      expect((await policies.listPromotionPolicies({})).policies.map((p) => p.logicalEnvironment)).toEqual(["canary", "production"]);

      const fresh = await set({ logicalEnvironment: "staging", requireWorkflows: ["build"] });
      expect(fresh.version).toBe(1n);
    });

    // Every validation and scope case is tests/handlers/policies.test.ts; through the server, one
    // refusal of each kind, and an unknown name resolved by the database.
    it("refuses a malformed policy with INVALID_ARGUMENT, an unknown name with NOT_FOUND and a write token with PERMISSION_DENIED, changing nothing", async () => {
      const before = (await policies.listPromotionPolicies({})).policies;
      const negative = await failure(
        policies.setPromotionPolicy({
          policy: { logicalEnvironment: "production", requireDeployedIn: [{ logicalEnvironment: "staging", soak: create(DurationSchema, { seconds: -1n }) }] },
        }),
      );
      expect(negative.code).toBe(Code.InvalidArgument);
      expect(negative.message).toMatch(/require_deployed_in\[0\]\.soak must be whole milliseconds from 0 to 366 days/);
      const unknown = await failure(
        policies.setPromotionPolicy({ policy: { logicalEnvironment: "production", requireDeployedIn: [{ logicalEnvironment: "staging", environment: "k8s-north" }] } }),
      );
      expect(unknown.code).toBe(Code.NotFound);
      expect(unknown.message).toMatch(/require_deployed_in\[0\]\.environment: environment "k8s-north" not found/);
      const denied = await failure(writePolicies.setPromotionPolicy({ policy: { logicalEnvironment: "production", requireVerified: true } }));
      expect(denied.code).toBe(Code.PermissionDenied);
      expect(denied.message).toMatch(/admin scope/);
      expect((await readPolicies.listPromotionPolicies({})).policies).toEqual(before);
    });

    it("serializes concurrent sets of one logical environment, the first creating it: each succeeds once, the last one's rules stand whole", async () => {
      const inputs = Array.from({ length: 8 }, (_, i) => ({
        logicalEnvironment: "race",
        requireWorkflows: [`w${i}a`, `w${i}b`],
        requireDeployedIn: [{ logicalEnvironment: i % 2 ? "staging" : "development", soak: i % 3 ? undefined : soak(i * HOUR) }],
      }));
      const results = await Promise.all(inputs.map((policy) => set(policy)));
      // Every set made one version, each a different one, one after the other.
      expect(results.map((r) => r.version).sort((a, b) => Number(a - b))).toEqual(inputs.map((_, i) => BigInt(i + 1)));
      // Each answer is that set's own rules, and what stands is the last one's, unmixed.
      results.forEach((r, i) => expect(r.requireWorkflows).toEqual(inputs[i]!.requireWorkflows));
      const last = results.reduce((a, b) => (a.version > b.version ? a : b));
      const now = (await policies.getPromotionPolicy({ logicalEnvironment: "race" })).policy!;
      expect(now).toEqual(last);
      expect(now.requireDeployedIn).toHaveLength(1);
    });

    it("refuses to delete an environment or logical environment a rule names, saying which policy, and changes nothing", async () => {
      const before = (await policies.listPromotionPolicies({})).policies;
      // production names qa (k8s-east) and staging (k8s-west).
      const env = await failure(environments.deleteEnvironment({ name: "k8s-west" }));
      expect(env.code).toBe(Code.FailedPrecondition);
      expect(env.message).toMatch(/^environment "k8s-west" cannot be deleted: the promotion policy of production names it in a rule \(change it with: chainloop policy set --logical-env production/);
      const lenv = await failure(environments.deleteLogicalEnvironment({ name: "qa" }));
      expect(lenv.code).toBe(Code.FailedPrecondition);
      expect(lenv.message).toMatch(/^logical environment "qa" cannot be deleted: the promotion polic(y|ies) of .*production.* in a rule/);
      expect((await environments.getEnvironment({ name: "k8s-west" })).environment?.name).toBe("k8s-west");
      expect((await environments.listLogicalEnvironments({})).logicalEnvironments.map((l) => l.name)).toContain("qa");
      expect((await policies.listPromotionPolicies({})).policies).toEqual(before);

      // Once no rule names it, it goes.
      await set({ ...full, requireDeployedIn: [{ logicalEnvironment: "staging", soak: soak(HOUR) }] });
      await set({ logicalEnvironment: "staging", requireWorkflows: ["build"] });
      await environments.deleteEnvironment({ name: "k8s-west" });
      await expect(environments.getEnvironment({ name: "k8s-west" })).rejects.toMatchObject({ code: Code.NotFound });
    });

    it("deletes the policy of a logical environment with it", async () => {
      await environments.createLogicalEnvironment({ name: "preview" });
      await set({ logicalEnvironment: "preview", requireDeployedIn: [{ logicalEnvironment: "qa", environment: "k8s-east" }] });
      await environments.deleteLogicalEnvironment({ name: "preview" });
      expect((await policies.listPromotionPolicies({})).policies.map((p) => p.logicalEnvironment)).not.toContain("preview");
      expect((await failure(policies.getPromotionPolicy({ logicalEnvironment: "preview" }))).code).toBe(Code.NotFound);
      // Its rule no longer holds qa and k8s-east: nothing names them now.
      await environments.deleteLogicalEnvironment({ name: "qa" });
      await environments.deleteEnvironment({ name: "k8s-east" });
    });
  });

  describe("in-process, on the same database", () => {
    let db: Database;
    let uc: UseCases;
    let orgId: string;
    let otherOrgId: string;
    /** PolicyUseCase over a pool that counts the statements it is sent. */
    let guard: PolicyUseCase;
    let statements = 0;
    const admin: Actor = { tokenId: randomUUID(), tokenName: "policy-admin" };
    const sql = <T>(text: string, params: unknown[] = []) => db.sql.query<T>(text, params);

    beforeAll(async () => {
      db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger });
      await migrate(db, logger);
      uc = createUseCases(db);
      const counting: SqlPool = {
        query: (text, params, name) => {
          statements++;
          return db.sql.query(text, params, name);
        },
        transaction: (fn, opts) => db.sql.transaction(fn, opts),
      };
      guard = new PolicyUseCase(
        new PrismaPolicyRepository(db.prisma),
        audited(db.prisma, (tx) => new PrismaPolicyRepository(tx)),
        new SqlPolicyFacts(counting),
      );
      orgId = (await uc.organizations.create("acme")).id;
      otherOrgId = (await uc.organizations.create("other")).id;
      for (const o of [orgId, otherOrgId]) {
        for (const name of ["k8s-east", "k8s-west"]) await uc.environments.create(o, { name, description: "" });
      }
    });
    afterAll(async () => {
      await db?.close();
    });

    it("left one audit entry per change made through the server, and none for refusals", async () => {
      const rows = await sql<{ action: string; resource_name: string; actor_name: string; resource_type: string }>(
        `SELECT action, resource_name, actor_name, resource_type FROM audit_events WHERE action LIKE 'policy.%' ORDER BY seq`,
      );
      expect(rows.map((r) => r.resource_type).every((t) => t === "promotion_policy")).toBe(true);
      // Concurrent sets commit in any order: compare as multisets.
      const key = (r: { action: string; resource_name: string; actor_name: string }) => `${r.action} ${r.resource_name} ${r.actor_name}`;
      expect(rows.map(key).sort()).toEqual(expectedAudit.map(key).sort());
      expect(rows.length).toBeGreaterThan(10);
    });

    // ───────────── evaluation ─────────────

    const record = (environment: string, logicalEnvironment: string, name: string, d: string, status?: "decommissioned", org = orgId) =>
      uc.deployments.record(
        org,
        { environment, logicalEnvironment, name, kind: "CONTAINER_IMAGE", status, digest: d, artifactName: "", artifactVersion: "", artifactReference: "" },
        admin,
      );
    /** Moves a record's start back by `ms` (and so lengthens its run). */
    const age = (id: string, ms: number) => sql("UPDATE deployments SET created_at = created_at - $2::int * interval '1 millisecond' WHERE id = $1::uuid", [id, ms]);
    /** Moves a superseded record's whole run back by `ms` (it ran as long, earlier). */
    const shift = (id: string, ms: number) =>
      sql("UPDATE deployments SET created_at = created_at - $2::int * interval '1 millisecond', superseded_at = superseded_at - $2::int * interval '1 millisecond' WHERE id = $1::uuid", [id, ms]);
    const push = (content: unknown, workflow: string, org = orgId) =>
      uc.evidence.push(org, { content: Buffer.from(JSON.stringify(content)), workflow, project: "shop", projectVersion: "" }, admin);
    const setPolicy = (input: Partial<PolicyInput>) =>
      uc.policies.set(orgId, { logicalEnvironment: "production", requireDeployedIn: [], requireWorkflows: [], requirePredicateTypes: [], requireVerified: false, ...input }, admin);
    const productionId = async () => (await sql<{ id: string }>("SELECT id::text AS id FROM logical_environments WHERE organization_id = $1::uuid AND name = 'production'", [orgId]))[0]!.id;
    /** The violations of each digest, as [rule, subject, description]. */
    const judge = async (digests: string[]) => {
      const j = await guard.evaluate(orgId, await productionId(), digests);
      if (!j) throw new Error("production has no policy");
      return digests.map((d) => j.violations.get(d)!.map((v: PolicyViolation) => [v.rule, v.subject, v.description]));
    };

    const v = (s: string) => digest(`eval ${s}`);
    const [RUNNING, WEST, SHORT, LONG, AFTER_SHORT, AFTER_LONG, DECOM, RB_A, RB_B, NEVER, ELSEWHERE] = [
      "running", "west", "short", "long", "after short", "after long", "decom", "rb a", "rb b", "never", "elsewhere",
    ].map(v) as [string, string, string, string, string, string, string, string, string, string, string];
    const NEVER_ATTESTED = digest("never attested");
    const at = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ";

    it("judges nothing for a logical environment without a policy", async () => {
      expect(await guard.evaluate(orgId, await productionId(), [RUNNING])).toBeUndefined();
    });

    it("require_deployed_in: any or a named environment, the soak, superseded records counting and decommissioned or rolled back ones not", async () => {
      await push(statementFor([RUNNING, WEST, SHORT, LONG, AFTER_SHORT, AFTER_LONG, DECOM, RB_A, RB_B, NEVER]), "build");
      await push(statementFor([ELSEWHERE]), "build", otherOrgId);

      const running = await record("k8s-east", "staging", "api", RUNNING);
      await record("k8s-west", "staging", "web", WEST);
      // Superseded normally: SHORT ran a moment, LONG two hours.
      const short = await record("k8s-east", "staging", "cart", SHORT);
      const long = await record("k8s-east", "staging", "cart2", LONG);
      await record("k8s-east", "staging", "cart", AFTER_SHORT);
      await record("k8s-east", "staging", "cart2", AFTER_LONG);
      await age(long.deployment.id, 2 * HOUR);
      // SHORT's moment was two hours ago: it counts until it was replaced, not until now.
      await shift(short.deployment.id, 2 * HOUR);
      // Decommissioned after running two hours.
      const decom = await record("k8s-east", "staging", "jobs", DECOM);
      await age(decom.deployment.id, 2 * HOUR);
      await record("k8s-east", "staging", "jobs", DECOM, "decommissioned");
      // Rolled back: RB_A, then RB_B, then back to RB_A — RB_B was replaced by a rollback.
      await record("k8s-east", "staging", "pay", RB_A);
      const rbB = await record("k8s-east", "staging", "pay", RB_B);
      await age(rbB.deployment.id, 2 * HOUR);
      const rollback = await record("k8s-east", "staging", "pay", RB_A);
      expect(rollback.outcome).toBe("rolled-back");
      // Another organization's record of a digest is not this organization's.
      const elsewhere = await record("k8s-east", "staging", "api", ELSEWHERE, undefined, otherOrgId);
      await age(elsewhere.deployment.id, 2 * HOUR);

      // Any environment, no soak.
      await setPolicy({ requireDeployedIn: [{ logicalEnvironment: "staging" }] });
      expect(await judge([RUNNING, WEST, SHORT, LONG, DECOM, RB_B, NEVER, ELSEWHERE])).toEqual([
        [],
        [],
        [],
        [],
        [["require_deployed_in", "staging", expect.stringMatching(new RegExp(`^${DECOM} was decommissioned in staging \\(k8s-east\\) at ${at}; deploy it there again$`))]],
        [["require_deployed_in", "staging", expect.stringMatching(new RegExp(`^${RB_B} was rolled back in staging \\(k8s-east\\) at ${at}: record ${rollback.deployment.id} replaced it$`))]],
        [["require_deployed_in", "staging", `${NEVER} has not been recorded as deployed in staging (in any environment); record it there first`]],
        [["require_deployed_in", "staging", `${ELSEWHERE} has not been recorded as deployed in staging (in any environment); record it there first`]],
      ]);

      // A named environment: only records there count.
      await setPolicy({ requireDeployedIn: [{ logicalEnvironment: "staging", environment: "k8s-west" }] });
      expect(await judge([RUNNING, WEST])).toEqual([
        [["require_deployed_in", "k8s-west/staging", `${RUNNING} has not been recorded as deployed in staging (k8s-west); record it there first`]],
        [],
      ]);

      // A soak of an hour: LONG ran two hours (superseded normally: counts), RUNNING runs since a
      // moment, SHORT ran a moment; DECOM and RB_B ran two hours but do not count.
      await setPolicy({ requireDeployedIn: [{ logicalEnvironment: "staging", soakMs: HOUR }] });
      const soaked = await judge([LONG, RUNNING, SHORT, DECOM, RB_B]);
      expect(soaked[0]).toEqual([]);
      const [[, , runningWhy]] = soaked[1] as [[string, string, string]];
      const since = new Date(Math.floor(running.deployment.createdAt.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
      const from = new Date(Math.ceil((running.deployment.createdAt.getTime() + HOUR) / 1000) * 1000).toISOString().replace(".000Z", "Z");
      expect(runningWhy).toMatch(new RegExp(`^${RUNNING} has run in staging \\(k8s-east\\) since ${since}: \\d+m?s? of the 1h soak; it can be promoted from ${from}$`));
      expect(soaked[2]).toEqual([
        ["require_deployed_in", "staging", expect.stringMatching(new RegExp(`^${SHORT} ran in staging \\(k8s-east\\) for \\d+m?s of the 1h soak \\(from \\S+ until record [0-9a-f-]{36} replaced it\\); deploy it there again and let it run for 1h$`))],
      ]);
      expect(soaked[3]![0]![2]).toMatch(/was decommissioned in staging \(k8s-east\) at \S+; deploy it there again and let it run for 1h$/);
      expect(soaked[4]![0]![2]).toMatch(/was rolled back in staging \(k8s-east\)/);
      expect(short.deployment.id).not.toBe(long.deployment.id);

      // Aged past the soak (against the database's clock), RUNNING passes.
      await age(running.deployment.id, HOUR + 60_000);
      expect(await judge([RUNNING])).toEqual([[]]);
      // With a longer soak than LONG ran, LONG no longer does: it ran 2h of 3h.
      await setPolicy({ requireDeployedIn: [{ logicalEnvironment: "staging", soakMs: 3 * HOUR }] });
      const [[[, , longWhy]]] = (await judge([LONG])) as [[[string, string, string]]];
      expect(longWhy).toMatch(new RegExp(`^${LONG} ran in staging \\(k8s-east\\) for 2h(\\d+s)? of the 3h soak`));

      // Several rules: each judged, in the policy's order.
      await setPolicy({
        requireDeployedIn: [{ logicalEnvironment: "staging", environment: "k8s-west" }, { logicalEnvironment: "development" }],
      });
      expect((await judge([WEST]))[0]!.map(([rule, subject]) => [rule, subject])).toEqual([["require_deployed_in", "development"]]);
      expect((await judge([RUNNING]))[0]!.map(([rule, subject]) => [rule, subject])).toEqual([
        ["require_deployed_in", "k8s-west/staging"],
        ["require_deployed_in", "development"],
      ]);

      // k8s-west has records and a rule names it: the refusal says both.
      await expect(uc.environments.delete(orgId, "k8s-west", admin)).rejects.toThrow(
        /^environment "k8s-west" cannot be deleted: it has deployment records, whose history is part of the audit trail; the promotion policy of production names it in a rule/,
      );
    });

    it("judges 500 digests in the same three statements as one, every digest a key", async () => {
      const many = Array.from({ length: 500 }, (_, i) => digest(`many ${i}`));
      await push(statementFor(many), "build");
      // The first 250 run in staging, recorded by one snapshot.
      await uc.snapshots.report(
        orgId,
        {
          environment: "k8s-west",
          logicalEnvironment: "staging",
          entries: many.slice(0, 250).map((d, i) => ({ name: `svc-${i}`, kind: "CONTAINER_IMAGE", digest: d, artifactName: "", artifactVersion: "", artifactReference: "" })),
          decommissionMissing: false,
          allOrNothing: true,
          validateOnly: false,
        },
        admin,
      );
      await setPolicy({ requireDeployedIn: [{ logicalEnvironment: "staging" }], requireWorkflows: ["build"] });
      const lenv = await productionId();

      statements = 0;
      const one = await guard.evaluate(orgId, lenv, [many[0]!]);
      expect(statements).toBe(3);
      expect(one!.violations).toEqual(new Map([[many[0], []]]));

      statements = 0;
      const all = await guard.evaluate(orgId, lenv, [...many, many[0]!]);
      expect(statements).toBe(3);
      expect(all!.violations.size).toBe(500);
      expect(all!.version).toBe((await uc.policies.get(orgId, "production")).version);
      expect(all!.logicalEnvironment).toBe("production");
      const unmet = many.filter((d) => all!.violations.get(d)!.length > 0);
      expect(unmet).toEqual(many.slice(250));
      expect(all!.violations.get(many[499]!)).toEqual([
        { rule: "require_deployed_in", subject: "staging", description: expect.stringMatching(/has not been recorded as deployed in staging/) },
      ]);

      // Without digests: the policy only.
      statements = 0;
      expect((await guard.evaluate(orgId, lenv, []))!.violations.size).toBe(0);
      expect(statements).toBe(1);
    });

    it("require_workflow, require_predicate_type and require_verified: subjects of the organization's attestations, verified by a registered key", async () => {
      const [TESTED, UNTESTED, MATERIAL, SIGNED, BARE] = ["tested", "untested", "material", "signed", "bare"].map(v) as [string, string, string, string, string];
      // An attestation of workflow "test" names TESTED and UNSIGNED_TEST as subjects (unsigned:
      // no key is registered yet); MATERIAL is only a material of a "test" SLSA provenance; the
      // other organization's "test" attestation names UNTESTED.
      await push(statementFor([TESTED]), "test");
      await push(statementFor([UNTESTED, BARE]), "build");
      await push(statementFor([UNTESTED]), "test", otherOrgId);
      await push(
        {
          _type: "https://in-toto.io/Statement/v1",
          subject: [{ name: "bundle", digest: { sha256: digest("bundle").slice(7) } }],
          predicateType: SLSA,
          predicate: { buildDefinition: { buildType: "x", resolvedDependencies: [{ uri: "oci://m", digest: { sha256: MATERIAL.slice(7) } }] } },
        },
        "test",
      );
      await push(
        { _type: "https://in-toto.io/Statement/v1", subject: [{ name: "t", digest: { sha256: TESTED.slice(7) } }], predicateType: SLSA, predicate: {} },
        "release",
      );

      await setPolicy({ requireWorkflows: ["test"], requirePredicateTypes: [SLSA] });
      const [tested, untested, material] = await judge([TESTED, UNTESTED, MATERIAL]);
      expect(tested).toEqual([]);
      expect(untested).toEqual([
        ["require_workflow", "test", `no attestation of workflow "test" names ${UNTESTED} as a subject; push one (chainloop attestation push)`],
        ["require_predicate_type", SLSA, `no attestation with predicate type "${SLSA}" names ${UNTESTED} as a subject; push one (chainloop attestation push)`],
      ]);
      expect(material!.map(([rule]) => rule)).toEqual(["require_workflow", "require_predicate_type"]);

      // Verified: nothing is signed yet.
      await setPolicy({ requireWorkflows: ["test"], requireVerified: true });
      expect(await judge([TESTED, UNTESTED])).toEqual([
        [["require_verified", "", `an attestation of workflow "test" names ${TESTED} but none is verified by a registered key; push one signed with a registered key (chainloop key list)`]],
        [["require_workflow", "test", `no attestation of workflow "test" names ${UNTESTED} as a subject; push one signed with a registered key (chainloop attestation push)`]],
      ]);
      await setPolicy({ requireVerified: true });
      expect(await judge([BARE, NEVER_ATTESTED])).toEqual([
        [["require_verified", "", `an attestation names ${BARE} as a subject but none is verified by a registered key; push one signed with a registered key (chainloop key list)`]],
        [["require_verified", "", `no attestation names ${NEVER_ATTESTED} as a subject; push one signed with a registered key (chainloop attestation push)`]],
      ]);

      // A registered key (from now on the organization takes signed evidence only) and a DSSE envelope it signs, of workflow "test", naming TESTED and SIGNED.
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      await uc.keys.create(orgId, { name: "ci", publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() }, admin);
      const payload = Buffer.from(JSON.stringify(statementFor([TESTED, SIGNED], { signed: true })));
      const type = "application/vnd.in-toto+json";
      const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
      const pushed = await push(
        { payloadType: type, payload: payload.toString("base64"), signatures: [{ keyid: "", sig: sign("sha256", pae, privateKey).toString("base64") }] },
        "test",
      );
      expect(pushed.attestation.verified).toBe(true);

      expect(await judge([TESTED, SIGNED, BARE])).toEqual([
        [],
        [],
        [["require_verified", "", expect.stringMatching(/but none is verified/)]],
      ]);
      await setPolicy({ requireWorkflows: ["test"], requireVerified: true });
      expect(await judge([TESTED, SIGNED])).toEqual([[], []]);
      // The signed one is a "test" attestation with the minimal predicate type, not SLSA: SIGNED
      // has no SLSA attestation; TESTED's SLSA one (workflow "release") is unsigned.
      await setPolicy({ requirePredicateTypes: [SLSA], requireVerified: true });
      expect(await judge([TESTED, SIGNED])).toEqual([
        [["require_verified", "", `an attestation with predicate type "${SLSA}" names ${TESTED} but none is verified by a registered key; push one signed with a registered key (chainloop key list)`]],
        [["require_predicate_type", SLSA, expect.stringMatching(/^no attestation with predicate type .* push one signed with a registered key/)]],
      ]);
    });
  });
});
