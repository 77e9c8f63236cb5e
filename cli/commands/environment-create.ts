import { defineCommand } from "../command.js";

export const environmentCreate = defineCommand({
  command: "create",
  describe: "Create an environment: an infrastructure target such as a Kubernetes cluster",
  builder: (y) =>
    y.options({
      name: { type: "string", demandOption: true, requiresArg: true, describe: "Unique name: a DNS label (lowercase letters, digits and -)" },
      description: { type: "string", default: "", defaultDescription: "none", describe: "Free text, at most 1024 characters" },
    }),
  examples: [
    ["Create the environment k8s-east", 'chainloop environment create --name k8s-east --description "Kubernetes US-East"'],
    ["Create k8s-west and print it as JSON", "chainloop environment create --name k8s-west -o json"],
  ],
  async action(args, { client, out }) {
    const { EnvironmentService, EnvironmentSchema } = await import("../../gen/proto/chainloop/v1/environment_pb.js");
    const { environment } = await client(EnvironmentService).createEnvironment({ name: args.name, description: args.description });
    out.changed(EnvironmentSchema, environment!, `environment "${args.name}" created`);
  },
});
