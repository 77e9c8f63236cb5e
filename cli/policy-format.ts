// How promotion policies read in the CLI: one line per rule ("deployed in staging (any
// environment) for at least 1h"), the fields of `policy get`/`set`, the table of `policy list`;
// and how a record the policy refuses reads (the unmet rules of a FAILED_PRECONDITION, decoded
// from its google.rpc.PreconditionFailure detail), shared by `deployment record` and
// `deployment check`.
//
// Loaded only from inside actions (await import()): it imports generated code at runtime.
import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { PromotionPolicySchema, type DeployedInRule, type PromotionPolicy } from "../gen/proto/chainloop/v1/policy_pb.js";
import { PreconditionFailureSchema } from "../gen/proto/google/rpc/error_details_pb.js";
import { actorName } from "./deployment-format.js";
import { formatDuration } from "../server/shared/durations.js";
import { table, type Cell } from "./output.js";

// Re-exported so that commands need not import("@connectrpc/connect") themselves (see token-format.ts).
export { Code, ConnectError, codeToString };

/** `staging (any environment)` or `k8s-east/staging`. */
function placeText(rule: DeployedInRule): string {
  return rule.environment ? `${rule.environment}/${rule.logicalEnvironment}` : `${rule.logicalEnvironment} (any environment)`;
}

function soakMs(rule: DeployedInRule): number {
  return rule.soak ? Number(rule.soak.seconds) * 1000 + Math.round(rule.soak.nanos / 1e6) : 0;
}

/** Every rule of a policy as a line people read, in the order the API lists them. */
export function ruleLines(p: PromotionPolicy): string[] {
  return [
    ...p.requireDeployedIn.map((r) => {
      const soak = soakMs(r);
      return `deployed in ${placeText(r)}${soak > 0 ? ` for at least ${formatDuration(soak)}` : ""}`;
    }),
    ...p.requireWorkflows.map((w) => `attestation from workflow ${w}`),
    ...p.requirePredicateTypes.map((t) => `attestation of predicate type ${t}`),
    ...(p.requireVerified ? ["verified by a registered key"] : []),
  ];
}

/** `policy get`/`set`: `Label: value` lines, one `Rule N` per rule. */
export function policyFields(p: PromotionPolicy): [label: string, value: Cell][] {
  return [
    ["Logical environment", p.logicalEnvironment],
    ...ruleLines(p).map((line, i): [string, Cell] => [`Rule ${i + 1}`, line]),
    ["Version", String(p.version)],
    ["Updated", p.updateTime],
    ["Updated by", actorName(p.updatedBy) ?? "-"],
  ];
}

/** `policy list` as a table: one line per rule, the policy's own columns on its first line. */
export function policyTable(policies: PromotionPolicy[]): string {
  const rows = policies.flatMap((p) => {
    const lines = ruleLines(p);
    return (lines.length > 0 ? lines : ["(no rules)"]).map((rule, i) => ({ p, rule, first: i === 0 }));
  });
  return table(
    [
      { header: "LOGICAL ENV", value: (r) => (r.first ? r.p.logicalEnvironment : "") },
      { header: "RULE", value: (r) => r.rule },
      { header: "VERSION", value: (r) => (r.first ? String(r.p.version) : "") },
      { header: "UPDATED", value: (r) => (r.first ? r.p.updateTime : "") },
      { header: "UPDATED BY", value: (r) => (r.first ? (actorName(r.p.updatedBy) ?? "-") : "") },
    ],
    rows,
  );
}

/** `policy list -o json`: the policies as the API's JSON, as Output.list prints a list. */
export function policiesJson(policies: PromotionPolicy[]): unknown[] {
  return policies.map((p) => toJson(PromotionPolicySchema, p, { alwaysEmitImplicit: true }));
}

/** A rule a record does not meet, as PolicyViolation and PreconditionFailure.Violation both carry it. */
export interface Violation {
  rule: string;
  subject: string;
  description: string;
}

/**
 * The unmet promotion-policy rules a refusal carries (its PreconditionFailure detail, whose
 * violation `type` is the rule); [] for any other error, and for a FAILED_PRECONDITION that is
 * not about a policy (such as a digest without evidence).
 */
export function policyViolations(e: unknown): Violation[] {
  if (!(e instanceof ConnectError) || e.code !== Code.FailedPrecondition) return [];
  return e
    .findDetails(PreconditionFailureSchema)
    .flatMap((f) => f.violations)
    .filter((v) => v.type.startsWith("require_"))
    .map((v) => ({ rule: v.type, subject: v.subject, description: v.description }));
}

/**
 * The unmet rules, one line each: `  - require_deployed_in staging: <why, and what would meet
 * it>`. Used for a refusal (record, check) and for an override (what was overridden).
 */
export function violationLines(violations: Violation[]): string[] {
  return violations.map((v) => `  - ${plain(v.rule)}${v.subject ? ` ${plain(v.subject)}` : ""}: ${plain(v.description)}`);
}

/** The line above the unmet rules of a refusal. */
export function refusalHeadline(logicalEnvironment: string, count: number): string {
  return `the promotion policy of ${logicalEnvironment} is not met (${count} unmet rule${count === 1 ? "" : "s"}):`;
}

/** The line above the unmet rules of an override. */
export function overrideHeadline(logicalEnvironment: string, count: number, done: boolean): string {
  return (
    `policy overridden: the promotion policy of ${logicalEnvironment} is not met (${count} unmet rule${count === 1 ? "" : "s"}); ` +
    (done ? "recorded anyway, with the --override-reason stored on the record and audited:" : "--override-reason would record it anyway, storing the reason on the record:")
  );
}

/** What a refused pipeline can do about it, after the unmet rules. */
export const OVERRIDE_HINT = 'to record it anyway (break glass), an admin-scoped token can add --override-reason "<why>"';

/** Server text in a terminal: no control characters (a line break would forge a line). */
function plain(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ");
}
