import { defineCommand, nameArgument } from "../command.js";

export const logicalEnvironmentDelete = defineCommand({
  command: "delete [name]",
  aliases: ["rm"],
  describe: "Delete a logical environment (not a built-in one, nor one deployment records reference)",
  builder: (y) => nameArgument(y, "logical environment"),
  examples: [["Delete the stage qa", "chainloop logical-environment delete --name qa"]],
  async action(args, { client, out }) {
    const { EnvironmentService } = await import("../../gen/proto/chainloop/v1/environment_pb.js");
    await client(EnvironmentService).deleteLogicalEnvironment({ name: args.name });
    out.done(`logical environment "${args.name}" deleted`);
  },
});
