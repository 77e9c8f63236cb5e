// Promotion policies in the database (tables of migration 20261207000000_promotion_policies):
// PrismaPolicyRepository stores them (PromotionPolicyService), SqlPolicyFacts gathers what a
// judgement needs (server/domain/policies.ts decides). Every read of a policy is one statement,
// so a policy is never seen half replaced: its rules come with its version from one snapshot.
import { NotFound } from "../domain/errors.js";
import type {
  AttestationFact,
  DeployedInCandidate,
  DeployedInQuery,
  NewPolicyRules,
  PolicyFacts,
  PolicyRepository,
  StoredDeployedInRule,
  StoredPolicy,
} from "../domain/policies.js";
import type { Actor } from "../domain/caller.js";
import type { Prisma } from "../../gen/prisma/client.js";
import type { SqlPool } from "./client.js";
import { isForeignKeyViolation } from "./errors.js";

/** promotion_policy_attestations.rule of each attestation rule kind. */
const WORKFLOW = "workflow";
const PREDICATE_TYPE = "predicate_type";

// A policy with its rules, in order, as JSON arrays: one statement, one snapshot. $1 is the
// organization; callers append their condition and order.
const POLICY_SELECT = `
  SELECT p.id::text AS id, p.logical_environment_id::text AS logical_environment_id, le.name AS logical_environment,
    p.require_verified, p.version::text AS version, p.updated_at,
    p.updated_by_token_id::text AS updated_by_token_id, p.updated_by_name,
    COALESCE((
      SELECT json_agg(json_build_object(
          'logicalEnvironmentId', r.logical_environment_id, 'logicalEnvironment', rl.name,
          'environmentId', r.environment_id, 'environment', e.name, 'soakMs', r.soak_ms::text
        ) ORDER BY r.position)
      FROM promotion_policy_deployed_in r
      JOIN logical_environments rl ON rl.id = r.logical_environment_id
      LEFT JOIN environments e ON e.id = r.environment_id
      WHERE r.policy_id = p.id), '[]'::json) AS deployed_in,
    COALESCE((
      SELECT json_agg(json_build_object('rule', a.rule, 'value', a.value) ORDER BY a.position)
      FROM promotion_policy_attestations a WHERE a.policy_id = p.id), '[]'::json) AS attestation_rules
  FROM promotion_policies p
  JOIN logical_environments le ON le.id = p.logical_environment_id
  WHERE p.organization_id = $1::uuid`;

const POLICY_BY_LOGICAL_ENVIRONMENT = `${POLICY_SELECT} AND p.logical_environment_id = $2::uuid`;
const POLICIES_OF_ORGANIZATION = `${POLICY_SELECT} ORDER BY le.name`;

interface PolicyRow {
  id: string;
  logical_environment_id: string;
  logical_environment: string;
  require_verified: boolean;
  version: string;
  updated_at: Date | string;
  updated_by_token_id: string | null;
  updated_by_name: string;
  deployed_in: string | DeployedInJson[];
  attestation_rules: string | Array<{ rule: string; value: string }>;
}

interface DeployedInJson {
  logicalEnvironmentId: string;
  logicalEnvironment: string;
  environmentId: string | null;
  environment: string | null;
  soakMs: string;
}

/** JSON columns arrive parsed or as text, depending on the driver. */
const json = <T>(v: string | T): T => (typeof v === "string" ? (JSON.parse(v) as T) : v);
const date = (v: Date | string) => (v instanceof Date ? v : new Date(v));

function toPolicy(r: PolicyRow): StoredPolicy {
  const rules = json(r.attestation_rules);
  return {
    id: r.id,
    logicalEnvironmentId: r.logical_environment_id,
    logicalEnvironment: r.logical_environment,
    requireDeployedIn: json(r.deployed_in).map(
      (d): StoredDeployedInRule => ({
        logicalEnvironmentId: d.logicalEnvironmentId,
        logicalEnvironment: d.logicalEnvironment,
        ...(d.environmentId !== null && d.environment !== null ? { environmentId: d.environmentId, environment: d.environment } : {}),
        soakMs: Number(d.soakMs),
      }),
    ),
    requireWorkflows: rules.filter((a) => a.rule === WORKFLOW).map((a) => a.value),
    requirePredicateTypes: rules.filter((a) => a.rule === PREDICATE_TYPE).map((a) => a.value),
    requireVerified: r.require_verified,
    version: BigInt(r.version),
    updatedAt: date(r.updated_at),
    updatedBy: r.updated_by_token_id ? { tokenId: r.updated_by_token_id, tokenName: r.updated_by_name } : undefined,
  };
}

export class PrismaPolicyRepository implements PolicyRepository {
  /** The client, or a transaction's (server/data/transactions.ts). */
  constructor(private readonly prisma: Prisma.TransactionClient) {}

  async resolve(
    orgId: string,
    names: { logical: string[]; environments: string[] },
  ): Promise<{ logical: Map<string, string>; environments: Map<string, string> }> {
    const [logical, environments] = await Promise.all([
      names.logical.length === 0
        ? []
        : this.prisma.logicalEnvironment.findMany({
            where: { organizationId: orgId, name: { in: [...new Set(names.logical)] } },
            select: { id: true, name: true },
          }),
      names.environments.length === 0
        ? []
        : this.prisma.environment.findMany({
            where: { organizationId: orgId, name: { in: [...new Set(names.environments)] } },
            select: { id: true, name: true },
          }),
    ]);
    return {
      logical: new Map(logical.map((l) => [l.name, l.id])),
      environments: new Map(environments.map((e) => [e.name, e.id])),
    };
  }

  async put(orgId: string, logicalEnvironmentId: string, rules: NewPolicyRules, actor: Actor | undefined): Promise<{ version: bigint; updatedAt: Date }> {
    // An upsert on the unique logical_environment_id (Prisma runs it as INSERT … ON CONFLICT DO
    // UPDATE): of two sets of one logical environment at the same time, the second waits for the
    // first's row lock and then replaces its rules, so there is never a second policy, nor a mix
    // of two sets' rules.
    const who = { updatedByTokenId: actor?.tokenId ?? null, updatedByName: actor?.tokenName ?? "" };
    const row = await this.prisma.promotionPolicy.upsert({
      where: { logicalEnvironmentId },
      create: { organizationId: orgId, logicalEnvironmentId, requireVerified: rules.requireVerified, version: 1n, ...who },
      update: { requireVerified: rules.requireVerified, version: { increment: 1n }, updatedAt: new Date(), ...who },
      select: { id: true, version: true, updatedAt: true },
    });
    const policyId = row.id;
    await this.prisma.promotionPolicyDeployedIn.deleteMany({ where: { policyId } });
    await this.prisma.promotionPolicyAttestation.deleteMany({ where: { policyId } });
    try {
      if (rules.requireDeployedIn.length > 0) {
        await this.prisma.promotionPolicyDeployedIn.createMany({
          data: rules.requireDeployedIn.map((r, position) => ({
            policyId,
            position,
            logicalEnvironmentId: r.logicalEnvironmentId,
            environmentId: r.environmentId ?? null,
            soakMs: BigInt(r.soakMs),
          })),
        });
      }
    } catch (e) {
      // The names were found a moment ago in this transaction; another one deleted one since.
      if (isForeignKeyViolation(e)) {
        throw new NotFound(
          "a logical environment or environment the policy names was deleted while the policy was being set; check the names and set it again",
          { cause: e },
        );
      }
      throw e;
    }
    const attestations = [
      ...rules.requireWorkflows.map((value) => ({ rule: WORKFLOW, value })),
      ...rules.requirePredicateTypes.map((value) => ({ rule: PREDICATE_TYPE, value })),
    ];
    if (attestations.length > 0) {
      await this.prisma.promotionPolicyAttestation.createMany({
        data: attestations.map((a, position) => ({ policyId, position, ...a })),
      });
    }
    return { version: row.version, updatedAt: row.updatedAt };
  }

  async delete(orgId: string, logicalEnvironmentId: string): Promise<boolean> {
    // Its rules go with it (ON DELETE CASCADE).
    const { count } = await this.prisma.promotionPolicy.deleteMany({ where: { organizationId: orgId, logicalEnvironmentId } });
    return count > 0;
  }
}

// The most telling record of each digest for each require_deployed_in rule ($1 organization,
// $2 digests; the rules as parallel arrays: $3 index, $4 logical environment, $5 environment or
// NULL for any, $6 soak in ms). Per (rule, digest), DISTINCT ON keeps the first of: a record
// that ran for the soak and counts (rank 0); the running one there the longest (1); the
// superseded one that ran the longest (2); the latest that does not count, decommissioned or
// replaced by a rollback (3). A record counts to now() while running, to its supersession
// after; without a soak any record that counts will do (even one committed after this
// statement's now()). Each digest is an index probe on deployments (organization_id, digest); the record
// that replaced one, a primary-key probe.
const DEPLOYED_IN_STATEMENT = `
  WITH d AS (SELECT DISTINCT unnest($2::text[]) AS digest),
  r AS (
    SELECT * FROM unnest($3::int[], $4::uuid[], $5::uuid[], $6::bigint[]) AS r(idx, lenv_id, env_id, soak_ms)
  ),
  c AS (
    SELECT r.idx, dep.digest, dep.id, e.name AS environment, dep.created_at, dep.superseded_by_id,
      COALESCE(dep.decommissioned_at, dep.superseded_at) AS ended_at,
      COALESCE(dep.superseded_at, now()) - dep.created_at AS ran,
      CASE
        WHEN dep.status = 'decommissioned' OR nxt.rollback_of_id IS NOT NULL THEN 3
        WHEN r.soak_ms = 0 OR COALESCE(dep.superseded_at, now()) - dep.created_at >= r.soak_ms * interval '1 millisecond' THEN 0
        WHEN dep.status = 'deployed' THEN 1
        ELSE 2
      END AS rank,
      nxt.rollback_of_id IS NOT NULL AS rolled_back
    FROM r
    JOIN d ON true
    JOIN deployments dep ON dep.organization_id = $1::uuid AND dep.digest = d.digest
      AND dep.logical_environment_id = r.lenv_id AND (r.env_id IS NULL OR dep.environment_id = r.env_id)
    JOIN environments e ON e.id = dep.environment_id
    LEFT JOIN deployments nxt ON nxt.id = dep.superseded_by_id
  )
  SELECT DISTINCT ON (idx, digest)
    idx, digest, rank, rolled_back, id::text AS id, environment, created_at, ended_at,
    superseded_by_id::text AS superseded_by_id, (extract(epoch FROM ran) * 1000)::float8 AS ran_ms
  FROM c
  ORDER BY idx, digest, rank,
    CASE WHEN rank = 1 THEN created_at END ASC,
    CASE WHEN rank = 2 THEN ran END DESC,
    ended_at DESC NULLS LAST`;

interface DeployedInRow {
  idx: number;
  digest: string;
  rank: number;
  rolled_back: boolean;
  id: string;
  environment: string;
  created_at: Date | string;
  ended_at: Date | string | null;
  superseded_by_id: string | null;
  ran_ms: number | string;
}

const STANDING = ["met", "running", "short"] as const;

// The organization's attestations naming each digest ($2) as a subject, per workflow ($3) and
// per predicate type ($4) asked, and, with $5, over all of them: how many, and whether one is
// verified. Each digest is an index probe on attested_artifacts (organization_id, digest).
const ATTESTATIONS_STATEMENT = `
  WITH d AS (SELECT DISTINCT unnest($2::text[]) AS digest),
  s AS (
    SELECT d.digest, a.workflow, a.predicate_type, a.verified
    FROM d
    JOIN attested_artifacts aa ON aa.organization_id = $1::uuid AND aa.digest = d.digest AND aa.role = 'subject'
    JOIN attestations a ON a.id = aa.attestation_id
  )
  SELECT digest, '${WORKFLOW}' AS rule, workflow AS value, count(*)::int AS n, bool_or(verified) AS verified
  FROM s WHERE workflow = ANY($3::text[]) GROUP BY digest, workflow
  UNION ALL
  SELECT digest, '${PREDICATE_TYPE}', predicate_type, count(*)::int, bool_or(verified)
  FROM s WHERE predicate_type = ANY($4::text[]) GROUP BY digest, predicate_type
  UNION ALL
  SELECT digest, 'any', '', count(*)::int, bool_or(verified)
  FROM s WHERE $5::boolean GROUP BY digest`;

interface AttestationRow {
  digest: string;
  rule: string;
  value: string;
  n: number | string;
  verified: boolean;
}

/** The facts of a judgement, on the pool (the record path calls it). */
export class SqlPolicyFacts implements PolicyFacts {
  constructor(private readonly sql: SqlPool) {}

  async policyOf(orgId: string, logicalEnvironmentId: string): Promise<StoredPolicy | undefined> {
    const rows = await this.sql.query<PolicyRow>(POLICY_BY_LOGICAL_ENVIRONMENT, [orgId, logicalEnvironmentId], "policy_of");
    return rows[0] ? toPolicy(rows[0]) : undefined;
  }

  async policiesOf(orgId: string): Promise<StoredPolicy[]> {
    return (await this.sql.query<PolicyRow>(POLICIES_OF_ORGANIZATION, [orgId], "policies_of")).map(toPolicy);
  }

  async deployedIn(orgId: string, digests: string[], rules: DeployedInQuery[]): Promise<DeployedInCandidate[]> {
    const rows = await this.sql.query<DeployedInRow>(
      DEPLOYED_IN_STATEMENT,
      [
        orgId,
        digests,
        rules.map((r) => r.index),
        rules.map((r) => r.logicalEnvironmentId),
        rules.map((r) => r.environmentId ?? null),
        rules.map((r) => String(r.soakMs)),
      ],
      "policy_deployed_in",
    );
    return rows.map((r) => ({
      index: Number(r.idx),
      digest: r.digest,
      standing: Number(r.rank) === 3 ? (r.rolled_back ? "rolled-back" : "decommissioned") : STANDING[Number(r.rank)]!,
      recordId: r.id,
      environment: r.environment,
      createdAt: date(r.created_at),
      endedAt: r.ended_at === null ? undefined : date(r.ended_at),
      supersededById: r.superseded_by_id ?? undefined,
      ranMs: Number(r.ran_ms),
    }));
  }

  async attestations(
    orgId: string,
    digests: string[],
    q: { workflows: string[]; predicateTypes: string[]; any: boolean },
  ): Promise<AttestationFact[]> {
    const rows = await this.sql.query<AttestationRow>(
      ATTESTATIONS_STATEMENT,
      [orgId, digests, q.workflows, q.predicateTypes, q.any],
      "policy_attestations",
    );
    return rows.map((r) => ({
      digest: r.digest,
      rule: r.rule as AttestationFact["rule"],
      value: r.value,
      count: Number(r.n),
      verified: r.verified,
    }));
  }
}
