import { defineCommand } from "../command.js";
import { parseDuration } from "../../server/shared/durations.js";

export const environmentCreate = defineCommand({
  command: "create",
  describe: "Create an environment: an infrastructure target such as a Kubernetes cluster",
  builder: (y) =>
    y.options({
      name: { type: "string", demandOption: true, requiresArg: true, describe: "Unique name: a DNS label (lowercase letters, digits and -)" },
      description: { type: "string", default: "", defaultDescription: "none", describe: "Free text, at most 1024 characters" },
      "heartbeat-interval": {
        type: "string",
        requiresArg: true,
        defaultDescription: "none",
        describe: "How often deployments here report (e.g. 10m); active records unseen for twice as long are shown as stale",
      },
    })
    .check(({ heartbeatInterval }) => {
      if (heartbeatInterval != null) heartbeatMs(String(heartbeatInterval)); // throws the usage error
      return true;
    }),
  examples: [
    ["Create the environment k8s-east", 'chainloop environment create --name k8s-east --description "Kubernetes US-East"'],
    ["Create k8s-west and print it as JSON", "chainloop environment create --name k8s-west -o json"],
    ["Expect deployments in k8s-east to report every 10 minutes", "chainloop environment create --name k8s-east --heartbeat-interval 10m"],
  ],
  async action(args, { client, out }) {
    const { EnvironmentService, EnvironmentSchema } = await import("../../gen/proto/chainloop/v1/environment_pb.js");
    const interval = args.heartbeatInterval === undefined ? 0 : heartbeatMs(args.heartbeatInterval);
    const { environment } = await client(EnvironmentService).createEnvironment({
      name: args.name,
      description: args.description,
      heartbeatInterval: interval > 0 ? durationOf(interval) : undefined,
    });
    out.changed(EnvironmentSchema, environment!, `environment "${args.name}" created`);
  },
});

/** google.protobuf.Duration of whole milliseconds. */
export function durationOf(ms: number) {
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

/** --heartbeat-interval: a duration (`10m`), or `0` for none. */
export function heartbeatMs(text: string): number {
  return text.trim() === "0" ? 0 : parseDuration(text, "--heartbeat-interval");
}
