// The Python client package (clients/python) as a user gets it: installed offline into a venv
// on Debian's grpcio and protobuf (pip --no-deps --no-build-isolation), then its quick-start
// example (the one the README shows) run against a real server on each backend: an
// environment, evidence, a record, the running set, and a change seen through a watch.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { DeploymentService, DeploymentStatus } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { backends } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { serveFor } from "../helpers/served.js";
import { ROOT, TEST_ADMIN_TOKEN } from "../helpers/server.js";
import { digest } from "../helpers/facts.js";

const run = promisify(execFile);
/** Debian's interpreter: its site-packages hold python3-grpcio and python3-protobuf. */
const PYTHON = "/usr/bin/python3";
const EXAMPLE = path.join(ROOT, "clients/python/examples/quickstart.py");

let venv: string;

beforeAll(async () => {
  venv = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-py-"));
  await run(PYTHON, ["-m", "venv", "--system-site-packages", venv]);
  // A copy of the package: pip writes build/ and *.egg-info next to the sources it builds.
  const src = path.join(venv, "src");
  fs.cpSync(path.join(ROOT, "clients/python"), src, { recursive: true, filter: (p) => !/(build|egg-info|__pycache__)$/.test(p) });
  await run(path.join(venv, "bin/pip"), ["install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", src], { timeout: 120_000 });
}, 180_000);

afterAll(() => {
  if (venv) fs.rmSync(venv, { recursive: true, force: true });
});

test("the package is installed in the venv, not read from the source tree", async () => {
  const { stdout } = await run(path.join(venv, "bin/python"), ["-c", "import chainloop.client, chainloop.v1.deployment_pb2_grpc as g; print(chainloop.client.__file__); print(g.DeploymentServiceStub.__name__)"], {
    cwd: os.tmpdir(),
  });
  const [file, stub] = stdout.trim().split("\n");
  expect(file.startsWith(path.join(venv, "lib"))).toBe(true);
  expect(stub).toBe("DeploymentServiceStub");
});

describe.each(backends())("the Python quick start against a server on %s", (backend) => {
  const served = serveFor(backend);

  test("creates an environment, attests, records, lists, and watches a change land", async () => {
    const { stdout } = await run(path.join(venv, "bin/python"), [EXAMPLE], {
      cwd: os.tmpdir(),
      env: { PATH: process.env.PATH ?? "", CHAINLOOP_TARGET: `127.0.0.1:${served.server.port}`, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN },
      timeout: 60_000,
    });
    const lines = stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const [v1, v2] = [digest("api-server v1"), digest("api-server v2")];
    expect(lines).toEqual([
      { recorded: "RECORD_OUTCOME_CREATED" },
      { running: [["api-server", v1]] },
      { watched: "WATCH_EVENT_TYPE_CREATED", digest: v2 },
    ]);
    // What the script did is in the server: v2 runs, v1 was superseded by it.
    const history = await connectClient(DeploymentService, served.url).listDeployments({ environment: "py-east", history: true });
    expect(history.deployments.map((d) => [d.digest, d.status])).toEqual([
      [v2, DeploymentStatus.DEPLOYED],
      [v1, DeploymentStatus.SUPERSEDED],
    ]);
  });

  test("a call without a token is refused (UNAUTHENTICATED)", async () => {
    const script = [
      "import grpc, sys",
      "from chainloop.client import Client, connect",
      "from chainloop.v1 import environment_pb2",
      "with connect(sys.argv[1]) as channel:",
      "    try:",
      "        Client(channel).environments.ListEnvironments(environment_pb2.ListEnvironmentsRequest())",
      "    except grpc.RpcError as e:",
      "        print(e.code().name)",
    ].join("\n");
    const { stdout } = await run(path.join(venv, "bin/python"), ["-c", script, `127.0.0.1:${served.server.port}`], { cwd: os.tmpdir() });
    expect(stdout.trim()).toBe("UNAUTHENTICATED");
  });
});
