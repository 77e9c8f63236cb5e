import { defineCommand } from "../command.js";
import { durationOf, heartbeatMs } from "./environment-create.js";

export const environmentUpdate = defineCommand({
  command: "update",
  describe: "Change an environment's description or heartbeat interval",
  builder: (y) =>
    y.options({
      name: { type: "string", demandOption: true, requiresArg: true, describe: "The environment to change" },
      description: { type: "string", describe: 'The new description ("" clears it)' },
      "heartbeat-interval": {
        type: "string",
        requiresArg: true,
        describe: "How often deployments here report (e.g. 10m; 0 clears it); active records unseen for twice as long are shown as stale",
      },
    })
    .check(({ description, heartbeatInterval }) => {
      if (description == null && heartbeatInterval == null) return "give --description, --heartbeat-interval or both";
      if (heartbeatInterval != null) heartbeatMs(String(heartbeatInterval)); // throws the usage error
      return true;
    }),
  examples: [
    ["Describe k8s-east anew", 'chainloop environment update --name k8s-east --description "Kubernetes US-East (prod)"'],
    ["Expect deployments in k8s-east to report every 10 minutes", "chainloop environment update --name k8s-east --heartbeat-interval 10m"],
  ],
  async action(args, { client, out }) {
    const { EnvironmentService, EnvironmentSchema } = await import("../../gen/proto/chainloop/v1/environment_pb.js");
    const interval = args.heartbeatInterval === undefined ? undefined : heartbeatMs(args.heartbeatInterval);
    const paths = [...(args.description !== undefined ? ["description"] : []), ...(interval !== undefined ? ["heartbeat_interval"] : [])];
    const { environment } = await client(EnvironmentService).updateEnvironment({
      environment: {
        name: args.name,
        description: args.description ?? "",
        heartbeatInterval: interval ? durationOf(interval) : undefined,
      },
      updateMask: { paths },
    });
    out.changed(EnvironmentSchema, environment!, `environment "${args.name}" updated`);
  },
});
