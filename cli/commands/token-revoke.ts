// `chainloop token revoke ID|NAME`: revokes a token at once. A name means the unrevoked token
// with that name (names are unique among unrevoked tokens).
import { isUuid } from "../../server/domain/validation.js";
import { defineCommand } from "../command.js";
import { fetchAll } from "../paging.js";

export const tokenRevoke = defineCommand({
  command: "revoke <id-or-name>",
  describe: "Revoke an API token, by ID or by name; calls with it fail from then on",
  // Not called "token": that is the global --token (the caller's own API token).
  builder: (y) => y.positional("id-or-name", { type: "string", demandOption: true, describe: "The token's ID, or the name of an unrevoked token" }),
  examples: [
    ["Revoke the token named ci-deployer", "chainloop token revoke ci-deployer"],
    ["Revoke a token by ID", "chainloop token revoke 0b5c3a52-8f1e-4c0e-9d7a-2f6a1f0e9c11"],
  ],
  async action(args, { client, out }) {
    const [{ ApiTokenService, ApiTokenSchema }, { Code, ConnectError }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/api_token_pb.js"),
      import("../token-format.js"),
    ]);
    const tokens = client(ApiTokenService);
    const wanted = args.idOrName;
    let id = wanted;
    if (!isUuid(id)) {
      const all = await fetchAll(async (pageSize, pageToken) => {
        const page = await tokens.listApiTokens({ pageSize, pageToken });
        return { rows: page.tokens, nextPageToken: page.nextPageToken };
      });
      const named = all.filter((t) => t.name === wanted);
      if (named.length === 0) {
        throw new ConnectError(`no unrevoked API token is named "${wanted}"; see the names and IDs with: chainloop token list`, Code.NotFound);
      }
      if (named.length > 1) {
        throw new ConnectError(
          `${named.length} unrevoked API tokens are named "${wanted}" (${named.map((t) => t.id).join(", ")}); revoke one by its ID`,
          Code.FailedPrecondition,
        );
      }
      id = named[0].id;
    }
    const { token } = await tokens.revokeApiToken({ id });
    out.changed(ApiTokenSchema, token!, `token "${token!.name}" (${token!.id}) revoked`);
  },
});
