// `chainloop policy clear`: removes the promotion policy of a logical environment
// (DeletePromotionPolicy); records there are no longer checked.
import { defineCommand } from "../command.js";

export const policyClear = defineCommand({
  command: "clear",
  aliases: ["delete"],
  describe: "Remove the promotion policy of a logical environment: records there are no longer checked",
  builder: (y) =>
    y.options({
      "logical-env": { type: "string", demandOption: true, requiresArg: true, describe: "The logical environment, e.g. production" },
    }),
  examples: [["Let production take any digest that has evidence again", "chainloop policy clear --logical-env production"]],
  async action(args, { client, out }) {
    const { PromotionPolicyService } = await import("../../gen/proto/chainloop/v1/policy_pb.js");
    await client(PromotionPolicyService).deletePromotionPolicy({ logicalEnvironment: args.logicalEnv });
    out.done(`promotion policy of ${args.logicalEnv} removed: records there are no longer checked`);
  },
});
