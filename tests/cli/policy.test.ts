// `chainloop policy set | get | list | clear`, `deployment check`, and what a promotion policy
// does to `deployment record` (the unmet rules listed; --override-reason): the real CLI process
// against a real server (one database backend: clientBackends). Whether the rules hold is the
// server's business (tests/integration/policies.test.ts); here: what the CLI sends, prints and
// exits with, and that a check writes nothing.
import { clientBackends } from "../helpers/backends.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { TEST_ADMIN_TOKEN } from "../helpers/server.js";
import { expectOneErrorLine, expectUsageError, parseFields, parseTable } from "./parse-output.js";
import { runCli, type CliResult } from "./run-cli.js";

const IN_STAGING = `sha256:${"51".repeat(32)}`; // attested; recorded in staging by the tests
const NOWHERE = `sha256:${"52".repeat(32)}`; // attested; never recorded anywhere
const NO_EVIDENCE = `sha256:${"53".repeat(32)}`; // never attested
const short = (digest: string) => digest.slice(0, "sha256:".length + 12);
const OVERRIDE_HINT = 'to record it anyway (break glass), an admin-scoped token can add --override-reason "<why>"';
const ISO_AGO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z \((just now|\d{1,2}s ago)\)$/;

interface PolicyJson {
  logicalEnvironment: string;
  requireDeployedIn: Array<{ logicalEnvironment: string; environment: string; soak?: string }>;
  requireWorkflows: string[];
  requirePredicateTypes: string[];
  requireVerified: boolean;
  version: string;
  updateTime: string;
  updatedBy: { tokenId: string; tokenName: string };
}

describe.each(clientBackends())("chainloop policy and deployment check on %s", (backend) => {
  const served = serveFor(backend);
  let writeToken: string;
  const as = (token: string, ...args: string[]) => runCli(args, { CHAINLOOP_SERVER: served.url, CHAINLOOP_TOKEN: token });
  const chainloop = (...args: string[]) => as(TEST_ADMIN_TOKEN, ...args);
  const slot = (lenv: string, digest: string, env = "k8s-east") =>
    ["--env", env, "--logical-env", lenv, "--deployment-name", "api", "--kind", "CONTAINER_IMAGE", "--digest", digest];
  /** Every record ever made in a logical environment, as JSON. */
  const history = async (lenv: string) => {
    const res = await chainloop("deployment", "list", "--logical-env", lenv, "--history", "--all", "-o", "json");
    expect(res.code).toBe(0);
    return JSON.parse(res.stdout) as Array<{ id: string; digest: string; lastSeenTime: string; overrideReason: string }>;
  };
  const ok = (res: CliResult) => expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });

  beforeAll(async () => {
    await attest(served.url, [IN_STAGING, NOWHERE], { workflow: "build" });
    expect((await chainloop("environment", "create", "--name", "k8s-east")).code).toBe(0);
    const token = await chainloop("token", "create", "--name", "ci", "--scope", "write", "-o", "json");
    expect(token.code).toBe(0);
    writeToken = (JSON.parse(token.stdout) as { secret: string }).secret;
  });

  it("set, get, list and clear: one line per rule, the version, who set it; -o json as the API's", async () => {
    const none = await chainloop("policy", "list");
    expect(none).toEqual({
      code: 0,
      stdout: "LOGICAL ENV   RULE   VERSION   UPDATED   UPDATED BY\n",
      stderr: "no promotion policies: every logical environment takes any digest that has evidence\n",
    });
    expect(JSON.parse((await chainloop("policy", "list", "-o", "json")).stdout)).toEqual([]);

    const set = await chainloop(
      "policy", "set", "--logical-env", "production",
      "--require-deployed-in", "staging", "--require-deployed-in", "k8s-east/development", "--soak", "1h30m",
      "--require-workflow", "test", "--require-workflow", "build",
      "--require-predicate-type", "https://slsa.dev/provenance/v1", "--require-verified",
    );
    ok(set);
    const fields = parseFields(set.stdout);
    expect(fields).toEqual({
      "Logical environment": "production",
      "Rule 1": "deployed in staging (any environment) for at least 1h30m",
      "Rule 2": "deployed in k8s-east/development for at least 1h30m",
      "Rule 3": "attestation from workflow test",
      "Rule 4": "attestation from workflow build",
      "Rule 5": "attestation of predicate type https://slsa.dev/provenance/v1",
      "Rule 6": "verified by a registered key",
      Version: "1",
      Updated: expect.stringMatching(ISO_AGO),
      "Updated by": "bootstrap-admin",
    });

    const get = await chainloop("policy", "get", "--logical-env", "production");
    ok(get);
    // The same policy, at the same time; its "(just now)" may read "(1s ago)" a call later.
    const atTime = (f: Record<string, string>) => ({ ...f, Updated: f.Updated.split(" ")[0] });
    expect(atTime(parseFields(get.stdout))).toEqual(atTime(fields));
    const json = await chainloop("policy", "get", "--logical-env", "production", "-o", "json");
    ok(json);
    const policy = JSON.parse(json.stdout) as PolicyJson;
    expect(policy).toEqual({
      logicalEnvironment: "production",
      requireDeployedIn: [
        { logicalEnvironment: "staging", environment: "", soak: "5400s" },
        { logicalEnvironment: "development", environment: "k8s-east", soak: "5400s" },
      ],
      requireWorkflows: ["test", "build"],
      requirePredicateTypes: ["https://slsa.dev/provenance/v1"],
      requireVerified: true,
      version: "1",
      updateTime: expect.any(String),
      updatedBy: { tokenId: expect.any(String), tokenName: "bootstrap-admin" },
    });

    // Set replaces the whole policy: the rules not given again are gone; the version grows.
    const replaced = await chainloop("policy", "set", "--logical-env", "production", "--require-deployed-in", "staging", "-o", "json");
    ok(replaced);
    expect(JSON.parse(replaced.stdout)).toMatchObject({
      logicalEnvironment: "production",
      requireDeployedIn: [{ logicalEnvironment: "staging", environment: "" }],
      requireWorkflows: [],
      requirePredicateTypes: [],
      requireVerified: false,
      version: "2",
    });
    ok(await chainloop("policy", "set", "--logical-env", "staging", "--require-workflow", "build", "--require-verified"));

    const list = await chainloop("policy", "list");
    ok(list);
    const table = parseTable(list.stdout);
    expect(table.headers).toEqual(["LOGICAL ENV", "RULE", "VERSION", "UPDATED", "UPDATED BY"]);
    expect(table.rows.map((r) => [r["LOGICAL ENV"], r.RULE, r.VERSION, r["UPDATED BY"]])).toEqual([
      ["production", "deployed in staging (any environment)", "2", "bootstrap-admin"],
      ["staging", "attestation from workflow build", "1", "bootstrap-admin"],
      ["", "verified by a registered key", "", ""],
    ]);
    const listed = JSON.parse((await chainloop("policy", "list", "-o", "json")).stdout) as PolicyJson[];
    expect(listed.map((p) => [p.logicalEnvironment, p.version])).toEqual([
      ["production", "2"],
      ["staging", "1"],
    ]);

    const clear = await chainloop("policy", "clear", "--logical-env", "staging");
    expect(clear).toEqual({ code: 0, stdout: "promotion policy of staging removed: records there are no longer checked\n", stderr: "" });
    expectOneErrorLine(await chainloop("policy", "get", "--logical-env", "staging"), /^chainloop: not_found: .*staging/);
    expectOneErrorLine(await chainloop("policy", "clear", "--logical-env", "staging"), /^chainloop: not_found: .*staging/);
    expect((JSON.parse((await chainloop("policy", "list", "-o", "json")).stdout) as PolicyJson[]).map((p) => p.logicalEnvironment)).toEqual([
      "production",
    ]);
    // Changing a policy needs the admin scope; reading it does not.
    expectOneErrorLine(await as(writeToken, "policy", "set", "--logical-env", "staging", "--require-verified"), /^chainloop: permission_denied: /);
    expect((await as(writeToken, "policy", "get", "--logical-env", "production")).code).toBe(0);
  });

  it("a refused record lists every unmet rule and writes nothing; check says the same with exit 3", async () => {
    ok(await chainloop("policy", "set", "--logical-env", "production", "--require-deployed-in", "staging", "--require-workflow", "release"));

    const record = await chainloop("deployment", "record", ...slot("production", NOWHERE));
    expect({ code: record.code, stdout: record.stdout }).toEqual({ code: 1, stdout: "" });
    const lines = record.stderr.trimEnd().split("\n");
    expect(lines).toEqual([
      "chainloop: failed_precondition: the promotion policy of production is not met (2 unmet rules):",
      expect.stringMatching(/^ {2}- require_deployed_in staging: \S.*staging/),
      expect.stringMatching(/^ {2}- require_workflow release: \S.*release/),
      `chainloop: ${OVERRIDE_HINT}`,
    ]);

    const check = await chainloop("deployment", "check", ...slot("production", NOWHERE));
    expect({ code: check.code, stderr: check.stderr }).toEqual({ code: 3, stderr: "" });
    // The same rules, formatted the same way.
    expect(check.stdout).toBe(
      [`refused (failed_precondition): the promotion policy of production is not met (2 unmet rules):`, lines[1], lines[2], OVERRIDE_HINT, ""].join("\n"),
    );

    const json = await chainloop("deployment", "check", ...slot("production", NOWHERE), "-o", "json");
    expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 3, stderr: "" });
    const refusal = JSON.parse(json.stdout) as { allowed: boolean; code: string; message: string; violations: Array<Record<string, string>> };
    expect(refusal).toEqual({
      allowed: false,
      code: "failed_precondition",
      message: expect.stringContaining("release"),
      violations: [
        { rule: "require_deployed_in", subject: "staging", description: lines[1]!.replace(/^ {2}- require_deployed_in staging: /, "") },
        { rule: "require_workflow", subject: "release", description: lines[2]!.replace(/^ {2}- require_workflow release: /, "") },
      ],
    });
    expect(await history("production")).toEqual([]);
  });

  it("an allowed check says what recording would do, exits 0 and writes nothing; unknown places and missing evidence exit 3", async () => {
    ok(await chainloop("policy", "set", "--logical-env", "production", "--require-deployed-in", "staging"));
    const staged = await chainloop("deployment", "record", ...slot("staging", IN_STAGING));
    ok(staged);
    const [staging] = await history("staging");

    const check = await chainloop("deployment", "check", ...slot("production", IN_STAGING));
    expect(check).toEqual({ code: 0, stdout: `allowed (created): api in k8s-east/production would run ${short(IN_STAGING)}\n`, stderr: "" });
    const json = await chainloop("deployment", "check", ...slot("production", IN_STAGING), "-o", "json");
    ok(json);
    expect(JSON.parse(json.stdout)).toMatchObject({
      outcome: "RECORD_OUTCOME_CREATED",
      deployment: { id: "", digest: IN_STAGING, environment: "k8s-east", logicalEnvironment: "production", deploymentName: "api" },
      policyViolations: [],
      policyOverridden: false,
    });
    expect(await history("production")).toEqual([]);

    // A heartbeat check moves nothing: the record's last seen stays as it was.
    const beat = await chainloop("deployment", "check", ...slot("staging", IN_STAGING));
    expect(beat).toEqual({
      code: 0,
      stdout: `allowed (heartbeat): api in k8s-east/staging already runs ${short(IN_STAGING)}; recording it would only update its last seen (record ${staging!.id})\n`,
      stderr: "",
    });
    const decommission = await chainloop("deployment", "check", ...slot("staging", IN_STAGING), "--status", "decommissioned");
    expect(decommission).toMatchObject({ code: 0, stdout: `allowed (decommissioned): ${short(IN_STAGING)} would no longer run as api in k8s-east/staging (record ${staging!.id})\n` });
    expect(await history("staging")).toEqual([staging]);

    // Refusals that are not the policy's: the server's own words, exit 3.
    const unknown = await chainloop("deployment", "check", ...slot("production", IN_STAGING, "k8s-nowhere"));
    expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({ code: 3, stderr: "" });
    expect(unknown.stdout).toMatch(/^refused \(not_found\): .*k8s-nowhere.*\n$/);
    const unattested = await chainloop("deployment", "check", ...slot("staging", NO_EVIDENCE), "-o", "json");
    expect({ code: unattested.code, stderr: unattested.stderr }).toEqual({ code: 3, stderr: "" });
    expect(JSON.parse(unattested.stdout)).toEqual({ allowed: false, code: "failed_precondition", message: expect.any(String), violations: [] });

    // Errors that are not answers about the record keep their exit codes.
    expectOneErrorLine(
      await as("clp_wrong00000000000000000000000000000000", "deployment", "check", ...slot("production", IN_STAGING)),
      /^chainloop: unauthenticated: /,
    );
    expectOneErrorLine(
      await runCli(["deployment", "check", ...slot("production", IN_STAGING)], { CHAINLOOP_SERVER: "http://127.0.0.1:1", CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN }),
      /^chainloop: cannot reach the server at http:\/\/127\.0\.0\.1:1 /,
    );
  });

  it("--override-reason: an admin records past the policy and the reason is stored; a write token is refused", async () => {
    ok(await chainloop("policy", "set", "--logical-env", "production", "--require-deployed-in", "staging"));
    const reason = "hotfix for INC-42, approved by on-call";

    const check = await chainloop("deployment", "check", ...slot("production", NOWHERE), "--override-reason", reason);
    ok(check);
    const checked = check.stdout.trimEnd().split("\n");
    expect(checked).toEqual([
      `allowed (created): api in k8s-east/production would run ${short(NOWHERE)}`,
      "policy overridden: the promotion policy of production is not met (1 unmet rule); --override-reason would record it anyway, storing the reason on the record:",
      expect.stringMatching(/^ {2}- require_deployed_in staging: \S/),
    ]);
    expect(await history("production")).toEqual([]);

    const denied = await as(writeToken, "deployment", "record", ...slot("production", NOWHERE), "--override-reason", reason);
    expectOneErrorLine(denied, /^chainloop: permission_denied: .*/);
    expect(await history("production")).toEqual([]);

    const record = await chainloop("deployment", "record", ...slot("production", NOWHERE), "--override-reason", reason);
    ok(record);
    const recorded = record.stdout.trimEnd().split("\n");
    expect(recorded).toEqual([
      expect.stringMatching(new RegExp(`^created: api in k8s-east/production runs ${short(NOWHERE)} .*\\(record [0-9a-f-]{36}\\)$`)),
      "policy overridden: the promotion policy of production is not met (1 unmet rule); recorded anyway, with the --override-reason stored on the record and audited:",
      checked[2],
    ]);
    const [stored] = await history("production");
    expect(stored).toMatchObject({ digest: NOWHERE, overrideReason: reason });
    const describe = await chainloop("deployment", "describe", stored!.id);
    ok(describe);
    expect(parseFields(describe.stdout)["Policy overridden"]).toBe(reason);

    // A record that meets the policy needs no override: the reason is not used, and the CLI says so.
    const met = await chainloop("deployment", "record", ...slot("production", IN_STAGING), "--override-reason", reason);
    expect(met.code).toBe(0);
    expect(met.stdout).toMatch(/^superseded /);
    expect(met.stderr).toBe(
      "chainloop: note: --override-reason was not used: the record meets the promotion policy (or needs none), so nothing was overridden\n",
    );
  });

  it("usage errors exit 2 before any call", async () => {
    const set = ["policy", "set", "--logical-env", "production"];
    expectUsageError(
      await chainloop(...set, "--soak", "1h", "--require-workflow", "test"),
      "--soak applies to the --require-deployed-in rules: give at least one --require-deployed-in with it",
    );
    expectUsageError(
      await chainloop(...set),
      "Give at least one rule: --require-deployed-in, --require-workflow, --require-predicate-type or --require-verified (to remove a policy: chainloop policy clear)",
    );
    expectUsageError(
      await chainloop(...set, "--require-deployed-in", "k8s-east/staging@3h"),
      '--require-deployed-in must be LENV (a logical environment, in any environment) or ENV/LENV (in that environment only), got "k8s-east/staging@3h"',
    );
    expectUsageError(await chainloop(...set, "--require-deployed-in", "staging", "--soak", "soon"), '--soak must be a duration such as 30s, 90m, 12h, 30d, 2w or 1h30m, got "soon"');
    expectUsageError(await chainloop("policy", "get"), "Missing required argument: logical-env");
    expectUsageError(
      await chainloop("deployment", "check", ...slot("production", NOWHERE), "--override-reason", "  "),
      '--override-reason must say why the promotion policy is overridden, e.g. --override-reason "hotfix for INC-123, approved by on-call"',
    );
    expectUsageError(await chainloop("deployment", "check", ...slot("production", "sha256:abc")), 'invalid --digest: digest "sha256:abc" has 3 hex digits; sha256 needs 64');
    // Nothing reached the server: production still has the policy of the previous test.
    expect(JSON.parse((await chainloop("policy", "get", "--logical-env", "production", "-o", "json")).stdout)).toMatchObject({
      requireDeployedIn: [{ logicalEnvironment: "staging" }],
      requireWorkflows: [],
    });
  });
});
