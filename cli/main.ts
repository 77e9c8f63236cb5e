// The `chainloop` CLI: global options, the command tree, and usage errors (exit 2).
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { EXIT_CODES_EPILOGUE, EXIT_USAGE, GLOBAL_GROUP, globalOptions } from "./command.js";
import { commands } from "./commands/index.js";

// `chainloop … | head` may close stdout early: stop quietly instead of crashing on EPIPE.
process.stdout.on("error", (e: NodeJS.ErrnoException) => process.exit(e.code === "EPIPE" ? 0 : 1));

await yargs(hideBin(process.argv))
  .scriptName("chainloop")
  .usage("$0 <command> [options]\n\nTrack what runs where: environments, lifecycle stages and the deployments in them.")
  .options(globalOptions)
  .command(commands)
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
  })
  .parseAsync();
