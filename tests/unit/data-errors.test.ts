// The data layer's one conversion of driver errors (server/data/errors.ts, applied in
// server/data/client.ts to the pool and to Prisma's driver adapter): a database that cannot be
// reached is the domain's Unavailable whichever door a repository used, and every other error
// passes through as the driver raised it (tests/integration/data-errors.test.ts, on both
// backends). Real sockets: a port nothing listens on. The whole outage (Postgres stopped, hung
// and restarted under load) is tests/faults/db-outage.test.ts.
import net from "node:net";
import os from "node:os";
import { openDatabase, type Database } from "../../server/data/client.js";
import { Unavailable } from "../../server/domain/errors.js";
import { createLogger, errorText } from "../../server/log.js";

const logger = createLogger("silent");

/** A loopback port that refuses connections: bound, then closed. */
async function refusingPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

describe("a database that cannot be reached", () => {
  let db: Database;
  beforeAll(async () => {
    const port = await refusingPort();
    db = await openDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/none`, dataDir: os.tmpdir(), logger });
  });
  afterAll(() => db.close());

  const unavailable = async (run: () => Promise<unknown>) => {
    const e = await run().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(Unavailable);
    expect((e as Error).message).toBe("the database is unavailable; retry shortly");
    // What the driver said is kept for the log, never in the message.
    expect(errorText(e)).toMatch(/ECONNREFUSED|DatabaseNotReachable/);
  };

  test("a statement on the pool throws Unavailable", () => unavailable(() => db.sql.query("SELECT 1", [])));
  test("a transaction on the pool throws Unavailable", () =>
    unavailable(() => db.sql.transaction(async (tx) => ({ commit: true, value: await tx.query("SELECT 1", []) }))));
  test("a Prisma query throws Unavailable", () => unavailable(() => db.prisma.organization.findMany()));
  test("a Prisma interactive transaction throws Unavailable", () =>
    unavailable(() => db.prisma.$transaction((tx) => tx.organization.findMany())));
});
