// `chainloop token revoke ID|NAME`: revokes a token at once. A name means the unrevoked token
// with that name (names are unique among unrevoked tokens).
import type { Client } from "@connectrpc/connect";
import type { ApiTokenService } from "../../gen/proto/chainloop/v1/api_token_pb.js";
import { isUuid } from "../../server/domain/validation.js";
import { defineDeleteCommand, printChanged } from "../delete-command.js";
import { fetchAll } from "../paging.js";

export const tokenRevoke = defineDeleteCommand({
  noun: "token",
  verb: "revoke",
  describe: "Revoke an API token, by ID or by name; calls with it fail from then on",
  target: {
    usage: "<id-or-name>",
    key: "idOrName",
    // Not called "token": that is the global --token (the caller's own API token).
    build: (y) => y.positional("id-or-name", { type: "string", demandOption: true, describe: "The token's ID, or the name of an unrevoked token" }),
    label: (v) => v,
  },
  examples: [
    ["Revoke the token named ci-deployer", "chainloop token revoke ci-deployer"],
    ["Revoke a token by ID", "chainloop token revoke 0b5c3a52-8f1e-4c0e-9d7a-2f6a1f0e9c11"],
  ],
  service: async () => (await import("../../gen/proto/chainloop/v1/api_token_pb.js")).ApiTokenService,
  async remove(tokens, idOrName) {
    const { ApiTokenSchema } = await import("../../gen/proto/chainloop/v1/api_token_pb.js");
    const { token } = await tokens.revokeApiToken({ id: isUuid(idOrName) ? idOrName : await idOfTokenNamed(tokens, idOrName) });
    // The revoked token, not just a line: -o json prints it (revokeTime set).
    return printChanged(ApiTokenSchema, token!, `token "${token!.name}" (${token!.id}) revoked`);
  },
});

/** The ID of the one unrevoked token named `name`; NOT_FOUND or FAILED_PRECONDITION otherwise. */
async function idOfTokenNamed(tokens: Client<typeof ApiTokenService>, name: string): Promise<string> {
  const { Code, ConnectError } = await import("../token-format.js");
  const all = await fetchAll(async (pageSize, pageToken) => {
    const page = await tokens.listApiTokens({ pageSize, pageToken });
    return { rows: page.tokens, nextPageToken: page.nextPageToken };
  });
  const named = all.filter((t) => t.name === name);
  if (named.length === 0) {
    throw new ConnectError(`no unrevoked API token is named "${name}"; see the names and IDs with: chainloop token list`, Code.NotFound);
  }
  if (named.length > 1) {
    throw new ConnectError(`${named.length} unrevoked API tokens are named "${name}" (${named.map((t) => t.id).join(", ")}); revoke one by its ID`, Code.FailedPrecondition);
  }
  return named[0].id;
}
