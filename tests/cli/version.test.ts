// `chainloop version` (and `--version`) through the real CLI against a real server: the CLI's
// version, the server's release, API and build commit (ServerInfoService, no token needed), and
// the CLI's version alone, with the error on stderr, when the server cannot be reached.
import fs from "node:fs";
import path from "node:path";
import { clientBackends } from "../helpers/backends.js";
import { serveFor } from "../helpers/served.js";
import { ROOT } from "../helpers/server.js";
import { closedPort } from "./parse-output.js";
import { runCli } from "./run-cli.js";

const VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version as string;
const COMMIT = "89abcdef0123456789abcdef0123456789abcdef";

describe.each(clientBackends())("chainloop version on %s", (backend) => {
  const served = serveFor(backend, { CHAINLOOP_BUILD_COMMIT: COMMIT });

  it("prints the client's and the server's versions, without a token", async () => {
    expect(await runCli(["version"], { CHAINLOOP_SERVER: served.url })).toEqual({
      code: 0,
      stdout: `Client: ${VERSION}\nServer: ${VERSION} (API chainloop.v1, commit 89abcdef0123)\n`,
      stderr: "",
    });
  });

  it("prints both as one JSON object with -o json", async () => {
    const res = await runCli(["version", "-o", "json", "--server", served.url]);
    expect(res).toMatchObject({ code: 0, stderr: "" });
    expect(res.stdout).toBe(
      `${JSON.stringify({ clientVersion: VERSION, server: { serverVersion: VERSION, apiVersion: "chainloop.v1", buildCommit: COMMIT } }, null, 2)}\n`,
    );
  });

  it("keeps --version as it was: the CLI's version alone, no server needed", async () => {
    expect(await runCli(["--version"], { CHAINLOOP_SERVER: "http://127.0.0.1:1" })).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
  });
});

describe("chainloop version without a server", () => {
  it("still prints the client's version, then the error on stderr, and exits 1", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const [table, json] = await Promise.all([
      runCli(["version"], { CHAINLOOP_SERVER: url }),
      runCli(["version", "-o", "json"], { CHAINLOOP_SERVER: url }),
    ]);
    const error = new RegExp(`^chainloop: cannot reach the server at ${url} \\(.*ECONNREFUSED.*\\); check that it is running, .*\n$`);
    expect(table).toEqual({ code: 1, stdout: `Client: ${VERSION}\n`, stderr: expect.stringMatching(error) });
    expect(json).toEqual({ code: 1, stdout: `${JSON.stringify({ clientVersion: VERSION }, null, 2)}\n`, stderr: expect.stringMatching(error) });
  });
});
