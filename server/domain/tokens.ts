// API tokens: minting, authenticating, listing and revoking.
//
// A secret is `clp_` + 40 base62 characters (238 bits). Only its sha256 is stored; the
// lookup is by that hash and the final comparison is constant-time. Secrets are returned
// once, at creation, and never logged.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { SCOPES, type Actor, type Caller, type Scope } from "./caller.js";
import type { Audited } from "./audit.js";
import { AlreadyExists, InvalidArgument, NotFound, Unauthenticated } from "./errors.js";
import { parsePageRequest, toPage, type Page, type PageRequest } from "./pagination.js";
import { isUuid, requireDescription, requireName, requireUuid } from "./validation.js";

export const TOKEN_PREFIX = "clp_";
const SECRET_CHARS = 40;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LAST_USED_WRITE_INTERVAL_MS = 60_000;
/** How long a token row is trusted without re-reading it (see TokenUseCase.lookup). */
export const TOKEN_CACHE_MS = 2_000;
const TOKEN_CACHE_MAX = 10_000;

export interface ApiToken {
  id: string;
  organizationId: string;
  name: string;
  description: string;
  scope: Scope;
  createdAt: Date;
  expiresAt: Date | undefined;
  lastUsedAt: Date | undefined;
  revokedAt: Date | undefined;
  createdBy: Actor | undefined;
}

export interface StoredToken extends ApiToken {
  tokenHash: string;
}

export interface NewToken {
  organizationId: string;
  name: string;
  description: string;
  scope: Scope;
  expiresAt: Date | undefined;
  tokenHash: string;
  createdBy: Actor | undefined;
}

/** Implemented by server/data/tokens.ts. A clash with an unrevoked token's name throws AlreadyExists. */
export interface TokenRepository {
  findByHash(tokenHash: string): Promise<StoredToken | undefined>;
  create(token: NewToken): Promise<ApiToken>;
  countForOrganization(orgId: string): Promise<number>;
  list(orgId: string, showRevoked: boolean, afterCreatedAtId: [string, string] | undefined, limit: number): Promise<ApiToken[]>;
  revoke(orgId: string, id: string): Promise<ApiToken | undefined>;
  touch(id: string, at: Date): Promise<void>;
}

export function mintSecret(): string {
  const bytes = randomBytes(SECRET_CHARS * 2);
  let out = "";
  for (let i = 0; i < bytes.length && out.length < SECRET_CHARS; i++) {
    if (bytes[i] < 248) out += BASE62[bytes[i] % 62]; // 248 = 4 × 62: no modulo bias
  }
  return out.length === SECRET_CHARS ? TOKEN_PREFIX + out : mintSecret();
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export class TokenUseCase {
  private readonly lastWrites = new Map<string, number>();
  private readonly cache = new Map<string, { token: StoredToken; at: number }>();
  /** Lookups under way: concurrent calls with one token share one query (no stampede when the cache entry ages out). */
  private readonly lookups = new Map<string, Promise<StoredToken | undefined>>();

  constructor(
    private readonly repo: TokenRepository,
    /** Changes, each with its audit entry in one transaction. */
    private readonly writes: Audited<TokenRepository>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Resolves an `Authorization` header to the caller; Unauthenticated otherwise. */
  async authenticate(authorization: string | null): Promise<Caller> {
    if (!authorization) {
      throw new Unauthenticated(
        "missing API token: send Authorization: Bearer <token> (CLI: --token or CHAINLOOP_TOKEN)",
      );
    }
    const match = /^Bearer[ \t]+(\S{8,512})[ \t]*$/i.exec(authorization);
    if (!match) throw new Unauthenticated("malformed Authorization header: expected Bearer <token>");
    const hash = hashSecret(match[1]);
    const stored = await this.lookup(hash);
    if (!stored || !timingSafeEqual(Buffer.from(stored.tokenHash, "hex"), Buffer.from(hash, "hex"))) {
      throw new Unauthenticated("invalid API token");
    }
    const now = this.now();
    if (stored.revokedAt) throw new Unauthenticated(`API token "${stored.name}" (${stored.id}) has been revoked`);
    if (stored.expiresAt && stored.expiresAt <= now) {
      throw new Unauthenticated(`API token "${stored.name}" (${stored.id}) expired at ${stored.expiresAt.toISOString()}`);
    }
    this.noteUse(stored.id, now);
    return { organizationId: stored.organizationId, tokenId: stored.id, tokenName: stored.name, scope: stored.scope };
  }

  /**
   * Token rows by hash, remembered for TOKEN_CACHE_MS: authentication is on every call, and
   * this saves the hot path a round trip. A revocation through this process takes effect at
   * once; one made through another server process within TOKEN_CACHE_MS. Unknown hashes are
   * not remembered, so a new token works immediately.
   */
  private async lookup(hash: string): Promise<StoredToken | undefined> {
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && now - cached.at < TOKEN_CACHE_MS) return cached.token;
    const pending = this.lookups.get(hash);
    if (pending) return pending;
    const lookup = this.repo
      .findByHash(hash)
      .then((token) => {
        // A revocation while this lookup ran dropped it: answer the calls that were waiting, but do not cache the old row.
        if (this.lookups.get(hash) !== lookup) return token;
        if (this.cache.size >= TOKEN_CACHE_MAX) this.cache.clear();
        if (token) this.cache.set(hash, { token, at: now });
        else this.cache.delete(hash);
        return token;
      })
      .finally(() => this.lookups.get(hash) === lookup && this.lookups.delete(hash));
    this.lookups.set(hash, lookup);
    return lookup;
  }

  async create(
    caller: Caller,
    input: { name: string; description: string; scope: Scope | undefined; expiresAt: Date | undefined },
  ): Promise<{ token: ApiToken; secret: string }> {
    const name = requireName("name", input.name);
    const description = requireDescription("description", input.description);
    if (!input.scope) throw new InvalidArgument(`scope is required: one of ${SCOPES.join(", ")}`);
    // An out-of-range Timestamp becomes an invalid Date (or one Postgres cannot store): the
    // caller's error, not Internal (tests/faults/hostile-input.test.ts).
    if (input.expiresAt && !(input.expiresAt.getTime() <= Date.UTC(9999, 11, 31, 23, 59, 59))) {
      throw new InvalidArgument("expire_time is not a valid timestamp (at most 9999-12-31T23:59:59Z)");
    }
    if (input.expiresAt && input.expiresAt <= this.now()) {
      throw new InvalidArgument("expire_time must be in the future");
    }
    const scope = input.scope;
    const actor: Actor = { tokenId: caller.tokenId, tokenName: caller.tokenName };
    const secret = mintSecret();
    const token = await this.writes(async ({ repo, audit }) => {
      const token = await repo.create({
        organizationId: caller.organizationId,
        name,
        description,
        scope,
        expiresAt: input.expiresAt,
        tokenHash: hashSecret(secret),
        createdBy: actor,
      });
      await audit.append(caller.organizationId, actor, { action: "token.create", resourceType: "api_token", resourceName: `${name} (${token.id})` });
      return token;
    });
    return { token, secret };
  }

  async list(orgId: string, req: PageRequest & { showRevoked: boolean }): Promise<Page<ApiToken>> {
    const page = parsePageRequest(req, { showRevoked: req.showRevoked }, ["string", "string"]);
    if (page.after && (Number.isNaN(Date.parse(page.after[0] as string)) || !isUuid(page.after[1] as string))) {
      throw new InvalidArgument("page_token is not a token this server issued; start again without page_token");
    }
    const rows = await this.repo.list(orgId, req.showRevoked, page.after as [string, string] | undefined, page.limit + 1);
    return toPage(rows, page, (t) => [t.createdAt.toISOString(), t.id]);
  }

  async revoke(caller: Caller, id: string): Promise<ApiToken> {
    const tokenId = requireUuid(id, "a token id");
    const token = await this.writes(async ({ repo, audit }) => {
      const token = await repo.revoke(caller.organizationId, tokenId);
      if (!token) throw new NotFound(`API token ${id} not found`);
      await audit.append(caller.organizationId, caller, { action: "token.revoke", resourceType: "api_token", resourceName: `${token.name} (${token.id})` });
      return token;
    });
    // After the commit: a lookup made before it could otherwise still cache the row unrevoked.
    for (const [hash, entry] of this.cache) if (entry.token.id === token.id) this.cache.delete(hash);
    this.lookups.clear();
    return token;
  }

  /**
   * Gives an organization its first admin token when it has none: `secret` when given (the
   * operator's CHAINLOOP_BOOTSTRAP_TOKEN), else a generated one. Returns undefined when the
   * organization already has tokens (revoked ones count: a revoked bootstrap token stays revoked).
   */
  async bootstrap(orgId: string, secret?: string): Promise<{ secret: string; generated: boolean } | undefined> {
    if ((await this.repo.countForOrganization(orgId)) > 0) return undefined;
    const value = secret ?? mintSecret();
    if (value.length < 16 || value.length > 512 || /\s/.test(value)) {
      throw new InvalidArgument("CHAINLOOP_BOOTSTRAP_TOKEN must be 16 to 512 characters without spaces");
    }
    try {
      await this.writes(async ({ repo, audit }) => {
        const token = await repo.create({
          organizationId: orgId,
          name: "bootstrap-admin",
          description: "Created at first start",
          scope: "admin",
          expiresAt: undefined,
          tokenHash: hashSecret(value),
          createdBy: undefined,
        });
        await audit.append(orgId, undefined, { action: "token.create", resourceType: "api_token", resourceName: `${token.name} (${token.id})` });
      });
    } catch (e) {
      // Another server process starting at the same moment bootstrapped it first.
      if (e instanceof AlreadyExists) return undefined;
      throw e;
    }
    return { secret: value, generated: secret === undefined };
  }

  /** Records last use at most once a minute per token per process, off the request's path. */
  private noteUse(id: string, now: Date): void {
    const last = this.lastWrites.get(id) ?? 0;
    if (now.getTime() - last < LAST_USED_WRITE_INTERVAL_MS) return;
    this.lastWrites.set(id, now.getTime());
    this.repo.touch(id, now).catch(() => this.lastWrites.delete(id));
  }
}
