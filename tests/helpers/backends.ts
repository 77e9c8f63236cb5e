// The two database backends every integration test runs on, and throwaway databases for them.
// CHAINLOOP_TEST_BACKENDS=pglite,postgres (the default) picks which; TEST_POSTGRES_URL points
// at the Postgres server (default postgres://postgres@127.0.0.1:5432/postgres). Each test
// file creates its own uniquely named database and drops it.
//
// An embedded (PGlite) database starts as a copy of one already migrated, made once per set of
// migrations (pgliteTemplate): creating and migrating one costs a server ~4 s of CPU, most of a
// process-level test file's start, and the suite starts about a hundred.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { ROOT } from "./server.js";

export type Backend = "pglite" | "postgres";

export const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export function backends(): Backend[] {
  const raw = (process.env.CHAINLOOP_TEST_BACKENDS ?? "pglite,postgres").split(",").map((s) => s.trim());
  const list = raw.filter((b): b is Backend => b === "pglite" || b === "postgres");
  if (list.length === 0) throw new Error(`CHAINLOOP_TEST_BACKENDS names no known backend: ${raw.join(",")}`);
  return list;
}

/**
 * The backend for tests of a client of the server (the CLI, the page, the client packages):
 * what they check does not depend on the database behind the server, whose behaviour the
 * integration tests cover on every backend. One backend keeps the suite's time down: Postgres
 * when it is configured (a PGlite server costs ~1 s more CPU to start and runs every statement
 * in wasm, in the server's process), else the one configured.
 */
export function clientBackends(): Backend[] {
  const configured = backends();
  return [configured.includes("postgres") ? "postgres" : configured[0]];
}

export interface TestDatabase {
  backend: Backend;
  /** Environment for a server process: DATABASE_URL or CHAINLOOP_DATA_DIR. */
  env: Record<string, string>;
  databaseUrl: string | undefined;
  dataDir: string;
  drop(): Promise<void>;
}

/**
 * `fresh`: an empty database, not even migrated (the migration runner's own tests). Otherwise a
 * PGlite database is a copy of the migrated template; a Postgres one is created empty (the
 * server migrates it in ~0.2 s).
 */
export async function createTestDatabase(backend: Backend, opts: { fresh?: boolean } = {}): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-test-"));
  if (backend === "pglite") {
    if (!opts.fresh) copyDir(await pgliteTemplate(), path.join(dataDir, "pgdata"));
    return {
      backend,
      env: { CHAINLOOP_DATA_DIR: dataDir },
      databaseUrl: undefined,
      dataDir,
      async drop() {
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const name = `chainloop_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    backend,
    env: { DATABASE_URL: databaseUrl, CHAINLOOP_DATA_DIR: dataDir },
    databaseUrl,
    dataDir,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A PGlite data directory with every migration applied, by the built migration runner
 * (dist/server/migrate-cli.js, as `npm run migrate`), kept in the temp directory under a name
 * that hashes the migrations and PGlite's version, so a changed migration makes a new one. The
 * first worker to need it builds it under a lock file; the others wait for it.
 */
async function pgliteTemplate(): Promise<string> {
  const dir = path.join(os.tmpdir(), `chainloop-test-pglite-${templateKey()}`);
  const done = path.join(dir, "pgdata");
  const lock = `${dir}.lock`;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
    if (fs.existsSync(done)) return done;
    let fd: number;
    try {
      fd = fs.openSync(lock, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      // Someone else is building it; a lock left by a killed run is taken over after a minute.
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 60_000) fs.rmSync(lock, { force: true });
      await sleep(200);
      continue;
    }
    try {
      const building = fs.mkdtempSync(`${dir}.building-`);
      try {
        execFileSync(process.execPath, [path.join(ROOT, "dist/server/migrate-cli.js")], {
          env: { PATH: process.env.PATH ?? "", CHAINLOOP_DATA_DIR: building, LOG_LEVEL: "warn" },
          stdio: ["ignore", "ignore", "pipe"],
        });
        fs.mkdirSync(dir, { recursive: true });
        fs.renameSync(path.join(building, "pgdata"), done);
      } finally {
        fs.rmSync(building, { recursive: true, force: true });
      }
    } finally {
      fs.closeSync(fd);
      fs.rmSync(lock, { force: true });
    }
  }
  throw new Error(`no migrated PGlite template at ${done} within 120 s (is ${lock} held by a stuck process?)`);
}

/** What the template's contents depend on: the migrations, the runner that applies and books them, and PGlite's on-disk format. */
function templateKey(): string {
  const hash = createHash("sha256").update(fs.readFileSync(path.join(ROOT, "dist/server/data/migrate.js")));
  const migrations = path.join(ROOT, "prisma/migrations");
  for (const name of fs.readdirSync(migrations).sort()) {
    const file = path.join(migrations, name, "migration.sql");
    if (fs.existsSync(file)) hash.update(name).update(fs.readFileSync(file));
  }
  const pglite = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/@electric-sql/pglite/package.json"), "utf8")) as { version: string };
  return hash.update(pglite.version).digest("hex").slice(0, 16);
}

/** A copy of a data directory (copy-on-write where the file system can). */
function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, mode: fs.constants.COPYFILE_FICLONE });
}
