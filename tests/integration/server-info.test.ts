// ServerInfoService through a real server: the server's release (package.json), the API it
// serves and its build commit, over Connect (POST and GET), connect-node's gRPC and
// @grpc/grpc-js with the .proto files; without a token, as documented (it reveals only versions).
// It does not touch the database: one backend (clientBackends) is enough.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ServerInfoService } from "../../gen/proto/chainloop/v1/server_info_pb.js";
import { OPEN_SERVICES, PROTECTED_SERVICES } from "../../server/routes.js";
import { clientBackends, createTestDatabase } from "../helpers/backends.js";
import { connectClient, grpcCall, grpcJsClient, grpcTransportClient, authMetadata } from "../helpers/clients.js";
import { serveFor } from "../helpers/served.js";
import { ROOT, startServer } from "../helpers/server.js";

const VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version as string;
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

describe.each(clientBackends())("ServerInfoService on %s", (backend) => {
  const served = serveFor(backend, { CHAINLOOP_BUILD_COMMIT: COMMIT });

  const expected = { serverVersion: VERSION, apiVersion: "chainloop.v1", buildCommit: COMMIT };

  it("answers over Connect (HTTP/1.1 and HTTP/2) and gRPC without a token, and ignores a bad one", async () => {
    for (const client of [
      connectClient(ServerInfoService, served.url, "1.1", null),
      connectClient(ServerInfoService, served.url, "2", null),
      grpcTransportClient(ServerInfoService, served.url, null),
      connectClient(ServerInfoService, served.url, "1.1", "clp_not-a-real-token-at-all-000000000000"),
    ]) {
      expect(await client.getServerInfo({})).toMatchObject(expected);
    }
  });

  it("answers @grpc/grpc-js with the .proto files, and plain HTTP GET (side-effect free)", async () => {
    const client = grpcJsClient("chainloop/v1/server_info.proto", "chainloop.v1.ServerInfoService", served.server.port);
    try {
      expect(await grpcCall(client, "GetServerInfo", {}, authMetadata(null))).toEqual(expected);
    } finally {
      client.close();
    }
    const res = await fetch(`${served.url}/chainloop.v1.ServerInfoService/GetServerInfo?connect=v1&encoding=json&message=%7B%7D`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(expected);
  });

  it("is open, like health and reflection, and says nothing but versions", () => {
    expect(OPEN_SERVICES).toContain(ServerInfoService);
    expect(PROTECTED_SERVICES).not.toContain(ServerInfoService);
    expect(ServerInfoService.method.getServerInfo.output.fields.map((f) => f.name)).toEqual(["server_version", "api_version", "build_commit"]);
  });
});

describe.each(clientBackends())("ServerInfoService without CHAINLOOP_BUILD_COMMIT on %s", (backend) => {
  it("reports the commit checked out where the server runs (or none outside a git checkout)", async () => {
    const db = await createTestDatabase(backend);
    const server = await startServer(db.env);
    try {
      let head = "";
      try {
        head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
      } catch {
        // not a git checkout, or no git: the server reports no commit
      }
      const info = await connectClient(ServerInfoService, server.url, "1.1", null).getServerInfo({});
      expect(info).toMatchObject({ serverVersion: VERSION, apiVersion: "chainloop.v1", buildCommit: head });
    } finally {
      await server.stop();
      await db.drop();
    }
  });
});
