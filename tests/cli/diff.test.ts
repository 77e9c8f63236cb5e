// `chainloop deployment diff`: the real CLI process against a real server (one database backend:
// clientBackends) — exit 0 when the places are identical and 3 when they differ (in both output
// formats), the summary line and table, -o json as the API's JSON, --differences-only, places
// with a logical environment only, `@3h` and --at, and the errors (usage: 2, server: 1). The
// RPC's rules are in tests/integration/diff.test.ts.
import { clientBackends } from "../helpers/backends.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { TEST_ADMIN_TOKEN } from "../helpers/server.js";
import { expectOneErrorLine, expectUsageError, parseTable } from "./parse-output.js";
import { runCli, type CliResult } from "./run-cli.js";

const API1 = `sha256:${"a1".repeat(32)}`;
const API2 = `sha256:${"a2".repeat(32)}`;
const WEB1 = `sha256:${"b1".repeat(32)}`;
const WORKER1 = `sha256:${"c1".repeat(32)}`;
const short = (digest: string) => digest.slice(0, "sha256:".length + 12);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

interface DiffJson {
  entries: Array<{
    environment: string;
    logicalEnvironment: string;
    deploymentName: string;
    kind: string;
    state: string;
    fromDeployment?: { digest: string; project: string; projectVersion: string };
    toDeployment?: { digest: string; project: string; projectVersion: string };
  }>;
  sameCount: number;
  differentCount: number;
  onlyInFromCount: number;
  onlyInToCount: number;
  identical: boolean;
}

describe.each(clientBackends())("chainloop deployment diff on %s", (backend) => {
  const served = serveFor(backend);
  const chainloop = (...args: string[]) => runCli(args, { CHAINLOOP_SERVER: served.url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN });
  /** The summary line, then the table. */
  const parse = (res: CliResult) => {
    const [summary, ...rest] = res.stdout.split("\n");
    return { summary, table: rest.join("\n").trim() ? parseTable(rest.join("\n")) : { headers: [], rows: [] } };
  };

  beforeAll(async () => {
    await attest(served.url, [API1], { project: "api", version: "v1" });
    await attest(served.url, [API2], { project: "api", version: "v2" });
    await attest(served.url, [WEB1], { project: "web", version: "1.0" });
    await attest(served.url, [WORKER1], { project: "worker" });
    expect((await chainloop("environment", "create", "--name", "k8s-east")).code).toBe(0);
    const record = async (lenv: string, name: string, digest: string) =>
      expect((await chainloop("deployment", "record", "--env", "k8s-east", "--logical-env", lenv, "--deployment-name", name, "--kind", "CONTAINER_IMAGE", "--digest", digest)).code).toBe(0);
    await record("staging", "api", API2);
    await record("staging", "web", WEB1);
    for (const lenv of ["production", "development"]) {
      await record(lenv, "api", API1);
      await record(lenv, "web", WEB1);
      await record(lenv, "worker", WORKER1);
    }
  });

  it("exits 0 when the places are identical, with a summary and every deployment", async () => {
    const res = await chainloop("deployment", "diff", "--from", "k8s-east/production", "--to", "k8s-east/development");
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });
    const { summary, table } = parse(res);
    expect(summary).toBe("k8s-east/production → k8s-east/development: identical (3 same)");
    expect(table.headers).toEqual(["STATE", "DEPLOYMENT", "KIND", "FROM", "TO"]);
    expect(table.rows.map((r) => [r.STATE, r.DEPLOYMENT, r.FROM, r.TO])).toEqual([
      ["same", "api", `${short(API1)} (api v1)`, `${short(API1)} (api v1)`],
      ["same", "web", `${short(WEB1)} (web 1.0)`, `${short(WEB1)} (web 1.0)`],
      ["same", "worker", `${short(WORKER1)} (worker)`, `${short(WORKER1)} (worker)`],
    ]);
  });

  it("exits 3 when they differ: each state with both digests and versions", async () => {
    const res = await chainloop("deployment", "diff", "--from", "k8s-east/staging", "--to", "k8s-east/production");
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 3, stderr: "" });
    const { summary, table } = parse(res);
    expect(summary).toBe("k8s-east/staging → k8s-east/production: 1 different, 0 only in from, 1 only in to, 1 same");
    expect(table.rows).toEqual([
      { STATE: "different", DEPLOYMENT: "api", KIND: "CONTAINER_IMAGE", FROM: `${short(API2)} (api v2)`, TO: `${short(API1)} (api v1)` },
      { STATE: "same", DEPLOYMENT: "web", KIND: "CONTAINER_IMAGE", FROM: `${short(WEB1)} (web 1.0)`, TO: `${short(WEB1)} (web 1.0)` },
      { STATE: "only in to", DEPLOYMENT: "worker", KIND: "CONTAINER_IMAGE", FROM: "-", TO: `${short(WORKER1)} (worker)` },
    ]);

    const only = await chainloop("deployment", "diff", "--from", "k8s-east/staging", "--to", "k8s-east/production", "--differences-only");
    expect(only.code).toBe(3);
    expect(parse(only).summary).toBe(summary);
    expect(parse(only).table.rows.map((r) => r.STATE)).toEqual(["different", "only in to"]);
  });

  it("-o json prints the API's response, and exits 0 or 3 the same way", async () => {
    const res = await chainloop("deployment", "diff", "--from", "k8s-east/staging", "--to", "k8s-east/production", "-o", "json", "--differences-only");
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 3, stderr: "" });
    const json = JSON.parse(res.stdout) as DiffJson;
    expect(json).toMatchObject({ sameCount: 1, differentCount: 1, onlyInFromCount: 0, onlyInToCount: 1, identical: false });
    expect(json.entries.map((e) => [e.state, e.environment, e.logicalEnvironment, e.deploymentName, e.kind])).toEqual([
      ["DIFF_STATE_DIFFERENT", "", "", "api", "ARTIFACT_KIND_CONTAINER_IMAGE"],
      ["DIFF_STATE_ONLY_IN_TO", "", "", "worker", "ARTIFACT_KIND_CONTAINER_IMAGE"],
    ]);
    expect(json.entries[0]!.fromDeployment).toMatchObject({ digest: API2, project: "api", projectVersion: "v2" });
    expect(json.entries[0]!.toDeployment).toMatchObject({ digest: API1, project: "api", projectVersion: "v1" });
    expect(json.entries[1]!.fromDeployment).toBeUndefined();

    const same = await chainloop("deployment", "diff", "--from", "k8s-east/production", "--to", "k8s-east/development", "-o", "json");
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout)).toMatchObject({ sameCount: 3, differentCount: 0, onlyInFromCount: 0, onlyInToCount: 0, identical: true });
  });

  it("compares a stage in every environment: the environment is a column", async () => {
    const res = await chainloop("deployment", "diff", "--from", "/staging", "--to", "/production", "--differences-only");
    expect(res.code).toBe(3);
    const { summary, table } = parse(res);
    expect(summary).toBe("/staging → /production: 1 different, 0 only in from, 1 only in to, 1 same");
    expect(table.headers).toEqual(["STATE", "ENVIRONMENT", "DEPLOYMENT", "KIND", "FROM", "TO"]);
    expect(table.rows.map((r) => [r.STATE, r.ENVIRONMENT, r.DEPLOYMENT])).toEqual([
      ["different", "k8s-east", "api"],
      ["only in to", "k8s-east", "worker"],
    ]);
  });

  it("@3h and --at compare what ran then (nothing, 3 hours before this test)", async () => {
    const res = await chainloop("deployment", "diff", "--from", "k8s-east/staging@3h", "--to", "k8s-east/staging");
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 3, stderr: "" });
    const { summary, table } = parse(res);
    const [, at] = /^k8s-east\/staging@(\S+) → k8s-east\/staging: 0 different, 0 only in from, 2 only in to, 0 same$/.exec(summary!) ?? [];
    expect(at).toMatch(ISO_TIME);
    expect(Math.abs(Date.now() - 3 * 3_600_000 - new Date(at!).getTime())).toBeLessThan(60_000);
    expect(table.rows.map((r) => [r.STATE, r.DEPLOYMENT])).toEqual([
      ["only in to", "api"],
      ["only in to", "web"],
    ]);

    // --at applies to both places; each says when.
    const both = await chainloop("deployment", "diff", "--from", "k8s-east/staging", "--to", "k8s-east/production", "--at", "2026-01-01T00:00:00Z");
    expect({ code: both.code, stdout: both.stdout }).toEqual({
      code: 0,
      stdout: "k8s-east/staging@2026-01-01T00:00:00Z → k8s-east/production@2026-01-01T00:00:00Z: identical (neither place runs anything)\n",
    });
    // A place's own @TIME wins over --at.
    const own = await chainloop("deployment", "diff", "--from", "k8s-east/staging@2026-01-01T00:00:00Z", "--to", "k8s-east/staging", "--at", "0s");
    expect(own.code).toBe(3);
    expect(parse(own).summary).toMatch(/^k8s-east\/staging@2026-01-01T00:00:00Z → k8s-east\/staging@\S+: 0 different, 0 only in from, 2 only in to, 0 same$/);
  });

  it("usage errors exit 2 before any request; the server's refusals exit 1 with one line", async () => {
    expectUsageError(
      await chainloop("deployment", "diff", "--from", "k8s-east/staging", "--to", "k8s-east"),
      "--from and --to must name the same parts (ENV/LENV with ENV/LENV, ENV with ENV, or /LENV with /LENV)",
    );
    expectUsageError(
      await chainloop("deployment", "diff", "--from", "k8s-east/staging@yesterday", "--to", "k8s-east/production"),
      `--from's @TIME must be an RFC 3339 time such as 2026-12-01T10:00:00Z, or a duration ago such as 30m, 3h or 2d, got "yesterday"`,
    );
    expectUsageError(
      await chainloop("deployment", "diff", "--from", "k8s-east/staging", "--to", "k8s-east/production", "--at", "2026-12-01"),
      `--at must be an RFC 3339 time such as 2026-12-01T10:00:00Z, or a duration ago such as 30m, 3h or 2d, got "2026-12-01"`,
    );
    expectUsageError(
      await chainloop("deployment", "diff", "--from", "/", "--to", "k8s-east/production"),
      `--from must be ENV/LENV, ENV or /LENV, optionally followed by @TIME (an RFC 3339 time or a duration ago such as @3h), got "/"`,
    );
    expectUsageError(await chainloop("deployment", "diff", "--to", "k8s-east/production"), "Missing required argument: from");

    expectOneErrorLine(
      await chainloop("deployment", "diff", "--from", "nowhere/staging", "--to", "k8s-east/production"),
      /^chainloop: not_found: environment "nowhere" not found; create it with: chainloop environment create --name nowhere\n$/,
    );
    expectOneErrorLine(
      await chainloop("deployment", "diff", "--from", "k8s-east/staging", "--to", "k8s-east/production", "--at", "2099-01-01T00:00:00Z"),
      /^chainloop: invalid_argument: from_place\.as_of 2099-01-01T00:00:00\.000Z is in the future/,
    );
  });
});
