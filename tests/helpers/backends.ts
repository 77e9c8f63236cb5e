// The two database backends every integration test runs on, and throwaway databases for them.
// CHAINLOOP_TEST_BACKENDS=pglite,postgres (the default) picks which; TEST_POSTGRES_URL points
// at the Postgres server (default postgres://postgres@127.0.0.1:5432/postgres). Each test
// file creates its own uniquely named database and drops it.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";

export type Backend = "pglite" | "postgres";

export const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export function backends(): Backend[] {
  const raw = (process.env.CHAINLOOP_TEST_BACKENDS ?? "pglite,postgres").split(",").map((s) => s.trim());
  const list = raw.filter((b): b is Backend => b === "pglite" || b === "postgres");
  if (list.length === 0) throw new Error(`CHAINLOOP_TEST_BACKENDS names no known backend: ${raw.join(",")}`);
  return list;
}

/**
 * The backend for tests of a client of the server (the CLI): what they check does not depend on
 * the database behind the server, whose behaviour the integration tests cover on every backend.
 * One backend, the first configured, keeps the suite's time down.
 */
export function clientBackends(): Backend[] {
  return backends().slice(0, 1);
}

export interface TestDatabase {
  backend: Backend;
  /** Environment for a server process: DATABASE_URL or CHAINLOOP_DATA_DIR. */
  env: Record<string, string>;
  databaseUrl: string | undefined;
  dataDir: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(backend: Backend): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-test-"));
  if (backend === "pglite") {
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
