// KeyRepository on Prisma: the organization's signing (verification) keys.
import { AlreadyExists } from "../domain/errors.js";
import type { KeyRepository, NewSigningKey, SigningKey } from "../domain/keys.js";
import type { Prisma } from "../../gen/prisma/client.js";
import { isUniqueViolation } from "./errors.js";

type Row = Prisma.SigningKeyGetPayload<Record<string, never>>;

const toKey = (r: Row): SigningKey => ({
  id: r.id,
  name: r.name,
  algorithm: r.algorithm,
  publicKeyPem: r.publicKeyPem,
  fingerprint: r.fingerprint,
  createdAt: r.createdAt,
});

export class PrismaKeyRepository implements KeyRepository {
  /** The client, or a transaction's (server/data/transactions.ts). */
  constructor(private readonly prisma: Prisma.TransactionClient) {}

  async create(orgId: string, key: NewSigningKey): Promise<SigningKey> {
    try {
      return toKey(await this.prisma.signingKey.create({ data: { organizationId: orgId, ...key } }));
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AlreadyExists(`a key named "${key.name}", or this same key, is already registered`, { cause: e });
      }
      throw e;
    }
  }

  async findByFingerprint(orgId: string, fingerprint: string): Promise<SigningKey | undefined> {
    const row = await this.prisma.signingKey.findUnique({
      where: { organizationId_fingerprint: { organizationId: orgId, fingerprint } },
    });
    return row ? toKey(row) : undefined;
  }

  async list(orgId: string): Promise<SigningKey[]> {
    const rows = await this.prisma.signingKey.findMany({ where: { organizationId: orgId }, orderBy: { name: "asc" } });
    return rows.map(toKey);
  }

  count(orgId: string): Promise<number> {
    return this.prisma.signingKey.count({ where: { organizationId: orgId } });
  }

  async delete(orgId: string, name: string): Promise<boolean> {
    const { count } = await this.prisma.signingKey.deleteMany({ where: { organizationId: orgId, name } });
    return count > 0;
  }
}
