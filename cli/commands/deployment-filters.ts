// The record filters `deployment list` and `deployment watch` share, as the API's
// ListDeploymentsRequest and WatchDeploymentsRequest do (composed from cli/filters.ts); and the
// --at of `deployment list` and `deployment diff`.
import { parseInstant } from "../../server/shared/durations.js";
import { anyFilter, envFilter, filter, kindOption, versionFilter } from "../filters.js";

export const deploymentFilterOptions = {
  env: envFilter,
  "logical-env": filter("Only this logical environment (lifecycle stage)"),
  "deployment-name": filter("Only this deployment name"),
  kind: kindOption("Only this kind of artifact"),
  digest: filter("Only records of this digest (sha256:… or sha512:…)"),
  project: anyFilter("Only records whose digest an attestation of this project names as a subject"),
  version: versionFilter,
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
