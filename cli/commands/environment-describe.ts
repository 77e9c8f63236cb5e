import { defineCommand, nameArgument } from "../command.js";

export const environmentDescribe = defineCommand({
  command: "describe [name]",
  describe: "Show one environment",
  builder: (y) => nameArgument(y, "environment"),
  examples: [
    ["Show k8s-east", "chainloop environment describe k8s-east"],
    ["The same, as JSON", "chainloop environment describe --name k8s-east -o json"],
  ],
  async action(args, { client, out }) {
    const { EnvironmentService, EnvironmentSchema } = await import("../../gen/proto/chainloop/v1/environment_pb.js");
    const { environment } = await client(EnvironmentService).getEnvironment({ name: args.name });
    const e = environment!;
    out.details(EnvironmentSchema, e, [
      ["Name", e.name],
      ["Description", e.description],
      ["ID", e.id],
      ["Created", e.createTime],
      ["Updated", e.updateTime],
    ]);
  },
});
