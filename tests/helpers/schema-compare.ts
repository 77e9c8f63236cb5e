// Drift check between prisma/schema.prisma and the database our migrations build.
//
// Prisma's own `migrate diff` needs the schema engine binary, which cannot be downloaded on
// every machine, so this is a stand-in:
//   - expectedFromPrismaSchema(text): parses the schema with Prisma's own parser (the DMMF from
//     @prisma/prisma-schema-wasm, pure wasm, no binary) and derives the tables, columns, keys,
//     indexes, foreign keys and enums that `prisma migrate` would create for it on PostgreSQL,
//     with Prisma's default constraint names.
//   - introspect(conn): reads the same facts, plus every other object a migration can create
//     (checks, triggers, functions, views, sequences, extensions, policies, partial/expression
//     indexes, …), from pg_catalog.
//   - compareSchemas(expected, actual, allowlist): one readable line per difference. Objects
//     that schema.prisma cannot express must be named in the allowlist; unlisted extras are
//     differences, and so are listed ones that the migrations do not create.
import { createRequire } from "node:module";
import type { SqlConnection } from "../../server/data/client.js";

// ───────────────────────────── the common shape ─────────────────────────────

export type ReferentialAction = "CASCADE" | "RESTRICT" | "NO ACTION" | "SET NULL" | "SET DEFAULT";

export type DefaultInfo =
  /** now() / CURRENT_TIMESTAMP */
  | { kind: "now"; sql?: string }
  /** autoincrement(): a sequence (serial) or identity column */
  | { kind: "sequence"; sql?: string }
  /** a constant; `value` is the Prisma value (expected) or the parsed SQL literal (actual) */
  | { kind: "literal"; value: unknown; sql?: string }
  /** dbgenerated("…") (expected) or any other SQL expression (actual) */
  | { kind: "expression"; sql: string }
  /** some database default, value not compared (dbgenerated() without argument, Bytes literals) */
  | { kind: "any"; sql?: string };

export interface ColumnInfo {
  name: string;
  /** Short canonical type: varchar(63), timestamptz(6), timestamp(3), uuid, text, integer, MyEnum, text[] … */
  type: string;
  nullable: boolean;
  default: DefaultInfo | null;
  /** GENERATED ALWAYS AS (…) STORED expression (actual only). */
  generated?: string;
}

export interface IndexColumn {
  /** Column name, or the expression text for expression indexes. */
  name: string;
  expression?: boolean;
  desc?: boolean;
  nullsFirst?: boolean;
  /** Operator class, when not the type's default one (actual) or when named in the schema (expected). */
  opclass?: string;
}

export interface IndexInfo {
  name: string;
  unique: boolean;
  /** btree, hash, gin, gist, spgist, brin */
  method: string;
  columns: IndexColumn[];
  /** INCLUDE (…) columns */
  include?: string[];
  /** WHERE … of a partial index */
  predicate?: string;
  /** pg_get_indexdef (actual only) */
  definition?: string;
  /** Created as a UNIQUE constraint rather than a unique index (actual only). */
  isConstraint?: boolean;
}

export interface ForeignKeyInfo {
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
  deferrable: boolean;
}

export interface TableInfo {
  name: string;
  /** The Prisma model (expected only), for messages. */
  model?: string;
  columns: ColumnInfo[];
  primaryKey: { name: string; columns: string[] } | null;
  indexes: IndexInfo[];
  foreignKeys: ForeignKeyInfo[];
}

export interface EnumInfo {
  name: string;
  values: string[];
}

export type DbObjectKind =
  | "table"
  | "column"
  | "index"
  | "constraint"
  | "trigger"
  | "function"
  | "view"
  | "sequence"
  | "extension"
  | "type"
  | "policy"
  | "rule"
  | "schema"
  | "row-level-security";

/** Something in the database that is not a table, column, key, index or enum (actual only). */
export interface DbObject {
  kind: DbObjectKind;
  /** The table it belongs to (constraints, triggers, policies, rules). */
  table?: string;
  name: string;
  definition: string;
}

export interface SchemaSnapshot {
  tables: TableInfo[];
  enums: EnumInfo[];
  objects: DbObject[];
}

/** An object the migrations create on purpose although schema.prisma cannot express it. */
export interface DbOnlyObject {
  kind: DbObjectKind;
  /** For indexes, constraints, triggers, policies, rules and columns. */
  table?: string;
  name: string;
  /** When given, the definition Postgres prints for it (pg_get_indexdef, pg_get_constraintdef, …) must match. */
  definition?: string | RegExp;
  /** Why schema.prisma cannot express it. */
  reason: string;
}

// ───────────────────────────── schema.prisma → expected ─────────────────────────────

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "object" | "enum" | "unsupported";
  isList: boolean;
  isRequired: boolean;
  isUnique: boolean;
  isId: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  isUpdatedAt?: boolean;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

interface DmmfModel {
  name: string;
  dbName: string | null;
  schema?: string | null;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
}

interface DmmfIndex {
  model: string;
  type: "id" | "unique" | "normal" | "fulltext";
  isDefinedOnField: boolean;
  name?: string;
  dbName?: string;
  algorithm?: string;
  clustered?: boolean;
  fields: { name: string; sortOrder?: "asc" | "desc"; length?: number; operatorClass?: unknown }[];
}

interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName?: string | null }[];
}

export interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

interface PrismaSchemaWasm {
  get_dmmf(params: string): string;
}

let wasm: PrismaSchemaWasm | undefined;

/** Prisma's own parser and validator (the wasm build of prisma-fmt): no schema-engine binary needed. */
export function parseDatamodel(schemaText: string, fileName = "schema.prisma"): Datamodel {
  wasm ??= createRequire(import.meta.url)("@prisma/prisma-schema-wasm") as PrismaSchemaWasm;
  let out: string;
  try {
    out = wasm.get_dmmf(JSON.stringify({ prismaSchema: [[fileName, schemaText]], noColor: true }));
  } catch (e) {
    const raw = e instanceof Error ? e.message : String(e);
    let message = raw;
    try {
      message = (JSON.parse(raw) as { message?: string }).message ?? raw;
    } catch {
      /* not JSON */
    }
    throw new Error(`${fileName} does not validate:\n${message}`);
  }
  return (JSON.parse(out) as { datamodel: Datamodel }).datamodel;
}

/** Postgres' NAMEDATALEN - 1: what Prisma truncates its default constraint names to. */
const MAX_IDENTIFIER = 63;

function truncateBytes(s: string, max: number): string {
  const buf = Buffer.from(s, "utf8");
  if (buf.length <= max) return s;
  let end = max;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // stay on a UTF-8 character boundary
  return buf.subarray(0, end).toString("utf8");
}

/** Prisma's default names (psl ConstraintNames), including its truncation to 63 bytes. */
export const prismaNames = {
  primaryKey(table: string): string {
    const t = Buffer.byteLength(table) >= MAX_IDENTIFIER - 5 ? truncateBytes(table, MAX_IDENTIFIER - 5) : table;
    return `${t}_pkey`;
  },
  index(table: string, columns: string[], unique: boolean): string {
    const suffix = unique ? "_key" : "_idx";
    let out = `${table}_${columns.join("_")}`;
    if (Buffer.byteLength(out) >= MAX_IDENTIFIER - suffix.length) out = truncateBytes(out, MAX_IDENTIFIER - suffix.length);
    return out + suffix;
  },
  foreignKey(table: string, columns: string[]): string {
    let out = `${table}_${columns.join("_")}`;
    if (Buffer.byteLength(out) >= MAX_IDENTIFIER - 5) out = truncateBytes(out, MAX_IDENTIFIER - 5);
    return `${out}_fkey`;
  },
};

const PRISMA_ACTIONS: Record<string, ReferentialAction> = {
  Cascade: "CASCADE",
  Restrict: "RESTRICT",
  NoAction: "NO ACTION",
  SetNull: "SET NULL",
  SetDefault: "SET DEFAULT",
};

/** Prisma scalar → the PostgreSQL type `prisma migrate` creates when there is no @db attribute. */
const DEFAULT_TYPES: Record<string, string> = {
  String: "text",
  Boolean: "boolean",
  Int: "integer",
  BigInt: "bigint",
  Float: "double precision",
  Decimal: "numeric(65,30)",
  DateTime: "timestamp(3)",
  Json: "jsonb",
  Bytes: "bytea",
};

/** @db.X(args) → canonical type (see canonicalType for the spelling). */
function nativeType(name: string, args: string[]): string {
  const a = args.map((x) => x.trim());
  const withArgs = (base: string, fallback?: string) =>
    a.length > 0 ? `${base}(${a.join(",")})` : fallback ?? base;
  switch (name) {
    case "Text": return "text";
    case "VarChar": return withArgs("varchar");
    case "Char": return withArgs("char", "char(1)");
    case "Bit": return withArgs("bit", "bit(1)");
    case "VarBit": return withArgs("varbit");
    case "Uuid": return "uuid";
    case "Xml": return "xml";
    case "Inet": return "inet";
    case "Citext": return "citext";
    case "Boolean": return "boolean";
    case "Integer": return "integer";
    case "SmallInt": return "smallint";
    case "BigInt": return "bigint";
    case "Oid": return "oid";
    case "Real": return "real";
    case "DoublePrecision": return "double precision";
    case "Decimal": return withArgs("numeric");
    case "Money": return "money";
    case "Timestamp": return withArgs("timestamp");
    case "Timestamptz": return withArgs("timestamptz");
    case "Date": return "date";
    case "Time": return withArgs("time");
    case "Timetz": return withArgs("timetz");
    case "Json": return "json";
    case "JsonB": return "jsonb";
    case "ByteA": return "bytea";
    default: return canonicalType(a.length > 0 ? `${name}(${a.join(",")})` : name);
  }
}

/**
 * One spelling for a type, whichever side it comes from: format_type() output
 * ("character varying(63)", "timestamp(6) with time zone", "\"Status\"[]") and the
 * names above both end up as "varchar(63)", "timestamptz(6)", "Status[]".
 */
export function canonicalType(raw: string): string {
  let t = raw.trim();
  let arrays = "";
  while (t.endsWith("[]")) {
    arrays += "[]";
    t = t.slice(0, -2).trim();
  }
  t = t.replace(/"/g, "").replace(/^public\./, "").replace(/\s*,\s*/g, ",").replace(/\s+/g, " ");
  const rules: [RegExp, string][] = [
    [/^character varying(\(\d+\))?$/i, "varchar$1"],
    [/^character(\(\d+\))?$/i, "char$1"],
    [/^bpchar$/i, "char"],
    [/^bit varying(\(\d+\))?$/i, "varbit$1"],
    [/^timestamp(\(\d+\))? with time zone$/i, "timestamptz$1"],
    [/^timestamp(\(\d+\))? without time zone$/i, "timestamp$1"],
    [/^time(\(\d+\))? with time zone$/i, "timetz$1"],
    [/^time(\(\d+\))? without time zone$/i, "time$1"],
    [/^int4$/i, "integer"],
    [/^int$/i, "integer"],
    [/^int2$/i, "smallint"],
    [/^int8$/i, "bigint"],
    [/^float8$/i, "double precision"],
    [/^float4$/i, "real"],
    [/^bool$/i, "boolean"],
    [/^decimal(\(.*\))?$/i, "numeric$1"],
  ];
  for (const [re, to] of rules) {
    if (re.test(t)) {
      t = t.replace(re, to);
      break;
    }
  }
  return t + arrays;
}

/** Prisma operator class names (JsonbPathOps, Int4MinMaxOps, Raw("…")) → PostgreSQL's (jsonb_path_ops, int4_minmax_ops). */
function opclassName(op: unknown): string | undefined {
  if (op === undefined || op === null) return undefined;
  if (typeof op === "object") {
    const o = op as Record<string, unknown>;
    const raw = o.raw ?? o.Raw ?? o.name;
    return typeof raw === "string" ? raw : JSON.stringify(op);
  }
  const s = String(op);
  const raw = /^raw\("(.*)"\)$/i.exec(s);
  if (raw) return raw[1];
  return s
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .replace(/min_max/g, "minmax")
    .replace(/timestamp_tz/g, "timestamptz")
    .replace(/time_tz/g, "timetz")
    .replace(/var_bit/g, "varbit")
    .replace(/mac_addr/g, "macaddr");
}

/** The bits of schema.prisma that the DMMF leaves out: Unsupported("…") fields and @relation(map: "…"). */
interface TextFacts {
  unsupported: Map<string, { field: string; column: string; type: string; list: boolean; optional: boolean; hasDefault: boolean }[]>;
  relationMaps: Map<string, string>; // "Model.field" → constraint name
  relationModePrisma: boolean;
}

function stripComment(line: string): string {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "\\" && inString) {
      i++;
      continue;
    }
    if (c === '"') inString = !inString;
    if (!inString && c === "/" && line[i + 1] === "/") return line.slice(0, i);
  }
  return line;
}

function scanSchemaText(text: string): TextFacts {
  const facts: TextFacts = { unsupported: new Map(), relationMaps: new Map(), relationModePrisma: false };
  let block: { kind: string; name: string } | null = null;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = stripComment(rawLine);
    if (!block) {
      const open = /^\s*(model|datasource|generator|enum|view|type)\s+(\w+)\s*\{/.exec(line);
      if (open) block = { kind: open[1]!, name: open[2]! };
      continue;
    }
    if (/^\s*\}\s*$/.test(line)) {
      block = null;
      continue;
    }
    if (block.kind === "datasource" && /^\s*relationMode\s*=\s*"prisma"/.test(line)) facts.relationModePrisma = true;
    if (block.kind !== "model") continue;
    const unsupported = /^\s*(\w+)\s+Unsupported\(\s*"((?:[^"\\]|\\.)*)"\s*\)(\[\]|\?)?(.*)$/.exec(line);
    if (unsupported) {
      const rest = unsupported[4] ?? "";
      const map = /@map\(\s*(?:name:\s*)?"([^"]+)"/.exec(rest);
      const list = facts.unsupported.get(block.name) ?? [];
      list.push({
        field: unsupported[1]!,
        column: map ? map[1]! : unsupported[1]!,
        type: canonicalType(unsupported[2]!),
        list: unsupported[3] === "[]",
        optional: unsupported[3] === "?",
        hasDefault: /@default\(/.test(rest),
      });
      facts.unsupported.set(block.name, list);
      continue;
    }
    const relation = /^\s*(\w+)\s+\w+.*@relation\((.*)$/.exec(line);
    if (relation) {
      const map = /\bmap:\s*"([^"]+)"/.exec(relation[2]!);
      if (map) facts.relationMaps.set(`${block.name}.${relation[1]}`, map[1]!);
    }
  }
  return facts;
}

function expectedDefault(field: DmmfField, enums: Map<string, DmmfEnum>): DefaultInfo | null {
  if (!field.hasDefaultValue || field.default === undefined) return null;
  const d = field.default;
  if (d !== null && typeof d === "object" && !Array.isArray(d) && "name" in d) {
    const fn = d as { name: string; args: unknown[] };
    switch (fn.name) {
      case "now":
        return { kind: "now" };
      case "autoincrement":
      case "sequence":
        return { kind: "sequence" };
      case "dbgenerated":
        return fn.args.length > 0 && typeof fn.args[0] === "string" && fn.args[0] !== ""
          ? { kind: "expression", sql: fn.args[0] }
          : { kind: "any" };
      default:
        // uuid(), cuid(), nanoid(), ulid(): generated by Prisma Client, no database default.
        return null;
    }
  }
  const enumDef = field.kind === "enum" ? enums.get(field.type) : undefined;
  const toDb = (v: unknown) => {
    if (!enumDef) return v;
    const value = enumDef.values.find((x) => x.name === v);
    return value?.dbName ?? v;
  };
  if (field.type === "Bytes") return { kind: "any" }; // base64 in the schema, bytea escapes in the database
  return { kind: "literal", value: Array.isArray(d) ? d.map(toDb) : toDb(d) };
}

/** What `prisma migrate` would create on PostgreSQL for this schema.prisma text. */
export function expectedFromPrismaSchema(schemaText: string): SchemaSnapshot {
  const dm = parseDatamodel(schemaText);
  const text = scanSchemaText(schemaText);
  const enums = new Map(dm.enums.map((e) => [e.name, e]));
  const models = new Map(dm.models.map((m) => [m.name, m]));
  const tableOf = (m: DmmfModel) => m.dbName ?? m.name;
  const columnOf = (m: DmmfModel, fieldName: string) => {
    const f = m.fields.find((x) => x.name === fieldName);
    if (!f) throw new Error(`model ${m.name} has no field ${fieldName}`);
    return f.dbName ?? f.name;
  };
  const typeOf = (f: DmmfField): string => {
    let base: string;
    if (f.kind === "enum") {
      const e = enums.get(f.type);
      base = e?.dbName ?? f.type;
    } else if (f.nativeType) {
      base = nativeType(f.nativeType[0], f.nativeType[1] ?? []);
    } else {
      base = DEFAULT_TYPES[f.type] ?? canonicalType(f.type);
    }
    return f.isList ? `${base}[]` : base;
  };

  const tables: TableInfo[] = [];
  for (const m of dm.models) {
    const table = tableOf(m);
    const columns: ColumnInfo[] = m.fields
      .filter((f) => f.kind === "scalar" || f.kind === "enum")
      .map((f) => ({
        name: f.dbName ?? f.name,
        type: typeOf(f),
        // Prisma creates scalar lists without NOT NULL.
        nullable: f.isList ? true : !f.isRequired,
        default: expectedDefault(f, enums),
      }));
    for (const u of text.unsupported.get(m.name) ?? []) {
      columns.push({
        name: u.column,
        type: u.list ? `${u.type}[]` : u.type,
        nullable: u.optional || u.list,
        default: u.hasDefault ? { kind: "any" } : null,
      });
    }

    let primaryKey: TableInfo["primaryKey"] = null;
    const idIndex = dm.indexes.find((i) => i.model === m.name && i.type === "id");
    const idFields = m.primaryKey?.fields ?? m.fields.filter((f) => f.isId).map((f) => f.name);
    if (idFields.length > 0) {
      primaryKey = { name: idIndex?.dbName ?? prismaNames.primaryKey(table), columns: idFields.map((f) => columnOf(m, f)) };
    }

    const indexes: IndexInfo[] = dm.indexes
      .filter((i) => i.model === m.name && (i.type === "unique" || i.type === "normal"))
      .map((i) => {
        const cols = i.fields.map((f) => columnOf(m, f.name));
        return {
          name: i.dbName ?? prismaNames.index(table, cols, i.type === "unique"),
          unique: i.type === "unique",
          method: (i.algorithm ?? "BTree").toLowerCase(),
          columns: i.fields.map((f, k) => ({
            name: cols[k]!,
            ...(f.sortOrder === "desc" ? { desc: true } : {}),
            ...(f.operatorClass !== undefined ? { opclass: opclassName(f.operatorClass) } : {}),
          })),
        };
      });

    const foreignKeys: ForeignKeyInfo[] = [];
    if (!text.relationModePrisma) {
      for (const f of m.fields) {
        if (f.kind !== "object" || !f.relationFromFields || f.relationFromFields.length === 0) continue;
        const target = models.get(f.type);
        if (!target) throw new Error(`relation ${m.name}.${f.name} points at unknown model ${f.type}`);
        const cols = f.relationFromFields.map((x) => columnOf(m, x));
        foreignKeys.push({
          name: text.relationMaps.get(`${m.name}.${f.name}`) ?? prismaNames.foreignKey(table, cols),
          columns: cols,
          refTable: tableOf(target),
          refColumns: (f.relationToFields ?? []).map((x) => columnOf(target, x)),
          // Prisma's defaults: Restrict for a required relation, SetNull for an optional one; Cascade on update.
          onDelete: PRISMA_ACTIONS[f.relationOnDelete ?? (f.isRequired ? "Restrict" : "SetNull")]!,
          onUpdate: PRISMA_ACTIONS[f.relationOnUpdate ?? "Cascade"]!,
          deferrable: false,
        });
      }
    }
    tables.push({ name: table, model: m.name, columns, primaryKey, indexes, foreignKeys });
  }

  // Implicit many-to-many relations: Prisma's join table _<RelationName>(A, B).
  const seen = new Set<string>();
  for (const m of dm.models) {
    for (const f of m.fields) {
      if (f.kind !== "object" || !f.isList || !f.relationName || seen.has(f.relationName)) continue;
      const target = models.get(f.type)!;
      const back = target.fields.filter(
        (x) => x.kind === "object" && x.relationName === f.relationName && !(target === m && x.name === f.name),
      );
      const other = back[0] ?? f; // self-relations name the same model twice
      if (!other.isList || (f.relationFromFields?.length ?? 0) > 0 || (other.relationFromFields?.length ?? 0) > 0) continue;
      seen.add(f.relationName);
      const [a, b] = [m, target].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)) as [DmmfModel, DmmfModel];
      const idColumn = (model: DmmfModel) => {
        const id = model.fields.find((x) => x.isId);
        if (!id) throw new Error(`implicit many-to-many ${f.relationName}: ${model.name} needs a single-field @id`);
        return { column: id.dbName ?? id.name, type: typeOf(id) };
      };
      const [ida, idb] = [idColumn(a), idColumn(b)];
      const table = `_${f.relationName}`;
      tables.push({
        name: table,
        model: `implicit many-to-many relation ${f.relationName}`,
        columns: [
          { name: "A", type: ida.type, nullable: false, default: null },
          { name: "B", type: idb.type, nullable: false, default: null },
        ],
        primaryKey: { name: `${table}_AB_pkey`, columns: ["A", "B"] },
        indexes: [{ name: `${table}_B_index`, unique: false, method: "btree", columns: [{ name: "B" }] }],
        foreignKeys: text.relationModePrisma
          ? []
          : [
              { name: `${table}_A_fkey`, columns: ["A"], refTable: tableOf(a), refColumns: [ida.column], onDelete: "CASCADE", onUpdate: "CASCADE", deferrable: false },
              { name: `${table}_B_fkey`, columns: ["B"], refTable: tableOf(b), refColumns: [idb.column], onDelete: "CASCADE", onUpdate: "CASCADE", deferrable: false },
            ],
      });
    }
  }

  return {
    tables,
    enums: dm.enums.map((e) => ({ name: e.dbName ?? e.name, values: e.values.map((v) => v.dbName ?? v.name) })),
    objects: [],
  };
}

// ───────────────────────────── database → actual ─────────────────────────────

const ACTIONS: Record<string, ReferentialAction> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};

/** Strips trailing `::type` casts and wrapping parentheses: `('x'::character varying)` → `'x'`. */
function stripCasts(expr: string): string {
  let e = expr.trim();
  for (;;) {
    const before = e;
    e = e.replace(/::(?:"[^"]+"|[\w.]+(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?: [a-z]+)*(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?)(?:\[\])*$/i, "").trim();
    if (/^\(.*\)$/s.test(e) && balanced(e.slice(1, -1))) e = e.slice(1, -1).trim();
    if (e === before) return e;
  }
}

function balanced(s: string): boolean {
  let depth = 0;
  let inString = false;
  for (const c of s) {
    if (c === "'") inString = !inString;
    if (inString) continue;
    if (c === "(") depth++;
    if (c === ")" && --depth < 0) return false;
  }
  return depth === 0;
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let cur = "";
  for (const c of s) {
    if (c === "'") inString = !inString;
    if (!inString && (c === "(" || c === "[")) depth++;
    if (!inString && (c === ")" || c === "]")) depth--;
    if (!inString && depth === 0 && c === ",") {
      parts.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (cur.trim() !== "") parts.push(cur.trim());
  return parts;
}

function parseSqlScalar(expr: string): { ok: true; value: unknown } | { ok: false } {
  const e = stripCasts(expr);
  const str = /^E?'((?:[^']|'')*)'$/s.exec(e);
  if (str) return { ok: true, value: str[1]!.replace(/''/g, "'") };
  if (/^[-+]?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(e)) return { ok: true, value: e };
  if (/^(true|false)$/i.test(e)) return { ok: true, value: e.toLowerCase() === "true" };
  const arr = /^ARRAY\[(.*)\]$/is.exec(e);
  if (arr) {
    const items = splitTopLevel(arr[1]!).map(parseSqlScalar);
    if (items.every((i) => i.ok)) return { ok: true, value: items.map((i) => (i as { value: unknown }).value) };
  }
  return { ok: false };
}

/** pg_get_expr of a column default → DefaultInfo. */
export function parseDbDefault(sql: string): DefaultInfo | null {
  const e = sql.trim();
  if (/^null(::.*)?$/i.test(e)) return null;
  if (/^(current_timestamp(\(\d\))?|now\(\)|transaction_timestamp\(\)|localtimestamp(\(\d\))?)$/i.test(stripCasts(e))) {
    return { kind: "now", sql: e };
  }
  if (/^nextval\(/i.test(e)) return { kind: "sequence", sql: e };
  const lit = parseSqlScalar(e);
  if (lit.ok) return { kind: "literal", value: lit.value, sql: e };
  return { kind: "expression", sql: e };
}

export interface IntrospectOptions {
  /** The schema to read (default "public"). */
  schema?: string;
  /** Tables to leave out (default: Prisma's bookkeeping table). */
  ignoreTables?: string[];
}

/** Reads everything the migrations created, from pg_catalog. Works on Postgres and PGlite. */
export async function introspect(conn: SqlConnection, opts: IntrospectOptions = {}): Promise<SchemaSnapshot> {
  const schema = opts.schema ?? "public";
  const ignore = new Set(opts.ignoreTables ?? ["_prisma_migrations"]);
  const q = <T>(sql: string) => conn.query<T>(sql, [schema]);
  /** Objects that belong to an extension (created by CREATE EXTENSION, not by us). */
  const notFromExtension = (catalog: string, oid: string) =>
    `NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '${catalog}'::regclass AND dep.objid = ${oid} AND dep.deptype = 'e')`;

  const tableRows = await q<{ name: string; rls: boolean }>(`
    SELECT c.relname AS name, c.relrowsecurity AS rls
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND ${notFromExtension("pg_class", "c.oid")}
    ORDER BY c.relname`);
  const tables = new Map<string, TableInfo>();
  const objects: DbObject[] = [];
  for (const r of tableRows) {
    if (ignore.has(r.name)) continue;
    tables.set(r.name, { name: r.name, columns: [], primaryKey: null, indexes: [], foreignKeys: [] });
    if (r.rls) objects.push({ kind: "row-level-security", table: r.name, name: r.name, definition: `ALTER TABLE ${r.name} ENABLE ROW LEVEL SECURITY` });
  }

  const columnRows = await q<{ table: string; name: string; type: string; notnull: boolean; def: string | null; identity: string; generated: string }>(`
    SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
           pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity::text AS identity, a.attgenerated::text AS generated
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY c.relname, a.attnum`);
  for (const r of columnRows) {
    const t = tables.get(r.table);
    if (!t) continue;
    const col: ColumnInfo = { name: r.name, type: canonicalType(r.type), nullable: !r.notnull, default: null };
    if (r.generated && r.generated !== "") col.generated = r.def ?? "";
    else if (r.identity === "a" || r.identity === "d") {
      col.default = { kind: "sequence", sql: `GENERATED ${r.identity === "a" ? "ALWAYS" : "BY DEFAULT"} AS IDENTITY` };
    } else if (r.def !== null) col.default = parseDbDefault(r.def);
    t.columns.push(col);
  }

  const indexRows = await q<{
    table: string;
    name: string;
    unique: boolean;
    primary: boolean;
    method: string;
    predicate: string | null;
    definition: string;
    constraint_type: string | null;
    columns: { name: string; expression: boolean; desc: boolean; nulls_first: boolean; opclass: string | null; opclass_default: boolean | null; key: boolean }[];
  }>(`
    SELECT t.relname AS table, i.relname AS name, x.indisunique AS unique, x.indisprimary AS primary, am.amname AS method,
           pg_get_expr(x.indpred, x.indrelid) AS predicate, pg_get_indexdef(x.indexrelid) AS definition,
           (SELECT con.contype::text FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid
              AND con.contype IN ('p', 'u', 'x') LIMIT 1) AS constraint_type,
           (SELECT json_agg(json_build_object(
                      'name', CASE WHEN x.indkey[k - 1] = 0 THEN pg_get_indexdef(x.indexrelid, k, true)
                                   ELSE (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1]) END,
                      'expression', x.indkey[k - 1] = 0,
                      'desc', (x.indoption[k - 1] & 1) = 1,
                      'nulls_first', (x.indoption[k - 1] & 2) = 2,
                      'opclass', oc.opcname,
                      'opclass_default', oc.opcdefault,
                      'key', k <= x.indnkeyatts) ORDER BY k)
              FROM generate_series(1, x.indnatts) AS k
              LEFT JOIN pg_opclass oc ON k <= x.indnkeyatts AND oc.oid = x.indclass[k - 1]) AS columns
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_am am ON am.oid = i.relam
    WHERE n.nspname = $1
    ORDER BY t.relname, i.relname`);
  for (const r of indexRows) {
    const t = tables.get(r.table);
    if (!t) continue;
    const keyCols = r.columns.filter((c) => c.key);
    if (r.primary) {
      t.primaryKey = { name: r.name, columns: keyCols.map((c) => c.name) };
      continue;
    }
    if (r.constraint_type === "x") continue; // exclusion constraint: listed with the constraints
    const ix: IndexInfo = {
      name: r.name,
      unique: r.unique,
      method: r.method,
      columns: keyCols.map((c) => ({
        name: c.name,
        ...(c.expression ? { expression: true } : {}),
        ...(c.desc ? { desc: true } : {}),
        // NULLS FIRST is the default for DESC, NULLS LAST for ASC
        ...(c.nulls_first !== c.desc ? { nullsFirst: c.nulls_first } : {}),
        ...(c.opclass && c.opclass_default === false ? { opclass: c.opclass } : {}),
      })),
      definition: r.definition,
    };
    const include = r.columns.filter((c) => !c.key).map((c) => c.name);
    if (include.length > 0) ix.include = include;
    if (r.predicate) ix.predicate = r.predicate;
    if (r.constraint_type === "u") ix.isConstraint = true;
    t.indexes.push(ix);
  }

  const fkRows = await q<{
    table: string;
    name: string;
    ref_table: string;
    ref_schema: string;
    columns: string[];
    ref_columns: string[];
    on_delete: string;
    on_update: string;
    deferrable: boolean;
  }>(`
    SELECT t.relname AS table, con.conname AS name, rt.relname AS ref_table, rn.nspname AS ref_schema,
           (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
           (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_columns,
           con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update, con.condeferrable AS deferrable
    FROM pg_constraint con
    JOIN pg_class t ON t.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_class rt ON rt.oid = con.confrelid
    JOIN pg_namespace rn ON rn.oid = rt.relnamespace
    WHERE n.nspname = $1 AND con.contype = 'f'
    ORDER BY t.relname, con.conname`);
  for (const r of fkRows) {
    const t = tables.get(r.table);
    if (!t) continue;
    t.foreignKeys.push({
      name: r.name,
      columns: r.columns,
      refTable: r.ref_schema === schema ? r.ref_table : `${r.ref_schema}.${r.ref_table}`,
      refColumns: r.ref_columns,
      onDelete: ACTIONS[r.on_delete] ?? (r.on_delete as ReferentialAction),
      onUpdate: ACTIONS[r.on_update] ?? (r.on_update as ReferentialAction),
      deferrable: r.deferrable,
    });
  }

  // CHECK and EXCLUDE constraints (not NOT NULL, which PostgreSQL 18 also lists here as 'n').
  const constraintRows = await q<{ table: string; name: string; definition: string }>(`
    SELECT t.relname AS table, con.conname AS name, pg_get_constraintdef(con.oid) AS definition
    FROM pg_constraint con
    JOIN pg_class t ON t.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = $1 AND con.contype IN ('c', 'x')
    ORDER BY t.relname, con.conname`);
  for (const r of constraintRows) if (tables.has(r.table)) objects.push({ kind: "constraint", ...r });

  const triggerRows = await q<{ table: string; name: string; definition: string }>(`
    SELECT c.relname AS table, tg.tgname AS name, pg_get_triggerdef(tg.oid) AS definition
    FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND NOT tg.tgisinternal
    ORDER BY c.relname, tg.tgname`);
  for (const r of triggerRows) if (!ignore.has(r.table)) objects.push({ kind: "trigger", ...r });

  const relationRows = await q<{ name: string; relkind: string; definition: string | null }>(`
    SELECT c.relname AS name, c.relkind::text AS relkind,
           CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS definition
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('v', 'm', 'S', 'f', 'c') AND ${notFromExtension("pg_class", "c.oid")}
      -- sequences owned by a column (serial, identity) come with that column's default
      AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
               AND d.objid = c.oid AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')))
    ORDER BY c.relname`);
  for (const r of relationRows) {
    const kind: DbObjectKind = r.relkind === "S" ? "sequence" : r.relkind === "c" ? "type" : r.relkind === "f" ? "table" : "view";
    const what = { v: "view", m: "materialized view", S: "sequence", f: "foreign table", c: "composite type" }[r.relkind] ?? r.relkind;
    objects.push({ kind, name: r.name, definition: r.definition ? `${what}: ${r.definition.trim()}` : what });
  }

  const functionRows = await q<{ name: string; definition: string }>(`
    SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name,
           CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) ELSE p.prokind::text END AS definition
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = $1 AND ${notFromExtension("pg_proc", "p.oid")}
    ORDER BY 1`);
  for (const r of functionRows) objects.push({ kind: "function", name: r.name, definition: r.definition.trim() });

  const enumRows = await q<{ name: string; values: string[] }>(`
    SELECT t.typname AS name, json_agg(e.enumlabel ORDER BY e.enumsortorder) AS values
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = $1 AND ${notFromExtension("pg_type", "t.oid")}
    GROUP BY t.typname ORDER BY t.typname`);

  const domainRows = await q<{ name: string; definition: string }>(`
    SELECT t.typname AS name,
           CASE WHEN t.typtype = 'd' THEN 'domain over ' || format_type(t.typbasetype, t.typtypmod) ELSE 'range type' END AS definition
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = $1 AND t.typtype IN ('d', 'r') AND ${notFromExtension("pg_type", "t.oid")}
    ORDER BY t.typname`);
  for (const r of domainRows) objects.push({ kind: "type", ...r });

  const policyRows = await q<{ table: string; name: string; definition: string }>(`
    SELECT c.relname AS table, p.polname AS name,
           coalesce('USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '') ||
           coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '') AS definition
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 ORDER BY 1, 2`);
  for (const r of policyRows) objects.push({ kind: "policy", ...r });

  const ruleRows = await q<{ table: string; name: string; definition: string }>(`
    SELECT c.relname AS table, r.rulename AS name, pg_get_ruledef(r.oid) AS definition
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND r.rulename <> '_RETURN' ORDER BY 1, 2`);
  for (const r of ruleRows) objects.push({ kind: "rule", ...r });

  const extensionRows = await conn.query<{ name: string; version: string }>(
    `SELECT extname AS name, extversion AS version FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname`,
  );
  for (const r of extensionRows) objects.push({ kind: "extension", name: r.name, definition: `CREATE EXTENSION ${r.name} (version ${r.version})` });

  const schemaRows = await conn.query<{ name: string }>(`
    SELECT nspname AS name FROM pg_namespace
    WHERE nspname NOT IN ('public', 'pg_catalog', 'information_schema', 'pg_toast')
      AND nspname NOT LIKE 'pg_temp_%' AND nspname NOT LIKE 'pg_toast_temp_%'
    ORDER BY nspname`);
  for (const r of schemaRows) if (r.name !== schema) objects.push({ kind: "schema", name: r.name, definition: `CREATE SCHEMA ${r.name}` });

  return { tables: [...tables.values()], enums: enumRows, objects };
}

// ───────────────────────────── comparison ─────────────────────────────

function describeDefault(d: DefaultInfo | null, side: "expected" | "actual"): string {
  if (!d) return "";
  if (side === "actual" && d.sql) return ` DEFAULT ${d.sql}`;
  switch (d.kind) {
    case "now": return " DEFAULT now()";
    case "sequence": return " DEFAULT autoincrement()";
    case "expression": return ` DEFAULT ${d.sql}`;
    case "any": return " DEFAULT";
    case "literal": return ` DEFAULT ${typeof d.value === "string" ? `'${d.value}'` : JSON.stringify(d.value)}`;
  }
}

export function describeColumn(c: ColumnInfo, side: "expected" | "actual"): string {
  const generated = c.generated !== undefined ? ` GENERATED ALWAYS AS (${c.generated}) STORED` : "";
  return `${c.type} ${c.nullable ? "NULL" : "NOT NULL"}${describeDefault(c.default, side)}${generated}`;
}

function normalizeSql(s: string): string {
  return s
    .toLowerCase()
    .replace(/::(?:"[^"]+"|[\w.]+(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?: (?:with|without|time|zone|varying|precision))*)(?:\[\])*/g, "")
    .replace(/[\s()"]/g, "");
}

function asDate(v: unknown): number | undefined {
  if (typeof v !== "string" || !/^\d{4}-\d{2}-\d{2}/.test(v)) return undefined;
  let s = v.trim().replace(" ", "T");
  if (/[+-]\d{2}$/.test(s)) s += ":00";
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(s) && s.includes("T")) s += "Z";
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

function parsePgArrayLiteral(v: string): string[] | undefined {
  const m = /^\{(.*)\}$/s.exec(v);
  if (!m) return undefined;
  if (m[1] === "") return [];
  return m[1]!.split(",").map((x) => x.trim().replace(/^"(.*)"$/s, "$1"));
}

/** Literal defaults compare loosely: 1.5 = '1.5', false = 'false', {} = '{}', timestamps by instant. */
function looseEqual(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected)) {
    const act = Array.isArray(actual) ? actual : typeof actual === "string" ? parsePgArrayLiteral(actual) : undefined;
    return act !== undefined && act.length === expected.length && expected.every((e, i) => looseEqual(e, act[i]));
  }
  if (String(expected) === String(actual)) return true;
  if (typeof expected === "number" || typeof expected === "bigint" || (typeof expected === "string" && /^[-+]?\d/.test(expected))) {
    const [a, b] = [Number(expected), Number(actual)];
    if (!Number.isNaN(a) && !Number.isNaN(b) && a === b) return true;
  }
  const [da, db] = [asDate(expected), asDate(actual)];
  if (da !== undefined && db !== undefined) return da === db;
  if (typeof expected === "string" && typeof actual === "string") {
    try {
      return JSON.stringify(JSON.parse(expected)) === JSON.stringify(JSON.parse(actual));
    } catch {
      return false;
    }
  }
  return false;
}

function defaultsMatch(expected: DefaultInfo | null, actual: DefaultInfo | null): boolean {
  if (expected === null || actual === null) return expected === actual;
  switch (expected.kind) {
    case "any": return true;
    case "now": return actual.kind === "now";
    case "sequence": return actual.kind === "sequence";
    case "expression": return normalizeSql(expected.sql) === normalizeSql(actual.sql ?? "");
    case "literal": return actual.kind === "literal" && looseEqual(expected.value, actual.value);
  }
}

function columnsMatch(e: ColumnInfo, a: ColumnInfo): boolean {
  return (
    e.type === a.type &&
    e.nullable === a.nullable &&
    defaultsMatch(e.default, a.default) &&
    (e.generated ?? null) === (a.generated ?? null)
  );
}

function describeIndex(ix: IndexInfo): string {
  const cols = ix.columns
    .map((c) => `${c.name}${c.opclass ? ` ${c.opclass}` : ""}${c.desc ? " DESC" : ""}${c.nullsFirst === undefined ? "" : c.nullsFirst ? " NULLS FIRST" : " NULLS LAST"}`)
    .join(", ");
  return (
    `${ix.unique ? "UNIQUE " : ""}${ix.method} (${cols})` +
    (ix.include ? ` INCLUDE (${ix.include.join(", ")})` : "") +
    (ix.predicate ? ` WHERE ${ix.predicate}` : "")
  );
}

function indexSignature(ix: IndexInfo): string {
  return describeIndex(ix);
}

function describeFk(fk: ForeignKeyInfo): string {
  return (
    `(${fk.columns.join(", ")}) → ${fk.refTable}(${fk.refColumns.join(", ")}) ON DELETE ${fk.onDelete} ON UPDATE ${fk.onUpdate}` +
    (fk.deferrable ? " DEFERRABLE" : "")
  );
}

const fkTarget = (fk: ForeignKeyInfo) => `(${fk.columns.join(",")})→${fk.refTable}(${fk.refColumns.join(",")})`;

interface Extra {
  kind: DbObjectKind;
  table?: string;
  name: string;
  definition: string;
  label: string;
}

const ALLOWLIST_HINT = "add it to schema.prisma, or list it in the allowlist of tests/integration/schema-drift.test.ts";

function matchesDefinition(want: string | RegExp | undefined, got: string): boolean {
  if (want === undefined) return true;
  if (want instanceof RegExp) return want.test(got);
  return want.replace(/\s+/g, " ").trim() === got.replace(/\s+/g, " ").trim();
}

/**
 * Every difference between what schema.prisma describes and what the migrations built, one
 * readable line each (empty when they agree). `allowlist` names what the migrations create
 * on purpose although schema.prisma cannot express it.
 */
export function compareSchemas(expected: SchemaSnapshot, actual: SchemaSnapshot, allowlist: readonly DbOnlyObject[] = []): string[] {
  const diffs: string[] = [];
  const extras: Extra[] = [];
  const actualTables = new Map(actual.tables.map((t) => [t.name, t]));
  const expectedTables = new Map(expected.tables.map((t) => [t.name, t]));

  for (const e of [...expected.tables].sort((x, y) => x.name.localeCompare(y.name))) {
    const a = actualTables.get(e.name);
    if (!a) {
      diffs.push(`table ${e.name}: in schema.prisma (${e.model ? `model ${e.model}` : "a model"}) but not created by the migrations`);
      continue;
    }
    // columns
    const aCols = new Map(a.columns.map((c) => [c.name, c]));
    for (const ec of e.columns) {
      const ac = aCols.get(ec.name);
      if (!ac) diffs.push(`column ${e.name}.${ec.name}: in schema.prisma (${describeColumn(ec, "expected")}) but not created by the migrations`);
      else if (!columnsMatch(ec, ac)) {
        diffs.push(`column ${e.name}.${ec.name}: schema says ${describeColumn(ec, "expected")}, migrations give ${describeColumn(ac, "actual")}`);
      }
    }
    const eColNames = new Set(e.columns.map((c) => c.name));
    for (const ac of a.columns) {
      if (!eColNames.has(ac.name)) {
        extras.push({ kind: "column", table: a.name, name: ac.name, definition: describeColumn(ac, "actual"), label: `column ${a.name}.${ac.name} (${describeColumn(ac, "actual")})` });
      }
    }
    // primary key
    const pk = (p: TableInfo["primaryKey"]) => (p ? `${p.name} (${p.columns.join(", ")})` : "none");
    if (pk(e.primaryKey) !== pk(a.primaryKey)) {
      diffs.push(`primary key of ${e.name}: schema says ${pk(e.primaryKey)}, migrations give ${pk(a.primaryKey)}`);
    }
    // indexes: by name; an unmatched pair with the same definition is a rename
    const aIx = new Map(a.indexes.map((i) => [i.name, i]));
    const unmatchedExpected: IndexInfo[] = [];
    const matchedActual = new Set<string>();
    for (const ei of e.indexes) {
      const ai = aIx.get(ei.name);
      if (!ai) {
        unmatchedExpected.push(ei);
        continue;
      }
      matchedActual.add(ai.name);
      if (indexSignature(ei) !== indexSignature(ai)) {
        diffs.push(`index ${e.name}.${ei.name}: schema says ${describeIndex(ei)}, migrations give ${describeIndex(ai)}`);
      }
    }
    for (const ei of unmatchedExpected) {
      const renamed = a.indexes.find((ai) => !matchedActual.has(ai.name) && indexSignature(ai) === indexSignature(ei));
      if (renamed) {
        matchedActual.add(renamed.name);
        diffs.push(`index ${e.name}.${ei.name}: schema.prisma names it ${ei.name}, the migrations ${renamed.name} (${describeIndex(ei)})`);
      } else {
        diffs.push(`index ${e.name}.${ei.name}: in schema.prisma (${describeIndex(ei)}) but not created by the migrations`);
      }
    }
    for (const ai of a.indexes) {
      if (!matchedActual.has(ai.name)) {
        extras.push({ kind: "index", table: a.name, name: ai.name, definition: ai.definition ?? describeIndex(ai), label: `index ${a.name}.${ai.name} (${ai.definition ?? describeIndex(ai)})` });
      }
    }
    // foreign keys: by name; an unmatched pair over the same columns is a rename (and maybe more)
    const aFk = new Map(a.foreignKeys.map((f) => [f.name, f]));
    const matchedFk = new Set<string>();
    const unmatchedFk: ForeignKeyInfo[] = [];
    for (const ef of e.foreignKeys) {
      const af = aFk.get(ef.name);
      if (!af) {
        unmatchedFk.push(ef);
        continue;
      }
      matchedFk.add(af.name);
      if (describeFk(ef) !== describeFk(af)) {
        diffs.push(`foreign key ${e.name}.${ef.name}: schema says ${describeFk(ef)}, migrations give ${describeFk(af)}`);
      }
    }
    for (const ef of unmatchedFk) {
      const renamed = a.foreignKeys.find((af) => !matchedFk.has(af.name) && fkTarget(af) === fkTarget(ef));
      if (renamed) {
        matchedFk.add(renamed.name);
        diffs.push(
          `foreign key ${e.name}.${ef.name}: schema says ${ef.name} ${describeFk(ef)}, migrations give ${renamed.name} ${describeFk(renamed)}`,
        );
      } else {
        diffs.push(`foreign key ${e.name}.${ef.name}: in schema.prisma (${describeFk(ef)}) but not created by the migrations`);
      }
    }
    for (const af of a.foreignKeys) {
      if (!matchedFk.has(af.name)) {
        diffs.push(`foreign key ${a.name}.${af.name}: created by the migrations (${describeFk(af)}) but not in schema.prisma`);
      }
    }
  }
  for (const a of actual.tables) {
    if (!expectedTables.has(a.name)) {
      extras.push({ kind: "table", name: a.name, definition: a.columns.map((c) => `${c.name} ${describeColumn(c, "actual")}`).join(", "), label: `table ${a.name}` });
    }
  }

  // enums
  const actualEnums = new Map(actual.enums.map((e) => [e.name, e]));
  const expectedEnums = new Set(expected.enums.map((e) => e.name));
  const values = (e: EnumInfo) => `(${e.values.map((v) => `'${v}'`).join(", ")})`;
  for (const e of expected.enums) {
    const a = actualEnums.get(e.name);
    if (!a) diffs.push(`enum ${e.name}: in schema.prisma ${values(e)} but not created by the migrations`);
    else if (values(e) !== values(a)) diffs.push(`enum ${e.name}: schema says ${values(e)}, migrations give ${values(a)}`);
  }
  for (const a of actual.enums) {
    if (!expectedEnums.has(a.name)) extras.push({ kind: "type", name: a.name, definition: `enum ${values(a)}`, label: `enum ${a.name} ${values(a)}` });
  }

  for (const o of actual.objects) {
    extras.push({ ...o, label: `${o.kind} ${o.table ? `${o.table}.` : ""}${o.name} (${o.definition.replace(/\s+/g, " ").slice(0, 200)})` });
  }

  // What schema.prisma cannot express must be listed; what is listed must exist.
  const used = new Set<DbOnlyObject>();
  for (const x of extras) {
    const entry = allowlist.find((l) => l.kind === x.kind && l.name === x.name && (l.table ?? undefined) === (x.table ?? undefined));
    if (!entry) {
      diffs.push(`${x.label}: created by the migrations but not in schema.prisma; ${ALLOWLIST_HINT}`);
      continue;
    }
    used.add(entry);
    if (!matchesDefinition(entry.definition, x.definition)) {
      diffs.push(`${x.kind} ${x.table ? `${x.table}.` : ""}${x.name}: the allowlist expects ${String(entry.definition)}, migrations give ${x.definition}`);
    }
  }
  for (const l of allowlist) {
    if (!used.has(l)) {
      diffs.push(
        `${l.kind} ${l.table ? `${l.table}.` : ""}${l.name}: in the allowlist (${l.reason}) but the migrations do not create it ` +
          `(or schema.prisma now describes it); remove it from the allowlist or add it to a migration`,
      );
    }
  }
  return diffs;
}

export function formatDrift(diffs: string[]): string {
  return (
    `schema.prisma and prisma/migrations disagree (${diffs.length} difference${diffs.length === 1 ? "" : "s"}):\n` +
    diffs.map((d) => `  - ${d}`).join("\n") +
    "\nWrite a new migration (prisma/migrations/<timestamp>_<name>/migration.sql) or fix schema.prisma so they describe the same database."
  );
}
