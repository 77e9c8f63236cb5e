import type { AuditEntry, AuditRepository } from "../domain/audit.js";
import type { Actor } from "../domain/caller.js";
import type { PrismaClient } from "./client.js";

export class PrismaAuditRepository implements AuditRepository {
  constructor(private readonly prisma: PrismaClient) {}

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
