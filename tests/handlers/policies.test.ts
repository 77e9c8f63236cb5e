// PromotionPolicyService through the real routes and interceptors, on in-memory repositories
// (tests/helpers/handler-router.ts, tests/helpers/memory/policies.ts): set, replace, list and
// delete with their versions; the token scopes of each method; every malformed policy refused
// with INVALID_ARGUMENT and every unknown name with NOT_FOUND, each with its message, and nothing
// changed by a refusal (neither the policies nor the audit trail). What needs a database or the
// wire (concurrent sets, what deleting environments does to policies, the evaluation, one
// refusal of each kind through a server) stays in tests/integration/policies.test.ts.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { PromotionPolicyService, type SetPromotionPolicyRequestSchema } from "../../gen/proto/chainloop/v1/policy_pb.js";
import { codeOf, failure } from "../helpers/facts.js";
import { DAY, FULL_POLICY, HOUR, SLSA, soak } from "../helpers/policies.js";
import { handlerRouter, ORG, OTHER_ORG } from "../helpers/handler-router.js";

type PolicyInit = MessageInitShape<typeof SetPromotionPolicyRequestSchema>["policy"];

const full = FULL_POLICY;

describe("PromotionPolicyService (handlers, in memory)", () => {
  let router: ReturnType<typeof handlerRouter>;
  let policies: ReturnType<typeof router.client<typeof PromotionPolicyService>>;

  /** The organization's policies as stored, and the policy entries of the audit trail. */
  const state = async () => ({
    policies: await router.repos.policies.policiesOf(ORG),
    audit: router.audit.entries.filter((e) => e.action.startsWith("policy.")).map((e) => `${e.action} ${e.resourceName} ${e.actor?.tokenName}`),
  });

  beforeEach(async () => {
    router = handlerRouter();
    const admin = await router.mint("admin", { name: "policy-admin" });
    policies = router.client(PromotionPolicyService, admin);
    const environments = router.client(EnvironmentService, admin);
    for (const name of ["k8s-east", "k8s-west"]) await environments.createEnvironment({ name });
    for (const name of ["qa", "canary"]) await environments.createLogicalEnvironment({ name });
  });

  it("sets a policy at version 1 with who and when, replaces it whole one version up, lists by name, and starts again at 1 after a delete", async () => {
    const before = Date.now();
    const created = (await policies.setPromotionPolicy({ policy: full })).policy!;
    expect(created.version).toBe(1n);
    expect(created.updatedBy?.tokenName).toBe("policy-admin");
    const at = Number(created.updateTime!.seconds) * 1000;
    expect(at).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(at).toBeLessThanOrEqual(Date.now());
    expect(created.requireDeployedIn.map((r) => [r.logicalEnvironment, r.environment, r.soak?.seconds])).toEqual([
      ["staging", "", 3600n],
      ["qa", "k8s-east", undefined],
      ["staging", "k8s-west", BigInt((366 * DAY) / 1000)],
    ]);
    expect((await policies.getPromotionPolicy({ logicalEnvironment: "production" })).policy).toEqual(created);

    const replaced = (await policies.setPromotionPolicy({ policy: { logicalEnvironment: "production", requireWorkflows: ["deploy"] } })).policy!;
    expect(replaced.version).toBe(2n);
    expect([replaced.requireDeployedIn, replaced.requireWorkflows, replaced.requirePredicateTypes, replaced.requireVerified]).toEqual([[], ["deploy"], [], false]);
    expect((await policies.getPromotionPolicy({ logicalEnvironment: "production" })).policy).toEqual(replaced);

    await policies.setPromotionPolicy({ policy: { logicalEnvironment: "staging", requireDeployedIn: [{ logicalEnvironment: "development" }] } });
    await policies.setPromotionPolicy({ policy: { logicalEnvironment: "canary", requireVerified: true } });
    expect((await policies.listPromotionPolicies({})).policies.map((p) => [p.logicalEnvironment, p.version])).toEqual([
      ["canary", 1n],
      ["production", 2n],
      ["staging", 1n],
    ]);

    await policies.deletePromotionPolicy({ logicalEnvironment: "staging" });
    const none = { code: Code.NotFound, message: "logical environment staging has no promotion policy" };
    expect(await failure(policies.getPromotionPolicy({ logicalEnvironment: "staging" }))).toEqual(none);
    expect(await failure(policies.deletePromotionPolicy({ logicalEnvironment: "staging" }))).toEqual(none);
    expect((await policies.setPromotionPolicy({ policy: { logicalEnvironment: "staging", requireWorkflows: ["build"] } })).policy!.version).toBe(1n);

    // Another organization has none of them.
    const theirs = router.client(PromotionPolicyService, await router.mint("admin", { orgId: OTHER_ORG }));
    expect((await theirs.listPromotionPolicies({})).policies).toEqual([]);
    expect(await codeOf(theirs.getPromotionPolicy({ logicalEnvironment: "production" }))).toBe(Code.NotFound);

    expect((await state()).audit).toEqual([
      "policy.set production policy-admin",
      "policy.set production policy-admin",
      "policy.set staging policy-admin",
      "policy.set canary policy-admin",
      "policy.delete staging policy-admin",
      "policy.set staging policy-admin",
    ]);
  });

  it("lets read tokens get and list, and refuses set and delete to read and write tokens, changing nothing", async () => {
    await policies.setPromotionPolicy({ policy: full });
    await policies.setPromotionPolicy({ policy: { logicalEnvironment: "staging", requireDeployedIn: [{ logicalEnvironment: "development" }] } });
    await policies.setPromotionPolicy({ policy: { logicalEnvironment: "canary", requireVerified: true } });
    const readPolicies = router.client(PromotionPolicyService, await router.mint("read"));
    const writePolicies = router.client(PromotionPolicyService, await router.mint("write"));
    const stored = await state();

    const before = (await policies.getPromotionPolicy({ logicalEnvironment: "production" })).policy;
    expect((await readPolicies.getPromotionPolicy({ logicalEnvironment: "production" })).policy).toEqual(before);
    expect((await readPolicies.listPromotionPolicies({})).policies.map((p) => p.logicalEnvironment)).toEqual(["canary", "production", "staging"]);
    for (const client of [readPolicies, writePolicies]) {
      const setRefused = await failure(client.setPromotionPolicy({ policy: { logicalEnvironment: "production", requireVerified: true } }));
      expect(setRefused.code).toBe(Code.PermissionDenied);
      expect(setRefused.message).toMatch(/admin scope/);
      expect((await failure(client.deletePromotionPolicy({ logicalEnvironment: "production" }))).code).toBe(Code.PermissionDenied);
    }
    expect((await policies.getPromotionPolicy({ logicalEnvironment: "production" })).policy).toEqual(before);
    expect(await state()).toEqual(stored);
  });

  it("refuses malformed policies with INVALID_ARGUMENT and unknown names with NOT_FOUND, changing nothing", async () => {
    await policies.setPromotionPolicy({ policy: full });
    await policies.setPromotionPolicy({ policy: { logicalEnvironment: "staging", requireWorkflows: ["build"] } });
    const stored = await state();

    const p = (extra: Record<string, unknown>) => ({ logicalEnvironment: "production", requireVerified: true, ...extra });
    const cases: Array<[string, PolicyInit, Code, RegExp]> = [
      ["no policy at all", undefined, Code.InvalidArgument, /policy\.logical_environment is required/],
      ["a malformed logical environment", p({ logicalEnvironment: "Prod!" }), Code.InvalidArgument, /policy\.logical_environment "Prod!" is not a valid name/],
      ["no rule", { logicalEnvironment: "production" }, Code.InvalidArgument, /no rule.*use DeletePromotionPolicy to remove a policy/],
      ["an unknown logical environment", p({ logicalEnvironment: "nope" }), Code.NotFound, /logical environment "nope" not found/],
      ["a rule's unknown logical environment", p({ requireDeployedIn: [{ logicalEnvironment: "uat" }] }), Code.NotFound, /require_deployed_in\[0\]\.logical_environment: logical environment "uat" not found/],
      ["a rule's unknown environment", p({ requireDeployedIn: [{ logicalEnvironment: "staging", environment: "k8s-north" }] }), Code.NotFound, /require_deployed_in\[0\]\.environment: environment "k8s-north" not found/],
      ["a rule naming the guarded logical environment", p({ requireDeployedIn: [{ logicalEnvironment: "production" }] }), Code.InvalidArgument, /names production, the logical environment the policy guards/],
      ["a negative soak", p({ requireDeployedIn: [{ logicalEnvironment: "staging", soak: create(DurationSchema, { seconds: -1n }) }] }), Code.InvalidArgument, /require_deployed_in\[0\]\.soak must be whole milliseconds from 0 to 366 days/],
      ["a soak over 366 days", p({ requireDeployedIn: [{ logicalEnvironment: "staging", soak: soak(366 * DAY + 1) }] }), Code.InvalidArgument, /soak must be whole milliseconds from 0 to 366 days/],
      ["a fraction of a millisecond", p({ requireDeployedIn: [{ logicalEnvironment: "staging", soak: create(DurationSchema, { seconds: 60n, nanos: 500 }) }] }), Code.InvalidArgument, /soak must be whole milliseconds/],
      ["the same place twice", p({ requireDeployedIn: [{ logicalEnvironment: "staging" }, { logicalEnvironment: "qa" }, { logicalEnvironment: "staging", soak: soak(HOUR) }] }), Code.InvalidArgument, /require_deployed_in\[2\] repeats require_deployed_in\[0\] \(staging in any environment\)/],
      ["a malformed workflow", p({ requireWorkflows: ["build", "Build Me"] }), Code.InvalidArgument, /policy\.require_workflows\[1\] "Build Me" is not a valid name/],
      ["a duplicate workflow", p({ requireWorkflows: ["build", "test", "build"] }), Code.InvalidArgument, /require_workflows\[2\] repeats policy\.require_workflows\[0\]/],
      ["an empty predicate type", p({ requirePredicateTypes: [""] }), Code.InvalidArgument, /require_predicate_types\[0\] is empty/],
      ["a control character in a predicate type", p({ requirePredicateTypes: ["https://x.dev/a\nb"] }), Code.InvalidArgument, /must not contain control characters/],
      ["a predicate type over 1024 characters", p({ requirePredicateTypes: [`https://x.dev/${"a".repeat(1011)}`] }), Code.InvalidArgument, /1025 characters long; the limit is 1024/],
      ["a duplicate predicate type", p({ requirePredicateTypes: [SLSA, SLSA] }), Code.InvalidArgument, /require_predicate_types\[1\] repeats/],
      ["17 workflows", p({ requireWorkflows: Array.from({ length: 17 }, (_, i) => `w${i}`) }), Code.InvalidArgument, /require_workflows has 17 rules; a policy may have at most 16 of each kind/],
      ["17 places", p({ requireDeployedIn: Array.from({ length: 17 }, () => ({ logicalEnvironment: "staging" })) }), Code.InvalidArgument, /require_deployed_in has 17 rules/],
    ];
    const outcomes = [];
    for (const [what, policy, , message] of cases) {
      const f = await failure(policies.setPromotionPolicy({ policy }));
      outcomes.push([what, f.code, message.test(f.message) ? "message ok" : f.message]);
    }
    expect(outcomes).toEqual(cases.map(([what, , code]) => [what, code, "message ok"]));

    expect((await failure(policies.getPromotionPolicy({ logicalEnvironment: "" }))).code).toBe(Code.InvalidArgument);
    expect(await failure(policies.getPromotionPolicy({ logicalEnvironment: "development" }))).toEqual({
      code: Code.NotFound,
      message: "logical environment development has no promotion policy",
    });
    expect(await failure(policies.getPromotionPolicy({ logicalEnvironment: "nope" }))).toMatchObject({
      code: Code.NotFound,
      message: expect.stringMatching(/logical environment "nope" not found/),
    });
    expect((await failure(policies.deletePromotionPolicy({ logicalEnvironment: "nope" }))).code).toBe(Code.NotFound);
    expect((await failure(policies.deletePromotionPolicy({ logicalEnvironment: "" }))).code).toBe(Code.InvalidArgument);
    // Nothing changed: the same policies at the same versions, no audit entry.
    expect(await state()).toEqual(stored);

    // The limits themselves are accepted.
    const sixteen = Array.from({ length: 16 }, (_, i) => `w${i}`);
    const atLimit = (
      await policies.setPromotionPolicy({
        policy: { logicalEnvironment: "canary", requireWorkflows: sixteen, requirePredicateTypes: [`https://x.dev/${"a".repeat(1010)}`] },
      })
    ).policy!;
    expect(atLimit.requireWorkflows).toEqual(sixteen);
    expect(atLimit.requirePredicateTypes[0]).toHaveLength(1024);
    const year = (await policies.setPromotionPolicy({ policy: p({ requireDeployedIn: [{ logicalEnvironment: "staging", soak: soak(366 * DAY) }] }) })).policy!;
    expect(year.requireDeployedIn[0]?.soak?.seconds).toBe(BigInt((366 * DAY) / 1000));
  });
});
