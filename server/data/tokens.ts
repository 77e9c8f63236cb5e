// TokenRepository on Prisma.
import { AlreadyExists } from "../domain/errors.js";
import type { ApiToken, NewToken, StoredToken, TokenRepository } from "../domain/tokens.js";
import type { Prisma } from "../../gen/prisma/client.js";
import { isUniqueViolation } from "./errors.js";

type Row = Prisma.ApiTokenGetPayload<Record<string, never>>;

function toToken(r: Row): ApiToken {
  return {
    id: r.id,
    organizationId: r.organizationId,
    name: r.name,
    description: r.description,
    scope: r.scope,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt ?? undefined,
    lastUsedAt: r.lastUsedAt ?? undefined,
    revokedAt: r.revokedAt ?? undefined,
    createdBy: r.createdByTokenId ? { tokenId: r.createdByTokenId, tokenName: r.createdByName } : undefined,
  };
}

export class PrismaTokenRepository implements TokenRepository {
  /** The client, or a transaction's (server/data/transactions.ts). */
  constructor(private readonly prisma: Prisma.TransactionClient) {}

  async findByHash(tokenHash: string): Promise<StoredToken | undefined> {
    const row = await this.prisma.apiToken.findUnique({ where: { tokenHash } });
    return row ? { ...toToken(row), tokenHash: row.tokenHash } : undefined;
  }

  async create(t: NewToken): Promise<ApiToken> {
    try {
      const row = await this.prisma.apiToken.create({
        data: {
          organizationId: t.organizationId,
          name: t.name,
          description: t.description,
          scope: t.scope,
          tokenHash: t.tokenHash,
          // Millisecond precision, like the page-token cursor that carries it.
          createdAt: new Date(),
          expiresAt: t.expiresAt ?? null,
          createdByTokenId: t.createdBy?.tokenId ?? null,
          createdByName: t.createdBy?.tokenName ?? "",
        },
      });
      return toToken(row);
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AlreadyExists(`an API token named "${t.name}" already exists; revoke it first or pick another name`, { cause: e });
      }
      throw e;
    }
  }

  countForOrganization(orgId: string): Promise<number> {
    return this.prisma.apiToken.count({ where: { organizationId: orgId } });
  }

  async list(orgId: string, showRevoked: boolean, after: [string, string] | undefined, limit: number): Promise<ApiToken[]> {
    const afterWhere = after
      ? { OR: [{ createdAt: { lt: new Date(after[0]) } }, { createdAt: new Date(after[0]), id: { lt: after[1] } }] }
      : {};
    const rows = await this.prisma.apiToken.findMany({
      where: { organizationId: orgId, ...(showRevoked ? {} : { revokedAt: null }), ...afterWhere },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: limit,
    });
    return rows.map(toToken);
  }

  async revoke(orgId: string, id: string): Promise<ApiToken | undefined> {
    // Revoking twice keeps the first revocation time.
    await this.prisma.apiToken.updateMany({ where: { id, organizationId: orgId, revokedAt: null }, data: { revokedAt: new Date() } });
    const row = await this.prisma.apiToken.findFirst({ where: { id, organizationId: orgId } });
    return row ? toToken(row) : undefined;
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.prisma.apiToken.updateMany({ where: { id }, data: { lastUsedAt: at } });
  }
}
