import { defineCommand, nameArgument } from "../command.js";
import { formatDuration } from "../../server/shared/durations.js";

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
      ...(e.heartbeatInterval ? [["Heartbeat", heartbeatText(e.heartbeatInterval)] as [string, string]] : []),
    ]);
  },
});

/** `every 10m (stale after 20m without one)`. */
function heartbeatText(d: { seconds: bigint; nanos: number }): string {
  const ms = Number(d.seconds) * 1000 + Math.round(d.nanos / 1e6);
  return `every ${formatDuration(ms)} (stale after ${formatDuration(ms * 2)} without one)`;
}
