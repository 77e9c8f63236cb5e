// Drift check between prisma/schema.prisma and the database our migrations build, with Prisma's
// own schema engine: the wasm build (@prisma/schema-engine-wasm), driven through a driver adapter,
// so no schema-engine binary is needed. It is `prisma migrate diff --from-config-datasource
// --to-schema prisma/schema.prisma --exit-code`, in process.
//
// The engine does not look at what schema.prisma cannot express (partial and expression indexes,
// CHECK constraints, triggers, functions, views, policies, …): it neither reports such objects
// nor notices when they go missing. dbOnlyObjects() lists them from pg_catalog, and
// checkAllowlist() holds them to the test's allowlist in both directions.
import fs from "node:fs";
import { createRequire } from "node:module";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";
import pg from "pg";
import type { SqlConnection } from "../../server/data/client.js";

// ───────────────────────────── the engine ─────────────────────────────

// The project's TypeScript lib has no WebAssembly declarations; the little used here:
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
};

let engineModule: typeof glue | undefined;

/**
 * The package's entry imports the .wasm as an ES module, which Node 20 does not do without
 * --experimental-wasm-modules: instantiate it here, with the package's own glue as its imports.
 */
function loadEngine(): typeof glue {
  if (engineModule) return engineModule;
  const file = createRequire(import.meta.url).resolve("@prisma/schema-engine-wasm").replace(/[^/]+$/, "schema_engine_bg.wasm");
  const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(file)), {
    "./schema_engine_bg.js": glue as unknown as Record<string, unknown>,
  });
  // Where a Rust panic leaves its message (Prisma's client runtime installs one too).
  (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY ??= {
    set_message(message: string) {
      throw new Error(`schema engine panic: ${message}`);
    },
  };
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as (() => void) | undefined)?.();
  return (engineModule = glue);
}

export interface Drift {
  /** No difference: `prisma migrate diff --exit-code` would exit 0. */
  clean: boolean;
  /** The engine's human-readable summary ("[+] Added column `region`"). */
  summary: string;
  /** The SQL `prisma migrate dev` would write to go from the database to schema.prisma. */
  script: string;
}

export interface SchemaEngine {
  /** What it would take to turn the live database into what `schemaText` describes. */
  diff(schemaText: string): Promise<Drift>;
  close(): void;
}

const NO_FILTER = { externalTables: [], externalEnums: [] };

export async function openSchemaEngine(adapter: SqlMigrationAwareDriverAdapterFactory): Promise<SchemaEngine> {
  const engine = await loadEngine().SchemaEngine.new({ datamodels: undefined }, () => {}, bindMigrationAwareSqlAdapterFactory(adapter));
  const run = async (schemaText: string, script: boolean) => {
    const files = [{ path: "schema.prisma", content: schemaText }];
    const out = await engine.diff({
      from: { tag: "schemaDatasource", files, configDir: process.cwd() },
      to: { tag: "schemaDatamodel", files },
      script,
      exitCode: true,
      filters: NO_FILTER,
    });
    return { exitCode: out.exitCode, text: (out.stdout ?? "").trim() };
  };
  return {
    async diff(schemaText) {
      const summary = await run(schemaText, false);
      if (summary.exitCode === 0) return { clean: true, summary: summary.text, script: "" };
      return { clean: false, summary: summary.text, script: (await run(schemaText, true)).text };
    },
    close: () => engine.free(),
  };
}

// ───────────────────────────── adapter-pg, fixed for the engine ─────────────────────────────

/**
 * @prisma/adapter-pg (7.10.1) as the schema engine needs it: Postgres' internal "char" type (OID
 * 18: pg_constraint.contype, pg_class.relkind, …) has no column type there ("Column type 'char'
 * could not be deserialized from the database"); the engine reads those columns as ColumnType
 * Character. Recheck when upgrading the adapter. The drift test diffs the live database, so no
 * shadow database is ever needed (the adapter's own has bugs of its own: it drops the database
 * before closing its pool on it).
 */
export function postgresAdapter(url: string): SqlMigrationAwareDriverAdapterFactory {
  const factory = new PrismaPg({ connectionString: url });
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => fixed(await factory.connect()),
    connectToShadowDb: () => Promise.reject(new Error("the drift check diffs the live database: it needs no shadow database")),
  };
}

const CHAR_OID = 18;
const TEXT_OID = 25;

interface PgAdapterInternals {
  performIO(query: unknown): Promise<pg.QueryResult>;
}

function fixed(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const a = adapter as SqlDriverAdapter & PgAdapterInternals;
  const { queryRaw, performIO } = a;
  a.queryRaw = async function (this: typeof a, query) {
    let charColumns: number[] = [];
    // This call's own performIO, so that concurrent queries do not mix their columns.
    const self = Object.create(this, {
      performIO: {
        value: async (q: unknown) => {
          const res = await performIO.call(this, q);
          charColumns = res.fields.flatMap((f, i) => (f.dataTypeID === CHAR_OID ? ((f.dataTypeID = TEXT_OID), [i]) : []));
          return res;
        },
      },
    });
    const out = await queryRaw.call(self, query);
    for (const i of charColumns) out.columnTypes[i] = ColumnTypeEnum.Character;
    return out;
  };
  return a;
}

// ───────────────────────────── what the engine does not see ─────────────────────────────

export type DbOnlyKind =
  | "index"
  | "constraint"
  | "trigger"
  | "function"
  | "view"
  | "sequence"
  | "type"
  | "policy"
  | "rule"
  | "row-level-security"
  | "extension"
  | "schema";

export interface DbOnlyObject {
  kind: DbOnlyKind;
  /** The table it belongs to (indexes, constraints, triggers, policies, rules, row-level security). */
  table?: string;
  name: string;
  /** As Postgres prints it: pg_get_indexdef, pg_get_constraintdef, pg_get_triggerdef, … */
  definition: string;
}

/** An object the migrations create on purpose although schema.prisma cannot express it. */
export interface AllowedObject {
  kind: DbOnlyKind;
  table?: string;
  name: string;
  /** When given, what Postgres prints for it must match. */
  definition?: string | RegExp;
  /** Why schema.prisma cannot express it. */
  reason: string;
}

/**
 * Everything in `schema` that the engine's diff passes over. Indexes: only partial and expression
 * ones (the engine compares the others, including extra ones). Constraints: CHECK and EXCLUDE, and
 * DEFERRABLE keys (the engine ignores deferrability).
 */
export async function dbOnlyObjects(conn: SqlConnection, schema = "public"): Promise<DbOnlyObject[]> {
  const notFromExtension = (catalog: string, oid: string) =>
    `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;
  const sql = `
    SELECT 'index' AS kind, t.relname AS "table", i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND (x.indpred IS NOT NULL OR x.indexprs IS NOT NULL)
    UNION ALL
    SELECT 'constraint', t.relname, c.conname, pg_get_constraintdef(c.oid)
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND (c.contype IN ('c', 'x') OR c.condeferrable)
    UNION ALL
    SELECT 'trigger', t.relname, g.tgname, pg_get_triggerdef(g.oid)
      FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND NOT g.tgisinternal
    UNION ALL
    SELECT 'function', NULL, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
           CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) ELSE p.prokind::text END
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND ${notFromExtension("pg_proc", "p.oid")}
    UNION ALL
    SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'c' THEN 'type' ELSE 'view' END, NULL, c.relname,
           CASE c.relkind WHEN 'v' THEN 'view: ' || pg_get_viewdef(c.oid, true) WHEN 'm' THEN 'materialized view: ' || pg_get_viewdef(c.oid, true)
                          WHEN 'S' THEN 'sequence' WHEN 'c' THEN 'composite type' ELSE 'foreign table' END
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('v', 'm', 'S', 'c', 'f') AND ${notFromExtension("pg_class", "c.oid")}
        -- a sequence owned by a column (serial, identity) is part of that column
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                 AND d.objid = c.oid AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')))
    UNION ALL
    SELECT 'type', NULL, t.typname, CASE t.typtype WHEN 'd' THEN 'domain over ' || format_type(t.typbasetype, t.typtypmod) ELSE 'range type' END
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1 AND t.typtype IN ('d', 'r') AND ${notFromExtension("pg_type", "t.oid")}
    UNION ALL
    SELECT 'policy', t.relname, p.polname,
           coalesce('USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '') || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '')
      FROM pg_policy p JOIN pg_class t ON t.oid = p.polrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = $1
    UNION ALL
    SELECT 'rule', t.relname, r.rulename, pg_get_ruledef(r.oid)
      FROM pg_rewrite r JOIN pg_class t ON t.oid = r.ev_class JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND r.rulename <> '_RETURN'
    UNION ALL
    SELECT 'row-level-security', t.relname, t.relname, 'ALTER TABLE ' || t.relname || ' ENABLE ROW LEVEL SECURITY'
      FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = $1 AND t.relrowsecurity
    UNION ALL
    SELECT 'extension', NULL, extname, 'CREATE EXTENSION ' || extname FROM pg_extension WHERE extname <> 'plpgsql'
    UNION ALL
    SELECT 'schema', NULL, nspname, 'CREATE SCHEMA ' || nspname FROM pg_namespace
      WHERE nspname NOT IN ($1, 'public', 'pg_catalog', 'information_schema', 'pg_toast') AND nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2, 3`;
  const rows = await conn.query<{ kind: DbOnlyKind; table: string | null; name: string; definition: string }>(sql, [schema]);
  return rows.map(({ table, definition, ...r }) => ({ ...r, ...(table ? { table } : {}), definition: definition.trim() }));
}

const key = (o: { kind: string; table?: string; name: string }) => `${o.kind} ${o.table ? `${o.table}.` : ""}${o.name}`;

/** One line per object that is in the database but not allowed, allowed but absent, or not as allowed. */
export function checkAllowlist(actual: readonly DbOnlyObject[], allowed: readonly AllowedObject[]): string[] {
  const byKey = new Map(actual.map((o) => [key(o), o]));
  const allowedKeys = new Set(allowed.map(key));
  const out: string[] = [];
  for (const o of actual) {
    if (!allowedKeys.has(key(o))) {
      out.push(`${key(o)} (${o.definition.split("\n")[0]}): created by the migrations, not expressible in schema.prisma and not in the allowlist`);
    }
  }
  for (const a of allowed) {
    const o = byKey.get(key(a));
    if (!o) out.push(`${key(a)}: in the allowlist (${a.reason}) but the migrations do not create it`);
    else if (a.definition !== undefined && !(typeof a.definition === "string" ? o.definition === a.definition : a.definition.test(o.definition))) {
      out.push(`${key(a)}: the allowlist expects ${String(a.definition)}, the migrations give ${o.definition}`);
    }
  }
  return out;
}
