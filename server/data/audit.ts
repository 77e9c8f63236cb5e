import type { AuditEntry, AuditRepository } from "../domain/audit.js";
import type { Actor } from "../domain/caller.js";
import type { Prisma } from "../../gen/prisma/client.js";

export class PrismaAuditRepository implements AuditRepository {
  /** The client, or a transaction's (server/data/transactions.ts). */
  constructor(private readonly prisma: Prisma.TransactionClient) {}

  async append(orgId: string, actor: Actor | undefined, entry: AuditEntry): Promise<void> {
    await this.prisma.auditEvent.create({
      data: {
        organizationId: orgId,
        actorTokenId: actor?.tokenId ?? null,
        actorName: actor?.tokenName ?? "",
        action: entry.action,
        resourceType: entry.resourceType,
        resourceName: entry.resourceName.slice(0, 255),
      },
    });
  }
}
