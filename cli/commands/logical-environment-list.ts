import { defineCommand } from "../command.js";

export const logicalEnvironmentList = defineCommand({
  command: "list",
  aliases: ["ls"],
  describe: "List the logical environments, built-in ones first",
  builder: (y) => y,
  examples: [["Every logical environment, as a JSON array", "chainloop logical-environment list -o json"]],
  async action(_args, { client, out }) {
    const { EnvironmentService, LogicalEnvironmentSchema } = await import("../../gen/proto/chainloop/v1/environment_pb.js");
    const { logicalEnvironments } = await client(EnvironmentService).listLogicalEnvironments({});
    out.list(LogicalEnvironmentSchema, logicalEnvironments, [
      { header: "NAME", value: (l) => l.name },
      { header: "BUILT-IN", value: (l) => l.builtIn },
      { header: "DESCRIPTION", value: (l) => l.description, maxWidth: 60 },
      { header: "CREATED", value: (l) => l.createTime },
    ]);
  },
});
