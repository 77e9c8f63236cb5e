// `chainloop config delete-context NAME`
import { defineCommand, nameArgument } from "../command.js";

export const configDeleteContext = defineCommand({
  command: "delete-context [name]",
  aliases: ["rm"],
  describe: "Delete a context (and the token stored in it); when it was the current one, none is current after",
  builder: (y) => nameArgument(y, "context"),
  examples: [["Forget the context local", "chainloop config delete-context local"]],
  async action(args, { out }) {
    const config = await import("../config.js");
    const file = config.configPath();
    const current = config.readConfig(file);
    config.contextNamed(current, args.name, file);
    delete current.contexts[args.name];
    const wasCurrent = current.currentContext === args.name;
    if (wasCurrent) current.currentContext = undefined;
    config.writeConfig(current, file);
    out.done(`context "${args.name}" deleted`);
    if (wasCurrent) out.note(`"${args.name}" was the current context; choose another with chainloop config use-context NAME`);
  },
});
