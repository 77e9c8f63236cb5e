// `chainloop token create`: a new API token; its secret is printed once.
import { parseDuration } from "../../server/shared/durations.js";
import { TOKEN_SCOPES as SCOPES } from "../../server/shared/names.js";
import { defineCommand } from "../command.js";

export const tokenCreate = defineCommand({
  command: "create",
  describe: "Create an API token for pipelines or people; its secret is shown once",
  builder: (y) =>
    y.options({
      name: { type: "string", demandOption: true, requiresArg: true, describe: "Name, unique among unrevoked tokens: a DNS label (lowercase letters, digits and -)" },
      scope: {
        choices: SCOPES,
        demandOption: true,
        requiresArg: true,
        coerce: (v: string) => String(v).toLowerCase() as (typeof SCOPES)[number],
        describe: "read: list and describe; write: read, plus record deployments and push evidence; admin: write, plus manage environments, keys and tokens",
      },
      description: { type: "string", default: "", defaultDescription: "none", describe: "Free text, at most 1024 characters" },
      "expires-in": {
        type: "string",
        requiresArg: true,
        defaultDescription: "never",
        coerce: (v: string) => parseDuration(v, "--expires-in"),
        describe: "Lifetime from now: 90m, 12h, 30d, 2w, 1d12h, …",
      },
    }),
  examples: [
    ["A token for a CI pipeline that records deployments, valid 90 days", 'chainloop token create --name ci-deployer --scope write --description "GitHub Actions" --expires-in 90d'],
    ["The same, as JSON ({token, secret}) for a script", "chainloop token create --name ci-deployer --scope write -o json"],
  ],
  async action(args, { client, out }) {
    const [{ ApiTokenService, CreateApiTokenResponseSchema }, { SCOPE_TO_PB, expiryText, scopeName, timestampFromMs }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/api_token_pb.js"),
      import("../token-format.js"),
    ]);
    const expiresIn = args.expiresIn as number | undefined;
    const res = await client(ApiTokenService).createApiToken({
      name: args.name,
      description: args.description,
      scope: SCOPE_TO_PB[args.scope],
      expireTime: expiresIn === undefined ? undefined : timestampFromMs(Date.now() + expiresIn),
    });
    const t = res.token!;
    out.changed(
      CreateApiTokenResponseSchema,
      res,
      `token "${t.name}" created: id ${t.id}, scope ${scopeName(t.scope)}, ${expiryText(t)}\n${res.secret}`,
    );
    out.note("chainloop: store this secret now (for example in your CI's secret store): it is shown only once and cannot be retrieved again");
  },
});
