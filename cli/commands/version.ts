// `chainloop version`: this CLI's version, and the server's release and API (ServerInfoService,
// which needs no token). `chainloop --version` prints the CLI's alone, without a network call.
import { defineCommand } from "../command.js";

export const version = defineCommand({
  command: "version",
  describe: "Show the version of this CLI and of the server: its release and the API it serves",
  builder: (y) => y,
  examples: [
    ["Both versions", "chainloop version"],
    ["As JSON: clientVersion, and server with serverVersion, apiVersion and buildCommit", "chainloop version -o json"],
  ],
  async action(args, { client, out }) {
    const [{ packageVersion }, { ServerInfoService, GetServerInfoResponseSchema }, { toJson }] = await Promise.all([
      import("../../server/version.js"),
      import("../../gen/proto/chainloop/v1/server_info_pb.js"),
      import("@bufbuild/protobuf"),
    ]);
    const clientVersion = packageVersion(import.meta.url);
    let info;
    try {
      info = await client(ServerInfoService).getServerInfo({});
    } catch (e) {
      // The CLI's own version is known whatever the server does; the error follows on stderr.
      out.plain({ clientVersion }, `Client: ${clientVersion}\n`);
      throw e;
    }
    const commit = info.buildCommit ? `, commit ${info.buildCommit.slice(0, 12)}` : "";
    out.plain(
      { clientVersion, server: toJson(GetServerInfoResponseSchema, info, { alwaysEmitImplicit: true }) },
      `Client: ${clientVersion}\nServer: ${info.serverVersion} (API ${info.apiVersion}${commit})\n`,
    );
  },
});
