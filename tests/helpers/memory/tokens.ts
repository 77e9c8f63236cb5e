// TokenRepository (server/domain/tokens.ts) in memory, with the database's rules the use case
// relies on: one unrevoked token per name in an organization (AlreadyExists, with the message
// server/data/tokens.ts gives), lists newest first by (created_at, id), revocation keeps the
// first revoke time.
import { randomUUID } from "node:crypto";
import { AlreadyExists } from "../../../server/domain/errors.js";
import type { ApiToken, NewToken, StoredToken, TokenRepository } from "../../../server/domain/tokens.js";
import type { Restorable } from "./audit.js";

const publicPart = ({ tokenHash: _hash, ...t }: StoredToken): ApiToken => ({ ...t });

export class MemoryTokenRepository implements TokenRepository, Restorable {
  private rows = new Map<string, StoredToken>();

  save(): () => void {
    const copy = new Map([...this.rows].map(([k, v]) => [k, { ...v }]));
    return () => {
      this.rows = copy;
    };
  }

  async findByHash(tokenHash: string): Promise<StoredToken | undefined> {
    const row = [...this.rows.values()].find((t) => t.tokenHash === tokenHash);
    return row && { ...row };
  }

  async create(t: NewToken): Promise<ApiToken> {
    const clash = [...this.rows.values()].some((r) => r.organizationId === t.organizationId && r.name === t.name && !r.revokedAt);
    if (clash) throw new AlreadyExists(`an API token named "${t.name}" already exists; revoke it first or pick another name`);
    const row: StoredToken = { id: randomUUID(), createdAt: new Date(), lastUsedAt: undefined, revokedAt: undefined, ...t };
    this.rows.set(row.id, row);
    return publicPart(row);
  }

  async countForOrganization(orgId: string): Promise<number> {
    return [...this.rows.values()].filter((t) => t.organizationId === orgId).length;
  }

  async list(orgId: string, showRevoked: boolean, after: [string, string] | undefined, limit: number): Promise<ApiToken[]> {
    const key = (t: { createdAt: Date; id: string }) => [t.createdAt.getTime(), t.id] as const;
    const before = (a: readonly [number, string], b: readonly [number, string]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
    const cursor = after && ([new Date(after[0]).getTime(), after[1]] as const);
    return [...this.rows.values()]
      .filter((t) => t.organizationId === orgId && (showRevoked || !t.revokedAt))
      .filter((t) => !cursor || before(key(t), cursor))
      .sort((a, b) => (before(key(a), key(b)) ? 1 : -1))
      .slice(0, limit)
      .map(publicPart);
  }

  async revoke(orgId: string, id: string): Promise<ApiToken | undefined> {
    const row = this.rows.get(id);
    if (!row || row.organizationId !== orgId) return undefined;
    row.revokedAt ??= new Date();
    return publicPart(row);
  }

  async touch(id: string, at: Date): Promise<void> {
    const row = this.rows.get(id);
    if (row) row.lastUsedAt = at;
  }
}
