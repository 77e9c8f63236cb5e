// `chainloop deployment list --at` and `--rollbacks`: the real CLI process against a real server
// (one database backend: clientBackends) — an absolute time and a duration ago, as a table and
// as JSON, paging at one instant, and the usage errors. What the server answers as of each
// instant, with every filter, is in tests/integration/point-in-time.test.ts.
import { clientBackends } from "../helpers/backends.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { TEST_ADMIN_TOKEN } from "../helpers/server.js";
import { expectOneErrorLine, expectUsageError, parseTable } from "./parse-output.js";
import { runCli } from "./run-cli.js";

const A1 = `sha256:${"a1".repeat(32)}`;
const A2 = `sha256:${"a2".repeat(32)}`;
const W1 = `sha256:${"b1".repeat(32)}`;
const short = (digest: string) => digest.slice(0, "sha256:".length + 12);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3_600_000;

describe.each(clientBackends())("chainloop deployment list --at on %s", (backend) => {
  const served = serveFor(backend);
  const chainloop = (...args: string[]) => runCli(args, { CHAINLOOP_SERVER: served.url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN });
  const record = async (name: string, digest: string) => {
    const res = await chainloop("deployment", "record", "--env", "east", "--logical-env", "production", "--deployment-name", name, "--kind", "CONTAINER_IMAGE", "--digest", digest);
    expect(res.code).toBe(0);
  };
  /** An instant between the records before and after it (the server's clock, to the millisecond). */
  let t1: Date;
  let t2: Date;

  beforeAll(async () => {
    await attest(served.url, [A1, A2, W1]);
    expect((await chainloop("environment", "create", "--name", "east")).code).toBe(0);
    await record("api", A1);
    await sleep(20);
    t1 = new Date();
    await sleep(20);
    await record("api", A2);
    await record("web", W1);
    await sleep(20);
    t2 = new Date();
    await sleep(20);
    // A1 again: a rollback of the first record.
    await record("api", A1);
  });

  test("--at an RFC 3339 time: what ran then, as a table (status now) and as JSON", async () => {
    const res = await chainloop("deployment", "list", "--env", "east", "--at", t1.toISOString());
    expect(res.code).toBe(0);
    const { headers, rows } = parseTable(res.stdout);
    expect(headers).toContain("STATUS");
    expect(rows.map((r) => [r.DEPLOYMENT, r.DIGEST, r.STATUS])).toEqual([["api", short(A1), "superseded"]]);
    expect(res.stderr).toBe(`deployed at ${t1.toISOString()}, newest first; STATUS is each record's status now\n`);

    const json = await chainloop("deployment", "list", "--at", t2.toISOString(), "-o", "json");
    expect(json.code).toBe(0);
    const items = JSON.parse(json.stdout) as Array<{ deploymentName: string; digest: string; status: string }>;
    expect(items.map((d) => [d.deploymentName, d.digest, d.status])).toEqual([
      ["web", W1, "DEPLOYMENT_STATUS_DEPLOYED"],
      ["api", A2, "DEPLOYMENT_STATUS_SUPERSEDED"],
    ]);
    // Another offset, the same instant.
    const offset = new Date(t2.getTime() + HOUR).toISOString().replace("Z", "+01:00");
    const same = await chainloop("deployment", "list", "--at", offset, "-o", "json");
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout)).toEqual(items);
  });

  test("--at a duration ago counts back from now", async () => {
    const before = Date.now();
    const res = await chainloop("deployment", "list", "--at", "3h");
    const after = Date.now();
    expect(res.code).toBe(0);
    // Nothing ran three hours ago: the header alone.
    expect(parseTable(res.stdout).rows).toEqual([]);
    const at = Date.parse(/^deployed at (\S+), newest first/.exec(res.stderr)![1]!);
    expect(at).toBeGreaterThanOrEqual(before - 3 * HOUR);
    expect(at).toBeLessThanOrEqual(after - 3 * HOUR);
    const json = await chainloop("deployment", "list", "--at", "3h", "-o", "json");
    expect({ code: json.code, items: JSON.parse(json.stdout) }).toEqual({ code: 0, items: [] });
    // A second ago (the records are older): what runs now.
    await sleep(1100);
    const recent = await chainloop("deployment", "list", "--at", "1s", "-o", "json");
    const now = await chainloop("deployment", "list", "-o", "json");
    expect(JSON.parse(recent.stdout)).toEqual(JSON.parse(now.stdout));
    expect((JSON.parse(now.stdout) as unknown[]).length).toBe(2);
  });

  test("paging at one instant: the hint names the instant, so a duration ago does not move between pages", async () => {
    const first = await chainloop("deployment", "list", "--at", "1s", "--limit", "1");
    expect(first.code).toBe(0);
    const at = /^deployed at (\S+), newest first/.exec(first.stderr)![1]!;
    const hint = new RegExp(`^more records exist: add --at ${at.replace(/[.]/g, "\\.")} --page-token (\\S+) for the next page, or --all for every page$`, "m").exec(first.stderr);
    expect(hint).not.toBeNull();
    const second = await chainloop("deployment", "list", "--at", at, "--limit", "1", "--page-token", hint![1]!);
    expect(second.code).toBe(0);
    const names = [...parseTable(first.stdout).rows, ...parseTable(second.stdout).rows].map((r) => r.DEPLOYMENT);
    expect(names.sort()).toEqual(["api", "web"]);
    expect(second.stderr).not.toMatch(/more records exist/);
    // The token with another instant is refused by the server.
    const moved = await chainloop("deployment", "list", "--at", "2s", "--limit", "1", "--page-token", hint![1]!);
    expectOneErrorLine(moved, /page_token was issued for a different query/);
  });

  test("--rollbacks: only rollbacks, now or at a time", async () => {
    const res = await chainloop("deployment", "list", "--rollbacks", "-o", "json");
    expect(res.code).toBe(0);
    const items = JSON.parse(res.stdout) as Array<{ deploymentName: string; digest: string; rollbackOfId: string }>;
    expect(items.map((d) => [d.deploymentName, d.digest])).toEqual([["api", A1]]);
    expect(items[0]!.rollbackOfId).not.toBe("");
    const then = await chainloop("deployment", "list", "--rollbacks", "--at", t2.toISOString(), "-o", "json");
    expect({ code: then.code, items: JSON.parse(then.stdout) }).toEqual({ code: 0, items: [] });
    const table = await chainloop("deployment", "list", "--rollbacks", "--history");
    expect(parseTable(table.stdout).rows.map((r) => [r.DEPLOYMENT, r.DIGEST])).toEqual([["api", short(A1)]]);
  });

  test("usage errors and a time in the future", async () => {
    expectUsageError(
      await chainloop("deployment", "list", "--at", "2h", "--history"),
      "--at cannot be combined with --history: it lists the records deployed at that time, whatever their status now",
    );
    expectUsageError(
      await chainloop("deployment", "list", "--status", "deployed", "--at", "2026-12-01T10:00:00Z"),
      "--at cannot be combined with --status: it lists the records deployed at that time, whatever their status now",
    );
    expectUsageError(
      await chainloop("deployment", "list", "--at", "yesterday"),
      '--at must be an RFC 3339 time such as 2026-12-01T10:00:00Z, or a duration ago such as 30m, 3h or 2d, got "yesterday"',
    );
    expectUsageError(await chainloop("deployment", "list", "--at"), "Not enough arguments following: at");
    expectOneErrorLine(
      await chainloop("deployment", "list", "--at", "2099-01-01T00:00:00Z"),
      /^chainloop: invalid_argument: as_of 2099-01-01T00:00:00\.000Z is in the future \(the server's time is \S+\): what runs there later is not known yet; leave as_of unset for now\n$/,
    );
  });
});
