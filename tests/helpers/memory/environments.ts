// EnvironmentRepository (server/domain/environments.ts) in memory, with the database's rules that
// the use case relies on: unique names per organization (AlreadyExists, with the message
// server/data/environments.ts gives), names in byte order, case-insensitive query on name and
// description, the built-in logical environments present in every organization.
import { randomUUID } from "node:crypto";
import {
  BUILT_IN_LOGICAL_ENVIRONMENTS,
  type Environment,
  type EnvironmentListQuery,
  type EnvironmentRepository,
  type InUse,
  type LogicalEnvironment,
} from "../../../server/domain/environments.js";
import { AlreadyExists } from "../../../server/domain/errors.js";
import type { Restorable } from "./audit.js";

interface OrgState {
  envs: Map<string, Environment>;
  logical: Map<string, LogicalEnvironment>;
}

export class MemoryEnvironmentRepository implements EnvironmentRepository, Restorable {
  private orgs = new Map<string, OrgState>();
  /** Names of environments (per organization) that something references: delete answers InUse for them. */
  readonly used = new Set<string>();

  private org(orgId: string): OrgState {
    let s = this.orgs.get(orgId);
    if (!s) {
      const logical = new Map<string, LogicalEnvironment>();
      for (const b of BUILT_IN_LOGICAL_ENVIRONMENTS) {
        logical.set(b.name, { id: randomUUID(), name: b.name, description: b.description, builtIn: true, createdAt: new Date() });
      }
      s = { envs: new Map(), logical };
      this.orgs.set(orgId, s);
    }
    return s;
  }

  save(): () => void {
    const copy = new Map([...this.orgs].map(([k, s]) => [k, { envs: new Map(s.envs), logical: new Map(s.logical) }]));
    return () => {
      this.orgs = copy;
    };
  }

  async create(orgId: string, input: { name: string; description: string; heartbeatIntervalMs?: number | null }): Promise<Environment> {
    const { envs } = this.org(orgId);
    if (envs.has(input.name)) throw new AlreadyExists(`environment "${input.name}" already exists`);
    const now = new Date();
    const env: Environment = {
      id: randomUUID(),
      name: input.name,
      description: input.description,
      createdAt: now,
      updatedAt: now,
      ...(input.heartbeatIntervalMs != null ? { heartbeatIntervalMs: input.heartbeatIntervalMs } : {}),
    };
    envs.set(env.name, env);
    return env;
  }

  async findByName(orgId: string, name: string): Promise<Environment | undefined> {
    return this.org(orgId).envs.get(name);
  }

  async list(orgId: string, q: EnvironmentListQuery): Promise<Environment[]> {
    const needle = q.query?.toLowerCase();
    return [...this.org(orgId).envs.values()]
      .filter((e) => q.afterName === undefined || e.name > q.afterName)
      .filter((e) => needle === undefined || e.name.toLowerCase().includes(needle) || e.description.toLowerCase().includes(needle))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .slice(0, q.limit);
  }

  async update(orgId: string, name: string, changes: { description?: string; heartbeatIntervalMs?: number | null }): Promise<Environment | undefined> {
    const { envs } = this.org(orgId);
    const env = envs.get(name);
    if (!env) return undefined;
    const next: Environment = { ...env, updatedAt: new Date() };
    if (changes.description !== undefined) next.description = changes.description;
    if (changes.heartbeatIntervalMs === null) delete next.heartbeatIntervalMs;
    else if (changes.heartbeatIntervalMs !== undefined) next.heartbeatIntervalMs = changes.heartbeatIntervalMs;
    envs.set(name, next);
    return next;
  }

  async delete(orgId: string, name: string): Promise<"deleted" | "not-found" | InUse> {
    const { envs } = this.org(orgId);
    if (!envs.has(name)) return "not-found";
    if (this.used.has(name)) return { inUse: { deploymentRecords: true, policies: [], webhookSubscriptions: 0 } };
    envs.delete(name);
    return "deleted";
  }

  async listLogical(orgId: string): Promise<LogicalEnvironment[]> {
    return [...this.org(orgId).logical.values()];
  }

  async createLogical(orgId: string, input: { name: string; description: string }): Promise<LogicalEnvironment> {
    const { logical } = this.org(orgId);
    if (logical.has(input.name)) throw new AlreadyExists(`logical environment "${input.name}" already exists`);
    const l: LogicalEnvironment = { id: randomUUID(), name: input.name, description: input.description, builtIn: false, createdAt: new Date() };
    logical.set(l.name, l);
    return l;
  }

  async deleteLogical(orgId: string, name: string): Promise<"deleted" | "not-found" | InUse> {
    return this.org(orgId).logical.delete(name) ? "deleted" : "not-found";
  }
}
