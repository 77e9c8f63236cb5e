// A describe block's server: one test database and one server process on it, for all its tests.
// (Not in server.ts: backends.ts imports that, and this needs backends.ts.)
import { createTestDatabase, type Backend, type TestDatabase } from "./backends.js";
import { startServer, type ServerProcess } from "./server.js";

export interface Served {
  readonly server: ServerProcess;
  readonly db: TestDatabase;
  /** `server.url`. */
  readonly url: string;
}

/**
 * A real server process on a new database of `backend` for the enclosing describe block:
 * started in beforeAll, stopped (SIGTERM) and its database dropped in afterAll. `env` is added
 * to the database's. Read its fields inside tests and hooks (they are set once beforeAll has
 * run). Jest runs a block's beforeAll hooks in the order they were registered, and its afterAll
 * hooks too: call this before a beforeAll that uses the server, and register an afterAll that
 * must run while the server is up (closing a client of it) before calling this.
 */
export function serveFor(backend: Backend, env: Record<string, string> = {}, opts: { timeoutMs?: number } = {}): Served {
  let db: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(backend);
    server = await startServer({ ...db.env, ...env }, opts);
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`serveFor: no ${what} yet: read it inside a test or hook that runs after serveFor's beforeAll (or that beforeAll failed)`);
    return value;
  };
  return {
    get server() {
      return started(server, "server");
    },
    get db() {
      return started(db, "database");
    },
    get url() {
      return started(server, "server").url;
    },
  };
}
