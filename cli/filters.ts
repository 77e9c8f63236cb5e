// The options that say which environment, lifecycle stage, artifact or project a command is
// about — --env, --logical-env, --deployment-name, --kind, --digest, --project, --version —
// each defined once, with the help text the command gives it: `deployment list` and `deployment
// watch` compose them (commands/deployment-filters.ts), as do `metrics`, `attestation list` and
// `policy clear`. A filter takes a value (`--env` alone is a usage error, not "every
// environment"); an unset one means "any".
//
// Loaded on every CLI start (command modules import it): no runtime imports besides command.ts
// and the names of server/shared/.
import { ARTIFACT_KINDS, type ArtifactKind } from "../server/shared/names.js";
import { digestProblem } from "./command.js";

/** A filter: only what has this value (an environment's name, a digest, …). */
export function filter(describe: string) {
  return { type: "string", requiresArg: true, describe } as const;
}

/** A filter that reads "" when not given, shown in --help as `[default: any]`. */
export function anyFilter(describe: string) {
  return { ...filter(describe), default: "", defaultDescription: "any" } as const;
}

export const envFilter = filter("Only this environment");

/**
 * --version: the project version. Commands with it turn off yargs' own --version
 * (`.version(false)`), which would take the flag.
 */
export const versionFilter = anyFilter("Only this project version's (needs --project)");

/** --logical-env when the command is about one logical environment (a policy, the metrics). */
export function logicalEnvOption(describe = "The logical environment, e.g. production") {
  return { type: "string", demandOption: true, requiresArg: true, describe } as const;
}

/** --kind: CONTAINER_IMAGE or HELM_CHART, also as container-image or helm_chart. */
export function kindOption(describe: string) {
  return {
    choices: ARTIFACT_KINDS,
    requiresArg: true,
    coerce: (v: string) => String(v).toUpperCase().replace(/-/g, "_") as ArtifactKind,
    describe,
  } as const;
}

/** For a builder's check(): a malformed --digest is a usage error, before any network call. */
export function digestFilterProblem(digest: string | undefined): string | undefined {
  return digest === undefined ? undefined : digestProblem("invalid --digest", digest);
}
