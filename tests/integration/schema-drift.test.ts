// A test fails when prisma/schema.prisma and prisma/migrations drift apart.
//
// Prisma's `migrate diff` needs the schema engine binary, which cannot be downloaded here, so
// the check is ours (tests/helpers/schema-compare.ts): apply every migration with our runner
// to a fresh database, read the result from pg_catalog, and compare it with what
// `prisma migrate` would create for schema.prisma (parsed by Prisma's own wasm parser).
//
// The second half proves the check bites: a fixture schema and the SQL Prisma generates for
// it compare clean, and each kind of edit to the schema produces the expected difference.
import fs from "node:fs";
import path from "node:path";
import { openDatabase, type Database } from "../../server/data/client.js";
import { migrate } from "../../server/data/migrate.js";
import { createLogger } from "../../server/log.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import {
  compareSchemas,
  expectedFromPrismaSchema,
  formatDrift,
  introspect,
  type DbOnlyObject,
  type SchemaSnapshot,
} from "../helpers/schema-compare.js";
import { ROOT } from "../helpers/server.js";

/**
 * THE allowlist: everything the migrations create that schema.prisma cannot express (partial
 * or expression indexes, CHECK constraints, triggers and their functions, views, extensions …).
 * An object the migrations create that is neither in schema.prisma nor here fails the test, and
 * so does an entry here that the migrations do not create. Give `definition` (a RegExp over
 * what Postgres prints: pg_get_indexdef, pg_get_constraintdef, pg_get_triggerdef) when the
 * exact shape matters. Kinds: index, constraint (CHECK/EXCLUDE), trigger, function ("name(args)"),
 * view, sequence, type (domains, ranges, composite types, enums not in the schema), extension,
 * policy, rule, row-level-security, schema, table, column.
 */
const DB_ONLY_OBJECTS: readonly DbOnlyObject[] = [
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

// ───────────── a fixture: a Prisma schema and the SQL `prisma migrate dev` writes for it ─────────────

const FIXTURE_SCHEMA = `
generator client {
  provider = "prisma-client"
  output   = "./unused"
}

datasource db {
  provider = "postgresql"
}

enum DeploymentStatus {
  deployed
  superseded
  decommissioned
}

enum ArtifactKind {
  CONTAINER_IMAGE
  HELM_CHART

  @@map("artifact_kind")
}

model Org {
  id        String   @id @default(uuid()) @db.Uuid
  name      String   @unique @db.VarChar(63)
  createdAt DateTime @default(now()) @map("created_at") @db.Timestamptz(6)
  envs      Env[]
  tags      Tag[]

  @@map("orgs")
}

model Env {
  id          String       @id @default(uuid()) @db.Uuid
  orgId       String       @map("org_id") @db.Uuid
  name        String       @db.VarChar(63)
  description String       @default("") @db.VarChar(1024)
  org         Org          @relation(fields: [orgId], references: [id], onDelete: Cascade)
  deployments Deployment[]

  @@unique([orgId, name])
  @@map("envs")
}

model Deployment {
  id         BigInt           @id @default(autoincrement())
  envId      String           @map("env_id") @db.Uuid
  name       String           @db.VarChar(255)
  kind       ArtifactKind
  status     DeploymentStatus @default(deployed)
  digest     String           @db.Char(71)
  labels     String[]         @default([])
  metadata   Json?
  replicas   Int              @default(1) @db.SmallInt
  score      Float?
  weight     Decimal          @default(1.5) @db.Decimal(10, 2)
  payload    Bytes?
  createdAt  DateTime         @default(now()) @map("created_at")
  lastSeenAt DateTime         @default(dbgenerated("now()")) @map("last_seen_at") @db.Timestamptz(3)
  updatedAt  DateTime         @updatedAt @map("updated_at")
  previousId BigInt?          @unique @map("previous_id")
  env        Env              @relation(fields: [envId], references: [id])
  previous   Deployment?      @relation("History", fields: [previousId], references: [id])
  next       Deployment?      @relation("History")

  @@index([envId, createdAt(sort: Desc)])
  @@index([metadata(ops: JsonbPathOps)], type: Gin)
  @@index([digest], map: "deployments_by_digest", type: Hash)
  @@map("deployments")
}

model Tag {
  id   Int    @id @default(autoincrement())
  name String @unique
  orgs Org[]
}
`;

const FIXTURE_SQL = `
-- CreateEnum
CREATE TYPE "DeploymentStatus" AS ENUM ('deployed', 'superseded', 'decommissioned');

-- CreateEnum
CREATE TYPE "artifact_kind" AS ENUM ('CONTAINER_IMAGE', 'HELM_CHART');

-- CreateTable
CREATE TABLE "orgs" (
    "id" UUID NOT NULL,
    "name" VARCHAR(63) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "orgs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "envs" (
    "id" UUID NOT NULL,
    "org_id" UUID NOT NULL,
    "name" VARCHAR(63) NOT NULL,
    "description" VARCHAR(1024) NOT NULL DEFAULT '',

    CONSTRAINT "envs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deployments" (
    "id" BIGSERIAL NOT NULL,
    "env_id" UUID NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "kind" "artifact_kind" NOT NULL,
    "status" "DeploymentStatus" NOT NULL DEFAULT 'deployed',
    "digest" CHAR(71) NOT NULL,
    "labels" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "metadata" JSONB,
    "replicas" SMALLINT NOT NULL DEFAULT 1,
    "score" DOUBLE PRECISION,
    "weight" DECIMAL(10,2) NOT NULL DEFAULT 1.5,
    "payload" BYTEA,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMP(3) NOT NULL,
    "previous_id" BIGINT,

    CONSTRAINT "deployments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "_OrgToTag" (
    "A" UUID NOT NULL,
    "B" INTEGER NOT NULL,

    CONSTRAINT "_OrgToTag_AB_pkey" PRIMARY KEY ("A","B")
);

-- CreateIndex
CREATE UNIQUE INDEX "orgs_name_key" ON "orgs"("name");

-- CreateIndex
CREATE UNIQUE INDEX "envs_org_id_name_key" ON "envs"("org_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "deployments_previous_id_key" ON "deployments"("previous_id");

-- CreateIndex
CREATE INDEX "deployments_env_id_created_at_idx" ON "deployments"("env_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "deployments_metadata_idx" ON "deployments" USING GIN ("metadata" jsonb_path_ops);

-- CreateIndex
CREATE INDEX "deployments_by_digest" ON "deployments" USING HASH ("digest");

-- CreateIndex
CREATE UNIQUE INDEX "Tag_name_key" ON "Tag"("name");

-- CreateIndex
CREATE INDEX "_OrgToTag_B_index" ON "_OrgToTag"("B");

-- AddForeignKey
ALTER TABLE "envs" ADD CONSTRAINT "envs_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_env_id_fkey" FOREIGN KEY ("env_id") REFERENCES "envs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_previous_id_fkey" FOREIGN KEY ("previous_id") REFERENCES "deployments"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_OrgToTag" ADD CONSTRAINT "_OrgToTag_A_fkey" FOREIGN KEY ("A") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_OrgToTag" ADD CONSTRAINT "_OrgToTag_B_fkey" FOREIGN KEY ("B") REFERENCES "Tag"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: what schema.prisma cannot express.
CREATE UNIQUE INDEX "deployments_one_deployed_per_slot" ON "deployments"("env_id", "name", "kind") WHERE "status" = 'deployed';

ALTER TABLE "deployments" ADD CONSTRAINT "deployments_digest_format" CHECK ("digest" ~ '^sha256:[0-9a-f]{64}$');

CREATE FUNCTION "touch_updated_at"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER "deployments_touch" BEFORE UPDATE ON "deployments" FOR EACH ROW EXECUTE FUNCTION "touch_updated_at"();
`;

const FIXTURE_ALLOWLIST: readonly DbOnlyObject[] = [
  {
    kind: "index",
    table: "deployments",
    name: "deployments_one_deployed_per_slot",
    definition: /^CREATE UNIQUE INDEX deployments_one_deployed_per_slot ON \S*deployments USING btree \(env_id, name, kind\) WHERE \(status = 'deployed'::"DeploymentStatus"\)$/,
    reason: "at most one deployed record per slot",
  },
  { kind: "constraint", table: "deployments", name: "deployments_digest_format", reason: "digest shape" },
  { kind: "function", name: "touch_updated_at()", reason: "trigger function" },
  { kind: "trigger", table: "deployments", name: "deployments_touch", definition: /BEFORE UPDATE ON \S*deployments FOR EACH ROW/, reason: "bumps updated_at" },
];

/** Builds the fixture in its own schema inside a transaction that is rolled back, and reads it. */
async function introspectFixture(db: Database, extraSql = ""): Promise<SchemaSnapshot> {
  return db.withConnection(async (conn) => {
    await conn.exec("BEGIN");
    try {
      await conn.exec(`CREATE SCHEMA drift_fixture; SET LOCAL search_path TO drift_fixture;`);
      await conn.exec(FIXTURE_SQL + extraSql);
      return await introspect(conn, { schema: "drift_fixture" });
    } finally {
      await conn.exec("ROLLBACK");
    }
  });
}

/** FIXTURE_SCHEMA with one edit; fails loudly if the text to replace is not there. */
function edit(schema: string, from: string | RegExp, to: string): string {
  const out = schema.replace(from, to);
  if (out === schema) throw new Error(`edit: ${String(from)} not found in the schema`);
  return out;
}

describe.each(backends())("schema.prisma vs prisma/migrations on %s", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let actual: SchemaSnapshot;
  let fixture: SchemaSnapshot;

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger });
    await migrate(db, logger);
    actual = await db.withConnection((conn) => introspect(conn));
    fixture = await introspectFixture(db);
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it("schema.prisma describes exactly the database the migrations build", () => {
    const expected = expectedFromPrismaSchema(fs.readFileSync(SCHEMA_FILE, "utf8"));
    expect(expected.tables.length).toBeGreaterThan(0);
    const diffs = compareSchemas(expected, actual, DB_ONLY_OBJECTS);
    if (diffs.length > 0) throw new Error(formatDrift(diffs));
    expect(diffs).toEqual([]);
  });

  it("notices a model added to the real schema.prisma without a migration", () => {
    const schema =
      fs.readFileSync(SCHEMA_FILE, "utf8") +
      `\nmodel DriftProbe {\n  id    String @id @db.Uuid\n  label String @unique\n\n  @@map("drift_probe")\n}\n`;
    // Relative to whatever the real comparison reports, so that this case stays meaningful on its own.
    const baseline = compareSchemas(expectedFromPrismaSchema(fs.readFileSync(SCHEMA_FILE, "utf8")), actual, DB_ONLY_OBJECTS);
    const probed = compareSchemas(expectedFromPrismaSchema(schema), actual, DB_ONLY_OBJECTS);
    expect(probed.filter((d) => !baseline.includes(d))).toEqual([
      "table drift_probe: in schema.prisma (model DriftProbe) but not created by the migrations",
    ]);
    expect(probed).toHaveLength(baseline.length + 1);
  });

  describe("the checker, on a fixture schema and the SQL Prisma generates for it", () => {
    const diff = (schema: string, allowlist: readonly DbOnlyObject[] = FIXTURE_ALLOWLIST) =>
      compareSchemas(expectedFromPrismaSchema(schema), fixture, allowlist);

    it("finds no difference when they agree (enums, lists, Json, BigInt, m2m, self-relations, index options)", () => {
      const diffs = diff(FIXTURE_SCHEMA);
      if (diffs.length > 0) throw new Error(formatDrift(diffs));
      expect(diffs).toEqual([]);
      // and it did look at them
      expect(fixture.tables.map((t) => t.name).sort()).toEqual(["Tag", "_OrgToTag", "deployments", "envs", "orgs"]);
      expect(fixture.enums).toEqual([
        { name: "DeploymentStatus", values: ["deployed", "superseded", "decommissioned"] },
        { name: "artifact_kind", values: ["CONTAINER_IMAGE", "HELM_CHART"] },
      ]);
    });

    it("an extra field", () => {
      const schema = edit(FIXTURE_SCHEMA, /(  description String +@default\(""\) @db.VarChar\(1024\)\n)/, `$1  region String @db.VarChar(32)\n`);
      expect(diff(schema)).toEqual([
        "column envs.region: in schema.prisma (varchar(32) NOT NULL) but not created by the migrations",
      ]);
    });

    it("a changed type, nullability or default", () => {
      expect(diff(edit(FIXTURE_SCHEMA, `@default("") @db.VarChar(1024)`, `@default("") @db.VarChar(2048)`))).toEqual([
        "column envs.description: schema says varchar(2048) NOT NULL DEFAULT '', migrations give varchar(1024) NOT NULL DEFAULT ''::character varying",
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, /description String +@default\(""\) @db.VarChar\(1024\)/, `description String? @db.Text`))).toEqual([
        "column envs.description: schema says text NULL, migrations give varchar(1024) NOT NULL DEFAULT ''::character varying",
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, "replicas   Int              @default(1) @db.SmallInt", "replicas Int @default(1)"))).toEqual([
        "column deployments.replicas: schema says integer NOT NULL DEFAULT 1, migrations give smallint NOT NULL DEFAULT 1",
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, "@default(1.5) @db.Decimal(10, 2)", "@default(2.5) @db.Decimal(10, 2)"))).toEqual([
        "column deployments.weight: schema says numeric(10,2) NOT NULL DEFAULT 2.5, migrations give numeric(10,2) NOT NULL DEFAULT 1.5",
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, "status     DeploymentStatus @default(deployed)", "status DeploymentStatus @default(superseded)"))).toEqual([
        `column deployments.status: schema says DeploymentStatus NOT NULL DEFAULT 'superseded', migrations give DeploymentStatus NOT NULL DEFAULT 'deployed'::"DeploymentStatus"`,
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, `createdAt DateTime @default(now()) @map("created_at") @db.Timestamptz(6)`, `createdAt DateTime @map("created_at") @db.Timestamptz(6)`))).toEqual([
        "column orgs.created_at: schema says timestamptz(6) NOT NULL, migrations give timestamptz(6) NOT NULL DEFAULT CURRENT_TIMESTAMP",
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, "labels     String[]         @default([])", "labels String[]"))).toEqual([
        "column deployments.labels: schema says text[] NULL, migrations give text[] NULL DEFAULT ARRAY[]::text[]",
      ]);
    });

    it("treats @default(uuid()) as client-side, and a database default it does not declare as drift", () => {
      expect(diff(edit(FIXTURE_SCHEMA, "id        String   @id @default(uuid()) @db.Uuid", `id String @id @default(dbgenerated("gen_random_uuid()")) @db.Uuid`))).toEqual([
        "column orgs.id: schema says uuid NOT NULL DEFAULT gen_random_uuid(), migrations give uuid NOT NULL",
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, "id        String   @id @default(uuid()) @db.Uuid", "id String @id @default(cuid()) @db.Uuid"))).toEqual([]);
    });

    it("a renamed column (@map)", () => {
      expect(diff(edit(FIXTURE_SCHEMA, `@map("last_seen_at")`, `@map("seen_at")`))).toEqual([
        "column deployments.seen_at: in schema.prisma (timestamptz(3) NOT NULL DEFAULT now()) but not created by the migrations",
        expect.stringMatching(/^column deployments\.last_seen_at \(timestamptz\(3\) NOT NULL DEFAULT now\(\)\): created by the migrations but not in schema\.prisma/),
      ]);
    });

    it("a dropped @@unique", () => {
      expect(diff(edit(FIXTURE_SCHEMA, "  @@unique([orgId, name])\n", ""))).toEqual([
        expect.stringMatching(
          /^index envs\.envs_org_id_name_key \(CREATE UNIQUE INDEX envs_org_id_name_key ON \S*envs USING btree \(org_id, name\)\): created by the migrations but not in schema\.prisma/,
        ),
      ]);
    });

    it("an index added, changed or renamed", () => {
      expect(diff(edit(FIXTURE_SCHEMA, "  @@map(\"envs\")", "  @@index([name])\n  @@map(\"envs\")"))).toEqual([
        "index envs.envs_name_idx: in schema.prisma (btree (name)) but not created by the migrations",
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, "@@index([envId, createdAt(sort: Desc)])", "@@index([envId, createdAt])"))).toEqual([
        "index deployments.deployments_env_id_created_at_idx: schema says btree (env_id, created_at), migrations give btree (env_id, created_at DESC)",
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, "@@index([digest], map: \"deployments_by_digest\", type: Hash)", "@@index([digest], map: \"deployments_by_digest\")"))).toEqual([
        "index deployments.deployments_by_digest: schema says btree (digest), migrations give hash (digest)",
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, "@@unique([orgId, name])", `@@unique([orgId, name], map: "envs_org_name")`))).toEqual([
        "index envs.envs_org_name: schema.prisma names it envs_org_name, the migrations envs_org_id_name_key (UNIQUE btree (org_id, name))",
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, "@@index([metadata(ops: JsonbPathOps)], type: Gin)", "@@index([metadata], type: Gin)"))).toEqual([
        "index deployments.deployments_metadata_idx: schema says gin (metadata), migrations give gin (metadata jsonb_path_ops)",
      ]);
    });

    it("a changed onDelete / onUpdate, including Prisma's defaults when none is given", () => {
      const fk = "(org_id) → orgs(id)";
      expect(diff(edit(FIXTURE_SCHEMA, "references: [id], onDelete: Cascade)", "references: [id], onDelete: Restrict)"))).toEqual([
        `foreign key envs.envs_org_id_fkey: schema says ${fk} ON DELETE RESTRICT ON UPDATE CASCADE, migrations give ${fk} ON DELETE CASCADE ON UPDATE CASCADE`,
      ]);
      // required relation without onDelete: Restrict
      expect(diff(edit(FIXTURE_SCHEMA, "references: [id], onDelete: Cascade)", "references: [id])"))).toEqual([
        `foreign key envs.envs_org_id_fkey: schema says ${fk} ON DELETE RESTRICT ON UPDATE CASCADE, migrations give ${fk} ON DELETE CASCADE ON UPDATE CASCADE`,
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, "references: [id], onDelete: Cascade)", "references: [id], onDelete: Cascade, onUpdate: NoAction)"))).toEqual([
        `foreign key envs.envs_org_id_fkey: schema says ${fk} ON DELETE CASCADE ON UPDATE NO ACTION, migrations give ${fk} ON DELETE CASCADE ON UPDATE CASCADE`,
      ]);
      // optional relation without onDelete: SetNull (what the fixture has) — making it Cascade is drift
      expect(diff(edit(FIXTURE_SCHEMA, `@relation("History", fields: [previousId], references: [id])`, `@relation("History", fields: [previousId], references: [id], onDelete: Cascade)`))).toEqual([
        "foreign key deployments.deployments_previous_id_fkey: schema says (previous_id) → deployments(id) ON DELETE CASCADE ON UPDATE CASCADE, migrations give (previous_id) → deployments(id) ON DELETE SET NULL ON UPDATE CASCADE",
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, "references: [id], onDelete: Cascade)", `references: [id], onDelete: Cascade, map: "envs_org_fk")`))).toEqual([
        `foreign key envs.envs_org_fk: schema says envs_org_fk ${fk} ON DELETE CASCADE ON UPDATE CASCADE, migrations give envs_org_id_fkey ${fk} ON DELETE CASCADE ON UPDATE CASCADE`,
      ]);
    });

    it("a new model, a new enum, a changed enum and a dropped many-to-many relation", () => {
      const withModel =
        FIXTURE_SCHEMA +
        `\nenum Verdict {\n  pass\n  fail\n}\n\nmodel Attestation {\n  id      String  @id @db.Uuid\n  verdict Verdict\n\n  @@map("attestations")\n}\n`;
      expect(diff(withModel)).toEqual([
        "table attestations: in schema.prisma (model Attestation) but not created by the migrations",
        "enum Verdict: in schema.prisma ('pass', 'fail') but not created by the migrations",
      ]);
      expect(diff(edit(FIXTURE_SCHEMA, "  decommissioned\n", "  decommissioned\n  failed\n"))).toEqual([
        "enum DeploymentStatus: schema says ('deployed', 'superseded', 'decommissioned', 'failed'), migrations give ('deployed', 'superseded', 'decommissioned')",
      ]);
      const noM2m = edit(edit(FIXTURE_SCHEMA, "  tags      Tag[]\n", ""), "  orgs Org[]\n", "");
      expect(diff(noM2m)).toEqual([
        expect.stringMatching(/^table _OrgToTag: created by the migrations but not in schema\.prisma/),
      ]);
    });

    it("requires the allowlist for what schema.prisma cannot express, and every entry in it to exist", () => {
      expect(diff(FIXTURE_SCHEMA, [])).toEqual([
        expect.stringMatching(/^index deployments\.deployments_one_deployed_per_slot \(CREATE UNIQUE INDEX .* WHERE \(status = 'deployed'.*\): created by the migrations but not in schema\.prisma/),
        expect.stringMatching(/^constraint deployments\.deployments_digest_format \(CHECK .*\): created by the migrations but not in schema\.prisma/),
        expect.stringMatching(/^trigger deployments\.deployments_touch \(CREATE TRIGGER .*\): created by the migrations but not in schema\.prisma/),
        expect.stringMatching(/^function touch_updated_at\(\) \(CREATE OR REPLACE FUNCTION .*\): created by the migrations but not in schema\.prisma/),
      ]);
      const stale: DbOnlyObject = { kind: "index", table: "deployments", name: "deployments_gone_idx", reason: "was dropped" };
      expect(diff(FIXTURE_SCHEMA, [...FIXTURE_ALLOWLIST, stale])).toEqual([
        "index deployments.deployments_gone_idx: in the allowlist (was dropped) but the migrations do not create it (or schema.prisma now describes it); remove it from the allowlist or add it to a migration",
      ]);
      const wrongShape = FIXTURE_ALLOWLIST.map((o) =>
        o.name === "deployments_one_deployed_per_slot" ? { ...o, definition: /WHERE \(status = 'superseded'/ } : o,
      );
      expect(diff(FIXTURE_SCHEMA, wrongShape)).toEqual([
        expect.stringMatching(/^index deployments\.deployments_one_deployed_per_slot: the allowlist expects \/WHERE \\\(status = 'superseded'\/, migrations give CREATE UNIQUE INDEX/),
      ]);
    });

    it("sees other objects a migration can create: generated columns, row-level security, views, sequences, domains, policies", async () => {
      const extra = `
        CREATE VIEW active_deployments AS SELECT * FROM deployments WHERE status = 'deployed';
        CREATE SEQUENCE ticket_seq;
        CREATE DOMAIN digest_text AS TEXT CHECK (VALUE ~ '^sha256:');
        ALTER TABLE envs ENABLE ROW LEVEL SECURITY;
        CREATE POLICY envs_by_org ON envs USING (true);
        ALTER TABLE orgs ADD COLUMN note TEXT GENERATED ALWAYS AS (upper(name)) STORED;
      `;
      const withExtras = await introspectFixture(db, extra);
      const diffs = compareSchemas(expectedFromPrismaSchema(FIXTURE_SCHEMA), withExtras, FIXTURE_ALLOWLIST);
      expect(diffs).toEqual([
        expect.stringMatching(/^column orgs\.note \(text NULL GENERATED ALWAYS AS \(upper\(\(name\)::text\)\) STORED\): created by the migrations/),
        expect.stringMatching(/^row-level-security envs\.envs .*: created by the migrations/),
        expect.stringMatching(/^view active_deployments \(view: SELECT .*\): created by the migrations/),
        expect.stringMatching(/^sequence ticket_seq \(sequence\): created by the migrations/),
        expect.stringMatching(/^type digest_text \(domain over text\): created by the migrations/),
        expect.stringMatching(/^policy envs\.envs_by_org \(USING \(true\)\): created by the migrations/),
      ]);
    });
  });
});
