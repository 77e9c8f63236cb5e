// `chainloop token create | list | revoke` and what tokens do to every command: the real CLI
// process against a real server (one database backend: clientBackends). Secrets are printed once, by
// `token create`, and never again: not by list, not in any error, not by any other command.
import { clientBackends } from "../helpers/backends.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { TEST_ADMIN_TOKEN } from "../helpers/server.js";
import { expectOneErrorLine, expectUsageError, parseTable, RECENT, UUID, UUID_PATTERN } from "./parse-output.js";
import { runCli, type CliResult } from "./run-cli.js";

const SECRET = /^clp_[0-9A-Za-z]{40}$/;
const DIGEST = `sha256:${"7e".repeat(32)}`;
const TOKEN_HEADERS = ["NAME", "ID", "SCOPE", "CREATED", "EXPIRES", "LAST USED", "REVOKED", "CREATED BY"];
const ONCE_WARNING = "chainloop: store this secret now (for example in your CI's secret store): it is shown only once and cannot be retrieved again\n";

interface TokenJson {
  id: string;
  name: string;
  description: string;
  scope: string;
  createTime: string;
  expireTime?: string;
  lastUsedTime?: string;
  revokeTime?: string;
  createdBy?: { tokenId: string; tokenName: string };
}

describe.each(clientBackends())("chainloop token commands on %s", (backend) => {
  const served = serveFor(backend);
  /** Every secret the tests have seen, to check that no later output shows one. */
  const secrets: string[] = [TEST_ADMIN_TOKEN];
  /** Every output of a command other than `token create`. */
  const outputs: CliResult[] = [];
  const as = async (token: string | undefined, ...args: string[]) => {
    const result = await runCli(args, { CHAINLOOP_SERVER: served.url, ...(token === undefined ? {} : { CHAINLOOP_TOKEN: token }) });
    outputs.push(result);
    return result;
  };
  const chainloop = (...args: string[]) => as(TEST_ADMIN_TOKEN, ...args);
  const recordAs = (token: string, name: string) =>
    as(token, "deployment", "record", "--env", "k8s-east", "--logical-env", "staging", "--deployment-name", name, "--kind", "CONTAINER_IMAGE", "--digest", DIGEST);

  /** `token create -o json`: the token and its secret. */
  async function create(...args: string[]): Promise<{ token: TokenJson; secret: string }> {
    const result = await runCli(["token", "create", ...args, "-o", "json"], { CHAINLOOP_SERVER: served.url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: ONCE_WARNING });
    const body = JSON.parse(result.stdout);
    expect(Object.keys(body).sort()).toEqual(["secret", "token"]);
    expect(body.secret).toMatch(SECRET);
    secrets.push(body.secret);
    return body;
  }

  beforeAll(async () => {
    await attest(served.url, [DIGEST]);
    expect((await chainloop("environment", "create", "--name", "k8s-east")).code).toBe(0);
  });

  it("creates a token and prints its secret once, with a warning; the secret works", async () => {
    const before = Date.now();
    const created = await runCli(["token", "create", "--name", "ci-deployer", "--scope", "write", "--description", "GitHub Actions", "--expires-in", "30d"], {
      CHAINLOOP_SERVER: served.url,
      CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN,
    });
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: ONCE_WARNING });
    const lines = created.stdout.split("\n");
    expect(lines).toHaveLength(3); // the confirmation, the secret, and the final newline
    const m = new RegExp(`^token "ci-deployer" created: id (${UUID_PATTERN}), scope write, expires (\\S+) \\(in (29|30)d\\)$`).exec(lines[0]);
    expect(m).not.toBeNull();
    const expires = Date.parse(m![2]);
    expect(expires - before).toBeGreaterThan(30 * 86_400_000 - 60_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(30 * 86_400_000 + 1_000);
    expect(lines[1]).toMatch(SECRET);
    expect(lines[2]).toBe("");
    const secret = lines[1];
    secrets.push(secret);

    // It authenticates as ci-deployer, with the write scope: records are its.
    const recorded = await as(secret, "deployment", "record", "--env", "k8s-east", "--logical-env", "staging", "--deployment-name", "api", "--kind", "CONTAINER_IMAGE", "--digest", DIGEST, "-o", "json");
    expect(recorded.code).toBe(0);
    expect(JSON.parse(recorded.stdout).deployment.recordedBy).toEqual({ tokenId: m![1], tokenName: "ci-deployer" });

    const json = await create("--name", "reader", "--scope", "READ");
    expect(json.token).toEqual({
      id: expect.stringMatching(UUID),
      name: "reader",
      description: "",
      scope: "API_TOKEN_SCOPE_READ",
      createTime: expect.stringMatching(/Z$/),
      createdBy: { tokenId: expect.stringMatching(UUID), tokenName: "bootstrap-admin" },
    });
  });

  it("lists tokens, newest first, without secrets; --show-revoked adds the revoked ones", async () => {
    const listed = await chainloop("token", "list");
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: "" });
    const table = parseTable(listed.stdout);
    expect(table.headers).toEqual(TOKEN_HEADERS);
    expect(table.rows.map((r) => r.NAME)).toEqual(["reader", "ci-deployer", "bootstrap-admin"]);
    expect(table.rows[1]).toEqual({
      NAME: "ci-deployer",
      ID: expect.stringMatching(UUID),
      SCOPE: "write",
      CREATED: expect.stringMatching(RECENT),
      EXPIRES: expect.stringMatching(/^in (29|30)d$/),
      "LAST USED": expect.stringMatching(RECENT), // it recorded a deployment
      REVOKED: "-",
      "CREATED BY": "bootstrap-admin",
    });
    expect(table.rows[0]).toMatchObject({ NAME: "reader", SCOPE: "read", EXPIRES: "never", "LAST USED": "never", REVOKED: "-" });
    expect(table.rows[2]).toMatchObject({ NAME: "bootstrap-admin", SCOPE: "admin", "CREATED BY": "-" });

    const json = await chainloop("token", "list", "-o", "json");
    expect(json.code).toBe(0);
    const tokens = JSON.parse(json.stdout) as TokenJson[];
    expect(tokens.map((t) => [t.name, t.scope])).toEqual([
      ["reader", "API_TOKEN_SCOPE_READ"],
      ["ci-deployer", "API_TOKEN_SCOPE_WRITE"],
      ["bootstrap-admin", "API_TOKEN_SCOPE_ADMIN"],
    ]);
    expect(json.stdout).not.toMatch(/secret|clp_/i);
    for (const secret of secrets) expect(listed.stdout + json.stdout).not.toContain(secret);
  });

  it("revokes by name or by id; a revoked token then fails with one unauthenticated line", async () => {
    const temp = await create("--name", "temp", "--scope", "write");
    expect((await recordAs(temp.secret, "temp-app")).code).toBe(0);

    expect(await chainloop("token", "revoke", "temp")).toEqual({ code: 0, stdout: `token "temp" (${temp.token.id}) revoked\n`, stderr: "" });
    const refused = await recordAs(temp.secret, "temp-app");
    expectOneErrorLine(refused, new RegExp(`^chainloop: unauthenticated: API token "temp" \\(${temp.token.id}\\) has been revoked\\n$`));

    // Gone from the list, back with --show-revoked.
    const [active, all] = await Promise.all([chainloop("token", "list"), chainloop("token", "list", "--show-revoked")]);
    expect(parseTable(active.stdout).rows.map((r) => r.NAME)).not.toContain("temp");
    const revokedRow = parseTable(all.stdout).rows.find((r) => r.NAME === "temp");
    expect(revokedRow).toMatchObject({ ID: temp.token.id, REVOKED: expect.stringMatching(RECENT) });

    // The name now names no unrevoked token; the id still works (revoking twice is harmless).
    expectOneErrorLine(await chainloop("token", "revoke", "temp"), /^chainloop: not_found: no unrevoked API token is named "temp"; see the names and IDs with: chainloop token list\n$/);
    const byId = await chainloop("token", "revoke", temp.token.id, "-o", "json");
    expect(byId.code).toBe(0);
    expect(JSON.parse(byId.stdout)).toMatchObject({ id: temp.token.id, name: "temp", revokeTime: expect.stringMatching(/Z$/) });
    expectOneErrorLine(await chainloop("token", "revoke", "00000000-0000-4000-8000-000000000000"), /^chainloop: not_found: API token 00000000-0000-4000-8000-000000000000 not found\n$/);

    // A new token may take the revoked one's name; revoke by name finds the unrevoked one.
    const again = await create("--name", "temp", "--scope", "read");
    expect((await chainloop("token", "revoke", "temp")).stdout).toBe(`token "temp" (${again.token.id}) revoked\n`);
  });

  it("refuses a read token that records, with one permission_denied line", async () => {
    const reader = await create("--name", "read-only", "--scope", "read");
    const listed = await as(reader.secret, "deployment", "list", "-o", "json");
    expect(listed.code).toBe(0);
    expectOneErrorLine(
      await recordAs(reader.secret, "api"),
      /^chainloop: permission_denied: RecordDeployment needs a token with the write scope; token "read-only" has read\n$/,
    );
    expectOneErrorLine(await as(reader.secret, "token", "list"), /^chainloop: permission_denied: ListApiTokens needs a token with the admin scope/);
  });

  it("rejects an expired token", async () => {
    const shortLived = await create("--name", "short-lived", "--scope", "write", "--expires-in", "1s");
    expect(shortLived.token.expireTime).toMatch(/Z$/);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expectOneErrorLine(await recordAs(shortLived.secret, "api"), /^chainloop: unauthenticated: API token "short-lived" \(.*\) expired at /);
  });

  it("says how to give a token when none was given, in one line", async () => {
    const hint = /^chainloop: unauthenticated: no API token was given; pass --token <token> or set CHAINLOOP_TOKEN\n$/;
    expectOneErrorLine(await as(undefined, "deployment", "list"), hint);
    expectOneErrorLine(await as(undefined, "token", "list"), hint);
    expectOneErrorLine(await runCli(["deployment", "record", "--env", "k8s-east", "--logical-env", "staging", "--deployment-name", "api", "--kind", "CONTAINER_IMAGE", "--digest", DIGEST], { CHAINLOOP_SERVER: served.url }), hint);
    // A token that is not one: the server's reason, not the hint, and never the value.
    const wrong = await as("clp_not-a-real-token-000000000000000000000", "deployment", "list");
    expectOneErrorLine(wrong, /^chainloop: unauthenticated: invalid API token\n$/);
    expect(wrong.stderr).not.toContain("clp_not-a-real-token");
  });

  it("refuses bad flags as usage errors", async () => {
    const [badScope, badExpiry, noName] = await Promise.all([
      chainloop("token", "create", "--name", "x", "--scope", "owner"),
      chainloop("token", "create", "--name", "x", "--scope", "read", "--expires-in", "tomorrow"),
      chainloop("token", "create", "--scope", "read"),
    ]);
    expectUsageError(badScope, 'Argument: scope, Given: "owner", Choices: "read", "write", "admin"');
    expectUsageError(badExpiry, '--expires-in must be a duration such as 30s, 90m, 12h, 30d, 2w or 1h30m, got "tomorrow"');
    expectUsageError(noName, "Missing required argument: name");
  });

  it("never shows a token's value outside the one `token create` output", async () => {
    // --token on the command line, on success, server refusal and usage error.
    const flagged = await Promise.all([
      runCli(["deployment", "list", "--token", TEST_ADMIN_TOKEN], { CHAINLOOP_SERVER: served.url }),
      runCli(["deployment", "describe", "00000000-0000-4000-8000-000000000000", "--token", TEST_ADMIN_TOKEN], { CHAINLOOP_SERVER: served.url }),
      runCli(["deployment", "list", "--bogus", "--token", TEST_ADMIN_TOKEN], { CHAINLOOP_SERVER: served.url }),
      runCli(["token", "revoke", "nobody", "--token", TEST_ADMIN_TOKEN], { CHAINLOOP_SERVER: served.url }),
    ]);
    expect(flagged.map((r) => r.code)).toEqual([0, 1, 2, 1]);
    outputs.push(...flagged);
    expect(outputs.length).toBeGreaterThan(20);
    for (const r of outputs) {
      for (const secret of secrets) {
        expect(r.stdout).not.toContain(secret);
        expect(r.stderr).not.toContain(secret);
      }
    }
  });
});
