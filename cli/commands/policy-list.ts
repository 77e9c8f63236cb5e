// `chainloop policy list`: every promotion policy of the organization, by logical environment,
// one line per rule.
import { defineCommand } from "../command.js";

export const policyList = defineCommand({
  command: "list",
  aliases: ["ls"],
  describe: "List the promotion policies: which logical environments are guarded, and by which rules",
  builder: (y) => y,
  examples: [
    ["Every policy, one line per rule", "chainloop policy list"],
    ["Every policy, as a JSON array", "chainloop policy list -o json"],
  ],
  async action(args, { client, out }) {
    const [{ PromotionPolicyService }, { policiesJson, policyTable }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/policy_pb.js"),
      import("../policy-format.js"),
    ]);
    const { policies } = await client(PromotionPolicyService).listPromotionPolicies({});
    // One line per rule does not fit Output.list's one row per message; the JSON is the same.
    out.plain(policiesJson(policies), policyTable(policies));
    if (policies.length === 0 && args.output === "table") out.note("no promotion policies: every logical environment takes any digest that has evidence");
  },
});
