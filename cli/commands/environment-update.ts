import { defineCommand } from "../command.js";

export const environmentUpdate = defineCommand({
  command: "update",
  describe: "Change an environment's description",
  builder: (y) =>
    y.options({
      name: { type: "string", demandOption: true, requiresArg: true, describe: "The environment to change" },
      description: { type: "string", demandOption: true, describe: 'The new description ("" clears it)' },
    }),
  examples: [["Describe k8s-east anew", 'chainloop environment update --name k8s-east --description "Kubernetes US-East (prod)"']],
  async action(args, { client, out }) {
    const { EnvironmentService, EnvironmentSchema } = await import("../../gen/proto/chainloop/v1/environment_pb.js");
    const { environment } = await client(EnvironmentService).updateEnvironment({
      environment: { name: args.name, description: args.description },
      updateMask: { paths: ["description"] },
    });
    out.changed(EnvironmentSchema, environment!, `environment "${args.name}" updated`);
  },
});
