// A test fails when prisma/schema.prisma and prisma/migrations drift apart.
//
// The migrations are applied with our runner to a fresh database; then Prisma's own schema engine
// (its wasm build, through a driver adapter: no binary to download) diffs that database against
// schema.prisma, as `prisma migrate diff --from-config-datasource --to-schema … --exit-code` would.
// What schema.prisma cannot express, the engine does not look at: those objects are read from
// pg_catalog and held to the allowlist below (tests/helpers/schema-engine.ts).
import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { openDatabase } from "../../server/data/client.js";
import { migrate } from "../../server/data/migrate.js";
import { createLogger } from "../../server/log.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import {
  checkAllowlist,
  dbOnlyObjects,
  openSchemaEngine,
  postgresAdapter,
  type AllowedObject,
  type DbOnlyObject,
  type SchemaEngine,
} from "../helpers/schema-engine.js";
import { ROOT } from "../helpers/server.js";

/**
 * THE allowlist: everything the migrations create that schema.prisma cannot express (partial
 * or expression indexes, CHECK constraints, triggers and their functions, views, extensions …).
 * An object the migrations create that is neither in schema.prisma nor here fails the test, and
 * so does an entry here that the migrations do not create. Give `definition` (a RegExp over
 * what Postgres prints: pg_get_indexdef, pg_get_constraintdef, pg_get_triggerdef) when the
 * exact shape matters. Kinds: index, constraint (CHECK/EXCLUDE/DEFERRABLE), trigger, function
 * ("name(args)"), view, sequence, type (domains, ranges, composite types), extension, policy,
 * rule, row-level-security, schema.
 */
const DB_ONLY_OBJECTS: readonly AllowedObject[] = [
  {
    kind: "index",
    table: "deployments",
    name: "deployments_active_environment_order_idx",
    definition:
      /^CREATE INDEX deployments_active_environment_order_idx ON \S*deployments USING btree \(environment_id, \(\(- seq\)\)\) WHERE \(status = 'deployed'::deployment_status\)$/,
    reason: "active records by environment, newest first (ORDER BY -seq), without scanning history: a partial expression index",
  },
  {
    kind: "index",
    table: "deployments",
    name: "deployments_active_organization_order_idx",
    definition:
      /^CREATE INDEX deployments_active_organization_order_idx ON \S*deployments USING btree \(organization_id, \(\(- seq\)\)\) WHERE \(status = 'deployed'::deployment_status\)$/,
    reason: "active records of an organization, newest first (ORDER BY -seq), without scanning history: a partial expression index",
  },
  {
    kind: "index",
    table: "deployments",
    name: "deployments_environment_order_idx",
    definition: /^CREATE INDEX deployments_environment_order_idx ON \S*deployments USING btree \(environment_id, \(\(- seq\)\)\)$/,
    reason: "an environment's records, newest first (ORDER BY -seq): an expression index",
  },
  {
    kind: "index",
    table: "deployments",
    name: "deployments_organization_order_idx",
    definition: /^CREATE INDEX deployments_organization_order_idx ON \S*deployments USING btree \(organization_id, \(\(- seq\)\)\)$/,
    reason: "an organization's records, newest first (ORDER BY -seq): an expression index",
  },
  {
    kind: "index",
    table: "deployments",
    name: "deployments_active_slot_key",
    definition:
      /^CREATE UNIQUE INDEX deployments_active_slot_key ON \S*deployments USING btree \(organization_id, environment_id, logical_environment_id, name, kind\) WHERE \(status = 'deployed'::deployment_status\)$/,
    reason: "at most one deployed record per slot: a partial unique index",
  },
  {
    kind: "index",
    table: "deployments",
    name: "deployments_environment_as_of_idx",
    definition:
      /^CREATE INDEX deployments_environment_as_of_idx ON \S*deployments USING btree \(environment_id, created_at, seq, COALESCE\(superseded_at, decommissioned_at, 'infinity'::timestamp with time zone\)\)$/,
    reason: "an environment's records deployed at an instant (as_of), newest first by created_at: the end is an expression",
  },
  {
    kind: "index",
    table: "deployments",
    name: "deployments_organization_as_of_idx",
    definition:
      /^CREATE INDEX deployments_organization_as_of_idx ON \S*deployments USING btree \(organization_id, created_at, seq, COALESCE\(superseded_at, decommissioned_at, 'infinity'::timestamp with time zone\)\)$/,
    reason: "an organization's records deployed at an instant (as_of), newest first by created_at: the end is an expression",
  },
  {
    kind: "constraint",
    table: "deployments",
    name: "deployments_status_fields_check",
    definition: /^CHECK \(.*superseded_at IS NOT NULL.*superseded_by_id IS NULL.*decommissioned_at IS NOT NULL/,
    reason: "only superseded records carry a successor and a supersede time, only decommissioned ones a decommission time",
  },
  {
    kind: "constraint",
    table: "attestations",
    name: "attestations_verified_key_check",
    definition: /^CHECK \(.*verified = \(verified_key_fingerprint IS NOT NULL\).*verified_key_name IS NULL\) OR verified/,
    reason: "an attestation is verified exactly when the key that verified it is recorded",
  },
  {
    kind: "index",
    table: "api_tokens",
    name: "api_tokens_active_name_key",
    definition: /^CREATE UNIQUE INDEX api_tokens_active_name_key ON \S*api_tokens USING btree \(organization_id, name\) WHERE \(revoked_at IS NULL\)$/,
    reason: "a token name is unique among the organization's unrevoked tokens: a partial unique index",
  },
  {
    kind: "constraint",
    table: "environments",
    name: "environments_heartbeat_interval_check",
    definition: /^CHECK \(\(\(heartbeat_interval_ms IS NULL\) OR \(\(heartbeat_interval_ms >= 1000\) AND \(heartbeat_interval_ms <= 604800000\)\)\)\)$/,
    reason: "a heartbeat interval, when set, is between 1 second and 7 days",
  },
  {
    kind: "trigger",
    table: "deployments",
    name: "deployments_log_inserts",
    definition:
      /^CREATE TRIGGER deployments_log_inserts AFTER INSERT ON \S*deployments REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chainloop_log_deployment_inserts\(\)$/,
    reason: "live view: every statement that inserts records appends them to deployment_changes (server/data/change-feed.ts)",
  },
  {
    kind: "trigger",
    table: "deployments",
    name: "deployments_log_updates",
    definition:
      /^CREATE TRIGGER deployments_log_updates AFTER UPDATE ON \S*deployments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chainloop_log_deployment_updates\(\)$/,
    reason: "live view: every statement that heartbeats, supersedes or decommissions records appends them to deployment_changes",
  },
  {
    kind: "function",
    name: "chainloop_log_deployment_inserts()",
    definition: /INSERT INTO "?deployment_changes"?/,
    reason: "the trigger function of deployments_log_inserts",
  },
  {
    kind: "function",
    name: "chainloop_log_deployment_updates()",
    definition: /INSERT INTO "?deployment_changes"?/,
    reason: "the trigger function of deployments_log_updates",
  },
  {
    kind: "trigger",
    table: "environments",
    name: "environments_log_heartbeat_interval",
    definition:
      /^CREATE TRIGGER environments_log_heartbeat_interval AFTER UPDATE OF heartbeat_interval_ms ON \S*environments FOR EACH ROW WHEN \(\(old\.heartbeat_interval_ms IS DISTINCT FROM new\.heartbeat_interval_ms\)\) EXECUTE FUNCTION chainloop_log_environment_change\(\)$/,
    reason: "live view: logs a changed heartbeat interval, which moves the stale time of the records there",
  },
  {
    kind: "function",
    name: "chainloop_log_environment_change()",
    definition: /INSERT INTO "?deployment_changes"?/,
    reason: "the trigger function of environments_log_heartbeat_interval",
  },
];

const SCHEMA_FILE = path.join(ROOT, "prisma/schema.prisma");
const logger = createLogger("silent");

/** Objects a careless migration could add, and one allowlisted object it could drop. */
const EXTRAS = `
  ALTER TABLE environments ADD CONSTRAINT drift_probe_check CHECK (length(name) > 0);
  CREATE INDEX drift_probe_partial_idx ON environments (name) WHERE description <> '';
  CREATE FUNCTION drift_probe_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
  CREATE TRIGGER drift_probe_trg BEFORE UPDATE ON environments FOR EACH ROW EXECUTE FUNCTION drift_probe_fn();
  CREATE VIEW drift_probe_view AS SELECT 1 AS x;
  DROP INDEX deployments_active_slot_key;
`;

/** The real schema.prisma with one edit; fails loudly if the text to replace is not there. */
function edit(from: string | RegExp, to: string): string {
  const schema = fs.readFileSync(SCHEMA_FILE, "utf8");
  const out = schema.replace(from, to);
  if (out === schema) throw new Error(`edit: ${String(from)} not found in schema.prisma`);
  return out;
}

describe.each(backends())("schema.prisma vs prisma/migrations on %s", (backend) => {
  let tdb: TestDatabase;
  let engine: SchemaEngine | undefined;
  let pglite: PGlite | undefined;
  let objects: DbOnlyObject[];
  let withExtras: DbOnlyObject[];

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    const db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger });
    try {
      await migrate(db, logger);
      objects = await db.withConnection((conn) => dbOnlyObjects(conn));
      withExtras = await db.withConnection(async (conn) => {
        await conn.exec("BEGIN");
        try {
          await conn.exec(EXTRAS);
          return await dbOnlyObjects(conn);
        } finally {
          await conn.exec("ROLLBACK");
        }
      });
    } finally {
      await db.close();
    }
    // The engine opens the database itself, through a driver adapter.
    if (tdb.databaseUrl) {
      engine = await openSchemaEngine(postgresAdapter(tdb.databaseUrl));
    } else {
      pglite = await PGlite.create(path.join(tdb.dataDir, "pgdata"));
      engine = await openSchemaEngine(new PrismaPGlite(pglite));
    }
  });
  afterAll(async () => {
    engine?.close();
    await pglite?.close();
    await tdb?.drop();
  });

  it("schema.prisma describes exactly the tables, columns, keys, indexes, relations and enums the migrations build", async () => {
    const drift = await engine!.diff(fs.readFileSync(SCHEMA_FILE, "utf8"));
    if (!drift.clean) {
      throw new Error(`schema.prisma and prisma/migrations disagree. Prisma sees:\n${drift.summary}\n\nThe migration it would write:\n${drift.script}`);
    }
  });

  it("every object schema.prisma cannot express is in the allowlist, as written there", () => {
    const problems = checkAllowlist(objects, DB_ONLY_OBJECTS);
    if (problems.length > 0) throw new Error(problems.join("\n"));
  });

  it("notices a field, a model or an index added to schema.prisma without a migration", async () => {
    const field = await engine!.diff(edit(/(\nmodel Environment \{\n)/, "$1  region String @db.VarChar(32)\n"));
    expect(field.clean).toBe(false);
    expect(field.summary).toContain("[+] Added column `region`");
    expect(field.script).toMatch(/ALTER TABLE "environments" ADD COLUMN\s+"region" VARCHAR\(32\) NOT NULL;/);

    const model = await engine!.diff(
      fs.readFileSync(SCHEMA_FILE, "utf8") + `\nmodel DriftProbe {\n  id    String @id @db.Uuid\n  label String @unique\n\n  @@map("drift_probe")\n}\n`,
    );
    expect(model.summary).toMatch(/\[\+\] Added tables\n\s+- drift_probe/);

    const index = await engine!.diff(edit(/(\n  @@map\("environments"\))/, "\n  @@index([description])$1"));
    expect(index.script).toContain(`CREATE INDEX "environments_description_idx" ON "environments"("description");`);
  });

  it("notices objects schema.prisma cannot express that are not allowlisted, allowlisted ones that are gone, and changed ones", () => {
    expect(checkAllowlist(withExtras, DB_ONLY_OBJECTS)).toEqual([
      expect.stringMatching(/^constraint environments\.drift_probe_check \(CHECK .*\): created by the migrations/),
      expect.stringMatching(/^function drift_probe_fn\(\) \(CREATE OR REPLACE FUNCTION .*\): created by the migrations/),
      expect.stringMatching(/^index environments\.drift_probe_partial_idx \(CREATE INDEX .* WHERE .*\): created by the migrations/),
      expect.stringMatching(/^trigger environments\.drift_probe_trg \(CREATE TRIGGER .*\): created by the migrations/),
      expect.stringMatching(/^view drift_probe_view \(view: .*\): created by the migrations/),
      "index deployments.deployments_active_slot_key: in the allowlist (at most one deployed record per slot: a partial unique index) but the migrations do not create it",
    ]);
    const wrongShape = DB_ONLY_OBJECTS.map((o) => (o.name === "deployments_active_slot_key" ? { ...o, definition: /WHERE \(status = 'superseded'/ } : o));
    expect(checkAllowlist(objects, wrongShape)).toEqual([
      expect.stringMatching(/^index deployments\.deployments_active_slot_key: the allowlist expects \/WHERE .*superseded.*, the migrations give CREATE UNIQUE INDEX/),
    ]);
  });
});
