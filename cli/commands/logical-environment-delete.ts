import { byName, defineDeleteCommand } from "../delete-command.js";

export const logicalEnvironmentDelete = defineDeleteCommand({
  noun: "logical environment",
  describe: "Delete a logical environment (not a built-in one, nor one deployment records reference)",
  target: byName("logical environment"),
  examples: [["Delete the stage qa", "chainloop logical-environment delete --name qa"]],
  service: async () => (await import("../../gen/proto/chainloop/v1/environment_pb.js")).EnvironmentService,
  remove: (environments, name) => environments.deleteLogicalEnvironment({ name }),
});
