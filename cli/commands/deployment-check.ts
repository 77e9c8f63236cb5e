// `chainloop deployment check`: what `deployment record` with the same flags would do now — the
// outcome (created, heartbeat, superseded, rolled back, decommissioned), or why it would be
// refused (every unmet rule of the logical environment's promotion policy, a digest without
// evidence, an unknown environment) — and nothing is written: RecordDeployment with
// validate_only.
//
// Exit codes: 0 when the record would be allowed; 3 when it would be refused (FAILED_PRECONDITION
// or NOT_FOUND); 1 and 2 as everywhere (a bad flag, authentication, an unreachable server).
import { defineCommand } from "../command.js";
import { recordOptions, recordRequest } from "./deployment-record.js";

const EXIT_REFUSED = 3;

export const deploymentCheck = defineCommand({
  command: "check",
  describe: "Check whether a deployment record would be allowed (promotion policy, evidence) and what it would do; records nothing",
  builder: recordOptions,
  examples: [
    [
      "May this digest go to production now?",
      "chainloop deployment check --env k8s-east --logical-env production --deployment-name api-server --kind CONTAINER_IMAGE --digest sha256:<64 hex digits>",
    ],
    [
      "The same for a tag, resolved on this machine, as JSON",
      "chainloop deployment check --env k8s-east --logical-env production --deployment-name api-server --kind CONTAINER_IMAGE --oci-ref ghcr.io/acme/api-server:v1.1.0 -o json",
    ],
    [
      "In a pipeline: record only when allowed",
      "chainloop deployment check $FLAGS; case $? in 0) chainloop deployment record $FLAGS;; 3) echo 'not allowed yet';; *) exit 1;; esac",
    ],
  ],
  exitCodes: [
    `  ${EXIT_REFUSED}  the record would be refused: an unmet promotion policy rule or missing evidence (failed_precondition), ` +
      "or an unknown environment, logical environment or nothing to decommission (not_found); 0: it would be allowed",
  ],
  async action(args, { client, out }) {
    const [{ DeploymentService, RecordDeploymentResponseSchema }, { checkAllowedText, refusalJson, refusalText }, policy] = await Promise.all([
      import("../../gen/proto/chainloop/v1/deployment_pb.js"),
      import("../check-format.js"),
      import("../policy-format.js"),
    ]);
    const request = await recordRequest(args, out);
    let res;
    try {
      res = await client(DeploymentService).recordDeployment({ ...request, validateOnly: true });
    } catch (e) {
      // Only the answers about the record itself are a "no"; the rest (auth, a malformed
      // request, an unreachable server) are errors like anywhere else.
      if (!(e instanceof policy.ConnectError) || (e.code !== policy.Code.FailedPrecondition && e.code !== policy.Code.NotFound)) throw e;
      const violations = policy.policyViolations(e);
      out.plain(refusalJson(e, violations), refusalText(e, violations, args.logicalEnv));
      process.exitCode = EXIT_REFUSED;
      return;
    }
    // Not a change, but the same two forms: the response as JSON, or the text.
    out.changed(RecordDeploymentResponseSchema, res, checkAllowedText(res, args.logicalEnv));
  },
});
