// `chainloop completion [bash|zsh]`: yargs' completion script, and the answers the script asks
// the CLI for (`--get-yargs-completions <words>`), from the real command tree.
import { runCli } from "./run-cli.js";

describe("chainloop completion", () => {
  it("prints the bash script by default (no $SHELL) and for `bash`", async () => {
    const [plain, bash] = await Promise.all([runCli(["completion"]), runCli(["completion", "bash"], { SHELL: "/usr/bin/zsh" })]);
    for (const r of [plain, bash]) {
      expect(r).toMatchObject({ code: 0, stderr: "" });
      expect(r.stdout.startsWith("###-begin-chainloop-completions-###\n")).toBe(true);
      expect(r.stdout.endsWith("###-end-chainloop-completions-###\n\n")).toBe(true);
      expect(r.stdout).toContain('mapfile -t type_list < <(chainloop --get-yargs-completions "${args[@]}")\n');
      expect(r.stdout).toContain("\ncomplete -o bashdefault -o default -F _chainloop_yargs_completions chainloop\n");
    }
    expect(bash.stdout).toBe(plain.stdout);
  });

  it("prints the zsh script for `zsh` (or a zsh $SHELL)", async () => {
    const [zsh, bySHELL] = await Promise.all([runCli(["completion", "zsh"]), runCli(["completion"], { SHELL: "/bin/zsh" })]);
    for (const r of [zsh, bySHELL]) {
      expect(r).toMatchObject({ code: 0, stderr: "" });
      expect(r.stdout).toContain("#compdef chainloop\n");
      expect(r.stdout).toContain("chainloop --get-yargs-completions");
      expect(r.stdout).toContain("compdef _chainloop_yargs_completions chainloop\n");
    }
    expect(bySHELL.stdout).toBe(zsh.stdout);
  });

  it("refuses another shell with exit 2", async () => {
    expect(await runCli(["completion", "fish"])).toEqual({
      code: 2,
      stdout: "",
      stderr: expect.stringMatching(/\n\nUnsupported shell "fish": choose bash or zsh\n$/),
    });
  });

  it("completes commands and subcommands from the command tree", async () => {
    // As the bash script calls it: every word typed so far, the program's name first; the
    // shell keeps the candidates that start with the word being typed.
    const [verbs, nouns, config, policy, webhook] = await Promise.all([
      runCli(["--get-yargs-completions", "chainloop", "deployment", "re"]),
      runCli(["--get-yargs-completions", "chainloop", ""]),
      runCli(["--get-yargs-completions", "chainloop", "config", ""]),
      runCli(["--get-yargs-completions", "chainloop", "policy", ""]),
      runCli(["--get-yargs-completions", "chainloop", "webhook", ""]),
    ]);
    expect(verbs).toEqual({ code: 0, stdout: "record\ncheck\nsnapshot\nlist\ndescribe\ndiff\nwatch\n", stderr: "" });
    expect(nouns).toMatchObject({ code: 0, stderr: "" });
    expect(nouns.stdout.split("\n").filter((w) => !w.startsWith("-"))).toEqual(
      expect.arrayContaining(["environment", "deployment", "policy", "webhook", "config", "version", "completion", "metrics"]),
    );
    expect(policy).toMatchObject({ code: 0, stderr: "" });
    expect(policy.stdout.split("\n").filter((w) => w && !w.startsWith("-"))).toEqual(["set", "get", "list", "clear"]);
    expect(webhook).toMatchObject({ code: 0, stderr: "" });
    expect(webhook.stdout.split("\n").filter((w) => w && !w.startsWith("-"))).toEqual(["create", "list", "get", "delete", "deliveries", "test"]);
    expect(config).toMatchObject({ code: 0, stderr: "" });
    expect(config.stdout.split("\n").filter((w) => w && !w.startsWith("-"))).toEqual(["set-context", "use-context", "get-contexts", "delete-context"]);
  });
});
