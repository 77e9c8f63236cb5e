// `npx tsx tests/bench/db-access.ts [--quick]`: one way to the database (issue 19, item 5).
// The same reads and writes, returning the same domain objects the repositories return, done
// three ways on one database:
//   prisma   Prisma's query builder (findMany / findUnique / create in $transaction, with
//            `include` for the names and a second query for the provenance, which has no relation)
//   $raw     Prisma's $queryRawUnsafe / $executeRawUnsafe with the raw path's SQL text, rows
//            mapped by the same mapper (server/data/deployment-rows.ts, fromPageRow)
//   pool     the server's pg pool (db.sql): the repositories' own methods where they are raw SQL
//            (SqlDeploymentRepository.list / getMany / get: getMany names its statement),
//            the same statements unnamed ("pool-unnamed", records by id only), and the
//            environment + audit transaction in SqlPool.transaction
// Operations: (a) a page of 50 active records of one environment, newest first (the list path);
// (b) 50 records by id (getMany, the live view); (c) one record by id; (d) creating an
// environment and its audit entry in one transaction (EnvironmentUseCase.create: the server's
// code, audited() + PrismaEnvironmentRepository, is the `prisma` way).
// It creates its own Postgres database (DATABASE_URL's server, default
// postgres://postgres@127.0.0.1:5432/postgres), migrates it as the server does (openDatabase +
// migrate), seeds 100k records over 4 environments and 5,000 attestations with plain SQL, checks
// that every way returns the same domain objects, then times interleaved rounds (each round runs
// every operation each way, in rotating order), one call at a time: p50 / p99 latency in µs and
// the Node process's CPU per call (process.cpuUsage: our driver, Prisma's query compiler and
// row mapping; Postgres's own CPU is not in it). It also counts the statements each way sends
// per call (a second Database with a tracer, outside the timed runs). The database is dropped at
// the end.
// --quick: fewer rounds and calls (a smoke run).
// Prisma's TypedSQL (prisma/sql/*.sql, `prisma generate --sql`) is not a fourth way: with Prisma
// 7.10 it cannot be generated here. It needs previewFeatures = ["typedSql"] and introspects each
// file through the native schema engine (a child process; the CLI does not use the installed
// @prisma/schema-engine-wasm for it): without PRISMA_SCHEMA_ENGINE_BINARY the CLI tries to
// download it (binaries.prisma.sh: ENOTFOUND), with the usual stand-in it spawns it (EACCES).
import { randomBytes, randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import pg from "pg";
import { openDatabase, type Database, type DbTracer } from "../../server/data/client.js";
import { migrate } from "../../server/data/migrate.js";
import { SqlDeploymentRepository, fromPageRow } from "../../server/data/deployments.js";
import { deploymentPageQuery, WITH_NAMES_JOIN, WITH_NAMES_SELECT, type RawPageRow } from "../../server/data/deployment-pages.js";
import { toDeployment } from "../../server/data/deployment-rows.js";
import { PrismaEnvironmentRepository } from "../../server/data/environments.js";
import { audited, TX_OPTIONS } from "../../server/data/transactions.js";
import type { Deployment } from "../../server/domain/deployments.js";
import type { Environment } from "../../server/domain/environments.js";
import type { Actor } from "../../server/domain/caller.js";
import { createLogger } from "../../server/log.js";

const QUICK = process.argv.includes("--quick");
const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const ROUNDS = QUICK ? 3 : 8;
const CALLS_PER_ROUND = QUICK ? 40 : 150;
const WARMUP_CALLS = QUICK ? 20 : 60;
const RECORDS = 100_000;
const ENVIRONMENTS = 4;
const ACTIVE_PER_ENV = 2_500;
const ATTESTATIONS = 5_000;
const PAGE = 50;
const ID_POOL = 5_000;

const log = (msg: string) => process.stderr.write(`[db-access] ${msg}\n`);
const logger = createLogger("silent");
const ACTOR: Actor = { tokenId: randomUUID(), tokenName: "bench" };

type Op = "list page (50)" | "getMany (50 ids)" | "get (1 id)" | "tx: env + audit";
type Way = "prisma" | "$raw" | "pool" | "pool-unnamed";
type Call = (i: number) => Promise<unknown>;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** A deterministic pseudo-random sequence, so that every way reads the same ids for call i. */
function pick<T>(pool: T[], i: number, salt: number): T {
  const x = Math.imul((i + 1) * 2654435761 + salt * 40503, 2246822519) >>> 0;
  return pool[x % pool.length];
}

async function seed(sql: pg.Client): Promise<{ orgId: string; envIds: string[] }> {
  const orgId = randomUUID();
  await sql.query(`INSERT INTO organizations (id, name) VALUES ($1, 'bench')`, [orgId]);
  const lenvs = (
    await sql.query<{ id: string }>(
      `INSERT INTO logical_environments (id, organization_id, name, built_in)
       SELECT gen_random_uuid(), $1, n, true FROM unnest(ARRAY['development', 'staging', 'production']) n RETURNING id`,
      [orgId],
    )
  ).rows.map((r) => r.id);
  const envIds = (
    await sql.query<{ id: string }>(
      `INSERT INTO environments (id, organization_id, name, heartbeat_interval_ms)
       SELECT gen_random_uuid(), $1, 'env-' || g, CASE WHEN g % 2 = 0 THEN 60000 END FROM generate_series(1, $2::int) g
       RETURNING id`,
      [orgId, ENVIRONMENTS],
    )
  ).rows.map((r) => r.id);
  // Attestations naming digest k (k = 1..ATTESTATIONS) as a subject; records use digests
  // 1..ATTESTATIONS * 1.2, so about 5 in 6 have a provenance.
  const digest = (k: string) => `'sha256:' || md5((${k})::text) || md5((${k} + 3)::text)`;
  await sql.query(
    `INSERT INTO attestations (id, organization_id, digest, content, size_bytes, format, statement_type, predicate_type, workflow, project, project_version)
     SELECT gen_random_uuid(), $1, 'sha256:' || md5('att' || g) || md5('att-' || g), '\\x00'::bytea, 1, 'IN_TOTO_STATEMENT',
            'https://in-toto.io/Statement/v1', 'https://chainloop.dev/attestation/minimal/v1', 'bench', 'project-' || (g % 20), 'v' || g
     FROM generate_series(1, $2::int) g`,
    [orgId, ATTESTATIONS],
  );
  await sql.query(
    `INSERT INTO attested_artifacts (attestation_id, digest, role, organization_id, name, position)
     SELECT a.id, ${digest("a.seq")}, 'subject', a.organization_id, 'artifact', 0 FROM attestations a WHERE a.organization_id = $1`,
    [orgId],
  );
  const digestSpan = Math.round(ATTESTATIONS * 1.2);
  // History first (superseded, spread over the environments), then each environment's active
  // slots: as run.ts seeds, the list path's page is the newest rows of its environment.
  await sql.query(
    `INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest, status, superseded_at,
                              recorded_by_token_id, recorded_by_name)
     SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + g % $3::int], ($4::uuid[])[1 + g % 3], 'svc-' || (g % $5::int), 'CONTAINER_IMAGE',
            ${digest(`1 + g % ${digestSpan}`)}, 'superseded', now(), $6, 'bench'
     FROM generate_series(1, $7::int) g`,
    [orgId, envIds, ENVIRONMENTS, lenvs, ACTIVE_PER_ENV, ACTOR.tokenId, RECORDS - ENVIRONMENTS * ACTIVE_PER_ENV],
  );
  for (const envId of envIds) {
    await sql.query(
      `INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest, status,
                                recorded_by_token_id, recorded_by_name, artifact_name, artifact_version)
       SELECT gen_random_uuid(), $1, $2, $3, 'svc-' || g, 'CONTAINER_IMAGE', ${digest(`1 + (g * 1009) % ${digestSpan}`)}, 'deployed', $4, 'bench',
              'ghcr.io/acme/svc-' || g, '1.' || g
       FROM generate_series(1, $5::int) g`,
      [orgId, envId, lenvs[2], ACTOR.tokenId, ACTIVE_PER_ENV],
    );
  }
  await sql.query(`ANALYZE`);
  return { orgId, envIds };
}

/** Prisma's query builder: a record with its names (include) and, in a second query, its provenance. */
const PRISMA_INCLUDE = {
  environment: { select: { name: true, heartbeatIntervalMs: true } },
  logicalEnvironment: { select: { name: true } },
} as const;

async function provenanceOf(db: Database, orgId: string, digests: string[]): Promise<Map<string, { project: string; projectVersion: string }>> {
  const found = await db.prisma.attestedArtifact.findMany({
    where: { organizationId: orgId, digest: { in: [...new Set(digests)] }, role: "subject" },
    select: { digest: true, attestation: { select: { project: true, projectVersion: true, seq: true } } },
  });
  const newest = new Map<string, { project: string; projectVersion: string; seq: bigint }>();
  for (const f of found) {
    const had = newest.get(f.digest);
    if (!had || f.attestation.seq > had.seq) newest.set(f.digest, f.attestation);
  }
  return new Map([...newest].map(([d, a]) => [d, { project: a.project, projectVersion: a.projectVersion }]));
}

type PrismaRow = Awaited<ReturnType<Database["prisma"]["deployment"]["findMany"]>>[number] & {
  environment: { name: string; heartbeatIntervalMs: number | null };
  logicalEnvironment: { name: string };
};

async function fromPrismaRows(db: Database, orgId: string, rows: PrismaRow[]): Promise<Deployment[]> {
  const provenance = await provenanceOf(db, orgId, rows.map((r) => r.digest));
  return rows.map((r) => {
    const p = provenance.get(r.digest);
    return {
      ...toDeployment(r, { environment: r.environment.name, logicalEnvironment: r.logicalEnvironment.name }, r.environment.heartbeatIntervalMs ?? undefined),
      ...(p ? { provenance: p } : {}),
    };
  });
}

interface RawEnvRow {
  id: string;
  name: string;
  description: string;
  created_at: Date;
  updated_at: Date;
  heartbeat_interval_ms: number | null;
}
const toEnvironment = (r: RawEnvRow): Environment => ({
  id: r.id,
  name: r.name,
  description: r.description,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  heartbeatIntervalMs: r.heartbeat_interval_ms ?? undefined,
});
const ENV_INSERT = `INSERT INTO environments (id, organization_id, name, description) VALUES ($1::uuid, $2::uuid, $3, $4)
  RETURNING id, name, description, created_at, updated_at, heartbeat_interval_ms`;
const AUDIT_INSERT = `INSERT INTO audit_events (id, organization_id, actor_token_id, actor_name, action, resource_type, resource_name)
  VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7)`;
const auditParams = (orgId: string, name: string) => [randomUUID(), orgId, ACTOR.tokenId, ACTOR.tokenName, "environment.create", "environment", name];

/** The record-by-id statement, as SqlDeploymentRepository.getMany sends it. */
const BY_ID = `SELECT ${WITH_NAMES_SELECT}
       FROM deployments d
       ${WITH_NAMES_JOIN}
       WHERE d.organization_id = $1::uuid AND d.id = ANY($2::uuid[])`;

function operations(db: Database, orgId: string, envId: string, ids: string[], run: string): Map<Op, Map<Way, Call>> {
  const repo = new SqlDeploymentRepository(db.sql);
  const page = deploymentPageQuery(orgId, { environmentId: envId, statuses: ["deployed"] }, undefined, PAGE);
  const idsFor = (i: number) => {
    const out = new Set<string>();
    for (let k = 0; out.size < PAGE; k++) out.add(pick(ids, i * PAGE + k, 7));
    return [...out];
  };
  const writes = audited(db.prisma, (tx) => new PrismaEnvironmentRepository(tx));
  let envSeq = 0;
  const envName = () => `tx-${run}-${++envSeq}`;
  return new Map<Op, Map<Way, Call>>([
    [
      "list page (50)",
      new Map<Way, Call>([
        [
          "prisma",
          async () =>
            fromPrismaRows(
              db,
              orgId,
              (await db.prisma.deployment.findMany({
                where: { organizationId: orgId, environmentId: envId, status: "deployed" },
                orderBy: { seq: "desc" },
                take: PAGE,
                include: PRISMA_INCLUDE,
              })) as PrismaRow[],
            ),
        ],
        ["$raw", async () => (await db.prisma.$queryRawUnsafe<RawPageRow[]>(page.text, ...page.params)).map(fromPageRow)],
        ["pool", () => repo.list(orgId, { environmentId: envId, statuses: ["deployed"] }, undefined, PAGE)],
      ]),
    ],
    [
      "getMany (50 ids)",
      new Map<Way, Call>([
        [
          "prisma",
          async (i) =>
            fromPrismaRows(
              db,
              orgId,
              (await db.prisma.deployment.findMany({ where: { organizationId: orgId, id: { in: idsFor(i) } }, include: PRISMA_INCLUDE })) as PrismaRow[],
            ),
        ],
        ["$raw", async (i) => (await db.prisma.$queryRawUnsafe<RawPageRow[]>(BY_ID, orgId, idsFor(i))).map(fromPageRow)],
        ["pool", (i) => repo.getMany(orgId, idsFor(i))],
        ["pool-unnamed", async (i) => (await db.sql.query<RawPageRow>(BY_ID, [orgId, idsFor(i)])).map(fromPageRow)],
      ]),
    ],
    [
      "get (1 id)",
      new Map<Way, Call>([
        [
          "prisma",
          async (i) => {
            const row = await db.prisma.deployment.findUnique({ where: { id: pick(ids, i, 3), organizationId: orgId }, include: PRISMA_INCLUDE });
            return row ? (await fromPrismaRows(db, orgId, [row as PrismaRow]))[0] : undefined;
          },
        ],
        ["$raw", async (i) => (await db.prisma.$queryRawUnsafe<RawPageRow[]>(BY_ID, orgId, [pick(ids, i, 3)])).map(fromPageRow)[0]],
        ["pool", (i) => repo.get(orgId, pick(ids, i, 3))],
        ["pool-unnamed", async (i) => (await db.sql.query<RawPageRow>(BY_ID, [orgId, [pick(ids, i, 3)]])).map(fromPageRow)[0]],
      ]),
    ],
    [
      "tx: env + audit",
      new Map<Way, Call>([
        [
          "prisma",
          () =>
            writes(async ({ repo: envs, audit }) => {
              const env = await envs.create(orgId, { name: envName(), description: "" });
              await audit.append(orgId, ACTOR, { action: "environment.create", resourceType: "environment", resourceName: env.name });
              return env;
            }),
        ],
        [
          "$raw",
          () =>
            db.prisma.$transaction(async (tx) => {
              const name = envName();
              const [row] = await tx.$queryRawUnsafe<RawEnvRow[]>(ENV_INSERT, randomUUID(), orgId, name, "");
              await tx.$executeRawUnsafe(AUDIT_INSERT, ...auditParams(orgId, name));
              return toEnvironment(row);
            }, TX_OPTIONS),
        ],
        [
          "pool",
          () =>
            db.sql.transaction(async (tx) => {
              const name = envName();
              const [row] = await tx.query<RawEnvRow>(ENV_INSERT, [randomUUID(), orgId, name, ""]);
              await tx.query(AUDIT_INSERT, auditParams(orgId, name));
              return { commit: true, value: toEnvironment(row) };
            }),
        ],
      ]),
    ],
  ]);
}

const byId = (xs: Deployment[]) => [...xs].sort((a, b) => a.id.localeCompare(b.id));

/** Every way answers the same domain objects for the same input (the environments: the same shape and fields but id, names and times). */
async function checkSameAnswers(ops: Map<Op, Map<Way, Call>>): Promise<void> {
  for (const [op, ways] of ops) {
    const answers = new Map<Way, unknown>();
    for (const [way, call] of ways) answers.set(way, await call(12345));
    const want = answers.get("pool");
    for (const [way, got] of answers) {
      let same: boolean;
      if (op === "tx: env + audit") {
        const strip = (e: unknown) => Object.keys(e as object).sort().join(",") + `|${(e as Environment).description}|${(e as Environment).heartbeatIntervalMs}`;
        same = strip(got) === strip(want) && (got as Environment).createdAt instanceof Date;
      } else if (op === "getMany (50 ids)") {
        same = isDeepStrictEqual(byId(got as Deployment[]), byId(want as Deployment[])) && (want as Deployment[]).length === PAGE;
      } else if (op === "list page (50)") {
        // …and the page has records with a provenance and without (both mappings are exercised).
        const mixed = new Set((want as Deployment[]).map((d) => d.provenance !== undefined)).size === 2;
        same = isDeepStrictEqual(got, want) && (want as Deployment[]).length === PAGE && mixed;
      } else {
        same = isDeepStrictEqual(got, want) && want !== undefined;
      }
      if (!same) {
        const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x)).slice(0, 600);
        throw new Error(`${op}: ${way} answered differently from pool:\n  ${way}: ${show(got)}\n  pool: ${show(want)}`);
      }
    }
  }
  log("every way answers the same domain objects");
}

/** Statements each way sends per call, counted through a tracer on a second Database (never timed). */
async function countStatements(databaseUrl: string, orgId: string, envId: string, ids: string[]): Promise<Map<string, string>> {
  let seen: string[] = [];
  const tracer: DbTracer = {
    statement: (text, _name, run) => (seen.push(text), run()),
    // SqlPool.transaction's BEGIN and COMMIT are not traced as statements (Prisma's are): counted here.
    transaction: async (run) => {
      seen.push("BEGIN");
      const out = await run();
      seen.push("COMMIT");
      return out;
    },
  };
  const db = await openDatabase({ databaseUrl, dataDir: "/nonexistent", logger, tracer });
  const out = new Map<string, string>();
  try {
    for (const [op, ways] of operations(db, orgId, envId, ids, "count")) {
      for (const [way, call] of ways) {
        await call(1);
        seen = [];
        await call(2);
        // server/data/client.ts's tracedAdapter reports Prisma's tx.commit() as a COMMIT, but
        // @prisma/adapter-pg 7's commit() only releases the connection: the COMMIT itself is the
        // executeRaw just before it. Counted once.
        seen = seen.filter((s, k) => !(s === "COMMIT" && seen[k - 1] === "COMMIT"));
        out.set(`${op}\u0000${way}`, String(seen.length));
        if (way === "prisma") {
          const brief = (s: string) => (s.length > 260 ? `${s.slice(0, 90)} … ${s.slice(-160)}` : s);
          log(`Prisma's statements for ${op}:\n    ${seen.map((s) => brief(s.replace(/\s+/g, " "))).join("\n    ")}`);
        }
      }
    }
  } finally {
    await db.close();
  }
  return out;
}

async function main(): Promise<void> {
  const dbName = `chainloop_dbaccess_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  let db: Database | undefined;
  try {
    db = await openDatabase({ databaseUrl, dataDir: "/nonexistent", logger });
    const migrated = await migrate(db, logger);
    log(`database ${dbName}: ${migrated.applied.length} migrations applied`);
    const sql = new pg.Client({ connectionString: databaseUrl });
    await sql.connect();
    const t0 = performance.now();
    const { orgId, envIds } = await seed(sql);
    const ids = (await sql.query<{ id: string }>(`SELECT id FROM deployments ORDER BY md5(id::text) LIMIT ${ID_POOL}`)).rows.map((r) => r.id);
    const counts = (await sql.query<{ n: string }>(`SELECT count(*) AS n FROM deployments`)).rows[0].n;
    // The plan of Prisma's list statement (its shape as counted below: seq DESC, the status a
    // parameter cast from text), beside the raw page's.
    const plan = async (text: string, params: unknown[]) =>
      (await sql.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ${text}`, params)).rows
        .map((r) => r["QUERY PLAN"])
        .filter((l) => !/^\s+(Filter|Index Cond|Output|Heap)|Planning Time/.test(l))
        .join("\n    ");
    log(
      `plan of Prisma's list statement:\n    ${await plan(
        `SELECT id FROM deployments WHERE organization_id = $1 AND environment_id = $2 AND status = CAST($3::text AS deployment_status) ORDER BY seq DESC LIMIT 50`,
        [orgId, envIds[0], "deployed"],
      )}`,
    );
    const rawPage = deploymentPageQuery(orgId, { environmentId: envIds[0], statuses: ["deployed"] }, undefined, PAGE);
    log(`plan of the raw list page:\n    ${await plan(rawPage.text, rawPage.params)}`);
    await sql.end();
    log(`seeded ${counts} records in ${ENVIRONMENTS} environments, ${ATTESTATIONS} attestations (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

    const ops = operations(db, orgId, envIds[0], ids, "t");
    await checkSameAnswers(ops);
    const statements = await countStatements(databaseUrl, orgId, envIds[0], ids);

    log(`warm-up: ${WARMUP_CALLS} calls of each`);
    for (const ways of ops.values()) for (const call of ways.values()) for (let i = 0; i < WARMUP_CALLS; i++) await call(i);

    const samples = new Map<string, number[]>();
    const cpu = new Map<string, number>();
    let i = 0;
    for (let round = 0; round < ROUNDS; round++) {
      log(`round ${round + 1}/${ROUNDS}`);
      for (const [op, ways] of ops) {
        const order = [...ways.keys()];
        const rotated = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
        const start = i;
        for (const way of rotated) {
          const call = ways.get(way)!;
          const key = `${op}\u0000${way}`;
          const times = samples.get(key) ?? [];
          i = start; // the same inputs for every way of a round
          const c0 = process.cpuUsage();
          for (let n = 0; n < CALLS_PER_ROUND; n++, i++) {
            const t = process.hrtime.bigint();
            await call(i);
            times.push(Number(process.hrtime.bigint() - t) / 1000);
          }
          const c = process.cpuUsage(c0);
          cpu.set(key, (cpu.get(key) ?? 0) + c.user + c.system);
          samples.set(key, times);
        }
      }
    }

    const rows: string[][] = [["operation", "way", "p50 µs", "p99 µs", "p50 ÷ pool", "p99 ÷ pool", "CPU µs/call", "CPU ÷ pool", "statements/call"]];
    const result: Record<string, unknown>[] = [];
    for (const [op, ways] of ops) {
      const base = samples.get(`${op}\u0000pool`)!;
      const baseCpu = cpu.get(`${op}\u0000pool`)! / base.length;
      for (const way of ways.keys()) {
        const key = `${op}\u0000${way}`;
        const xs = samples.get(key)!;
        const cpuPerCall = cpu.get(key)! / xs.length;
        const p50 = percentile(xs, 50);
        const p99 = percentile(xs, 99);
        rows.push([
          op,
          way,
          p50.toFixed(0),
          p99.toFixed(0),
          (p50 / percentile(base, 50)).toFixed(2),
          (p99 / percentile(base, 99)).toFixed(2),
          cpuPerCall.toFixed(0),
          (cpuPerCall / baseCpu).toFixed(2),
          statements.get(key) ?? "?",
        ]);
        result.push({ op, way, calls: xs.length, p50, p99, cpuPerCall, statements: Number(statements.get(key)) });
      }
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => r.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  ");
    process.stdout.write(
      `db-access: ${counts} records, ${ROUNDS} rounds × ${CALLS_PER_ROUND} calls per operation and way (interleaved), one call at a time\n` +
        `${rows.map(line).join("\n")}\n`,
    );
    if (process.env.DB_ACCESS_JSON) {
      const fs = await import("node:fs");
      fs.writeFileSync(process.env.DB_ACCESS_JSON, JSON.stringify({ quick: QUICK, rounds: ROUNDS, callsPerRound: CALLS_PER_ROUND, result }, null, 2));
    }
  } finally {
    await db?.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((e: Error) => log(`could not drop ${dbName}: ${e.message}`));
    await admin.end();
  }
}

main().catch((e) => {
  process.stderr.write(`[db-access] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
