// The commands that remove one thing — `environment delete`, `logical-environment delete`,
// `key delete`, `webhook delete`, `policy clear`, `token revoke` — share one shape, defined here
// once: `<verb> <what>` (the thing named by a positional that may also be given as a flag, or by
// a flag), one RPC (`token revoke` first looks a name up), and one confirmation line in table
// mode (nothing with -o json, where there is no resource left to print), or the changed resource
// when the RPC returns one (`token revoke`).
// A thing that does not exist is the server's NOT_FOUND, reported like any refusal (run() in
// command.ts): no command checks first.
//
// Loaded on every CLI start (command modules import it): type-only imports besides command.ts,
// and each command's service is imported when its action runs.
import type { DescMessage, DescService, MessageShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { Argv, CommandModule } from "yargs";
import { defineCommand, nameArgument, type GlobalArgs } from "./command.js";
import type { Output } from "./output.js";

/** How a delete command is told what to remove. */
export interface Target {
  /** After the verb in the usage line: `[name]`, `<id-or-name>`, or "" when a flag names it. */
  usage: string;
  /** The argument's key (camelCase, as the action reads it). */
  key: string;
  build(y: Argv<GlobalArgs>): Argv<GlobalArgs>;
  /** How the confirmation line shows the value: a name quoted (`"k8s-east"`), an ID bare. */
  label(value: string): string;
}

/** `[name]`, or --name: the resource's name. */
export function byName(what: string): Target {
  return { usage: "[name]", key: "name", build: (y) => nameArgument(y, what), label: (v) => `"${v}"` };
}

/** `[id]`, or --id: the resource's ID (`describe` says where to find it). */
export function byId(describe: string): Target {
  return { usage: "[id]", key: "id", build: (y) => idArgument(y, describe), label: (v) => v };
}

/** `<verb> [id]` commands: the resource's ID, given as the positional argument or as --id. */
export function idArgument<T>(y: Argv<T>, describe: string) {
  return y.positional("id", { type: "string", describe }).demandOption("id");
}

/** What `remove` returns when the command prints the changed resource instead of the confirmation line. */
export class Printed {
  constructor(readonly print: (out: Output) => void) {}
}

/** The resource `remove` changed (a revoked token): its JSON, or `confirmation` in table mode. */
export function printChanged<D extends DescMessage>(schema: D, message: MessageShape<D>, confirmation: string): Printed {
  return new Printed((out) => out.changed(schema, message, confirmation));
}

export interface DeleteSpec<S extends DescService> {
  /** What is removed, as the confirmation line starts: `environment`, `logical environment`. */
  noun: string;
  /** `delete` (alias `rm`) unless given; another verb comes with its own aliases. */
  verb?: string;
  aliases?: string[];
  describe: string;
  target: Target;
  /** [what it does, the command line]. */
  examples: [string, string][];
  /** The service the RPC belongs to, imported when the action runs. */
  service: () => Promise<S>;
  /** The RPC: removes what `value` names. Its response is not printed, unless it is a Printed. */
  remove: (client: Client<S>, value: string) => Promise<unknown>;
  /** The confirmation line, when not `<noun> <label> deleted`. */
  confirmation?: (value: string) => string;
}

export function defineDeleteCommand<S extends DescService>(spec: DeleteSpec<S>): CommandModule<GlobalArgs, any> {
  const verb = spec.verb ?? "delete";
  const { target } = spec;
  return defineCommand({
    command: target.usage ? `${verb} ${target.usage}` : verb,
    aliases: spec.verb ? spec.aliases : ["rm"],
    describe: spec.describe,
    builder: target.build,
    examples: spec.examples,
    async action(args, { client, out }) {
      const value = (args as Record<string, unknown>)[target.key] as string;
      const result = await spec.remove(client(await spec.service()), value);
      if (result instanceof Printed) result.print(out);
      else out.done(spec.confirmation?.(value) ?? `${spec.noun} ${target.label(value)} deleted`);
    },
  });
}

