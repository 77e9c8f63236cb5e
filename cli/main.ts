// The `chainloop` CLI: global options, the command tree, and usage errors (exit 2).
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { EXIT_CODES_EPILOGUE, EXIT_USAGE, GLOBAL_GROUP, globalOptions } from "./command.js";
import { completionShell, COMPLETION_COMMAND, COMPLETION_DESCRIBE } from "./commands/completion.js";
import { commands } from "./commands/index.js";

// `chainloop … | head` may close stdout early: stop quietly instead of crashing on EPIPE.
process.stdout.on("error", (e: NodeJS.ErrnoException) => process.exit(e.code === "EPIPE" ? 0 : 1));

const args = completionShell(hideBin(process.argv)); // before yargs reads $SHELL
if ("problem" in args) {
  process.stderr.write(`chainloop ${COMPLETION_COMMAND} [bash|zsh]\n\n${COMPLETION_DESCRIBE}\n\n${args.problem}\n`);
  process.exit(EXIT_USAGE);
}

const cli = yargs(args.argv)
  .scriptName("chainloop")
  .usage("$0 <command> [options]\n\nTrack what runs where: environments, lifecycle stages and the deployments in them.")
  .options(globalOptions)
  .command(commands)
  .completion(COMPLETION_COMMAND, COMPLETION_DESCRIBE)
  .demandCommand(1, "Choose a command")
  .recommendCommands()
  .strict()
  .help()
  .alias("help", "h")
  .group(["help", "version"], GLOBAL_GROUP)
  .wrap(Math.min(100, process.stdout.columns || 100))
  .epilogue(EXIT_CODES_EPILOGUE)
  .fail((message, error, usage) => {
    // Commands report their own failures (see run() in command.ts), so what arrives here is a
    // usage error: the help of the command that was being parsed, then what was wrong.
    usage.showHelp("error");
    process.stderr.write(`\n${message ?? error?.message}\n`);
    process.exit(EXIT_USAGE);
  });
skipHelpCache(cli);
// Not awaited at the top level: the CLI bundle is a classic script (see cli/bundle/build.mjs).
// Commands catch their own errors (run() in command.ts); usage errors end in .fail() above.
void cli.parseAsync();

/**
 * Before it runs a command's handler, yargs renders that command's whole --help and caches it,
 * for handlers that call showHelp() (ours never do: they print one-line errors). Rendering it
 * is the costliest part of parsing (~70 ms on every run), so it is turned off. Guarded: on a
 * yargs without this internal method, nothing changes but the speed.
 */
function skipHelpCache(y: object): void {
  type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = (y as Internals).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === "function") usage.cacheHelpMessage = () => {};
}
