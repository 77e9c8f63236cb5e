import { defineCommand } from "../command.js";

export const logicalEnvironmentCreate = defineCommand({
  command: "create",
  describe: "Create a logical environment: a lifecycle stage besides development, staging and production",
  builder: (y) =>
    y.options({
      name: { type: "string", demandOption: true, requiresArg: true, describe: "Unique name: a DNS label (lowercase letters, digits and -)" },
      description: { type: "string", default: "", defaultDescription: "none", describe: "Free text, at most 1024 characters" },
    }),
  examples: [["Add the stage qa", 'chainloop logical-environment create --name qa --description "Quality assurance"']],
  async action(args, { client, out }) {
    const { EnvironmentService, LogicalEnvironmentSchema } = await import("../../gen/proto/chainloop/v1/environment_pb.js");
    const { logicalEnvironment } = await client(EnvironmentService).createLogicalEnvironment({
      name: args.name,
      description: args.description,
    });
    out.changed(LogicalEnvironmentSchema, logicalEnvironment!, `logical environment "${args.name}" created`);
  },
});
