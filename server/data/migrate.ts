// Applies prisma/migrations/<timestamp>_<name>/migration.sql in order, under a Postgres
// advisory lock (so several servers starting together migrate once), and books them in
// Prisma's own `_prisma_migrations` table with the same checksum Prisma uses (sha256 hex of
// the file), so `prisma migrate status/deploy` agree wherever Prisma's engine is available.
//
// Prisma's schema engine cannot be downloaded on every machine we run on; this runner is the
// hand-written stand-in for `prisma migrate deploy`.
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Database, SqlConnection } from "./client.js";
import type { Logger } from "../log.js";

/** Our key for pg_advisory_lock: the first 8 bytes of sha256("chainloop:migrations"), as a signed bigint. */
const LOCK_KEY = createHash("sha256").update("chainloop:migrations").digest().readBigInt64BE(0).toString();

export const DEFAULT_MIGRATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  // server/data → repo root, both from source and from dist/server/data
  fs.existsSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prisma/migrations"))
    ? "../../prisma/migrations"
    : "../../../prisma/migrations",
);

export class MigrationError extends Error {}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  if (!fs.existsSync(dir)) throw new MigrationError(`migrations directory ${dir} does not exist`);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const file = path.join(dir, name, "migration.sql");
      const bytes = fs.readFileSync(file);
      return { name, sql: bytes.toString("utf8"), checksum: createHash("sha256").update(bytes).digest("hex") };
    });
}

const BOOKKEEPING_DDL = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

export async function migrate(db: Database, logger: Logger, migrations = readMigrations()): Promise<MigrateResult> {
  return db.withConnection(async (conn) => {
    await conn.query(`SELECT pg_advisory_lock(${LOCK_KEY})`);
    try {
      return await applyPending(conn, logger, migrations);
    } finally {
      await conn.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`);
    }
  });
}

/**
 * The checksums Prisma accepts for a migration file: as is, and with its line endings
 * converted either way (a checkout on Windows must not look like an edited migration).
 */
function checksumsOf(sql: string): string[] {
  const sha = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
  const lf = sql.replace(/\r\n/g, "\n");
  return [sha(sql), sha(lf), sha(lf.replace(/\n/g, "\r\n"))];
}

async function applyPending(conn: SqlConnection, logger: Logger, migrations: Migration[]): Promise<MigrateResult> {
  await conn.exec(BOOKKEEPING_DDL);
  const rows = await conn.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL ORDER BY started_at`,
  );
  const byName = new Map(rows.map((r) => [r.migration_name, r]));

  const failed = rows.find((r) => r.finished_at === null);
  if (failed) {
    throw new MigrationError(
      `migration ${failed.migration_name} started but never finished; inspect the database, then mark it rolled back ` +
        `(UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${failed.migration_name}') before starting again`,
    );
  }
  for (const m of migrations) {
    const row = byName.get(m.name);
    if (row && !checksumsOf(m.sql).includes(row.checksum) && row.checksum !== m.checksum) {
      throw new MigrationError(
        `migration ${m.name} was changed after it was applied to this database ` +
          `(applied checksum ${row.checksum}, file checksum ${m.checksum}); ` +
          `restore the original migration.sql and put the change in a new migration`,
      );
    }
  }
  const known = new Set(migrations.map((m) => m.name));
  for (const r of rows) {
    if (!known.has(r.migration_name)) {
      logger.warn({ migration: r.migration_name }, "database has a migration this server does not know (a newer version applied it)");
    }
  }

  const applied: string[] = [];
  for (const m of migrations) {
    if (byName.has(m.name)) continue;
    const id = randomUUID();
    const started = Date.now();
    await conn.exec("BEGIN");
    try {
      await conn.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
        [id, m.checksum, m.name],
      );
      await conn.exec(m.sql);
      await conn.query(
        `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
        [id],
      );
      await conn.exec("COMMIT");
    } catch (e) {
      await conn.exec("ROLLBACK").catch(() => undefined);
      throw new MigrationError(`migration ${m.name} failed: ${(e as Error).message}`, { cause: e });
    }
    logger.info({ migration: m.name, ms: Date.now() - started }, "migration applied");
    applied.push(m.name);
  }
  return { applied, alreadyApplied: migrations.length - applied.length };
}
