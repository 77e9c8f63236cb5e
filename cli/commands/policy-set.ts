// `chainloop policy set`: the promotion policy of a logical environment (SetPromotionPolicy),
// given whole: every rule it should have, replacing any policy it had.
//
// Usage errors (exit 2, before any network call): a place that is not `ENV/LENV` or `LENV`,
// a bad --soak, --soak without --require-deployed-in, no rule at all (that is `policy clear`).
import { defineCommand } from "../command.js";
import { parseDuration } from "../../server/shared/durations.js";
import { durationOf } from "./environment-create.js";

/** A --require-deployed-in value: the logical environment, and the environment ("" for any). */
interface RequiredPlace {
  environment: string;
  logicalEnvironment: string;
}

/** `k8s-east/staging` → in k8s-east's staging; `staging` (or `/staging`) → in staging of any environment. */
export function parseRequiredPlace(value: string): RequiredPlace {
  const slash = value.indexOf("/");
  const environment = slash >= 0 ? value.slice(0, slash) : "";
  const logicalEnvironment = slash >= 0 ? value.slice(slash + 1) : value;
  if (logicalEnvironment === "" || logicalEnvironment.includes("/") || value.includes("@")) {
    throw new Error(
      `--require-deployed-in must be LENV (a logical environment, in any environment) or ENV/LENV (in that environment only), got ${JSON.stringify(value.slice(0, 80))}`,
    );
  }
  return { environment, logicalEnvironment };
}

export const policySet = defineCommand({
  command: "set",
  describe: "Set the promotion policy of a logical environment: the rules a digest must meet to be recorded there (replaces the whole policy)",
  builder: (y) =>
    y
      .options({
        "logical-env": { type: "string", demandOption: true, requiresArg: true, describe: "The logical environment the policy guards, e.g. production" },
        "require-deployed-in": {
          type: "string",
          array: true,
          requiresArg: true,
          coerce: (values: string[]) => values.map((v) => parseRequiredPlace(String(v))),
          describe:
            "The digest must have been recorded as deployed in this logical environment (LENV: in any environment; ENV/LENV: in that one), " +
            "and not decommissioned or rolled back there; repeatable",
        },
        soak: {
          type: "string",
          requiresArg: true,
          coerce: (v: string) => parseDuration(v, "--soak"),
          defaultDescription: "any time",
          describe: "With --require-deployed-in: how long it must have run there, e.g. 1h or 2d (applies to every --require-deployed-in)",
        },
        "require-workflow": {
          type: "string",
          array: true,
          requiresArg: true,
          describe: "An attestation from this workflow must name the digest as a subject; repeatable",
        },
        "require-predicate-type": {
          type: "string",
          array: true,
          requiresArg: true,
          describe: "An attestation with this predicate type (a URI) must name the digest as a subject; repeatable",
        },
        "require-verified": {
          type: "boolean",
          default: false,
          describe: "The attestations above (or, without --require-workflow/--require-predicate-type, at least one naming the digest) must be verified by a registered key",
        },
      })
      .check((args) => {
        const count = (list: unknown) => (Array.isArray(list) ? list.length : 0);
        const places = count(args.requireDeployedIn);
        if (args.soak !== undefined && places === 0) {
          return "--soak applies to the --require-deployed-in rules: give at least one --require-deployed-in with it";
        }
        if (places + count(args.requireWorkflow) + count(args.requirePredicateType) === 0 && !args.requireVerified) {
          return "Give at least one rule: --require-deployed-in, --require-workflow, --require-predicate-type or --require-verified (to remove a policy: chainloop policy clear)";
        }
        return true;
      }),
  examples: [
    ["Production takes only what ran in staging (any environment) for an hour", "chainloop policy set --logical-env production --require-deployed-in staging --soak 1h"],
    [
      "…and was tested, with verified evidence",
      "chainloop policy set --logical-env production --require-deployed-in staging --soak 1h --require-workflow test --require-verified",
    ],
    ["Staging takes only what ran in k8s-east's development, as JSON", "chainloop policy set --logical-env staging --require-deployed-in k8s-east/development -o json"],
    [
      "Require SLSA provenance (this replaces every rule set before)",
      "chainloop policy set --logical-env production --require-predicate-type https://slsa.dev/provenance/v1",
    ],
  ],
  async action(args, { client, out }) {
    const [{ PromotionPolicyService, PromotionPolicySchema }, { policyFields }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/policy_pb.js"),
      import("../policy-format.js"),
    ]);
    const soak = args.soak === undefined ? undefined : durationOf(args.soak);
    const { policy } = await client(PromotionPolicyService).setPromotionPolicy({
      policy: {
        logicalEnvironment: args.logicalEnv,
        requireDeployedIn: (args.requireDeployedIn ?? []).map((p) => ({ ...p, soak })),
        requireWorkflows: args.requireWorkflow ?? [],
        requirePredicateTypes: args.requirePredicateType ?? [],
        requireVerified: args.requireVerified,
      },
    });
    out.details(PromotionPolicySchema, policy!, policyFields(policy!));
  },
});
