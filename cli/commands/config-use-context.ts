// `chainloop config use-context NAME`
import { defineCommand, nameArgument } from "../command.js";

export const configUseContext = defineCommand({
  command: "use-context [name]",
  describe: "Make a context the current one: the server and token of every command that names none",
  builder: (y) => nameArgument(y, "context"),
  examples: [["Talk to prod from now on", "chainloop config use-context prod"]],
  async action(args, { out }) {
    const [config, { contextRow }] = await Promise.all([import("../config.js"), import("../context-format.js")]);
    const file = config.configPath();
    const current = config.readConfig(file);
    config.contextNamed(current, args.name, file);
    current.currentContext = args.name;
    config.writeConfig(current, file);
    out.plain(contextRow(current, args.name), `switched to context "${args.name}"\n`);
  },
});
