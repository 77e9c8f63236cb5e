// Promotion policies (PromotionPolicyService): per logical environment, what an artifact must
// have done and what evidence it must have before it may be recorded as deployed there. This
// file owns the rules (validation of a policy, and what each rule means for a digest) and the
// sentences that explain an unmet rule; server/data/policies.ts stores policies and gathers the
// facts a judgement needs, in a fixed number of statements whatever the number of digests.
//
// The semantics are the service comment of proto/chainloop/v1/policy.proto:
// * require_deployed_in: some record of the digest in that logical environment (in any
//   environment, or in the named one) ran for at least the soak and was neither decommissioned
//   nor replaced by a rollback. A running record counts from its creation to the database's
//   now(), a superseded one to its supersession. Each record is judged on its own: two short
//   runs do not add up to a soak (they may even overlap, in two environments).
// * require_workflow / require_predicate_type: an attestation of the organization with that
//   workflow / predicate type names the digest as a subject (a material does not count).
// * require_verified: those attestations must include one verified by a registered key; with
//   no workflow or predicate type rule, at least one attestation naming the digest as a subject
//   must be verified.
import type { Audited } from "./audit.js";
import type { Actor } from "./caller.js";
import { InvalidArgument, NotFound } from "./errors.js";
import { requireName } from "./validation.js";
import { formatDuration as exactDuration } from "../shared/durations.js";

export type PolicyRule = "require_deployed_in" | "require_workflow" | "require_predicate_type" | "require_verified";

/** An unmet rule: what it names (`subject`) and why it is unmet and what would meet it (`description`). */
export interface PolicyViolation {
  rule: PolicyRule;
  /** The logical environment (`staging`, or `k8s-east/staging`), the workflow, the predicate type; "" for require_verified. */
  subject: string;
  description: string;
}

export interface DeployedInRule {
  logicalEnvironment: string;
  /** Only in this environment; undefined: in any. */
  environment?: string;
  /** 0: any time. */
  soakMs: number;
}

export interface PromotionPolicy {
  /** The guarded logical environment. */
  logicalEnvironment: string;
  requireDeployedIn: DeployedInRule[];
  requireWorkflows: string[];
  requirePredicateTypes: string[];
  requireVerified: boolean;
  version: bigint;
  updatedAt: Date;
  updatedBy: Actor | undefined;
}

/** A logical environment's policy judged for some digests. */
export interface PolicyJudgement {
  logicalEnvironment: string;
  /**
   * The policy judged, and its version: the record statement writes only while both are still
   * current (a policy deleted and set again starts at version 1 under a new id).
   */
  policyId: string;
  version: bigint;
  /** Per digest: the unmet rules, [] when all are met. Every digest asked is a key. */
  violations: Map<string, PolicyViolation[]>;
}

/** What the record path asks (DeploymentUseCase, SnapshotUseCase). */
export interface PromotionGuard {
  /** undefined when the logical environment (by id) has no policy. */
  evaluate(orgId: string, logicalEnvironmentId: string, digests: string[]): Promise<PolicyJudgement | undefined>;
}

/** SetPromotionPolicy's input; output-only fields are not part of it. */
export interface PolicyInput {
  logicalEnvironment: string;
  /** `environment` absent or "": in any environment; `soakMs` absent or 0: any time. */
  requireDeployedIn: Array<{ logicalEnvironment: string; environment?: string; soakMs?: number }>;
  requireWorkflows: string[];
  requirePredicateTypes: string[];
  requireVerified: boolean;
}

// ───────────── storage (server/data/policies.ts) ─────────────

/** A require_deployed_in rule as stored: with the ids the evaluation queries by. */
export interface StoredDeployedInRule extends DeployedInRule {
  logicalEnvironmentId: string;
  environmentId?: string;
}

export interface StoredPolicy extends PromotionPolicy {
  id: string;
  logicalEnvironmentId: string;
  requireDeployedIn: StoredDeployedInRule[];
}

/** A policy to store: names resolved to ids. */
export interface NewPolicyRules {
  requireDeployedIn: Array<{ logicalEnvironmentId: string; environmentId: string | undefined; soakMs: number }>;
  requireWorkflows: string[];
  requirePredicateTypes: string[];
  requireVerified: boolean;
}

/** Implemented by server/data/policies.ts (PrismaPolicyRepository), on the client or a transaction. */
export interface PolicyRepository {
  /** Ids of the organization's logical environments and environments among `names`; missing names are absent. */
  resolve(orgId: string, names: { logical: string[]; environments: string[] }): Promise<{ logical: Map<string, string>; environments: Map<string, string> }>;
  /**
   * Creates the policy (version 1) or replaces it whole (version + 1): one row per logical
   * environment, whoever sets it at the same time. A rule naming a logical environment or
   * environment deleted meanwhile throws NotFound. Answers the version it made.
   */
  put(orgId: string, logicalEnvironmentId: string, rules: NewPolicyRules, actor: Actor | undefined): Promise<{ version: bigint; updatedAt: Date }>;
  /** False when there was none. */
  delete(orgId: string, logicalEnvironmentId: string): Promise<boolean>;
}

/** One require_deployed_in rule of the evaluation, by index into the policy's rules. */
export interface DeployedInQuery {
  index: number;
  logicalEnvironmentId: string;
  environmentId: string | undefined;
  soakMs: number;
}

/**
 * The most telling record of a digest for one require_deployed_in rule (server/data/policies.ts
 * picks it): `met` — one that ran for the soak and still counts; else `running` — the running
 * one there the longest; else `short` — the superseded one that ran the longest; else the
 * latest one that does not count (`decommissioned` or `rolled-back`). A digest with no record
 * there has no candidate.
 */
export interface DeployedInCandidate {
  index: number;
  digest: string;
  standing: "met" | "running" | "short" | "decommissioned" | "rolled-back";
  recordId: string;
  environment: string;
  createdAt: Date;
  /** When it stopped: superseded or decommissioned. */
  endedAt: Date | undefined;
  /** The record that replaced it (a rollback, for `rolled-back`). */
  supersededById: string | undefined;
  /** How long it ran (to the database's now() while running). */
  ranMs: number;
}

/** What the organization's attestations naming a digest as a subject say about one attestation rule. */
export interface AttestationFact {
  digest: string;
  /** `any`: every attestation naming the digest (require_verified with no other attestation rule). */
  rule: "workflow" | "predicate_type" | "any";
  /** The workflow or predicate type ("" for `any`). */
  value: string;
  /** How many attestations match; facts are only returned for at least one. */
  count: number;
  verified: boolean;
}

/** Implemented by server/data/policies.ts (SqlPolicyFacts): each method is one statement. */
export interface PolicyFacts {
  /** A policy with its rules, read in one statement (one snapshot). */
  policyOf(orgId: string, logicalEnvironmentId: string): Promise<StoredPolicy | undefined>;
  /** Every policy of the organization, by logical environment name, in one statement. */
  policiesOf(orgId: string): Promise<StoredPolicy[]>;
  deployedIn(orgId: string, digests: string[], rules: DeployedInQuery[]): Promise<DeployedInCandidate[]>;
  attestations(
    orgId: string,
    digests: string[],
    q: { workflows: string[]; predicateTypes: string[]; any: boolean },
  ): Promise<AttestationFact[]>;
}

// ───────────── limits ─────────────

/** Rules of one kind per policy. */
export const MAX_RULES_PER_KIND = 16;
/** The longest soak: a year, leap day included. */
export const MAX_SOAK_MS = 366 * 86_400_000;
/** Like attestations' own predicate types (server/domain/intoto.ts). */
export const PREDICATE_TYPE_MAX = 1024;

export class PolicyUseCase implements PromotionGuard {
  constructor(
    private readonly repo: PolicyRepository,
    /** Changes, each with its audit entry in one transaction. */
    private readonly writes: Audited<PolicyRepository>,
    private readonly facts: PolicyFacts,
  ) {}

  /** Creates or replaces the policy of `input.logicalEnvironment` whole. */
  async set(orgId: string, input: PolicyInput, actor: Actor | undefined): Promise<PromotionPolicy> {
    const policy = validatePolicy(input);
    return this.writes(async ({ repo, audit }) => {
      const ids = await repo.resolve(orgId, {
        logical: [policy.logicalEnvironment, ...policy.requireDeployedIn.map((r) => r.logicalEnvironment)],
        environments: policy.requireDeployedIn.flatMap((r) => (r.environment ? [r.environment] : [])),
      });
      const guardedId = ids.logical.get(policy.logicalEnvironment);
      if (!guardedId) throw logicalEnvironmentNotFound(policy.logicalEnvironment);
      const deployedIn = policy.requireDeployedIn.map((r, i) => {
        const field = `policy.require_deployed_in[${i}]`;
        const logicalEnvironmentId = ids.logical.get(r.logicalEnvironment);
        if (!logicalEnvironmentId) {
          throw new NotFound(
            `${field}.logical_environment: logical environment "${r.logicalEnvironment}" not found; ` +
              `list them with: chainloop logical-environment list`,
          );
        }
        const environmentId = r.environment ? ids.environments.get(r.environment) : undefined;
        if (r.environment && !environmentId) {
          throw new NotFound(`${field}.environment: environment "${r.environment}" not found; list them with: chainloop environment list`);
        }
        return { logicalEnvironmentId, environmentId, soakMs: r.soakMs };
      });
      const made = await repo.put(
        orgId,
        guardedId,
        {
          requireDeployedIn: deployedIn,
          requireWorkflows: policy.requireWorkflows,
          requirePredicateTypes: policy.requirePredicateTypes,
          requireVerified: policy.requireVerified,
        },
        actor,
      );
      await audit.append(orgId, actor, { action: "policy.set", resourceType: "promotion_policy", resourceName: policy.logicalEnvironment });
      // What this change made (a later set's version would be another's answer).
      return { ...policy, version: made.version, updatedAt: made.updatedAt, updatedBy: actor ? { tokenId: actor.tokenId, tokenName: actor.tokenName } : undefined };
    });
  }

  async get(orgId: string, logicalEnvironment: string): Promise<PromotionPolicy> {
    const name = requireName("logical_environment", logicalEnvironment);
    const { logical } = await this.repo.resolve(orgId, { logical: [name], environments: [] });
    const id = logical.get(name);
    if (!id) throw logicalEnvironmentNotFound(name);
    const policy = await this.facts.policyOf(orgId, id);
    if (!policy) throw noPolicy(name);
    return publicPolicy(policy);
  }

  /** Every policy of the organization, by logical environment name. */
  async list(orgId: string): Promise<PromotionPolicy[]> {
    return (await this.facts.policiesOf(orgId)).map(publicPolicy);
  }

  async delete(orgId: string, logicalEnvironment: string, actor: Actor | undefined): Promise<void> {
    const name = requireName("logical_environment", logicalEnvironment);
    await this.writes(async ({ repo, audit }) => {
      const { logical } = await repo.resolve(orgId, { logical: [name], environments: [] });
      const id = logical.get(name);
      if (!id) throw logicalEnvironmentNotFound(name);
      if (!(await repo.delete(orgId, id))) throw noPolicy(name);
      await audit.append(orgId, actor, { action: "policy.delete", resourceType: "promotion_policy", resourceName: name });
    });
  }

  /**
   * Judges `digests` against the policy of the logical environment `logicalEnvironmentId`: at
   * most three statements (the policy; the records of every digest for every
   * require_deployed_in rule; the attestations naming every digest), whatever their number.
   */
  async evaluate(orgId: string, logicalEnvironmentId: string, digests: string[]): Promise<PolicyJudgement | undefined> {
    const policy = await this.facts.policyOf(orgId, logicalEnvironmentId);
    if (!policy) return undefined;
    const unique = [...new Set(digests)];
    const violations = new Map<string, PolicyViolation[]>(unique.map((d) => [d, []]));
    if (unique.length === 0) return { logicalEnvironment: policy.logicalEnvironment, policyId: policy.id, version: policy.version, violations };

    const attestationRules = policy.requireWorkflows.length + policy.requirePredicateTypes.length;
    // The rules are passed to the statements as read with the policy (not read again), so the
    // judgement is of exactly the version it reports.
    const [candidates, attested] = await Promise.all([
      policy.requireDeployedIn.length === 0
        ? Promise.resolve([])
        : this.facts.deployedIn(
            orgId,
            unique,
            policy.requireDeployedIn.map((r, index) => ({
              index,
              logicalEnvironmentId: r.logicalEnvironmentId,
              environmentId: r.environmentId,
              soakMs: r.soakMs,
            })),
          ),
      attestationRules === 0 && !policy.requireVerified
        ? Promise.resolve([])
        : this.facts.attestations(orgId, unique, {
            workflows: policy.requireWorkflows,
            predicateTypes: policy.requirePredicateTypes,
            any: policy.requireVerified && attestationRules === 0,
          }),
    ]);

    const candidateOf = new Map(candidates.map((c) => [`${c.index}\u0000${c.digest}`, c]));
    const factOf = new Map(attested.map((f) => [`${f.rule}\u0000${f.value}\u0000${f.digest}`, f]));
    for (const digest of unique) {
      const out = violations.get(digest)!;
      policy.requireDeployedIn.forEach((rule, index) => {
        const v = deployedInViolation(digest, rule, candidateOf.get(`${index}\u0000${digest}`));
        if (v) out.push(v);
      });
      for (const workflow of policy.requireWorkflows) {
        const fact = factOf.get(`workflow\u0000${workflow}\u0000${digest}`);
        const v = attestationViolation(digest, "require_workflow", workflow, `of workflow ${JSON.stringify(workflow)}`, fact, policy.requireVerified);
        if (v) out.push(v);
      }
      for (const type of policy.requirePredicateTypes) {
        const fact = factOf.get(`predicate_type\u0000${type}\u0000${digest}`);
        const v = attestationViolation(digest, "require_predicate_type", type, `with predicate type ${JSON.stringify(type)}`, fact, policy.requireVerified);
        if (v) out.push(v);
      }
      if (policy.requireVerified && attestationRules === 0) {
        const v = anyVerifiedViolation(digest, factOf.get(`any\u0000\u0000${digest}`));
        if (v) out.push(v);
      }
    }
    return { logicalEnvironment: policy.logicalEnvironment, policyId: policy.id, version: policy.version, violations };
  }
}

// ───────────── validation ─────────────

/** Checks everything that needs no database; names are resolved by the caller. */
export function validatePolicy(input: PolicyInput): Omit<PromotionPolicy, "version" | "updatedAt" | "updatedBy"> {
  const guarded = requireName("policy.logical_environment", input.logicalEnvironment);

  const kinds: Array<[string, number]> = [
    ["require_deployed_in", input.requireDeployedIn.length],
    ["require_workflows", input.requireWorkflows.length],
    ["require_predicate_types", input.requirePredicateTypes.length],
  ];
  for (const [field, n] of kinds) {
    if (n > MAX_RULES_PER_KIND) {
      throw new InvalidArgument(`policy.${field} has ${n} rules; a policy may have at most ${MAX_RULES_PER_KIND} of each kind`);
    }
  }
  if (kinds.every(([, n]) => n === 0) && !input.requireVerified) {
    throw new InvalidArgument(
      `the policy for ${guarded} has no rule: give at least one of require_deployed_in, require_workflows, ` +
        `require_predicate_types or require_verified (use DeletePromotionPolicy to remove a policy)`,
    );
  }

  const seenPlaces = new Map<string, number>();
  const requireDeployedIn = input.requireDeployedIn.map((r, i): DeployedInRule => {
    const field = `policy.require_deployed_in[${i}]`;
    const logicalEnvironment = requireName(`${field}.logical_environment`, r.logicalEnvironment);
    if (logicalEnvironment === guarded) {
      throw new InvalidArgument(
        `${field} names ${guarded}, the logical environment the policy guards; a rule must name an earlier stage (for example staging)`,
      );
    }
    const environment = !r.environment ? undefined : requireName(`${field}.environment`, r.environment);
    const soakMs = r.soakMs ?? 0;
    if (!Number.isFinite(soakMs) || !Number.isInteger(soakMs) || soakMs < 0 || soakMs > MAX_SOAK_MS) {
      throw new InvalidArgument(
        `${field}.soak must be whole milliseconds from 0 to 366 days (${MAX_SOAK_MS} ms), ` +
          `got ${Number.isFinite(soakMs) ? `${soakMs} ms` : String(soakMs)}`,
      );
    }
    const place = placeOf(logicalEnvironment, environment);
    const earlier = seenPlaces.get(place);
    if (earlier !== undefined) {
      throw new InvalidArgument(`${field} repeats require_deployed_in[${earlier}] (${describePlace(logicalEnvironment, environment)}); give each place once`);
    }
    seenPlaces.set(place, i);
    return environment === undefined ? { logicalEnvironment, soakMs } : { logicalEnvironment, environment, soakMs };
  });

  const requireWorkflows = unique("policy.require_workflows", input.requireWorkflows, (w, field) => requireName(field, w));
  const requirePredicateTypes = unique("policy.require_predicate_types", input.requirePredicateTypes, (t, field) => {
    if (t === "") throw new InvalidArgument(`${field} is empty; give a predicate type such as https://slsa.dev/provenance/v1`);
    if (t.length > PREDICATE_TYPE_MAX) {
      throw new InvalidArgument(`${field} is ${t.length} characters long; the limit is ${PREDICATE_TYPE_MAX}`);
    }
    if (/[\u0000-\u001f\u007f-\u009f]/.test(t)) throw new InvalidArgument(`${field} must not contain control characters`);
    if (t.trim() !== t) throw new InvalidArgument(`${field} ${JSON.stringify(t)} starts or ends with white space`);
    return t;
  });

  return { logicalEnvironment: guarded, requireDeployedIn, requireWorkflows, requirePredicateTypes, requireVerified: input.requireVerified };
}

function unique(field: string, values: string[], check: (v: string, field: string) => string): string[] {
  const seen = new Map<string, number>();
  return values.map((v, i) => {
    const value = check(v, `${field}[${i}]`);
    const earlier = seen.get(value);
    if (earlier !== undefined) throw new InvalidArgument(`${field}[${i}] repeats ${field}[${earlier}] (${JSON.stringify(value)}); give each once`);
    seen.set(value, i);
    return value;
  });
}

const placeOf = (logicalEnvironment: string, environment: string | undefined) => `${environment ?? ""}/${logicalEnvironment}`;

function describePlace(logicalEnvironment: string, environment: string | undefined): string {
  return environment === undefined ? `${logicalEnvironment} in any environment` : `${logicalEnvironment} (${environment})`;
}

function publicPolicy(p: StoredPolicy): PromotionPolicy {
  return {
    logicalEnvironment: p.logicalEnvironment,
    requireDeployedIn: p.requireDeployedIn.map((r) =>
      r.environment === undefined
        ? { logicalEnvironment: r.logicalEnvironment, soakMs: r.soakMs }
        : { logicalEnvironment: r.logicalEnvironment, environment: r.environment, soakMs: r.soakMs },
    ),
    requireWorkflows: p.requireWorkflows,
    requirePredicateTypes: p.requirePredicateTypes,
    requireVerified: p.requireVerified,
    version: p.version,
    updatedAt: p.updatedAt,
    updatedBy: p.updatedBy,
  };
}

function logicalEnvironmentNotFound(name: string): NotFound {
  return new NotFound(`logical environment "${name}" not found; list them with: chainloop logical-environment list`);
}

function noPolicy(name: string): NotFound {
  return new NotFound(`logical environment ${name} has no promotion policy`);
}

// ───────────── explaining unmet rules ─────────────

/** The subject of a require_deployed_in violation: `staging`, or `k8s-east/staging`. */
export function deployedInSubject(rule: DeployedInRule): string {
  return rule.environment === undefined ? rule.logicalEnvironment : `${rule.environment}/${rule.logicalEnvironment}`;
}

function deployedInViolation(digest: string, rule: DeployedInRule, c: DeployedInCandidate | undefined): PolicyViolation | undefined {
  if (c?.standing === "met") return undefined;
  const violation = (description: string): PolicyViolation => ({ rule: "require_deployed_in", subject: deployedInSubject(rule), description });
  if (!c) {
    const where = rule.environment === undefined ? `${rule.logicalEnvironment} (in any environment)` : `${rule.logicalEnvironment} (${rule.environment})`;
    const soak = rule.soakMs > 0 ? ` and let it run there for ${formatDuration(rule.soakMs)}` : "";
    return violation(`${digest} has not been recorded as deployed in ${where}; record it there first${soak}`);
  }
  const there = `${rule.logicalEnvironment} (${c.environment})`;
  const soak = formatDuration(rule.soakMs);
  switch (c.standing) {
    case "running":
      return violation(
        `${digest} has run in ${there} since ${formatInstant(c.createdAt, "floor")}: ${formatDuration(c.ranMs)} of the ${soak} soak; ` +
          `it can be promoted from ${formatInstant(new Date(c.createdAt.getTime() + rule.soakMs), "ceil")}`,
      );
    case "short":
      return violation(
        `${digest} ran in ${there} for ${formatDuration(c.ranMs)} of the ${soak} soak ` +
          `(from ${formatInstant(c.createdAt, "floor")} until record ${c.supersededById ?? "?"} replaced it); ` +
          `deploy it there again and let it run for ${soak}`,
      );
    case "decommissioned":
      return violation(
        `${digest} was decommissioned in ${there}${c.endedAt ? ` at ${formatInstant(c.endedAt, "floor")}` : ""}; deploy it there again` +
          (rule.soakMs > 0 ? ` and let it run for ${soak}` : ""),
      );
    case "rolled-back":
      return violation(
        `${digest} was rolled back in ${there}${c.endedAt ? ` at ${formatInstant(c.endedAt, "floor")}` : ""}: ` +
          `record ${c.supersededById ?? "?"} replaced it`,
      );
    default:
      return undefined;
  }
}

const PUSH_SIGNED = "push one signed with a registered key";

function attestationViolation(
  digest: string,
  rule: "require_workflow" | "require_predicate_type",
  subject: string,
  which: string,
  fact: AttestationFact | undefined,
  requireVerified: boolean,
): PolicyViolation | undefined {
  if (!fact) {
    const push = requireVerified ? PUSH_SIGNED : "push one";
    return { rule, subject, description: `no attestation ${which} names ${digest} as a subject; ${push} (chainloop attestation push)` };
  }
  if (requireVerified && !fact.verified) {
    const some = fact.count === 1 ? "an attestation" : `${fact.count} attestations`;
    return {
      rule: "require_verified",
      subject: "",
      description: `${some} ${which} ${fact.count === 1 ? "names" : "name"} ${digest} but none is verified by a registered key; ${PUSH_SIGNED} (chainloop key list)`,
    };
  }
  return undefined;
}

function anyVerifiedViolation(digest: string, fact: AttestationFact | undefined): PolicyViolation | undefined {
  if (!fact) {
    return { rule: "require_verified", subject: "", description: `no attestation names ${digest} as a subject; ${PUSH_SIGNED} (chainloop attestation push)` };
  }
  if (fact.verified) return undefined;
  const some = fact.count === 1 ? "an attestation names" : `${fact.count} attestations name`;
  return {
    rule: "require_verified",
    subject: "",
    description: `${some} ${digest} as a subject but none is verified by a registered key; ${PUSH_SIGNED} (chainloop key list)`,
  };
}

/**
 * `1h`, `1h30m`, `23m5s`, `250ms`: a duration for a sentence. Whole seconds (truncated) from a
 * second up, milliseconds below; soaks are usually round and come out exact.
 */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.floor(ms))}ms` : exactDuration(Math.floor(ms / 1000) * 1000);
}

/** RFC 3339 in UTC to the second: `floor` for when something happened, `ceil` for "from" (never too early). */
function formatInstant(d: Date, round: "floor" | "ceil"): string {
  const ms = d.getTime();
  const whole = round === "floor" ? Math.floor(ms / 1000) * 1000 : Math.ceil(ms / 1000) * 1000;
  return new Date(whole).toISOString().replace(".000Z", "Z");
}
