// The record filters `deployment list` and `deployment watch` share, as the API's
// ListDeploymentsRequest and WatchDeploymentsRequest do; and the --at of `deployment list` and
// `deployment diff`.
import { digestProblem } from "../command.js";
import { parseInstant } from "../duration.js";

const KINDS = ["CONTAINER_IMAGE", "HELM_CHART"] as const;

export const deploymentFilterOptions = {
  env: { type: "string", requiresArg: true, describe: "Only this environment" },
  "logical-env": { type: "string", requiresArg: true, describe: "Only this logical environment (lifecycle stage)" },
  "deployment-name": { type: "string", requiresArg: true, describe: "Only this deployment name" },
  kind: {
    choices: KINDS,
    requiresArg: true,
    coerce: (v: string) => String(v).toUpperCase().replace(/-/g, "_") as (typeof KINDS)[number],
    describe: "Only this kind of artifact",
  },
  digest: { type: "string", requiresArg: true, describe: "Only records of this digest (sha256:… or sha512:…)" },
  // The command turns off yargs' own --version: here it is the project version.
  project: { type: "string", default: "", defaultDescription: "any", describe: "Only records whose digest an attestation of this project names as a subject" },
  version: { type: "string", default: "", defaultDescription: "any", describe: "Only this project version's (needs --project)" },
} as const;

export const DEPLOYMENT_FILTERS = Object.keys(deploymentFilterOptions);

/**
 * `--at TIME`: an RFC 3339 time or a duration ago, checked when parsed (a usage error before any
 * call) and kept as given: the action turns it into an instant with its own `now` (parseInstant).
 */
export function atOption(describe: string) {
  return {
    type: "string",
    requiresArg: true,
    coerce: (v: string) => (parseInstant(v, "--at"), v),
    describe,
  } as const;
}

/** A malformed --digest is a usage error, before any network call. */
export function digestFilterProblem(digest: string | undefined): string | undefined {
  return digest === undefined ? undefined : digestProblem("invalid --digest", digest);
}
