// Opens the database: real Postgres (DATABASE_URL, via @prisma/adapter-pg) or embedded
// Postgres (PGlite, via pglite-prisma-adapter) in a data directory. Everything above this
// file sees the same `Database`: a Prisma client plus a raw SQL connection for the
// migration runner.
import fs from "node:fs";
import path from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../../gen/prisma/client.js";
import type { Logger } from "../log.js";
import { PGliteChangeFeed, PgChangeFeed, type ChangeLogFeed } from "./change-feed.js";
import { unavailableWhenUnreachable } from "./errors.js";

export type { PrismaClient };

/** A single connection for raw SQL: used by the migration runner, which needs a session for its advisory lock. */
export interface SqlConnection {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements (simple query protocol). */
  exec(script: string): Promise<void>;
}

/**
 * Raw SQL on the pool, for the hot path that bypasses Prisma's query engine (the record
 * statement, server/data/deployments.ts): one round trip, no query compilation.
 */
export interface SqlPool {
  /**
   * One statement on any pooled connection. With `name`, Postgres parses and plans it once per
   * connection (a named prepared statement); a name must always carry the same text.
   */
  query<T = Record<string, unknown>>(text: string, params: unknown[], name?: string): Promise<T[]>;
  /**
   * Statements in one transaction on one connection (environment snapshots). It commits when
   * `fn` answers `commit: true`, rolls back when it answers false or throws. `timeoutMs`
   * replaces the pool's per-statement timeout (DB_TIMEOUT_MS) inside it, for statements known
   * to be large.
   */
  transaction<T>(fn: (tx: SqlTx) => Promise<{ commit: boolean; value: T }>, opts?: { timeoutMs?: number }): Promise<T>;
}

/** Raw SQL inside SqlPool.transaction. */
export interface SqlTx {
  query<T = Record<string, unknown>>(text: string, params: unknown[], name?: string): Promise<T[]>;
}

/** The Postgres pool's connections right now (pg.Pool's own counters), for metrics. */
export interface PoolStats {
  /** Connections open (in use + idle). */
  total: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
  /** The most connections the pool opens (CHAINLOOP_DB_POOL_SIZE). */
  max: number;
}

/**
 * Tracing of database work (server/tracing-otel.ts implements it; without tracing nothing is
 * wrapped). Each call runs `run` as a child span of the active span, if there is one.
 */
export interface DbTracer {
  /** One statement: `text` as sent, with placeholders (never its parameter values); `name`, a prepared statement's name. */
  statement<T>(text: string, name: string | undefined, run: () => Promise<T>): Promise<T>;
  /** A transaction: the statements `run` issues become its children. */
  transaction<T>(run: () => Promise<T>): Promise<T>;
}

export interface Database {
  readonly kind: "postgres" | "pglite";
  /** Where the data lives, without credentials (safe to log). */
  readonly location: string;
  readonly prisma: PrismaClient;
  readonly sql: SqlPool;
  /** Committed deployment changes, for the live view: the change log, read by change-feed.ts. */
  readonly changes: ChangeLogFeed;
  withConnection<T>(fn: (conn: SqlConnection) => Promise<T>): Promise<T>;
  /** The connection pool's state (Postgres; PGlite has one in-process session and no pool). */
  poolStats?(): PoolStats;
  /** Round trip to the database; throws when it cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  logger: Logger;
  /** Connections in the pool (Postgres only). */
  poolSize?: number;
  /** Trace statements (SqlPool and Prisma's) as child spans of the active span. */
  tracer?: DbTracer;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts) : openPGlite(opts.dataDir, opts);
}

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://(unparseable URL)";
  }
}

/**
 * How long an API call waits for the database at any one step: getting a connection (from
 * the pool, or a new one) and each query, client-side (a hung or partitioned database never
 * answers nor closes the socket) and server-side (statement_timeout: the work stops too).
 * Past it the call fails with Unavailable instead of hanging (tests/faults/db-outage.test.ts).
 */
const DB_TIMEOUT_MS = 5_000;

async function openPostgres(url: string, opts: OpenOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: DB_TIMEOUT_MS,
    query_timeout: DB_TIMEOUT_MS,
    statement_timeout: DB_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection emits 'error' on the pool; without a listener the
  // process would crash. The next query gets a fresh connection.
  pool.on("error", (err) => opts.logger.warn({ err: err.message }, "database connection lost"));
  const prisma = new PrismaClient({ adapter: prismaAdapter(new PrismaPg(pool), opts.tracer, false) });
  const location = redactUrl(url);
  const changes = new PgChangeFeed(url, async (text, params) => (await pool.query(text, params)).rows, opts.logger);
  return {
    kind: "postgres",
    location,
    prisma,
    sql: guardedPool(tracedPool(opts.tracer, {
      async query<T>(text: string, params: unknown[], name?: string) {
        return (await pool.query({ text, values: params, ...(name ? { name } : {}) })).rows as T[];
      },
      async transaction<T>(fn: (tx: SqlTx) => Promise<{ commit: boolean; value: T }>, opts: { timeoutMs?: number } = {}): Promise<T> {
        const client = await pool.connect();
        let broken: Error | undefined;
        // pg-pool takes its own 'error' listener off a client it hands out. A connection lost
        // while no statement of ours is running on it (between two, while `fn` works) emits
        // 'error' on the client, which ended the process without a listener (Postgres killed
        // under load: tests/faults/db-outage.test.ts). Noted here; the next statement fails and
        // the client is not given back.
        const lost = (err: Error) => (broken ??= err);
        client.on("error", lost);
        const timeoutMs = Math.floor(opts.timeoutMs ?? DB_TIMEOUT_MS);
        try {
          await client.query("BEGIN");
          // Server side, then client side (pg's query_timeout, one second later: the server's
          // error is the clearer one).
          if (timeoutMs !== DB_TIMEOUT_MS) await client.query(`SET LOCAL statement_timeout = ${timeoutMs}`);
          const out = await fn({
            async query<R>(text: string, params: unknown[], name?: string) {
              const config = { text, values: params, query_timeout: timeoutMs + 1_000, ...(name ? { name } : {}) };
              return (await client.query(config)).rows as R[];
            },
          });
          await client.query(out.commit ? "COMMIT" : "ROLLBACK");
          return out.value;
        } catch (e) {
          // A connection that cannot even roll back is not given back to the pool.
          await client.query("ROLLBACK").catch((err: Error) => (broken = err));
          throw e;
        } finally {
          // A broken client keeps the listener: the pool closes it, and a late error from its
          // socket must not end the process either.
          if (!broken) client.removeListener("error", lost);
          client.release(broken);
        }
      },
    })),
    changes,
    async withConnection(fn) {
      // A session of its own, without the pool's timeouts: the migration runner waits for its
      // advisory lock and may run long statements.
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: DB_TIMEOUT_MS });
      client.on("error", (err) => opts.logger.warn({ err: err.message }, "database connection lost"));
      await client.connect();
      try {
        return await fn({
          async query(sql, params) {
            return (await client.query(sql, params as unknown[])).rows;
          },
          async exec(script) {
            await client.query(script);
          },
        });
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    poolStats() {
      return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max ?? 10 };
    },
    async ping() {
      await pool.query("SELECT 1");
    },
    async close() {
      await changes.close();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPGlite(dataDir: string, opts: OpenOptions): Promise<Database> {
  const dir = path.join(dataDir, "pgdata");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = acquireDirLock(dataDir);
  let db: PGlite;
  try {
    // relaxedDurability false (the default, said here on purpose): a commit is written through
    // to the data directory before the call is answered (README: "Durability").
    db = await PGlite.create(dir, { relaxedDurability: false });
  } catch (e) {
    lock.release();
    throw e;
  }
  const yielding = yieldingToIo(db);
  const prisma = new PrismaClient({ adapter: prismaAdapter(new PrismaPGlite(yielding), opts.tracer, true) });
  const changes = new PGliteChangeFeed(yielding, opts.logger);
  const conn: SqlConnection = {
    async query(sql, params) {
      return (await db.query(sql, params as unknown[])).rows as never[];
    },
    async exec(script) {
      await db.exec(script);
    },
  };
  return {
    kind: "pglite",
    location: dir,
    prisma,
    sql: guardedPool(tracedPool(opts.tracer, {
      // One session: nothing to prepare per connection, so the name is not needed.
      async query<T>(text: string, params: unknown[]) {
        return (await yielding.query(text, params)).rows as T[];
      },
      // One session, no timeouts to replace.
      transaction<T>(fn: (tx: SqlTx) => Promise<{ commit: boolean; value: T }>): Promise<T> {
        return yielding.transaction(async (tx) => {
          const out = await fn({
            async query<R>(text: string, params: unknown[]) {
              return (await tx.query(text, params)).rows as R[];
            },
          });
          if (!out.commit) await tx.rollback();
          return out.value;
        });
      },
    })),
    changes,
    withConnection: (fn) => fn(conn),
    async ping() {
      await db.query("SELECT 1");
    },
    async close() {
      await changes.close();
      await prisma.$disconnect();
      await db.close();
      lock.release();
    },
  };
}

/** The pool with every statement traced (a transaction as a span, its statements as its children); as is without a tracer. */
function tracedPool(tracer: DbTracer | undefined, pool: SqlPool): SqlPool {
  if (!tracer) return pool;
  const tracedTx = (tx: SqlTx): SqlTx => ({
    query: (text, params, name) => tracer.statement(text, name, () => tx.query(text, params, name)),
  });
  return {
    query: (text, params, name) => tracer.statement(text, name, () => pool.query(text, params, name)),
    transaction: (fn, opts) => tracer.transaction(() => pool.transaction((tx) => fn(tracedTx(tx)), opts)),
  };
}

/** Runs one round trip to the database; `sql` is the statement as sent (placeholders, never values), or BEGIN, COMMIT, ROLLBACK. */
type Around = <T>(sql: string | undefined, run: () => Promise<T>) => Promise<T>;

/**
 * Prisma's driver adapter (factory) with `around` run around each of its round trips: every
 * statement Prisma sends (queryRaw, executeRaw: the SQL Prisma generated), and opening and
 * ending interactive transactions. Opening one is BEGIN (both adapters send it themselves);
 * ending one is COMMIT/ROLLBACK only where the adapter sends those itself (`phantomTx`: PGlite's
 * adapter): adapter-pg's commit() and rollback() only give the connection back, as Prisma sends
 * COMMIT and ROLLBACK as statements (traced as such). The adapter is wrapped rather than
 * Prisma's client ($extends) so that it sees the statement itself and covers interactive
 * transactions; Prisma passes what the adapter throws through unchanged. Written here because
 * no instrumentation for Prisma's driver adapters is installed.
 */
function aroundAdapter<F extends object>(factory: F, around: Around, phantomTx: boolean): F {
  /** What the adapters' queryRaw/executeRaw take (@prisma/driver-adapter-utils SqlQuery): the SQL, its args apart. */
  type SqlQuery = { sql: string };
  const wrap = <T extends object>(target: T, method: (prop: string | symbol, fn: (...a: unknown[]) => Promise<unknown>) => unknown): T =>
    new Proxy(target, {
      get(t, prop) {
        const value = Reflect.get(t, prop, t) as unknown;
        if (typeof value !== "function") return value;
        const fn = (value as (...a: unknown[]) => Promise<unknown>).bind(t);
        if (prop === "queryRaw" || prop === "executeRaw") return (q: SqlQuery) => around(q.sql, () => fn(q));
        return method(prop, fn) ?? fn;
      },
    }) as T;
  const label = (sql: string) => (phantomTx ? sql : undefined);
  const wrapTx = (tx: object) =>
    wrap(tx, (prop, fn) =>
      prop === "commit" || prop === "rollback" ? () => around(label(prop.toUpperCase()), () => fn()) : undefined,
    );
  const wrapAdapter = (adapter: object) =>
    wrap(adapter, (prop, fn) =>
      prop === "startTransaction"
        ? async (...a: unknown[]) => wrapTx((await around("BEGIN", () => fn(...a))) as object)
        : undefined,
    );
  return wrap(factory, (prop, fn) => (prop === "connect" ? async () => wrapAdapter((await around(undefined, () => fn())) as object) : undefined));
}

/** Prisma's adapter with its statements traced (a no-op without a tracer) and connection failures thrown as Unavailable. */
function prismaAdapter<F extends object>(factory: F, tracer: DbTracer | undefined, phantomTx: boolean): F {
  const traced = tracer
    ? aroundAdapter(factory, (sql, run) => (sql === undefined ? run() : tracer.statement(sql, undefined, run)), phantomTx)
    : factory;
  return aroundAdapter(traced, (_sql, run) => unavailableWhenUnreachable(run), phantomTx);
}

/** The pool with connection failures thrown as Unavailable, whatever the statement or transaction. */
function guardedPool(pool: SqlPool): SqlPool {
  const guardedTx = (tx: SqlTx): SqlTx => ({
    query: (text, params, name) => unavailableWhenUnreachable(() => tx.query(text, params, name)),
  });
  return {
    query: (text, params, name) => unavailableWhenUnreachable(() => pool.query(text, params, name)),
    transaction: (fn, opts) => unavailableWhenUnreachable(() => pool.transaction((tx) => fn(guardedTx(tx)), opts)),
  };
}

/**
 * PGlite runs Postgres synchronously on this thread. Queries waiting for it queue on its
 * internal lock, and when one finishes the next starts in the same microtask checkpoint, so a
 * queue of 48 calls' queries ran back to back and the event loop did not poll for 300-700 ms at
 * a time: new connections sat in the accept backlog and requests went unread, and a SIGTERM in
 * that state closed the listener on a connection whose request was already sent, which the
 * kernel resets (tests/faults/shutdown.test.ts saw the reset; a trace of the server showed the
 * stalls). So the work queues here instead, first in first out, and each query, script or
 * transaction starts only after a turn of the event loop (setImmediate), as does each query
 * inside a transaction: I/O is served between any two statements. Same order and exclusion as
 * PGlite's own lock; a query issued on the database from inside a transaction waits for the
 * transaction here as it would there. The methods are bound to the real instance (PGlite uses
 * private fields).
 */
function yieldingToIo(db: PGlite): PGlite {
  const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));
  let tail: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(run: () => Promise<T>): Promise<T> => {
    const result = tail.then(yieldToIo).then(run);
    tail = result.catch(() => undefined);
    return result;
  };
  const yieldingTx = (tx: Transaction): Transaction =>
    new Proxy(tx, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== "function") return value;
        const fn = (value as (...a: unknown[]) => unknown).bind(target);
        if (prop !== "query" && prop !== "exec" && prop !== "sql") return fn;
        return async (...args: unknown[]) => {
          await yieldToIo();
          return fn(...args);
        };
      },
    });
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(target);
      if (prop === "query" || prop === "exec") return (...args: unknown[]) => inTurn(async () => fn(...args));
      if (prop === "transaction") {
        return (callback: (tx: Transaction) => Promise<unknown>) =>
          inTurn(async () => target.transaction((tx) => callback(yieldingTx(tx))));
      }
      return fn;
    },
  });
}

/**
 * PGlite is a single-process database: two servers on one data directory would corrupt it.
 * A lock file holding our pid makes the second one stop with a clear message (a stale lock
 * left by a crashed process is taken over).
 */
function acquireDirLock(dataDir: string): { release(): void } {
  const file = path.join(dataDir, "server.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx", mode: 0o600 });
      return {
        release() {
          try {
            if (fs.readFileSync(file, "utf8") === String(process.pid)) fs.unlinkSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = Number(fs.readFileSync(file, "utf8"));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
        throw new Error(
          `the embedded database in ${dataDir} is in use by process ${holder}; ` +
            `stop it, or set CHAINLOOP_DATA_DIR to another directory (or DATABASE_URL to share a Postgres)`,
        );
      }
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${file}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
