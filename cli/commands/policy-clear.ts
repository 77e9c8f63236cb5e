// `chainloop policy clear`: removes the promotion policy of a logical environment
// (DeletePromotionPolicy); records there are no longer checked.
import { defineDeleteCommand } from "../delete-command.js";
import { logicalEnvOption } from "../filters.js";

export const policyClear = defineDeleteCommand({
  noun: "promotion policy",
  verb: "clear",
  aliases: ["delete"],
  describe: "Remove the promotion policy of a logical environment: records there are no longer checked",
  target: { usage: "", key: "logicalEnv", build: (y) => y.options({ "logical-env": logicalEnvOption() }), label: (v) => v },
  examples: [["Let production take any digest that has evidence again", "chainloop policy clear --logical-env production"]],
  service: async () => (await import("../../gen/proto/chainloop/v1/policy_pb.js")).PromotionPolicyService,
  remove: (policies, logicalEnvironment) => policies.deletePromotionPolicy({ logicalEnvironment }),
  confirmation: (logicalEnv) => `promotion policy of ${logicalEnv} removed: records there are no longer checked`,
});
