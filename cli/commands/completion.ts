// `chainloop completion [bash|zsh]`: yargs' own completion (main.ts registers it with
// .completion()). The printed script calls `chainloop --get-yargs-completions <words>`, which
// answers from the command tree, so completions never go stale.
//
// yargs picks the script's shell from $SHELL when it is created; choosing one by argument
// means setting $SHELL for this process before that (completionShell, from main.ts).

export const COMPLETION_COMMAND = "completion";

export const COMPLETION_DESCRIBE =
  "Print a shell completion script: chainloop completion bash >> ~/.bashrc, or zsh >> ~/.zshrc (default: your $SHELL)";

const SHELLS = ["bash", "zsh"] as const;

/**
 * For `chainloop completion <shell>`: points $SHELL at that shell for this process and returns
 * the command line without it (yargs' completion command takes no argument), or says why it
 * cannot (an unsupported shell). Any other command line comes back as it is.
 */
export function completionShell(argv: string[], env: NodeJS.ProcessEnv = process.env): { argv: string[] } | { problem: string } {
  if (argv[0] !== COMPLETION_COMMAND) return { argv };
  const at = argv.findIndex((a, i) => i > 0 && !a.startsWith("-"));
  if (at < 0) return { argv };
  const shell = argv[at];
  if (!(SHELLS as readonly string[]).includes(shell)) return { problem: `Unsupported shell "${shell}": choose ${SHELLS.join(" or ")}` };
  env.SHELL = `/bin/${shell}`;
  delete env.ZSH_NAME;
  return { argv: argv.filter((_, i) => i !== at) };
}
