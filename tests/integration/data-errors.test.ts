// The other half of the data layer's one conversion of driver errors (server/data/errors.ts;
// the unreachable half is tests/unit/data-errors.test.ts): an error that is not about the
// connection reaches the repository as the driver raised it, through the pool and through
// Prisma, on each backend, for the repository to read (a unique violation becomes
// AlreadyExists there, a lost race is retried).
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { openDatabase, type Database } from "../../server/data/client.js";
import { isUniqueViolation } from "../../server/data/errors.js";
import { migrate } from "../../server/data/migrate.js";
import { Unavailable } from "../../server/domain/errors.js";
import { createLogger } from "../../server/log.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";

describe.each(backends())("database errors that are not about the connection, on %s", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    const logger = createLogger("silent");
    db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger });
    await migrate(db, logger);
    await db.sql.query("CREATE TABLE t (k text PRIMARY KEY)", []);
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  test("a unique violation on the pool is the driver's error", async () => {
    await db.sql.query("INSERT INTO t VALUES ($1)", ["a"]);
    const e = await db.sql.query("INSERT INTO t VALUES ($1)", ["a"]).catch((err: unknown) => err);
    expect(e).not.toBeInstanceOf(Unavailable);
    expect(isUniqueViolation(e)).toBe(true);
  });

  test("a statement error inside a pool transaction is the driver's error", async () => {
    const e = await db.sql
      .transaction(async (tx) => ({ commit: true, value: await tx.query("SELECT * FROM missing_table", []) }))
      .catch((err: unknown) => err);
    expect(e).not.toBeInstanceOf(Unavailable);
    expect((e as { code?: string }).code).toBe("42P01");
  });

  test("a unique violation through Prisma is Prisma's error", async () => {
    const org = await db.prisma.organization.create({ data: { name: "data-errors" } });
    const data = { organizationId: org.id, name: "dup", description: "" };
    await db.prisma.environment.create({ data });
    const e = await db.prisma.environment.create({ data }).catch((err: unknown) => err);
    expect(e).not.toBeInstanceOf(Unavailable);
    expect(isUniqueViolation(e)).toBe(true);
  });
});

// pg-pool takes its own 'error' listener off a client it hands out: a connection lost between
// two statements of a pool transaction (SqlPool.transaction) emitted 'error' with no listener,
// and the server process ended (the webhook outbox's fan-out runs one every poll; Postgres was
// killed under load in tests/faults/db-outage.test.ts). Postgres only: PGlite has no connection.
(backends().includes("postgres") ? describe : describe.skip)("a connection lost inside a pool transaction (postgres)", () => {
  let tdb: TestDatabase;
  let db: Database;
  let admin: pg.Client;
  beforeAll(async () => {
    tdb = await createTestDatabase("postgres");
    db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger: createLogger("silent") });
    admin = new pg.Client({ connectionString: tdb.databaseUrl });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await db?.close();
    await tdb?.drop();
  });

  test("fails that transaction with Unavailable, ends nothing else, and the pool serves the next call", async () => {
    const e = await db.sql
      .transaction(async (tx) => {
        const [{ pid }] = await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid", []);
        await admin.query("SELECT pg_terminate_backend($1)", [pid]);
        await sleep(300); // the connection's end arrives while no statement runs on it
        await tx.query("SELECT 1", []);
        return { commit: true, value: undefined };
      })
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(Unavailable);
    expect(await db.sql.query("SELECT 1 AS one", [])).toEqual([{ one: 1 }]);
  });
});
