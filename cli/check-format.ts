// What `deployment check` prints: the outcome recording would have (a RecordDeployment with
// validate_only), or why it would be refused. The unmet rules read as in `deployment record`
// (cli/policy-format.ts).
//
// Loaded only from inside actions (await import()): it imports generated code at runtime.
import { RecordOutcome, type RecordDeploymentResponse } from "../gen/proto/chainloop/v1/deployment_pb.js";
import { digestWithVersion } from "./deployment-format.js";
import { codeToString, ConnectError, overrideHeadline, OVERRIDE_HINT, refusalHeadline, violationLines, type Violation } from "./policy-format.js";

/**
 * `allowed (<outcome>): …`: what recording would do, first word after "allowed" the outcome
 * (created, heartbeat, superseded, rolled back, decommissioned, already decommissioned); with
 * the unmet rules after it when only --override-reason lets it through.
 */
export function checkAllowedText(res: RecordDeploymentResponse, logicalEnvironment: string): string {
  const d = res.deployment!;
  const slot = `${d.deploymentName} in ${d.environment}/${d.logicalEnvironment}`;
  const digest = digestWithVersion(d);
  let line: string;
  switch (res.outcome) {
    case RecordOutcome.CREATED:
      line = `allowed (created): ${slot} would run ${digest}`;
      break;
    case RecordOutcome.HEARTBEAT:
      line = `allowed (heartbeat): ${slot} already runs ${digest}; recording it would only update its last seen (record ${d.id})`;
      break;
    case RecordOutcome.SUPERSEDED:
      line = `allowed (superseded): ${slot} would run ${digest}, replacing record ${res.supersededDeploymentId}`;
      break;
    case RecordOutcome.ROLLED_BACK:
      line =
        `allowed (rolled back): ${slot} would run ${digest} again, as it did in record ${d.rollbackOfId}` +
        (res.supersededDeploymentId ? `, replacing record ${res.supersededDeploymentId}` : "");
      break;
    case RecordOutcome.DECOMMISSIONED:
      line = `allowed (decommissioned): ${digest} would no longer run as ${slot} (record ${d.id})`;
      break;
    case RecordOutcome.ALREADY_DECOMMISSIONED:
      line = `allowed (already decommissioned): ${digest} as ${slot}; nothing would change (record ${d.id})`;
      break;
    default:
      line = `allowed (outcome ${res.outcome}): ${slot} ${digest}`;
  }
  const overridden = res.policyOverridden || res.policyViolations.length > 0;
  if (!overridden) return line;
  return [line, overrideHeadline(logicalEnvironment, res.policyViolations.length, false), ...violationLines(res.policyViolations)].join("\n");
}

/** A refusal as `-o json` prints it. */
export interface RefusalJson {
  allowed: false;
  /** The error code as Connect spells it: `failed_precondition`, `not_found`. */
  code: string;
  message: string;
  violations: Violation[];
}

export function refusalJson(e: ConnectError, violations: Violation[]): RefusalJson {
  return { allowed: false, code: codeToString(e.code), message: e.rawMessage, violations };
}

/** `refused (<code>): …`, then the unmet rules and what would let it through, or the server's message. */
export function refusalText(e: ConnectError, violations: Violation[], logicalEnvironment: string): string {
  const code = codeToString(e.code);
  if (violations.length === 0) return `refused (${code}): ${e.rawMessage.replace(/[\u0000-\u001f\u007f]+/g, " ")}\n`;
  return [`refused (${code}): ${refusalHeadline(logicalEnvironment, violations.length)}`, ...violationLines(violations), OVERRIDE_HINT, ""].join("\n");
}
