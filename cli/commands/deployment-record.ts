// `chainloop deployment record`: one artifact in one slot (environment, logical environment,
// deployment name, kind), given by --digest or resolved from --oci-ref on this machine.
//
// Usage errors (exit 2, before any network call): neither or both of --digest and --oci-ref, a
// malformed --digest (parsed by server/shared/digest.ts, the one digest parser), --artifact-*
// with --oci-ref, bad registry options, an empty --override-reason. The registry resolver
// (cli/oci) loads only with --oci-ref.
//
// The options and the request are shared with `deployment check` (recordOptions(),
// recordRequest()): a check is this record with validate_only, so both take the same flags.
//
// A refusal by the logical environment's promotion policy lists every unmet rule (decoded from
// the error's PreconditionFailure detail by cli/policy-format.ts, as `deployment check` does);
// with --override-reason, an admin-scoped token records anyway and the CLI says what was
// overridden.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { defineCommand, digestProblem, type Context, type GlobalArgs } from "../command.js";
import { checkRegistryArgs, ociRefOption, registryOptions, type OciArgs } from "../oci/options.js";
import { ARTIFACT_KINDS as KINDS, RECORDABLE_STATUSES as RECORD_STATUSES } from "../../server/shared/names.js";

const ARTIFACT_GROUP = "Artifact (one of --digest or --oci-ref):";
const REGISTRY_FLAGS = ["registry-server", "registry-username", "registry-password", "registry-password-stdin", "plain-http"] as const;
const EXIT_FAILURE = 1;

/** The options of `deployment record` and `deployment check`, with their usage checks. */
export function recordOptions(y: Argv<GlobalArgs>) {
  return y
    .options({
      env: { type: "string", demandOption: true, requiresArg: true, describe: "Environment (infrastructure target), e.g. k8s-east" },
      "logical-env": { type: "string", demandOption: true, requiresArg: true, describe: "Logical environment (lifecycle stage), e.g. production" },
      "deployment-name": { type: "string", demandOption: true, requiresArg: true, describe: "What runs there, e.g. api-server" },
      kind: {
        choices: KINDS,
        demandOption: true,
        requiresArg: true,
        coerce: (v: string) => String(v).toUpperCase().replace(/-/g, "_") as (typeof KINDS)[number],
        describe: "What the artifact is",
      },
      status: {
        choices: RECORD_STATUSES,
        default: "deployed" as const,
        requiresArg: true,
        coerce: (v: string) => String(v).toLowerCase() as (typeof RECORD_STATUSES)[number],
        describe: "deployed: it runs now (recording the running digest again is a heartbeat); decommissioned: it was removed",
      },
      "override-reason": {
        type: "string",
        requiresArg: true,
        describe:
          "Break glass: record even though the logical environment's promotion policy refuses the digest, and store this reason " +
          "on the record and in the audit trail (needs an admin-scoped token; at most 1024 characters; used only when a rule is unmet)",
      },
      digest: {
        type: "string",
        requiresArg: true,
        describe: "The artifact's digest: sha256:<64 hex digits> or sha512:<128 hex digits>",
        group: ARTIFACT_GROUP,
      },
      ...withGroup(ociRefOption, ARTIFACT_GROUP),
      "artifact-name": { type: "string", requiresArg: true, describe: "With --digest: the artifact's name, e.g. ghcr.io/acme/api-server", group: ARTIFACT_GROUP },
      "artifact-version": { type: "string", requiresArg: true, describe: "With --digest: its version or tag, e.g. v1.0.0", group: ARTIFACT_GROUP },
      "artifact-reference": { type: "string", requiresArg: true, describe: "With --digest: the full reference it was deployed from", group: ARTIFACT_GROUP },
      ...registryOptions,
    })
    .check((args) => {
      if (args.digest !== undefined && args.ociRef !== undefined) return "--digest and --oci-ref are mutually exclusive: give the artifact one way";
      if (args.digest === undefined && args.ociRef === undefined) return "Missing the artifact: give --digest <sha256:…> or --oci-ref <image or chart reference>";
      if (args.overrideReason !== undefined && String(args.overrideReason).trim() === "") {
        return "--override-reason must say why the promotion policy is overridden, e.g. --override-reason \"hotfix for INC-123, approved by on-call\"";
      }
      if (args.digest !== undefined) {
        const problem = digestProblem("invalid --digest", args.digest);
        if (problem) return problem;
      } else if (args.artifactName !== undefined || args.artifactVersion !== undefined || args.artifactReference !== undefined) {
        return "--artifact-name, --artifact-version and --artifact-reference go with --digest; with --oci-ref they come from the reference";
      }
      return checkRegistryArgs(args as OciArgs);
    });
}

export type RecordArgs = ArgumentsCamelCase<ReturnType<typeof recordOptions> extends Argv<infer A> ? A : never>;

/**
 * The RecordDeploymentRequest the arguments describe (--oci-ref resolved on this machine),
 * without validate_only: `deployment check` adds it.
 */
export async function recordRequest(args: RecordArgs, out: Context["out"]) {
  const { KIND_TO_PB, STATUS_TO_PB } = await import("../deployment-format.js");
  let artifact: { digest: string; artifactName: string; artifactVersion: string; artifactReference: string };
  if (args.ociRef !== undefined) {
    const { resolveOciArgs } = await import("../oci/options.js");
    artifact = await resolveOciArgs(args, args.kind);
  } else {
    const ignored = REGISTRY_FLAGS.filter((f) => args[f] !== undefined);
    if (ignored.length > 0) out.note(`chainloop: note: ${ignored.map((f) => `--${f}`).join(", ")} only apply to --oci-ref; ignored with --digest`);
    artifact = {
      digest: args.digest!,
      artifactName: args.artifactName ?? "",
      artifactVersion: args.artifactVersion ?? "",
      artifactReference: args.artifactReference ?? "",
    };
  }
  return {
    environment: args.env,
    logicalEnvironment: args.logicalEnv,
    deploymentName: args.deploymentName,
    kind: KIND_TO_PB[args.kind],
    status: STATUS_TO_PB[args.status],
    ...artifact,
    overrideReason: args.overrideReason ?? "",
  };
}

export const deploymentRecord = defineCommand({
  command: "record",
  describe: "Record that an artifact runs in an environment and lifecycle stage, or that it was removed",
  builder: recordOptions,
  examples: [
    [
      "Record what runs in production, by digest",
      "chainloop deployment record --env k8s-east --logical-env production --deployment-name api-server --kind CONTAINER_IMAGE --digest sha256:<64 hex digits> --artifact-name ghcr.io/acme/api-server --artifact-version v1.1.0",
    ],
    [
      "Resolve a tag on this machine and record its digest (registry credentials never leave it)",
      "chainloop deployment record --env k8s-east --logical-env production --deployment-name api-server --kind CONTAINER_IMAGE --oci-ref ghcr.io/acme/api-server:v1.1.0",
    ],
    [
      "Record that it was removed",
      "chainloop deployment record --env k8s-east --logical-env production --deployment-name api-server --kind CONTAINER_IMAGE --digest sha256:<64 hex digits> --status decommissioned",
    ],
    [
      "Break glass: record past an unmet promotion policy (admin token), the reason stored on the record",
      'chainloop deployment record --env k8s-east --logical-env production --deployment-name api-server --kind CONTAINER_IMAGE --digest sha256:<64 hex digits> --override-reason "hotfix for INC-123"',
    ],
    [
      "Only see what recording would do, and record nothing",
      "chainloop deployment check --env k8s-east --logical-env production --deployment-name api-server --kind CONTAINER_IMAGE --digest sha256:<64 hex digits>",
    ],
  ],
  async action(args, { client, out }) {
    const [{ DeploymentService, RecordDeploymentResponseSchema }, { outcomeLine }, policy] = await Promise.all([
      import("../../gen/proto/chainloop/v1/deployment_pb.js"),
      import("../deployment-format.js"),
      import("../policy-format.js"),
    ]);
    const request = await recordRequest(args, out);
    let res;
    try {
      res = await client(DeploymentService).recordDeployment(request);
    } catch (e) {
      const violations = policy.policyViolations(e);
      if (violations.length === 0) throw e;
      // A policy refusal: the error line, then every unmet rule on its own line (the one-line
      // error of run() would run them together), then what can be done.
      out.note(`chainloop: ${policy.codeToString(policy.Code.FailedPrecondition)}: ${policy.refusalHeadline(args.logicalEnv, violations.length)}`);
      for (const line of policy.violationLines(violations)) out.note(line);
      out.note(`chainloop: ${policy.OVERRIDE_HINT}`);
      process.exitCode = EXIT_FAILURE;
      return;
    }
    const overridden = res.policyOverridden || res.policyViolations.length > 0;
    const override = overridden
      ? [policy.overrideHeadline(args.logicalEnv, res.policyViolations.length, true), ...policy.violationLines(res.policyViolations)]
      : [];
    out.changed(RecordDeploymentResponseSchema, res, [outcomeLine(res), ...override].join("\n"));
    if (args.overrideReason !== undefined && !overridden) {
      out.note("chainloop: note: --override-reason was not used: the record meets the promotion policy (or needs none), so nothing was overridden");
    }
  },
});

/** The same options, shown under another heading in --help. */
function withGroup<T extends Record<string, object>>(options: T, group: string): T {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, { ...v, group }])) as T;
}
