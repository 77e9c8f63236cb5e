// `chainloop token list`: the organization's API tokens, newest first. Never a secret.
import { defineCommand } from "../command.js";
import { fetchAll } from "../paging.js";

export const tokenList = defineCommand({
  command: "list",
  aliases: ["ls"],
  describe: "List API tokens (never their secrets), newest first",
  builder: (y) =>
    y.options({
      "show-revoked": { type: "boolean", default: false, describe: "Include revoked tokens" },
    }),
  examples: [
    ["The tokens in use", "chainloop token list"],
    ["Every token, revoked ones too, as JSON", "chainloop token list --show-revoked -o json"],
  ],
  async action(args, { client, out }) {
    const [{ ApiTokenService, ApiTokenSchema }, { TOKEN_COLUMNS }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/api_token_pb.js"),
      import("../token-format.js"),
    ]);
    const tokens = client(ApiTokenService);
    const rows = await fetchAll(async (pageSize, pageToken) => {
      const page = await tokens.listApiTokens({ showRevoked: args.showRevoked, pageSize, pageToken });
      return { rows: page.tokens, nextPageToken: page.nextPageToken };
    });
    out.list(ApiTokenSchema, rows, TOKEN_COLUMNS);
  },
});
