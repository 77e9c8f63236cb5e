// Environments (infrastructure targets) and logical environments (lifecycle stages).
import type { Audited } from "./audit.js";
import type { Actor } from "./caller.js";
import { FailedPrecondition, InvalidArgument, NotFound } from "./errors.js";
import { parseHeartbeatInterval } from "./staleness.js";
import { parsePageRequest, toPage, type Cursor, type Page, type PageRequest } from "./pagination.js";
import { optionalQuery, requireDescription, requireName } from "./validation.js";

/** The lifecycle stages every organization has from the start; they cannot be deleted. */
export const BUILT_IN_LOGICAL_ENVIRONMENTS: ReadonlyArray<{ name: string; description: string }> = [
  { name: "development", description: "Development" },
  { name: "staging", description: "Staging" },
  { name: "production", description: "Production" },
];

export interface Environment {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
  /** How often its deployments are expected to report (staleness.ts); undefined: no expectation. */
  heartbeatIntervalMs?: number;
}

export interface LogicalEnvironment {
  id: string;
  name: string;
  description: string;
  builtIn: boolean;
  createdAt: Date;
}

export interface EnvironmentListQuery {
  query: string | undefined;
  afterName: string | undefined;
  limit: number;
}

/** Implemented by server/data/environments.ts. Unique-name clashes throw AlreadyExists. */
export interface EnvironmentRepository {
  create(orgId: string, input: { name: string; description: string; heartbeatIntervalMs?: number | null }): Promise<Environment>;
  findByName(orgId: string, name: string): Promise<Environment | undefined>;
  list(orgId: string, q: EnvironmentListQuery): Promise<Environment[]>;
  /** Changes the fields present in `changes` (heartbeatIntervalMs null clears it). */
  update(
    orgId: string,
    name: string,
    changes: { description?: string; heartbeatIntervalMs?: number | null },
  ): Promise<Environment | undefined>;
  /** Deletes unless something references it (EnvironmentUsers); returns what happened. */
  delete(orgId: string, name: string): Promise<"deleted" | "not-found" | InUse>;

  listLogical(orgId: string): Promise<LogicalEnvironment[]>;
  createLogical(orgId: string, input: { name: string; description: string }): Promise<LogicalEnvironment>;
  deleteLogical(orgId: string, name: string): Promise<"deleted" | "not-found" | InUse>;
}

/**
 * What keeps an environment or a logical environment from being deleted: the rows that reference
 * it with ON DELETE RESTRICT. All empty when the database refused the delete for a reference
 * made after the repository looked (a race): the message then names every kind.
 */
export interface EnvironmentUsers {
  deploymentRecords: boolean;
  /** The logical environments whose promotion policy names it in a require_deployed_in rule. */
  policies: string[];
  webhookSubscriptions: number;
}

export type InUse = { inUse: EnvironmentUsers };

export interface EnvironmentUpdate {
  name: string;
  description?: string;
  /** Milliseconds; undefined or 0 clears it (with the `heartbeat_interval` path). */
  heartbeatIntervalMs?: number;
}

export class EnvironmentUseCase {
  constructor(
    private readonly repo: EnvironmentRepository,
    /** Changes, each with its audit entry in one transaction. */
    private readonly writes: Audited<EnvironmentRepository>,
  ) {}

  async create(
    orgId: string,
    input: { name: string; description: string; heartbeatIntervalMs?: number },
    actor?: Actor,
  ): Promise<Environment> {
    const fields = {
      name: requireName("name", input.name),
      description: requireDescription("description", input.description),
      heartbeatIntervalMs: parseHeartbeatInterval("heartbeat_interval", input.heartbeatIntervalMs),
    };
    return this.writes(async ({ repo, audit }) => {
      const env = await repo.create(orgId, fields);
      await audit.append(orgId, actor, { action: "environment.create", resourceType: "environment", resourceName: env.name });
      return env;
    });
  }

  async get(orgId: string, name: string): Promise<Environment> {
    const env = await this.repo.findByName(orgId, requireName("name", name));
    if (!env) throw environmentNotFound(name);
    return env;
  }

  async list(orgId: string, req: PageRequest & { query: string }): Promise<Page<Environment>> {
    const query = optionalQuery("query", req.query);
    const page = parsePageRequest(req, { query }, ["string"]);
    const rows = await this.repo.list(orgId, {
      query,
      afterName: page.after?.[0] as string | undefined,
      limit: page.limit + 1,
    });
    return toPage(rows, page, (e): Cursor => [e.name]);
  }

  /** Applies the fields present in `update`; `paths` lists the fields the caller asked to change. */
  async update(orgId: string, update: EnvironmentUpdate, paths: string[], actor?: Actor): Promise<Environment> {
    const name = requireName("environment.name", update.name);
    const supported = ["description", "heartbeat_interval"];
    const unknown = paths.filter((p) => !supported.includes(p));
    if (unknown.length > 0) {
      throw new InvalidArgument(
        `update_mask names fields that cannot be updated: ${unknown.join(", ")} (updatable: ${supported.join(", ")})`,
      );
    }
    const changes: { description?: string; heartbeatIntervalMs?: number | null } = {};
    if (paths.includes("description")) {
      changes.description = requireDescription("environment.description", update.description ?? "");
    }
    if (paths.includes("heartbeat_interval")) {
      changes.heartbeatIntervalMs = parseHeartbeatInterval("environment.heartbeat_interval", update.heartbeatIntervalMs);
    }
    return this.writes(async ({ repo, audit }) => {
      const env = await repo.update(orgId, name, changes);
      if (!env) throw environmentNotFound(name);
      await audit.append(orgId, actor, { action: "environment.update", resourceType: "environment", resourceName: name });
      return env;
    });
  }

  async delete(orgId: string, name: string, actor?: Actor): Promise<void> {
    requireName("name", name);
    await this.writes(async ({ repo, audit }) => {
      const outcome = await repo.delete(orgId, name);
      if (outcome === "not-found") throw environmentNotFound(name);
      if (typeof outcome === "object") throw inUse(`environment "${name}"`, outcome.inUse);
      await audit.append(orgId, actor, { action: "environment.delete", resourceType: "environment", resourceName: name });
    });
  }

  /** Built-in stages first in lifecycle order (development, staging, production), then the rest by name. */
  async listLogical(orgId: string): Promise<LogicalEnvironment[]> {
    const rank = (l: LogicalEnvironment) => {
      const i = BUILT_IN_LOGICAL_ENVIRONMENTS.findIndex((b) => b.name === l.name);
      return l.builtIn && i >= 0 ? i : BUILT_IN_LOGICAL_ENVIRONMENTS.length;
    };
    return (await this.repo.listLogical(orgId)).sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  }

  async createLogical(orgId: string, input: { name: string; description: string }, actor?: Actor): Promise<LogicalEnvironment> {
    const fields = { name: requireName("name", input.name), description: requireDescription("description", input.description) };
    return this.writes(async ({ repo, audit }) => {
      const created = await repo.createLogical(orgId, fields);
      await audit.append(orgId, actor, { action: "logical_environment.create", resourceType: "logical_environment", resourceName: created.name });
      return created;
    });
  }

  async deleteLogical(orgId: string, name: string, actor?: Actor): Promise<void> {
    requireName("name", name);
    if (BUILT_IN_LOGICAL_ENVIRONMENTS.some((b) => b.name === name)) {
      throw new FailedPrecondition(`logical environment "${name}" is built in and cannot be deleted`);
    }
    await this.writes(async ({ repo, audit }) => {
      const outcome = await repo.deleteLogical(orgId, name);
      if (outcome === "not-found") {
        throw new NotFound(`logical environment "${name}" not found; list them with: chainloop logical-environment list`);
      }
      if (typeof outcome === "object") throw inUse(`logical environment "${name}"`, outcome.inUse);
      await audit.append(orgId, actor, { action: "logical_environment.delete", resourceType: "logical_environment", resourceName: name });
    });
  }
}

/** Why `what` cannot be deleted, and what to do about each thing that uses it. */
function inUse(what: string, users: EnvironmentUsers): FailedPrecondition {
  const reasons: string[] = [];
  if (users.deploymentRecords) reasons.push("it has deployment records, whose history is part of the audit trail");
  const n = users.policies.length;
  if (n > 0) {
    const flags = n === 1 ? `--logical-env ${users.policies[0]}` : "--logical-env …";
    reasons.push(
      `the promotion ${n === 1 ? "policy" : "policies"} of ${users.policies.join(", ")} ${n === 1 ? "names" : "name"} it in a rule ` +
        `(change ${n === 1 ? "it" : "them"} with: chainloop policy set ${flags}, or remove with: chainloop policy clear ${flags})`,
    );
  }
  const w = users.webhookSubscriptions;
  if (w > 0) {
    reasons.push(`${w === 1 ? "a webhook subscription is" : `${w} webhook subscriptions are`} limited to it (see: chainloop webhook list)`);
  }
  if (reasons.length === 0) reasons.push("it is used by deployment records, a promotion policy rule or a webhook subscription");
  return new FailedPrecondition(`${what} cannot be deleted: ${reasons.join("; ")}`);
}

export function environmentNotFound(name: string): NotFound {
  return new NotFound(
    `environment "${name}" not found; create it with: chainloop environment create --name ${name}`,
  );
}
