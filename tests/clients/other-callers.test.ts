// The README's "Calling the API" examples that use no package of ours, run as written against a
// real server: clients/examples/curl.sh (curl over POST and GET, buf curl through reflection) and
// clients/examples/grpc-js.mjs (@grpc/grpc-js with the .proto files). The README shows these
// files verbatim (tests/unit/readme-examples.test.ts). On one backend: nothing here depends on the
// database.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { backends } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { serveFor } from "../helpers/served.js";
import { ROOT, TEST_ADMIN_TOKEN } from "../helpers/server.js";

const run = promisify(execFile);

/** Splits concatenated output into its JSON documents (braces balanced, strings skipped) and the plain text between them. */
function splitOutput(out: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < out.length) {
    if (/\s/.test(out[i])) {
      i++;
      continue;
    }
    if (out[i] !== "{") {
      const next = out.indexOf("{", i);
      const end = next < 0 ? out.length : next;
      parts.push(out.slice(i, end).trim());
      i = end;
      continue;
    }
    let depth = 0;
    let inString = false;
    let j = i;
    for (; j < out.length; j++) {
      const c = out[j];
      if (inString) {
        if (c === "\\") j++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "{") depth++;
      else if (c === "}" && --depth === 0) break;
    }
    parts.push(out.slice(i, j + 1));
    i = j + 1;
  }
  return parts;
}
const EXAMPLES = path.join(ROOT, "clients/examples");

describe.each(backends().slice(0, 1))("the curl and grpc-js examples against a server on %s", (backend) => {
  const served = serveFor(backend);

  beforeAll(async () => {
    await connectClient(EnvironmentService, served.url).createEnvironment({ name: "k8s-east" });
  });

  test("curl.sh: create over POST, list over GET, services and a call through reflection", async () => {
    const { stdout } = await run("bash", ["-euo", "pipefail", path.join(EXAMPLES, "curl.sh")], {
      env: {
        PATH: `${path.join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
        CHAINLOOP_SERVER: served.url,
        CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN,
        HOME: process.env.HOME ?? "/tmp",
      },
      timeout: 60_000,
    });
    // Four answers, one after the other: JSON, JSON, service names (one per line), JSON.
    const [created, listed, services, called] = splitOutput(stdout);
    expect(JSON.parse(created)).toMatchObject({ environment: { name: "curl-east", description: "from curl" } });
    expect(JSON.parse(listed)).toMatchObject({ environments: [{ name: "curl-east" }] });
    expect(services.split("\n")).toEqual(expect.arrayContaining(["chainloop.v1.DeploymentService", "grpc.reflection.v1.ServerReflection"]));
    expect(JSON.parse(called)).toMatchObject({ environments: [{ name: "curl-east" }] });
  });

  test("grpc-js.mjs: the .proto files and a bearer token are all it needs", async () => {
    const { stdout } = await run(process.execPath, [path.join(EXAMPLES, "grpc-js.mjs")], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", CHAINLOOP_TARGET: `127.0.0.1:${served.server.port}`, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN, PROTO_DIR: path.join(ROOT, "proto") },
      timeout: 30_000,
    });
    expect(JSON.parse(stdout)).toEqual(["k8s-east"]);
  });
});
