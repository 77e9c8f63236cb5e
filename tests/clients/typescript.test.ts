// The TypeScript client package (@chainloop-deployments/client, clients/typescript) as a user
// gets it: the built package (dist/, what the package's exports name; npm links the workspace
// into node_modules), imported by a plain Node program, its quick-start example (the one the
// README shows), against a real server on each backend, over Connect, gRPC and gRPC-Web with
// the Node build, and over Connect and gRPC-Web with the browser build (connect-web, on Node's
// fetch: the code a browser runs), which refuses gRPC with a clear message.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { DeploymentService, DeploymentStatus } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { backends } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { serveFor } from "../helpers/served.js";
import { ROOT, TEST_ADMIN_TOKEN } from "../helpers/server.js";
import { digest } from "../helpers/facts.js";

const run = promisify(execFile);
const EXAMPLE = path.join(ROOT, "clients/typescript/examples/quickstart.mjs");

/** Where a program importing the package gets it from, with extra export conditions. */
async function resolved(conditions: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [...conditions.map((c) => `--conditions=${c}`), "--input-type=module", "-e", 'console.log(import.meta.resolve("@chainloop-deployments/client"))'],
    { cwd: path.join(ROOT, "clients/typescript/examples") },
  );
  return new URL(stdout.trim()).pathname;
}

test("a program gets the built package: the Node build, or the browser build under the browser condition", async () => {
  expect(await resolved([])).toBe(path.join(ROOT, "clients/typescript/dist/node.js"));
  expect(await resolved(["browser"])).toBe(path.join(ROOT, "clients/typescript/dist/index.js"));
});

const CASES = [
  { build: "node", protocol: "connect" },
  { build: "node", protocol: "grpc" },
  { build: "node", protocol: "grpc-web" },
  { build: "browser", protocol: "connect" },
  { build: "browser", protocol: "grpc-web" },
] as const;

describe.each(backends())("the TypeScript quick start against a server on %s", (backend) => {
  const served = serveFor(backend);

  const example = (build: "node" | "browser", protocol: string, environment: string) =>
    run(process.execPath, [...(build === "browser" ? ["--conditions=browser"] : []), EXAMPLE], {
      cwd: path.dirname(EXAMPLE),
      env: {
        PATH: process.env.PATH ?? "",
        CHAINLOOP_SERVER: served.url,
        CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN,
        CHAINLOOP_PROTOCOL: protocol,
        CHAINLOOP_EXAMPLE_ENV: environment,
      },
      timeout: 60_000,
    });

  test.each(CASES)("the $build build over $protocol: environment, evidence, record, list, and a watched change", async ({ build, protocol }) => {
    const environment = `ts-${build}-${protocol}`;
    const { stdout } = await example(build, protocol, environment);
    const [v1, v2] = [digest("api-server v1"), digest("api-server v2")];
    expect(stdout.trim().split("\n").map((l) => JSON.parse(l) as unknown)).toEqual([
      { recorded: "CREATED" },
      { running: [["api-server", v1]] },
      { watched: "CREATED", digest: v2 },
    ]);
    const history = await connectClient(DeploymentService, served.url).listDeployments({ environment, history: true });
    expect(history.deployments.map((d) => [d.digest, d.status])).toEqual([
      [v2, DeploymentStatus.DEPLOYED],
      [v1, DeploymentStatus.SUPERSEDED],
    ]);
  });

  test("the browser build refuses gRPC, saying what to use instead", async () => {
    await expect(example("browser", "grpc", "ts-browser-grpc")).rejects.toMatchObject({
      stderr: expect.stringContaining('protocol "grpc" needs HTTP/2 trailers, which browsers do not expose: use "connect" or "grpc-web"'),
    });
  });
});
