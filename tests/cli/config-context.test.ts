// `chainloop config …` contexts through the real CLI: set/use/get/delete, where the file lives
// and its modes, precedence (flag > variable > context > default; proved by contexts that
// point at a closed port or at the real server), tokens from a variable or from stdin, and no
// token ever printed. Each test has its own HOME and XDG_CONFIG_HOME.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { clientBackends } from "../helpers/backends.js";
import { serveFor } from "../helpers/served.js";
import { closedPort } from "./parse-output.js";
import { CLI, runCli, runShell, type CliResult } from "./run-cli.js";

const TOKEN = "clp_context-test-000000000000000000000000";

/** Columns as the CLI aligns them: three spaces apart, no trailing spaces. */
function aligned(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `${r.map((c, i) => c.padEnd(widths[i])).join("   ").trimEnd()}\n`).join("");
}

describe.each(clientBackends())("chainloop config contexts on %s", (backend) => {
  const served = serveFor(backend, { CHAINLOOP_BOOTSTRAP_TOKEN: TOKEN });
  let dead: string;
  let home: string;
  let binDir: string;
  let env: Record<string, string>;
  const all: CliResult[] = [];
  const cli = async (args: string[], extra: Record<string, string> = {}) => {
    const r = await runCli(args, { ...env, ...extra });
    all.push(r);
    return r;
  };
  const shell = async (script: string, extra: Record<string, string> = {}) => {
    const r = await runShell(script, binDir, { ...env, ...extra });
    all.push(r);
    return r;
  };
  const configFile = () => path.join(home, "xdg", "chainloop", "config.json");

  beforeAll(async () => {
    dead = `http://127.0.0.1:${await closedPort()}`;
    binDir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-bin-"));
    fs.symlinkSync(CLI, path.join(binDir, "chainloop"));
  });
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-home-"));
    env = { HOME: home, XDG_CONFIG_HOME: path.join(home, "xdg") };
  });
  afterEach(() => {
    for (const r of all.splice(0)) expect(r.stdout + r.stderr).not.toContain(TOKEN);
    fs.rmSync(home, { recursive: true, force: true });
  });
  afterAll(async () => {
    fs.rmSync(binDir, { recursive: true, force: true });
  });

  it("sets, lists, uses and deletes contexts in $XDG_CONFIG_HOME/chainloop/config.json (0600 in a 0700 directory)", async () => {
    expect(await cli(["config", "get-contexts"])).toEqual({ code: 0, stdout: "CURRENT   NAME   SERVER   TOKEN\n", stderr: "" });
    expect(fs.existsSync(configFile())).toBe(false); // reading never creates it

    expect(await cli(["config", "set-context", "real", "--server", served.url, "--token-from-env", "REAL_TOKEN"])).toEqual({
      code: 0,
      stdout: 'context "real" created\n',
      stderr: "",
    });
    expect(await shell('printf "  %s\\n" "$T" | chainloop config set-context stored --server "$S" --token-stdin', { T: TOKEN, S: served.url })).toEqual({
      code: 0,
      stdout: 'context "stored" created\n',
      stderr: "",
    });
    expect(await cli(["config", "set-context", "dead", "--server", dead])).toEqual({ code: 0, stdout: 'context "dead" created\n', stderr: "" });
    expect(await cli(["config", "use-context", "dead"])).toEqual({ code: 0, stdout: 'switched to context "dead"\n', stderr: "" });

    expect(await cli(["config", "get-contexts"])).toEqual({
      code: 0,
      stdout: aligned([
        ["CURRENT", "NAME", "SERVER", "TOKEN"],
        ["*", "dead", dead, "-"],
        ["", "real", served.url, "env:REAL_TOKEN"],
        ["", "stored", served.url, "stored"],
      ]),
      stderr: "",
    });
    const json = await cli(["config", "get-contexts", "-o", "json"]);
    expect(json).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(json.stdout)).toEqual([
      { name: "dead", current: true, server: dead, token: "" },
      { name: "real", current: false, server: served.url, token: "env:REAL_TOKEN" },
      { name: "stored", current: false, server: served.url, token: "stored" },
    ]);

    // The file: where XDG says, private, the token trimmed, the variable's name (not its value).
    expect(fs.statSync(configFile()).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(configFile())).mode & 0o777).toBe(0o700);
    expect(JSON.parse(fs.readFileSync(configFile(), "utf8"))).toEqual({
      currentContext: "dead",
      contexts: { real: { server: served.url, tokenEnv: "REAL_TOKEN" }, stored: { server: served.url, token: TOKEN }, dead: { server: dead } },
    });
    expect(fs.readdirSync(path.dirname(configFile()))).toEqual(["config.json"]); // no temporary files left

    // Changing a context keeps what is not given; deleting the current one leaves none current.
    expect(await cli(["config", "set-context", "real", "--server", `${served.url}/`])).toEqual({ code: 0, stdout: 'context "real" updated\n', stderr: "" });
    expect(await cli(["config", "delete-context", "dead"])).toEqual({
      code: 0,
      stdout: 'context "dead" deleted\n',
      stderr: '"dead" was the current context; choose another with chainloop config use-context NAME\n',
    });
    expect(JSON.parse(fs.readFileSync(configFile(), "utf8"))).toEqual({
      contexts: { real: { server: `${served.url}/`, tokenEnv: "REAL_TOKEN" }, stored: { server: served.url, token: TOKEN } },
    });
  });

  it("takes server and token from the flag, else the variable, else the context, else the default", async () => {
    await cli(["config", "set-context", "real", "--server", served.url, "--token-from-env", "REAL_TOKEN"]);
    await cli(["config", "set-context", "dead", "--server", dead]);
    await shell('printf "%s" "$T" | chainloop config set-context stored --server "$S" --token-stdin', { T: TOKEN, S: served.url });
    const ok = { code: 0, stdout: "NAME   DESCRIPTION   CREATED   UPDATED\n", stderr: "" };
    const unreachable = (url: string, context?: string) => ({
      code: 1,
      stdout: "",
      stderr: expect.stringMatching(
        new RegExp(`^chainloop: cannot reach the server at ${url}${context ? ` of context "${context}"` : ""} \\(.*ECONNREFUSED[^\n]*\n$`),
      ),
    });

    // No current context: the default server (and no file needed).
    const viaDefault = await cli(["environment", "list", "--timeout", "3s"]);
    expect(viaDefault.stderr).toMatch(/^chainloop: (cannot reach the server at http:\/\/127\.0\.0\.1:8080 |unauthenticated)/);

    await cli(["config", "use-context", "dead"]);
    expect(await cli(["environment", "list"])).toEqual(unreachable(dead, "dead"));
    // The variables beat the current context; the flags beat the variables.
    expect(await cli(["environment", "list"], { CHAINLOOP_SERVER: served.url, CHAINLOOP_TOKEN: TOKEN })).toEqual(ok);
    expect(await cli(["environment", "list", "--server", served.url, "--token", TOKEN], { CHAINLOOP_SERVER: dead })).toEqual(ok);
    expect(await cli(["environment", "list", "--server", dead], { CHAINLOOP_SERVER: served.url, CHAINLOOP_TOKEN: TOKEN })).toEqual(unreachable(dead));

    // --context and CHAINLOOP_CONTEXT pick another context for one command; the token comes from its variable at use time.
    expect(await cli(["environment", "list", "--context", "real"], { REAL_TOKEN: TOKEN })).toEqual(ok);
    expect(await cli(["environment", "list"], { CHAINLOOP_CONTEXT: "real", REAL_TOKEN: TOKEN })).toEqual(ok);
    expect(await cli(["environment", "list", "--context", "stored"])).toEqual(ok);
    expect(await cli(["environment", "list", "--context", "real"])).toEqual({
      code: 1,
      stdout: "",
      stderr: 'chainloop: unauthenticated: no API token was given; context "real" takes its token from $REAL_TOKEN, which is not set\n',
    });
    // A variable still beats the context it names.
    expect(await cli(["environment", "list", "--context", "real"], { CHAINLOOP_SERVER: dead, REAL_TOKEN: TOKEN })).toEqual(unreachable(dead));

    await cli(["config", "use-context", "stored"]);
    expect(await cli(["environment", "list"])).toEqual(ok);
    expect(await cli(["environment", "list"], { CHAINLOOP_SERVER: dead })).toEqual(unreachable(dead));

    // A context that does not exist is a wrong value: exit 2, one line.
    const file = configFile();
    for (const r of [await cli(["environment", "list", "--context", "nope"]), await cli(["environment", "list"], { CHAINLOOP_CONTEXT: "nope" }), await cli(["config", "use-context", "nope"])]) {
      expect(r).toEqual({ code: 2, stdout: "", stderr: `chainloop: no context named "nope" in ${file} (chainloop config get-contexts lists them)\n` });
    }
  });

  it("sends a context's token only to that context's server", async () => {
    const seen: (string | undefined)[] = [];
    const fake = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: "unauthenticated", message: "token rejected" }));
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    try {
      const other = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      await shell('printf "%s" "$T" | chainloop config set-context stored --server "$S" --token-stdin', { T: TOKEN, S: served.url });
      await cli(["config", "use-context", "stored"]);
      expect(await cli(["environment", "list", "--server", other])).toEqual({
        code: 1,
        stdout: "",
        stderr: `chainloop: unauthenticated: no API token was given; the token of context "stored" is sent only to its server (${served.url}); pass --token <token> or set CHAINLOOP_TOKEN\n`,
      });
      expect(await cli(["environment", "list"], { CHAINLOOP_SERVER: other })).toMatchObject({ code: 1 });
      expect(seen).toEqual([undefined, undefined]);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  it("refuses bad input with exit 2 and never echoes a token", async () => {
    const usage = (r: CliResult, message: string) => {
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: "" });
      expect(r.stderr.trimEnd().endsWith(message)).toBe(true);
    };
    usage(await cli(["config", "set-context", "x", "--server", served.url, "--token", TOKEN]), "set-context does not take --token (it would stay in your shell history): use --token-stdin or --token-from-env");
    usage(await cli(["config", "set-context", "x", "--server", served.url, "--token-from-env", "A", "--token-stdin"]), "--token-from-env, --token-stdin and --clear-token exclude each other");
    usage(await cli(["config", "set-context", "x", "--server", "localhost:1"]), '--server must be an http:// or https:// URL, got "localhost:1"');
    expect(await cli(["config", "set-context", "x"])).toEqual({ code: 2, stdout: "", stderr: 'chainloop: context "x" is new: give its server with --server URL\n' });
    expect(await cli(["config", "set-context", "bad name", "--server", served.url])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^chainloop: "bad name" is not a valid context name/) });
    expect(await cli(["config", "set-context", "x", "--server", served.url, "--token-from-env", "1X"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^chainloop: "1X" is not an environment variable name/) });
    expect(await shell("printf '  \\n' | chainloop config set-context x --server http://127.0.0.1:1 --token-stdin")).toEqual({ code: 2, stdout: "", stderr: "chainloop: --token-stdin: stdin held no token\n" });
    expect(fs.existsSync(configFile())).toBe(false);

    // A broken file is named, never quoted (it may hold a token).
    fs.mkdirSync(path.dirname(configFile()), { recursive: true });
    fs.writeFileSync(configFile(), `{"contexts": {"a": {"server": "http://x", "token": "${TOKEN}"`);
    expect(await cli(["config", "get-contexts"])).toEqual({ code: 2, stdout: "", stderr: `chainloop: the config file ${configFile()} is not valid JSON; fix it or delete it\n` });
    // ... and not even read when flags and variables say everything.
    expect(await cli(["environment", "list"], { CHAINLOOP_SERVER: served.url, CHAINLOOP_TOKEN: TOKEN })).toMatchObject({ code: 0 });

    // Help shows where values come from, never a value.
    const help = await cli(["config", "set-context", "--help"], { CHAINLOOP_TOKEN: TOKEN });
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(help.stdout).toContain("--token-stdin");
  });

  it("uses ~/.config/chainloop/config.json without XDG_CONFIG_HOME (and ignores a relative one)", async () => {
    const r = await runCli(["config", "set-context", "a", "--server", served.url], { HOME: home, XDG_CONFIG_HOME: "relative/dir" });
    expect(r).toEqual({ code: 0, stdout: 'context "a" created\n', stderr: "" });
    expect(fs.statSync(path.join(home, ".config", "chainloop", "config.json")).mode & 0o777).toBe(0o600);
  });
});
