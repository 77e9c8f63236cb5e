// The token cache on the authentication path (server/domain/tokens.ts), on both backends with
// the real repository: concurrent calls with one token share one lookup when the cache entry
// has aged out, and a revocation made while a lookup is under way is not undone by it.
import { pino } from "pino";
import { openDatabase, type Database } from "../../server/data/client.js";
import { migrate } from "../../server/data/migrate.js";
import { PrismaOrganizationRepository } from "../../server/data/organizations.js";
import { PrismaTokenRepository } from "../../server/data/tokens.js";
import { audited } from "../../server/data/transactions.js";
import { OrganizationUseCase } from "../../server/domain/organizations.js";
import { TOKEN_CACHE_MS, TokenUseCase, type StoredToken, type TokenRepository } from "../../server/domain/tokens.js";
import { Unauthenticated } from "../../server/domain/errors.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";

const logger = pino({ level: "silent" });
const ADMIN_SECRET = "clp_cachetest00000000000000000000000000000001";

describe.each(backends())("token cache (%s)", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let repo: PrismaTokenRepository;
  let orgId: string;

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger });
    await migrate(db, logger);
    orgId = (await new OrganizationUseCase(new PrismaOrganizationRepository(db.prisma)).ensureDefault()).id;
    repo = new PrismaTokenRepository(db.prisma);
    await new TokenUseCase(repo, writes()).bootstrap(orgId, ADMIN_SECRET);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  const writes = () => audited(db.prisma, (tx) => new PrismaTokenRepository(tx));

  /** The real repository, counting the lookups that reach the database and able to hold them back. */
  function counted() {
    const calls: string[] = [];
    let gate: Promise<void> = Promise.resolve();
    const counting: TokenRepository = Object.create(repo) as TokenRepository;
    counting.findByHash = async (hash: string): Promise<StoredToken | undefined> => {
      calls.push(hash);
      const row = await repo.findByHash(hash);
      await gate;
      return row;
    };
    return {
      repo: counting,
      calls,
      hold() {
        let release!: () => void;
        gate = new Promise<void>((r) => (release = r));
        return release;
      },
    };
  }

  it("32 concurrent calls with one token make one lookup, also when the cached row has aged out", async () => {
    let clock = Date.now();
    const spy = counted();
    const tokens = new TokenUseCase(spy.repo, writes(), () => new Date(clock));
    const header = `Bearer ${ADMIN_SECRET}`;

    const callers = await Promise.all(Array.from({ length: 32 }, () => tokens.authenticate(header)));
    expect(callers.every((c) => c.organizationId === orgId)).toBe(true);
    expect(spy.calls).toHaveLength(1);

    // The entry ages out (the cache reads Date.now()): the next burst again shares one lookup.
    const realNow = Date.now;
    try {
      Date.now = () => realNow() + TOKEN_CACHE_MS + 1;
      clock += TOKEN_CACHE_MS + 1;
      await Promise.all(Array.from({ length: 32 }, () => tokens.authenticate(header)));
    } finally {
      Date.now = realNow;
    }
    expect(spy.calls).toHaveLength(2);
  });

  it("a revocation while a lookup is under way is not undone when that lookup returns", async () => {
    const spy = counted();
    const tokens = new TokenUseCase(spy.repo, writes());
    const bootstrap = new TokenUseCase(repo, writes());
    const admin = await bootstrap.authenticate(`Bearer ${ADMIN_SECRET}`);
    const { token, secret } = await bootstrap.create(admin, { name: "ci-revoked", description: "", scope: "write", expiresAt: undefined });

    const release = spy.hold();
    const before = tokens.authenticate(`Bearer ${secret}`); // reads the row, then waits at the gate
    await new Promise((r) => setTimeout(r, 50));
    await tokens.revoke(admin, token.id);
    release();
    await expect(before).resolves.toMatchObject({ tokenId: token.id }); // it started before the revocation
    await expect(tokens.authenticate(`Bearer ${secret}`)).rejects.toThrow(Unauthenticated);
    await expect(tokens.authenticate(`Bearer ${secret}`)).rejects.toThrow(/revoked/);
  });
});
