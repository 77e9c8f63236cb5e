// PolicyRepository (server/domain/policies.ts) in memory, and the two reads of PolicyFacts that
// PromotionPolicyService uses (policyOf, policiesOf), with what server/data/policies.ts does that
// the handlers can observe: names resolved per organization against the environments in
// MemoryEnvironmentRepository (missing names are absent from the answer); one policy per logical
// environment, created at version 1 and replaced whole at version + 1 with who set it and when;
// delete then set starts again at version 1; rules read back in their order with their names
// joined at read time, a policy gone with its logical environment (ON DELETE CASCADE), policies
// listed by logical environment name. Not here: the evaluation's facts (deployedIn,
// attestations: they need records and attestations, and throw), and the refusal to delete an
// environment or logical environment a rule names (MemoryEnvironmentRepository does not ask).
import { randomUUID } from "node:crypto";
import type { Actor } from "../../../server/domain/caller.js";
import { NotFound } from "../../../server/domain/errors.js";
import type { NewPolicyRules, PolicyFacts, PolicyRepository, StoredPolicy } from "../../../server/domain/policies.js";
import type { Restorable } from "./audit.js";
import type { MemoryEnvironmentRepository } from "./environments.js";

interface Row {
  id: string;
  rules: NewPolicyRules;
  version: bigint;
  updatedAt: Date;
  updatedBy: Actor | undefined;
}

export class MemoryPolicyRepository implements PolicyRepository, Pick<PolicyFacts, "policyOf" | "policiesOf">, Restorable {
  /** Per organization, per logical environment id. Rows are replaced, never changed in place. */
  private orgs = new Map<string, Map<string, Row>>();

  constructor(private readonly environments: MemoryEnvironmentRepository) {}

  save(): () => void {
    const copy = new Map([...this.orgs].map(([k, rows]) => [k, new Map(rows)]));
    return () => {
      this.orgs = copy;
    };
  }

  private rows(orgId: string): Map<string, Row> {
    let rows = this.orgs.get(orgId);
    if (!rows) this.orgs.set(orgId, (rows = new Map()));
    return rows;
  }

  /** The organization's logical environments and environments, by id: what the database joins. */
  private async names(orgId: string): Promise<{ logical: Map<string, string>; environments: Map<string, string> }> {
    const logical = await this.environments.listLogical(orgId);
    const envs = await this.environments.list(orgId, { query: undefined, afterName: undefined, limit: Number.MAX_SAFE_INTEGER });
    return { logical: new Map(logical.map((l) => [l.id, l.name])), environments: new Map(envs.map((e) => [e.id, e.name])) };
  }

  async resolve(orgId: string, names: { logical: string[]; environments: string[] }) {
    const byId = await this.names(orgId);
    const byName = (m: Map<string, string>, wanted: string[]) => new Map([...m].filter(([, name]) => wanted.includes(name)).map(([id, name]) => [name, id]));
    return { logical: byName(byId.logical, names.logical), environments: byName(byId.environments, names.environments) };
  }

  async put(orgId: string, logicalEnvironmentId: string, rules: NewPolicyRules, actor: Actor | undefined): Promise<{ version: bigint; updatedAt: Date }> {
    // The foreign keys of the rules (a name deleted since it was resolved).
    const { logical, environments } = await this.names(orgId);
    if (rules.requireDeployedIn.some((r) => !logical.has(r.logicalEnvironmentId) || (r.environmentId !== undefined && !environments.has(r.environmentId)))) {
      throw new NotFound("a logical environment or environment the policy names was deleted while the policy was being set; check the names and set it again");
    }
    const rows = this.rows(orgId);
    const old = rows.get(logicalEnvironmentId);
    const row: Row = {
      id: old?.id ?? randomUUID(),
      rules: structuredClone(rules),
      version: (old?.version ?? 0n) + 1n,
      updatedAt: new Date(),
      updatedBy: actor?.tokenId ? { tokenId: actor.tokenId, tokenName: actor.tokenName } : undefined,
    };
    rows.set(logicalEnvironmentId, row);
    return { version: row.version, updatedAt: row.updatedAt };
  }

  async delete(orgId: string, logicalEnvironmentId: string): Promise<boolean> {
    return this.rows(orgId).delete(logicalEnvironmentId);
  }

  async policyOf(orgId: string, logicalEnvironmentId: string): Promise<StoredPolicy | undefined> {
    return (await this.policiesOf(orgId)).find((p) => p.logicalEnvironmentId === logicalEnvironmentId);
  }

  async policiesOf(orgId: string): Promise<StoredPolicy[]> {
    const { logical, environments } = await this.names(orgId);
    const out: StoredPolicy[] = [];
    for (const [logicalEnvironmentId, row] of this.rows(orgId)) {
      const logicalEnvironment = logical.get(logicalEnvironmentId);
      if (logicalEnvironment === undefined) continue; // gone with its logical environment
      out.push({
        id: row.id,
        logicalEnvironmentId,
        logicalEnvironment,
        requireDeployedIn: row.rules.requireDeployedIn.map((r) => ({
          logicalEnvironmentId: r.logicalEnvironmentId,
          logicalEnvironment: logical.get(r.logicalEnvironmentId)!,
          ...(r.environmentId !== undefined ? { environmentId: r.environmentId, environment: environments.get(r.environmentId)! } : {}),
          soakMs: r.soakMs,
        })),
        requireWorkflows: [...row.rules.requireWorkflows],
        requirePredicateTypes: [...row.rules.requirePredicateTypes],
        requireVerified: row.rules.requireVerified,
        version: row.version,
        updatedAt: row.updatedAt,
        updatedBy: row.updatedBy && { ...row.updatedBy },
      });
    }
    return out.sort((a, b) => (a.logicalEnvironment < b.logicalEnvironment ? -1 : a.logicalEnvironment > b.logicalEnvironment ? 1 : 0));
  }
}

/** PolicyFacts for the handlers: the policy reads of `repo`; the evaluation's facts are not in memory. */
export function memoryPolicyFacts(repo: MemoryPolicyRepository): PolicyFacts {
  const unsupported = async (): Promise<never> => {
    throw new Error("the in-memory policy facts do not evaluate policies (deployedIn, attestations): use the database");
  };
  return {
    policyOf: (orgId, id) => repo.policyOf(orgId, id),
    policiesOf: (orgId) => repo.policiesOf(orgId),
    deployedIn: unsupported,
    attestations: unsupported,
  };
}
