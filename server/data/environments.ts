// EnvironmentRepository on Prisma: maps rows to domain types and constraint violations to
// domain errors.
import { AlreadyExists } from "../domain/errors.js";
import type {
  Environment,
  EnvironmentListQuery,
  EnvironmentRepository,
  EnvironmentUsers,
  InUse,
  LogicalEnvironment,
} from "../domain/environments.js";
import type { Prisma } from "../../gen/prisma/client.js";
import { isForeignKeyViolation, isUniqueViolation } from "./errors.js";

type EnvRow = {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
  heartbeatIntervalMs: number | null;
};
type LogicalRow = { id: string; name: string; description: string; builtIn: boolean; createdAt: Date };

const toEnvironment = (r: EnvRow): Environment => ({
  id: r.id,
  name: r.name,
  description: r.description,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  heartbeatIntervalMs: r.heartbeatIntervalMs ?? undefined,
});

const toLogical = (r: LogicalRow): LogicalEnvironment => ({
  id: r.id,
  name: r.name,
  description: r.description,
  builtIn: r.builtIn,
  createdAt: r.createdAt,
});

/** A reference the database found but usersOf had not seen yet. */
const NO_USERS_SEEN: EnvironmentUsers = { deploymentRecords: false, policies: [], webhookSubscriptions: 0 };

export class PrismaEnvironmentRepository implements EnvironmentRepository {
  /** The client, or a transaction's (server/data/transactions.ts). */
  constructor(private readonly prisma: Prisma.TransactionClient) {}

  async create(orgId: string, input: { name: string; description: string; heartbeatIntervalMs?: number | null }): Promise<Environment> {
    try {
      return toEnvironment(
        await this.prisma.environment.create({ data: { organizationId: orgId, ...input } }),
      );
    } catch (e) {
      if (isUniqueViolation(e)) throw new AlreadyExists(`environment "${input.name}" already exists`, { cause: e });
      throw e;
    }
  }

  async findByName(orgId: string, name: string): Promise<Environment | undefined> {
    const row = await this.prisma.environment.findUnique({
      where: { organizationId_name: { organizationId: orgId, name } },
    });
    return row ? toEnvironment(row) : undefined;
  }

  async list(orgId: string, q: EnvironmentListQuery): Promise<Environment[]> {
    const rows = await this.prisma.environment.findMany({
      where: {
        organizationId: orgId,
        ...(q.afterName !== undefined ? { name: { gt: q.afterName } } : {}),
        ...(q.query !== undefined
          ? {
              OR: [
                { name: { contains: q.query, mode: "insensitive" } },
                { description: { contains: q.query, mode: "insensitive" } },
              ],
            }
          : {}),
      },
      orderBy: { name: "asc" },
      take: q.limit,
    });
    return rows.map(toEnvironment);
  }

  async update(
    orgId: string,
    name: string,
    changes: { description?: string; heartbeatIntervalMs?: number | null },
  ): Promise<Environment | undefined> {
    const { count } = await this.prisma.environment.updateMany({
      where: { organizationId: orgId, name },
      data: { ...changes, updatedAt: new Date() },
    });
    return count === 0 ? undefined : this.findByName(orgId, name);
  }

  async delete(orgId: string, name: string): Promise<"deleted" | "not-found" | InUse> {
    const env = await this.prisma.environment.findUnique({ where: { organizationId_name: { organizationId: orgId, name } }, select: { id: true } });
    if (!env) return "not-found";
    // Said before trying, to name what uses it: a failed statement ends the transaction.
    const users = await this.usersOf({ environmentId: env.id });
    if (users) return { inUse: users };
    try {
      const { count } = await this.prisma.environment.deleteMany({ where: { id: env.id } });
      return count === 0 ? "not-found" : "deleted";
    } catch (e) {
      // Deployment records, policy rules and webhook subscriptions reference environments with
      // ON DELETE RESTRICT: the database decides, also for one made since usersOf looked.
      if (isForeignKeyViolation(e)) return { inUse: NO_USERS_SEEN };
      throw e;
    }
  }

  /** What references the environment or logical environment (ON DELETE RESTRICT); undefined: nothing. */
  private async usersOf(ref: { environmentId: string } | { logicalEnvironmentId: string }): Promise<EnvironmentUsers | undefined> {
    const [record, rules, webhookSubscriptions] = await Promise.all([
      this.prisma.deployment.findFirst({ where: ref, select: { id: true } }),
      this.prisma.promotionPolicyDeployedIn.findMany({
        where: ref,
        select: { policy: { select: { logicalEnvironment: { select: { name: true } } } } },
      }),
      this.prisma.webhookSubscription.count({ where: ref }),
    ]);
    const policies = [...new Set(rules.map((r) => r.policy.logicalEnvironment.name))].sort();
    if (!record && policies.length === 0 && webhookSubscriptions === 0) return undefined;
    return { deploymentRecords: record !== null, policies, webhookSubscriptions };
  }

  async listLogical(orgId: string): Promise<LogicalEnvironment[]> {
    const rows = await this.prisma.logicalEnvironment.findMany({
      where: { organizationId: orgId },
      orderBy: [{ builtIn: "desc" }, { createdAt: "asc" }, { name: "asc" }],
    });
    return rows.map(toLogical);
  }

  async createLogical(orgId: string, input: { name: string; description: string }): Promise<LogicalEnvironment> {
    try {
      return toLogical(
        await this.prisma.logicalEnvironment.create({ data: { organizationId: orgId, ...input } }),
      );
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AlreadyExists(`logical environment "${input.name}" already exists`, { cause: e });
      }
      throw e;
    }
  }

  async deleteLogical(orgId: string, name: string): Promise<"deleted" | "not-found" | InUse> {
    const lenv = await this.prisma.logicalEnvironment.findFirst({
      where: { organizationId: orgId, name, builtIn: false },
      select: { id: true },
    });
    if (!lenv) return "not-found";
    const users = await this.usersOf({ logicalEnvironmentId: lenv.id });
    if (users) return { inUse: users };
    try {
      // Its own promotion policy, if any, goes with it (ON DELETE CASCADE).
      const { count } = await this.prisma.logicalEnvironment.deleteMany({ where: { id: lenv.id } });
      return count === 0 ? "not-found" : "deleted";
    } catch (e) {
      if (isForeignKeyViolation(e)) return { inUse: NO_USERS_SEEN };
      throw e;
    }
  }
}
