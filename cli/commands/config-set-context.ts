// `chainloop config set-context NAME --server URL [--token-from-env VAR | --token-stdin]`
import { defineCommand, nameArgument } from "../command.js";

export const configSetContext = defineCommand({
  command: "set-context [name]",
  describe: "Create or change a context: a server, and where the API token for it comes from",
  builder: (y) =>
    nameArgument(y, "context's name")
      .options({
        "token-from-env": {
          type: "string",
          requiresArg: true,
          describe: "Read the token from this environment variable whenever the context is used (only the variable's name is stored)",
        },
        "token-stdin": { type: "boolean", describe: "Read the token from stdin and store it in the config file (mode 0600)" },
        "clear-token": { type: "boolean", describe: "Forget the context's token (stored or variable name)" },
      })
      .check((a) => {
        const given = [a.tokenFromEnv !== undefined, a.tokenStdin === true, a.clearToken === true].filter(Boolean).length;
        if (given > 1) return "--token-from-env, --token-stdin and --clear-token exclude each other";
        if (a.token !== undefined) return "set-context does not take --token (it would stay in your shell history): use --token-stdin or --token-from-env";
        return true;
      }),
  examples: [
    ["A context whose token is read from $PROD_TOKEN when it is used", "chainloop config set-context prod --server https://chainloop.example.com --token-from-env PROD_TOKEN"],
    ["A context that stores its token (read from stdin)", "cat admin.token | chainloop config set-context local --server http://127.0.0.1:8080 --token-stdin"],
    ["Point an existing context at another server, keeping its token setting", "chainloop config set-context prod --server https://chainloop2.example.com"],
  ],
  async action(args, { out }) {
    const [config, { contextRow }] = await Promise.all([import("../config.js"), import("../context-format.js")]);
    const problem = config.contextNameProblem(args.name) ?? (args.tokenFromEnv !== undefined ? config.envNameProblem(args.tokenFromEnv) : undefined);
    if (problem) throw new config.ConfigError(problem);
    const file = config.configPath();
    const current = config.readConfig(file);
    const existing = Object.hasOwn(current.contexts, args.name) ? current.contexts[args.name] : undefined;
    const server = args.server ?? existing?.server;
    if (server === undefined) throw new config.ConfigError(`context "${args.name}" is new: give its server with --server URL`);

    let token: { tokenEnv?: string; token?: string } = existing ? { tokenEnv: existing.tokenEnv, token: existing.token } : {};
    if (args.tokenFromEnv !== undefined) token = { tokenEnv: args.tokenFromEnv };
    if (args.clearToken) token = {};
    if (args.tokenStdin) {
      const secret = await config.readStdin();
      if (secret === "") throw new config.ConfigError("--token-stdin: stdin held no token");
      if (/\s/.test(secret)) throw new config.ConfigError("--token-stdin: the token on stdin contains whitespace; give one token");
      token = { token: secret };
    }
    current.contexts[args.name] = { server, ...(token.tokenEnv ? { tokenEnv: token.tokenEnv } : {}), ...(token.token ? { token: token.token } : {}) };
    config.writeConfig(current, file);
    out.plain(contextRow(current, args.name), `context "${args.name}" ${existing ? "updated" : "created"}\n`);
  },
});
