// The `chainloop` binary for environments and logical environments: the real CLI process
// against a real server (one database backend: clientBackends), then what needs no database (help, usage
// errors, an unreachable server, the bearer token).
import fs from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { Client } from "@connectrpc/connect";
import { connect } from "../../cli/client.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { clientBackends } from "../helpers/backends.js";
import { serveFor } from "../helpers/served.js";
import { CLI, runCli, runShell, type CliResult } from "./run-cli.js";
import { parseFields, parseTable } from "./parse-output.js";

/** The server's bootstrap admin token, so the CLI is authorized once the server checks tokens. */
const TOKEN = "clp_cli-test-0000000000000000000000000000";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RECENT = /^(just now|\d{1,2}s ago)$/;
const TIME_AND_RECENT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \((just now|\d{1,2}s ago)\)$/;

function expectOneErrorLine(result: CliResult, pattern: RegExp): void {
  expect(result).toMatchObject({ code: 1, stdout: "" });
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.split("\n")).toHaveLength(2); // one line and its newline
}

describe.each(clientBackends())("chainloop environment commands on %s", (backend) => {
  const served = serveFor(backend, { CHAINLOOP_BOOTSTRAP_TOKEN: TOKEN });
  /** For setting up and checking state around the CLI calls under test, in-process. */
  let api: Client<typeof EnvironmentService>;
  const chainloop = (...args: string[]) => runCli(args, { CHAINLOOP_SERVER: served.url, CHAINLOOP_TOKEN: TOKEN });

  beforeAll(async () => {
    api = connect({ server: served.url, token: TOKEN })(EnvironmentService);
  });

  it("runs the seed's create verbatim, then lists, describes, updates and deletes", async () => {
    const binDir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-bin-"));
    try {
      fs.symlinkSync(CLI, path.join(binDir, "chainloop"));
      const seed = await runShell('chainloop environment create --name k8s-east --description "Kubernetes US-East"', binDir, {
        CHAINLOOP_SERVER: served.url,
        CHAINLOOP_TOKEN: TOKEN,
      });
      expect(seed).toEqual({ code: 0, stdout: 'environment "k8s-east" created\n', stderr: "" });
    } finally {
      fs.rmSync(binDir, { recursive: true, force: true });
    }

    const [table, json, described] = await Promise.all([
      chainloop("environment", "list"),
      chainloop("environment", "list", "-o", "json"),
      chainloop("environment", "describe", "k8s-east"),
    ]);
    expect(table).toMatchObject({ code: 0, stderr: "" });
    const { headers, rows } = parseTable(table.stdout);
    expect(headers).toEqual(["NAME", "DESCRIPTION", "CREATED", "UPDATED"]);
    expect(rows).toEqual([
      { NAME: "k8s-east", DESCRIPTION: "Kubernetes US-East", CREATED: expect.stringMatching(RECENT), UPDATED: expect.stringMatching(RECENT) },
    ]);

    expect(json).toMatchObject({ code: 0, stderr: "" });
    const list = JSON.parse(json.stdout);
    expect(list).toEqual([
      {
        id: expect.stringMatching(UUID),
        name: "k8s-east",
        description: "Kubernetes US-East",
        createTime: expect.stringMatching(/Z$/),
        updateTime: expect.stringMatching(/Z$/),
      },
    ]);
    const env = list[0];
    expect(Math.abs(Date.parse(env.createTime) - Date.now())).toBeLessThan(60_000);

    expect(described).toMatchObject({ code: 0, stderr: "" });
    const fields = parseFields(described.stdout);
    expect(fields).toEqual({
      Name: "k8s-east",
      Description: "Kubernetes US-East",
      ID: env.id,
      Created: expect.stringMatching(TIME_AND_RECENT),
      Updated: expect.stringMatching(TIME_AND_RECENT),
    });
    expect(fields.Created.slice(0, 19)).toBe(env.createTime.slice(0, 19));

    expect(await chainloop("environment", "update", "--name", "k8s-east", "--description", "US-East cluster")).toEqual({
      code: 0,
      stdout: 'environment "k8s-east" updated\n',
      stderr: "",
    });
    const describedJson = await chainloop("environment", "describe", "--name", "k8s-east", "-o", "json");
    const afterUpdate = JSON.parse(describedJson.stdout);
    expect(afterUpdate).toEqual({ ...env, description: "US-East cluster", updateTime: expect.any(String) });
    expect(Date.parse(afterUpdate.updateTime)).toBeGreaterThan(Date.parse(env.updateTime));

    const updated = await chainloop("env", "update", "--name", "k8s-east", "--description", "US-East, again", "-o", "json");
    expect(updated).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(updated.stdout)).toEqual({ ...env, description: "US-East, again", updateTime: expect.any(String) });

    // json mode: create prints the resource (every field, even an empty description), delete prints nothing.
    const [deleted, created] = await Promise.all([
      chainloop("environment", "delete", "--name", "k8s-east"),
      chainloop("environment", "create", "--name", "k8s-tmp", "-o", "json"),
    ]);
    expect(deleted).toEqual({ code: 0, stdout: 'environment "k8s-east" deleted\n', stderr: "" });
    expect(created).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(created.stdout)).toEqual({
      id: expect.stringMatching(UUID),
      name: "k8s-tmp",
      description: "",
      createTime: expect.any(String),
      updateTime: expect.any(String),
    });
    expect(await chainloop("env", "rm", "k8s-tmp", "-o", "json")).toEqual({ code: 0, stdout: "", stderr: "" });

    const [gone, empty] = await Promise.all([chainloop("environment", "describe", "k8s-east"), chainloop("environment", "list", "-o", "json")]);
    expectOneErrorLine(gone, /^chainloop: not_found: environment "k8s-east" not found/);
    expect(empty).toEqual({ code: 0, stdout: "[]\n", stderr: "" });
  });

  it("refuses a duplicate and a bad name with one line on stderr, nothing on stdout and exit 1", async () => {
    expect((await chainloop("environment", "create", "--name", "dup", "--description", "first")).code).toBe(0);
    const [again, againJson, bad] = await Promise.all([
      chainloop("environment", "create", "--name", "dup", "--description", "second"),
      chainloop("environment", "create", "--name", "dup", "--description", "second", "-o", "json"),
      chainloop("environment", "create", "--name", "Bad Name"),
    ]);
    for (const result of [again, againJson]) {
      expect(result).toEqual({ code: 1, stdout: "", stderr: 'chainloop: already_exists: environment "dup" already exists\n' });
    }
    expectOneErrorLine(bad, /^chainloop: invalid_argument: .*"Bad Name".*not a valid name/);
    expect((await api.getEnvironment({ name: "dup" })).environment?.description).toBe("first");
    await api.deleteEnvironment({ name: "dup" });
  });

  it("pages with --limit and --page-token, hints at the next page on stderr, and follows every page with --all", async () => {
    const names = ["page-0", "page-1", "page-2"];
    for (const name of [...names, "other"]) await api.createEnvironment({ name, description: `${name} cluster` });

    const first = await chainloop("environment", "list", "--query", "page-", "--limit", "2");
    expect(first.code).toBe(0);
    expect(parseTable(first.stdout).rows.map((r) => r.NAME)).toEqual(["page-0", "page-1"]);
    const hint = /^more environments exist: add --page-token (\S+) for the next page, or --all for every page\n$/.exec(first.stderr);
    expect(hint).not.toBeNull();

    const [second, all] = await Promise.all([
      chainloop("environment", "list", "--query", "page-", "--limit", "2", "--page-token", hint![1], "-o", "json"),
      chainloop("environment", "list", "--query", "page-", "--limit", "2", "--all", "-o", "json"),
    ]);
    expect(second).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(second.stdout).map((e: { name: string }) => e.name)).toEqual(["page-2"]);
    expect(all).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(all.stdout).map((e: { name: string }) => e.name)).toEqual(names);

    for (const name of [...names, "other"]) await api.deleteEnvironment({ name });
  });

  it("creates, lists and deletes logical environments, and refuses to delete production", async () => {
    const initial = await chainloop("logical-environment", "list");
    expect(initial).toMatchObject({ code: 0, stderr: "" });
    const table = parseTable(initial.stdout);
    expect(table.headers).toEqual(["NAME", "BUILT-IN", "DESCRIPTION", "CREATED"]);
    expect(table.rows.map((r) => [r.NAME, r["BUILT-IN"]])).toEqual([
      ["development", "yes"],
      ["staging", "yes"],
      ["production", "yes"],
    ]);
    expect(table.rows[0].CREATED).toMatch(/^(just now|\d+[smhdy] ago)$/);

    expect(await chainloop("logical-environment", "create", "--name", "qa", "--description", "Quality assurance")).toEqual({
      code: 0,
      stdout: 'logical environment "qa" created\n',
      stderr: "",
    });
    const [listed, refused] = await Promise.all([
      chainloop("logical-environment", "list", "-o", "json"),
      chainloop("logical-environment", "delete", "--name", "production"),
    ]);
    expect(listed).toMatchObject({ code: 0, stderr: "" });
    const stages = JSON.parse(listed.stdout);
    expect(stages.map((l: { name: string; builtIn: boolean }) => [l.name, l.builtIn])).toEqual([
      ["development", true],
      ["staging", true],
      ["production", true],
      ["qa", false],
    ]);
    expect(stages[3]).toEqual({
      id: expect.stringMatching(UUID),
      name: "qa",
      description: "Quality assurance",
      builtIn: false,
      createTime: expect.any(String),
    });
    expectOneErrorLine(refused, /^chainloop: failed_precondition: .*production/);

    expect(await chainloop("logical-env", "rm", "qa")).toEqual({ code: 0, stdout: 'logical environment "qa" deleted\n', stderr: "" });
    const final = await api.listLogicalEnvironments({});
    expect(final.logicalEnvironments.map((l) => l.name)).toEqual(["development", "staging", "production"]);
  });

  it("never prints the token, on success or failure", async () => {
    const env = { CHAINLOOP_SERVER: served.url };
    const created = await runCli(["environment", "create", "--name", "tok", "--token", TOKEN, "-o", "json"], env);
    const [duplicate, described] = await Promise.all([
      runCli(["environment", "create", "--name", "tok", "--token", TOKEN], env),
      runCli(["environment", "describe", "tok"], { ...env, CHAINLOOP_TOKEN: TOKEN }),
    ]);
    const deleted = await runCli(["environment", "delete", "tok", "--token", TOKEN], env);
    const results = [created, duplicate, described, deleted];
    expect(results.map((r) => r.code)).toEqual([0, 1, 0, 0]);
    for (const r of results) expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });
});

describe("chainloop without a database", () => {
  it("shows the commands, global options and exit codes in --help", async () => {
    const root = await runCli(["--help"]);
    expect(root).toMatchObject({ code: 0, stderr: "" });
    for (const text of ["chainloop environment ", "chainloop logical-environment ", "--server", "CHAINLOOP_SERVER", "--token", "-o, --output", "Exit codes:", "2  usage error"]) {
      expect(root.stdout).toContain(text);
    }

    const create = await runCli(["environment", "create", "--help"]);
    expect(create).toMatchObject({ code: 0, stderr: "" });
    expect(create.stdout).toMatch(/--name +Unique name[^]*?\[string\] \[required\]/);
    expect(create.stdout).toMatch(/--description +Free text/);
    expect(create.stdout).toContain('chainloop environment create --name k8s-east --description "Kubernetes US-East"');
    expect(create.stdout).toContain("--server");
    expect(create.stdout).toContain("Exit codes:");
  });

  it("exits 2 with the usage on stderr for unknown flags, missing or invalid values", async () => {
    const cases: [string[], string][] = [
      [["environment", "create", "--name", "x", "--bogus"], "Unknown argument: bogus"],
      [["environment", "create", "--description", "no name"], "Missing required argument: name"],
      [["environment", "describe"], "Missing required argument: name"],
      [["environment", "list", "-o", "yaml"], 'Argument: output, Given: "yaml", Choices: "table", "json"'],
      [["environment", "list", "--limit", "0"], "--limit must be a whole number from 1 to 1000"],
      [["environment", "list", "--server", "localhost:8080"], '--server must be an http:// or https:// URL, got "localhost:8080"'],
      [["environment"], "Choose a command"],
      [[], "Choose a command"],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((result, i) => {
      const [args, message] = cases[i];
      expect({ args, ...result }).toMatchObject({ args, code: 2, stdout: "" });
      expect(result.stderr).toContain("Global options:");
      expect(result.stderr.trimEnd().slice(-message.length)).toBe(message);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    });
  });

  it("names the server it could not reach, in one line, and exits 1", async () => {
    const closed = await closedPort();
    const url = `http://127.0.0.1:${closed}`;
    const viaEnv = await runCli(["environment", "list"], { CHAINLOOP_SERVER: url });
    expectOneErrorLine(viaEnv, new RegExp(`^chainloop: cannot reach the server at ${url} .*--server or CHAINLOOP_SERVER\n$`));
    const viaFlag = await runCli(["environment", "create", "--name", "x", "--server", url], {
      CHAINLOOP_SERVER: "http://127.0.0.1:1",
    });
    expectOneErrorLine(viaFlag, new RegExp(`^chainloop: cannot reach the server at ${url} `));
  });

  it("sends --token or CHAINLOOP_TOKEN as a bearer token, and shows the server's refusal without it", async () => {
    const seen: (string | undefined)[] = [];
    const fake = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: "unauthenticated", message: "token rejected" }));
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    try {
      const env = { CHAINLOOP_SERVER: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` };
      const results = [
        await runCli(["environment", "list", "--token", "flag-token-1"], env),
        await runCli(["environment", "list"], { ...env, CHAINLOOP_TOKEN: "env-token-2" }),
        await runCli(["environment", "list", "--token", "flag-token-3"], { ...env, CHAINLOOP_TOKEN: "env-token-4" }),
        await runCli(["environment", "list"], env),
      ];
      expect(seen).toEqual(["Bearer flag-token-1", "Bearer env-token-2", "Bearer flag-token-3", undefined]);
      for (const r of results.slice(0, 3)) expect(r).toEqual({ code: 1, stdout: "", stderr: "chainloop: unauthenticated: token rejected\n" });
      // Without any token, the line says how to give one.
      expect(results[3]).toEqual({
        code: 1,
        stdout: "",
        stderr: "chainloop: unauthenticated: no API token was given; pass --token <token> or set CHAINLOOP_TOKEN\n",
      });

      const help = await runCli(["environment", "list", "--help"], { CHAINLOOP_TOKEN: "env-token-5" });
      const usage = await runCli(["environment", "list", "--bogus", "--token", "flag-token-6"]);
      expect(usage.code).toBe(2);
      for (const [r, token] of [[help, "env-token-5"], [usage, "flag-token-6"]] as const) {
        expect(r.stdout + r.stderr).not.toContain(token);
      }
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });
});

/** A port nothing listens on: one the OS just handed out and that was closed again. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
