import { byName, defineDeleteCommand } from "../delete-command.js";

export const environmentDelete = defineDeleteCommand({
  noun: "environment",
  describe: "Delete an environment that no deployment record references",
  target: byName("environment"),
  examples: [["Delete k8s-east", "chainloop environment delete --name k8s-east"]],
  service: async () => (await import("../../gen/proto/chainloop/v1/environment_pb.js")).EnvironmentService,
  remove: (environments, name) => environments.deleteEnvironment({ name }),
});
