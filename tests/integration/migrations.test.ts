// The migration runner's contract (server/data/migrate.ts), on both database backends: it is
// our stand-in for `prisma migrate deploy`, so it must book migrations exactly as Prisma does,
// refuse edited history, never leave half a migration behind, migrate once when several
// servers start together, and be runnable on its own (`npm run migrate`).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openDatabase, type Database } from "../../server/data/client.js";
import { migrate, MigrationError, readMigrations } from "../../server/data/migrate.js";
import { createLogger } from "../../server/log.js";
import { backends, createTestDatabase, type Backend, type TestDatabase } from "../helpers/backends.js";
import { ROOT, startServer } from "../helpers/server.js";
import { rejection } from "../helpers/facts.js";

const MIGRATIONS_DIR = path.join(ROOT, "prisma/migrations");
const logger = createLogger("silent");

interface BookRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

/** The migrations on disk, read independently of the runner: name and sha256 hex of the file's bytes. */
function migrationFiles(dir = MIGRATIONS_DIR): { name: string; checksum: string }[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => ({
      name,
      checksum: createHash("sha256").update(fs.readFileSync(path.join(dir, name, "migration.sql"))).digest("hex"),
    }));
}

/** Tables the migrations create (and do not drop again), from the SQL itself. */
function tablesCreatedByMigrations(): string[] {
  const created = new Set<string>();
  for (const { name } of migrationFiles()) {
    const sql = fs.readFileSync(path.join(MIGRATIONS_DIR, name, "migration.sql"), "utf8");
    for (const m of sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(?:"public"\.)?"?(\w+)"?/gi)) created.add(m[1]!);
    for (const m of sql.matchAll(/DROP TABLE (?:IF EXISTS )?(?:"public"\.)?"?(\w+)"?/gi)) created.delete(m[1]!);
  }
  return [...created].sort();
}

/** A scratch copy of prisma/migrations that a test may edit. */
function copyMigrations(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-migrations-"));
  fs.cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

function addMigration(dir: string, name: string, sql: string): void {
  fs.mkdirSync(path.join(dir, name));
  fs.writeFileSync(path.join(dir, name, "migration.sql"), sql);
}

const open = (tdb: TestDatabase, poolSize?: number) =>
  openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger, poolSize });

const query = <T = Record<string, unknown>>(db: Database, sql: string, params?: unknown[]) =>
  db.withConnection((c) => c.query<T>(sql, params));

const bookkeeping = (db: Database) =>
  query<BookRow>(db, `SELECT * FROM "_prisma_migrations" ORDER BY migration_name, started_at`);

/** to_regclass for each name, as text (null when there is no such relation). */
async function relations(db: Database, names: string[]): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const n of names) out[n] = (await query<{ r: string | null }>(db, `SELECT to_regclass($1)::text AS r`, [`public."${n}"`]))[0]!.r;
  return out;
}

function runNode(script: string, env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} did not exit within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Runs fn with a database and an open Database on it; closes and drops both afterwards. A
 * "fresh" one is empty; a "migrated" one has every migration applied already (for PGlite, the
 * suite's template: tests/helpers/backends.ts), for tests about what happens after that.
 */
async function withDatabase(backend: Backend, state: "fresh" | "migrated", fn: (db: Database, tdb: TestDatabase) => Promise<void>): Promise<void> {
  const tdb = await createTestDatabase(backend, { fresh: state === "fresh" });
  try {
    const db = await open(tdb);
    try {
      await fn(db, tdb);
    } finally {
      await db.close();
    }
  } finally {
    await tdb.drop();
  }
}

describe.each(backends())("migration runner on %s", (backend) => {
  const scratch: string[] = [];
  afterAll(() => {
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
  });
  const scratchCopy = () => {
    const d = copyMigrations();
    scratch.push(d);
    return d;
  };

  it("applies every migration to a fresh database once and books it as Prisma does", async () => {
    await withDatabase(backend, "fresh", async (db) => {
      const files = migrationFiles();
      expect(files.length).toBeGreaterThan(0);

      expect(await migrate(db, logger)).toEqual({ applied: files.map((f) => f.name), alreadyApplied: 0 });

      const rows = await bookkeeping(db);
      expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
      for (const [i, row] of rows.entries()) {
        expect(row).toMatchObject({
          checksum: files[i]!.checksum,
          applied_steps_count: 1,
          rolled_back_at: null,
          logs: null,
        });
        expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      }
      expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
      const tables = tablesCreatedByMigrations();
      expect(tables.length).toBeGreaterThan(0);
      expect(Object.values(await relations(db, tables))).not.toContain(null);

      // again: nothing to do, nothing rewritten
      expect(await migrate(db, logger)).toEqual({ applied: [], alreadyApplied: files.length });
      expect(await bookkeeping(db)).toEqual(rows);
    });
  });

  it("refuses to run when an applied migration was changed, naming it, and applies nothing after it", async () => {
    await withDatabase(backend, "migrated", async (db) => {
      const dir = scratchCopy();
      await migrate(db, logger, readMigrations(dir));
      const before = await bookkeeping(db);
      const edited = migrationFiles(dir).at(-1)!.name;
      fs.appendFileSync(path.join(dir, edited, "migration.sql"), "\n-- an edit after the fact\n");
      addMigration(dir, "99990101000000_after_the_edit", `CREATE TABLE "after_the_edit" ("id" INTEGER NOT NULL);\n`);

      const err = await rejection(migrate(db, logger, readMigrations(dir)));
      expect(err).toBeInstanceOf(MigrationError);
      expect(err.message).toContain(edited);
      expect(err.message).toMatch(/changed/);

      expect(await relations(db, ["after_the_edit"])).toEqual({ after_the_edit: null });
      expect(await bookkeeping(db)).toEqual(before);
    });
  });

  it("the server refuses to start on a database whose applied migration has another checksum", async () => {
    const tdb = await createTestDatabase(backend);
    try {
      const target = migrationFiles()[0]!.name;
      const db = await open(tdb);
      try {
        await migrate(db, logger);
        await query(db, `UPDATE "_prisma_migrations" SET checksum = $1 WHERE migration_name = $2`, ["0".repeat(64), target]);
      } finally {
        await db.close(); // PGlite: one process per data directory
      }
      const err = await rejection(startServer(tdb.env, { timeoutMs: 30_000 }));
      expect(err.message).toMatch(/server exited with code [1-9]\d* before listening/);
      expect(err.message).toMatch(new RegExp(`migration ${target} was changed`));
    } finally {
      await tdb.drop();
    }
  });

  it("a migration that fails midway leaves nothing of itself behind, names itself, and the database stays usable", async () => {
    await withDatabase(backend, "migrated", async (db) => {
      const dir = scratchCopy();
      const good = migrationFiles(dir);
      const broken = "99990101000000_broken";
      const body = [
        `CREATE TYPE "half_done_kind" AS ENUM ('a', 'b');`,
        `CREATE TABLE "half_done" ("id" INTEGER NOT NULL, "kind" "half_done_kind", CONSTRAINT "half_done_pkey" PRIMARY KEY ("id"));`,
        `CREATE INDEX "half_done_kind_idx" ON "half_done"("kind");`,
        `INSERT INTO "half_done" ("id", "kind") VALUES (1, 'a');`,
        `ALTER TABLE "half_done" ADD COLUMN "note" TEXT;`,
      ];
      addMigration(dir, broken, [...body, `INSERT INTO "half_done" ("id") VALUES (1);`, `CREATE TABLE "never_reached" ("id" INTEGER);`].join("\n"));

      const err = await rejection(migrate(db, logger, readMigrations(dir)));
      expect(err).toBeInstanceOf(MigrationError);
      expect(err.message).toContain(broken);
      expect(err.message).toMatch(/duplicate key/);

      expect(await relations(db, ["half_done", "half_done_kind_idx", "never_reached"])).toEqual({
        half_done: null,
        half_done_kind_idx: null,
        never_reached: null,
      });
      expect(await query(db, `SELECT to_regtype('public.half_done_kind')::text AS t`)).toEqual([{ t: null }]);
      // the migrations before it are applied and booked; the broken one is not booked at all
      const rows = await bookkeeping(db);
      expect(rows.map((r) => [r.migration_name, r.finished_at instanceof Date])).toEqual(good.map((g) => [g.name, true]));

      // still usable: once the migration is fixed, it applies
      fs.writeFileSync(path.join(dir, broken, "migration.sql"), body.join("\n"));
      expect(await migrate(db, logger, readMigrations(dir))).toEqual({ applied: [broken], alreadyApplied: good.length });
      expect(await query(db, `SELECT id, kind::text AS kind, note FROM "half_done"`)).toEqual([{ id: 1, kind: "a", note: null }]);
      expect((await bookkeeping(db)).map((r) => r.migration_name)).toEqual([...good.map((g) => g.name), broken]);
    });
  });

  // Prisma's schema engine accepts an applied migration whose file differs only in line endings
  // (script_matches_checksum tries the script as is, with CRLF → LF and with LF → CRLF), because
  // git rewrites line endings on Windows checkouts. Our runner must do the same.
  it("accepts an applied migration whose file only changed line endings, as Prisma does", async () => {
    await withDatabase(backend, "migrated", async (db) => {
      const dir = scratchCopy();
      await migrate(db, logger, readMigrations(dir));
      for (const { name } of migrationFiles(dir)) {
        const file = path.join(dir, name, "migration.sql");
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/\r?\n/g, "\r\n"));
      }
      expect(await migrate(db, logger, readMigrations(dir))).toEqual({ applied: [], alreadyApplied: migrationFiles(dir).length });
    });
  });

  it("`npm run migrate` (dist/server/migrate-cli.js) applies the migrations without serving, and refuses edited history", async () => {
    const tdb = await createTestDatabase(backend, { fresh: true });
    try {
      const cli = path.join(ROOT, "dist/server/migrate-cli.js");
      const env = { ...tdb.env, LOG_LEVEL: "silent" };
      const files = migrationFiles();

      const first = await runNode(cli, env);
      expect(first).toMatchObject({ code: 0, stderr: "" });
      expect(first.stdout).toContain(`${files.length} migration(s) applied, 0 already applied`);
      const again = await runNode(cli, env);
      expect(again).toMatchObject({ code: 0, stderr: "" });
      expect(again.stdout).toContain(`0 migration(s) applied, ${files.length} already applied`);

      const db = await open(tdb);
      try {
        const tables = tablesCreatedByMigrations();
        expect(Object.values(await relations(db, tables))).not.toContain(null);
        expect((await bookkeeping(db)).map((r) => [r.migration_name, r.checksum])).toEqual(files.map((f) => [f.name, f.checksum]));
        await query(db, `UPDATE "_prisma_migrations" SET checksum = $1 WHERE migration_name = $2`, ["f".repeat(64), files[0]!.name]);
      } finally {
        await db.close();
      }
      const refused = await runNode(cli, env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`^migrate: migration ${files[0]!.name} was changed`));
    } finally {
      await tdb.drop();
    }
  });
});

const onPostgres = backends().includes("postgres") ? describe : describe.skip;

onPostgres("migration runner, several servers starting together on postgres", () => {
  it("4 concurrent migrate() calls all succeed and apply each migration exactly once", async () => {
    const tdb = await createTestDatabase("postgres", { fresh: true });
    const dir = copyMigrations();
    const dbs: Database[] = [];
    try {
      // a slow last migration widens the window in which unserialized runners would collide
      addMigration(dir, "99990101000000_slow", `SELECT pg_sleep(0.5);\nCREATE TABLE "slow_probe" ("id" INTEGER NOT NULL);\n`);
      const migrations = readMigrations(dir);
      for (let i = 0; i < 4; i++) dbs.push(await open(tdb, 2));

      const results = await Promise.all(dbs.map((db) => migrate(db, logger, migrations)));

      const names = migrations.map((m) => m.name);
      expect(results.flatMap((r) => r.applied).sort()).toEqual([...names].sort());
      for (const r of results) expect(r.applied.length + r.alreadyApplied).toBe(migrations.length);
      const counts = await query<{ migration_name: string; n: number }>(
        dbs[0]!,
        `SELECT migration_name, count(*)::int AS n FROM "_prisma_migrations" GROUP BY migration_name ORDER BY migration_name`,
      );
      expect(counts).toEqual(names.map((migration_name) => ({ migration_name, n: 1 })));
      expect(await relations(dbs[0]!, ["slow_probe"])).toEqual({ slow_probe: "slow_probe" });
    } finally {
      for (const db of dbs) await db.close();
      await tdb.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
