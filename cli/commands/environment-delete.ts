import { defineCommand, nameArgument } from "../command.js";

export const environmentDelete = defineCommand({
  command: "delete [name]",
  aliases: ["rm"],
  describe: "Delete an environment that no deployment record references",
  builder: (y) => nameArgument(y, "environment"),
  examples: [["Delete k8s-east", "chainloop environment delete --name k8s-east"]],
  async action(args, { client, out }) {
    const { EnvironmentService } = await import("../../gen/proto/chainloop/v1/environment_pb.js");
    await client(EnvironmentService).deleteEnvironment({ name: args.name });
    out.done(`environment "${args.name}" deleted`);
  },
});
