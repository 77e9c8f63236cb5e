// `chainloop policy get`: the promotion policy of one logical environment.
import { defineCommand } from "../command.js";

export const policyGet = defineCommand({
  command: "get",
  aliases: ["describe"],
  describe: "Show the promotion policy of a logical environment: its rules, version, and who set it when",
  builder: (y) =>
    y.options({
      "logical-env": { type: "string", demandOption: true, requiresArg: true, describe: "The logical environment, e.g. production" },
    }),
  examples: [
    ["What production requires", "chainloop policy get --logical-env production"],
    ["The same, as JSON", "chainloop policy get --logical-env production -o json"],
  ],
  async action(args, { client, out }) {
    const [{ PromotionPolicyService, PromotionPolicySchema }, { policyFields }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/policy_pb.js"),
      import("../policy-format.js"),
    ]);
    const { policy } = await client(PromotionPolicyService).getPromotionPolicy({ logicalEnvironment: args.logicalEnv });
    out.details(PromotionPolicySchema, policy!, policyFields(policy!));
  },
});
