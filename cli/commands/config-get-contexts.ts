// `chainloop config get-contexts`
import { defineCommand } from "../command.js";

export const configGetContexts = defineCommand({
  command: "get-contexts",
  aliases: ["list"],
  describe: "List the contexts: the current one (*), their servers and where their tokens come from (never the tokens)",
  builder: (y) => y,
  examples: [
    ["The contexts", "chainloop config get-contexts"],
    ["As a JSON array of {name, current, server, token}", "chainloop config get-contexts -o json"],
  ],
  async action(_args, { out }) {
    const [config, { contextRow, contextColumns }, { table }] = await Promise.all([
      import("../config.js"),
      import("../context-format.js"),
      import("../output.js"),
    ]);
    const current = config.readConfig();
    const rows = Object.keys(current.contexts)
      .sort()
      .map((name) => contextRow(current, name));
    out.plain(rows, table(contextColumns, rows));
  },
});
