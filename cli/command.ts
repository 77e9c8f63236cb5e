// What every command shares: the global options, the exit codes, and defineCommand(), which
// wraps a command's action so that errors and the output mode are handled in one place.
//
// This module is loaded on every start, so it imports no runtime code from Connect, protobuf
// or gen/: those load only when an action runs, which keeps `--help` and usage errors fast.
import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { ArgumentsCamelCase, Argv, CommandModule, Options } from "yargs";
import { DigestError, parseDigest } from "../server/shared/digest.js";
import { parseDuration } from "../server/shared/durations.js";
import type { Output, OutputFormat } from "./output.js";

export const DEFAULT_SERVER = "http://127.0.0.1:8080";
const DEFAULT_TIMEOUT = "30s";

const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const EXIT_CODES_EPILOGUE = [
  "Exit codes:",
  "  0  success",
  "  1  the server refused the request, or could not be reached",
  "  2  usage error (unknown command or option, missing or invalid value)",
].join("\n");

export const GLOBAL_GROUP = "Global options:";

export interface GlobalArgs {
  /** --server as given; run() resolves it with CHAINLOOP_SERVER and the context (cli/config.ts). */
  server: string | undefined;
  /** --token as given; resolved like --server. */
  token: string | undefined;
  /** --context as given. */
  context: string | undefined;
  output: OutputFormat;
  /** Milliseconds each request to the server may take (--timeout); 0: no limit. */
  timeout: number;
}

export const globalOptions = {
  server: {
    type: "string",
    describe: "URL of the Chainloop server (env CHAINLOOP_SERVER)",
    // Resolved in run(): flag, then CHAINLOOP_SERVER, then the context, then the default.
    defaultDescription: `$CHAINLOOP_SERVER, the context's, or ${DEFAULT_SERVER}`,
    coerce: serverUrl,
    requiresArg: true,
    global: true,
    group: GLOBAL_GROUP,
  },
  token: {
    type: "string",
    describe: "API token, sent as a bearer token (env CHAINLOOP_TOKEN)",
    // Resolved in run() (flag, CHAINLOOP_TOKEN, the context), so no help text can ever show it.
    defaultDescription: "$CHAINLOOP_TOKEN or the context's",
    requiresArg: true,
    global: true,
    group: GLOBAL_GROUP,
  },
  context: {
    type: "string",
    describe: "Use this context (chainloop config get-contexts) instead of the current one (env CHAINLOOP_CONTEXT)",
    defaultDescription: "$CHAINLOOP_CONTEXT or the current context",
    requiresArg: true,
    global: true,
    group: GLOBAL_GROUP,
  },
  output: {
    alias: "o",
    choices: ["table", "json"] as const,
    describe: "Output format",
    default: "table" as const,
    global: true,
    group: GLOBAL_GROUP,
  },
  timeout: {
    type: "string",
    describe: "How long to wait for the server's answer to each request, e.g. 10s or 2m; 0 waits forever (env CHAINLOOP_TIMEOUT)",
    default: process.env.CHAINLOOP_TIMEOUT || DEFAULT_TIMEOUT,
    defaultDescription: `$CHAINLOOP_TIMEOUT or ${DEFAULT_TIMEOUT}`,
    coerce: (value: string) => parseDuration(value, "--timeout (or CHAINLOOP_TIMEOUT)", "s"),
    requiresArg: true,
    global: true,
    group: GLOBAL_GROUP,
  },
} satisfies Record<string, Options>;

function serverUrl(value: string): string {
  const problem = serverUrlProblem(value, "--server");
  if (problem) throw new Error(problem);
  return value;
}

/** Why `value` is not a server URL (`label` names where it came from), or undefined. */
export function serverUrlProblem(value: string, label: string): string | undefined {
  const protocol = URL.canParse(value) ? new URL(value).protocol : "";
  return protocol === "http:" || protocol === "https:" ? undefined : `${label} must be an http:// or https:// URL, got "${value}"`;
}

/** What an action gets besides its arguments. */
export interface Context {
  /**
   * A client for a service on the chosen server, with the token attached. The server and token
   * are resolved (flags, variables, context) on the first call: commands that never connect
   * (`config …`) never read them.
   */
  client<S extends DescService>(service: S): Client<S>;
  out: Output;
}

/** `<verb> [name]` commands: the resource's name, given as the positional argument or as --name. */
/** For a builder's check(): `${label}: <why>` when `value` is not a digest, else undefined. */
export function digestProblem(label: string, value: string): string | undefined {
  try {
    parseDigest(value);
    return undefined;
  } catch (e) {
    if (e instanceof DigestError) return `${label}: ${e.message}`;
    throw e;
  }
}

export function nameArgument<T>(y: Argv<T>, what: string) {
  return y.positional("name", { type: "string", describe: `The ${what} (may also be given as --name)` }).demandOption("name");
}

export interface CommandSpec<A> {
  command: string;
  aliases?: string[];
  describe: string;
  builder: (y: Argv<GlobalArgs>) => Argv<A>;
  /** [what it does, the command line]. */
  examples?: [string, string][];
  /** Exit codes of this command's own, after the common ones (`  3  what it means`). */
  exitCodes?: string[];
  action: (args: ArgumentsCamelCase<A>, ctx: Context) => Promise<void>;
}

/** A yargs command module whose action runs with a client and an output, and whose errors end as one line on stderr. */
export function defineCommand<A extends GlobalArgs>(spec: CommandSpec<A>): CommandModule<GlobalArgs, A> {
  return {
    command: spec.command,
    aliases: spec.aliases,
    describe: spec.describe,
    builder: (y) => {
      // Empty groups fix the order of the sections in --help: the command's own before the global options.
      const built = spec.builder(y.group([], "Positionals:").group([], "Options:"));
      // Full-width "# what / command" pairs: yargs' two-column layout would break long command lines.
      (spec.examples ?? []).forEach(([what, line], i) => built.example(`${i > 0 ? "\n" : ""}# ${what}\n${line}`, ""));
      return built.epilogue([EXIT_CODES_EPILOGUE, ...(spec.exitCodes ?? [])].join("\n"));
    },
    handler: (args) => run(spec.action, args),
  };
}

/** A noun (`environment`) whose verbs are its subcommands. */
export function defineGroup(spec: {
  command: string;
  aliases?: string[];
  describe: string;
  commands: CommandModule<GlobalArgs, any>[];
}): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: spec.command,
    aliases: spec.aliases,
    describe: spec.describe,
    builder: (y) =>
      y
        .usage(`$0 ${spec.command} <command>\n\n${spec.describe}`)
        .command(spec.commands)
        .demandCommand(1, "Choose a command")
        .epilogue(EXIT_CODES_EPILOGUE),
    handler: () => {}, // never runs: demandCommand requires a subcommand
  };
}

async function run<A extends GlobalArgs>(action: CommandSpec<A>["action"], args: ArgumentsCamelCase<A>): Promise<void> {
  const [{ connect }, { Output, formatError }, { ConfigError, resolveConnection }] = await Promise.all([
    import("./client.js"),
    import("./output.js"),
    import("./config.js"),
  ]);
  // The one place where server and token are chosen: see resolveConnection() in config.ts.
  let connection: ReturnType<typeof resolveConnection> | undefined;
  let clients: ReturnType<typeof connect> | undefined;
  const client = <S extends DescService>(service: S): Client<S> => {
    connection ??= resolveConnection({ server: args.server, token: args.token, context: args.context });
    clients ??= connect({ server: connection.server, token: connection.token, timeoutMs: args.timeout });
    return clients(service);
  };
  try {
    await action(args, { client, out: new Output(args.output) });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`chainloop: ${e.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    process.stderr.write(
      `${formatError(e, connection?.server ?? DEFAULT_SERVER, {
        tokenGiven: connection === undefined ? undefined : connection.token !== undefined,
        missingTokenHint: connection?.missingTokenHint,
        context: connection?.context,
        timeoutMs: args.timeout,
      })}\n`,
    );
    process.exitCode = EXIT_FAILURE;
  }
}
