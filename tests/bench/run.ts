// `npm run bench [-- --quick]`: the benchmark. Runs on real Postgres (DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/postgres): creates its own database, starts its own
// server process (the built dist/server/main.js), seeds its own data, and prints one table of
// figures (also written to bench-results.json), each beside the baseline measured in the same
// run:
//   1. floor: the record transaction issued directly with pg from 32 connections, no server
//   2. record throughput over gRPC (h2c) from a separate load process, 32 in flight, 90 %
//      supersede / 10 % heartbeat across 2,000 slots: records/s, p50/p95/p99, ratio to (1)
//   3. list latency: a page of 50 active records filtered by environment with 10k active
//      slots, at 100k and at 1M history rows: p50/p99 and the growth ratio
//   4. CLI round trip: median wall time of `chainloop deployment record --digest …` beside
//      `node -e 0`
//   5. server peak RSS during (2)
// Beside them, baselines from the same run: a second floor (the server's own one-statement
// record, prepared, straight from pg), grpc.health.v1.Health/Check at 32 in flight (the RPC
// stack's fixed cost), and the record at 4 in flight (an unsaturated server).
// For (1) and (2), the CPU time spent per record by the server, by the client (the load
// process in (2), this process's pg driver in (1)) and by the rest of the machine (mostly
// Postgres), from /proc: the machine has few cores shared by all three, so CPU per record
// says more than throughput alone.
// --quick: short phases and 100k rows only (a smoke check for CI).
// --client=lean|connect: the load process's gRPC client (default lean: raw node:http2).
// --sessions=N: HTTP/2 sessions of the lean load client (default 1).
// --compare-clients: after (2), a second throughput phase with the other client (own
//   environment, same workload) to compare the load client's CPU per call.
// --log-level=LEVEL: the server's LOG_LEVEL (default info: one line per call, to a file).
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { deploymentPageQuery } from "../../server/data/deployment-pages.js";
import { RECORD_STATEMENT, RECORD_STATEMENT_NAME, recordParams } from "../../server/data/deployments.js";
import { AttestationService } from "../../gen/proto/chainloop/v1/attestation_pb.js";
import { DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const QUICK = process.argv.includes("--quick");
const TOKEN = `clp_bench${randomBytes(16).toString("hex")}`;
const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const CONCURRENCY = 32;
const SLOTS = 2_000;
const SERVER_LOG_LEVEL = process.argv.find((a) => a.startsWith("--log-level="))?.slice("--log-level=".length) ?? "info";
/** In-flight calls for the unsaturated latency figure (one pipeline's view). */
const LIGHT_CONCURRENCY = 4;
const PHASE_SECONDS = QUICK ? 4 : 20;
const ACTIVE_SLOTS = 10_000;
const HISTORY_SIZES = QUICK ? [100_000] : [100_000, 1_000_000];
const LIST_CALLS = QUICK ? 60 : 300;
const LIST_ROUNDS = 3;
const CLI_RUNS = QUICK ? 5 : 15;
const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
type LoadClient = "lean" | "connect";
const LOAD_CLIENT = (flag("client") ?? "lean") as LoadClient;
if (LOAD_CLIENT !== "lean" && LOAD_CLIENT !== "connect") throw new Error(`--client must be lean or connect, not ${LOAD_CLIENT}`);
const LOAD_SESSIONS = Number(flag("sessions") ?? 1);
if (!(Number.isInteger(LOAD_SESSIONS) && LOAD_SESSIONS >= 1)) throw new Error(`--sessions must be a positive integer`);
const COMPARE_CLIENTS = process.argv.includes("--compare-clients");

const digestOf = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;
const median = (xs: number[]) => percentile(xs, 50);
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

interface Row {
  metric: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
}

async function main(): Promise<void> {
  const dbName = `chainloop_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const dataDir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "chainloop-bench-"));
  const server = await startServer(databaseUrl, dataDir);
  const rows: Row[] = [];
  const results: Record<string, unknown> = { quick: QUICK, startedAt: new Date().toISOString() };
  try {
    const transport = createGrpcTransport({
      baseUrl: server.url,
      interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${TOKEN}`), next(req))],
    });
    const envs = createClient(EnvironmentService, transport);
    const deployments = createClient(DeploymentService, transport);
    const attestations = createClient(AttestationService, transport);
    for (const name of ["bench-load", "bench-load-light", "bench-floor", "bench-floor-stmt", "bench-list", "bench-cli", ...(COMPARE_CLIENTS ? ["bench-load-alt"] : [])]) {
      await envs.createEnvironment({ name });
    }

    log("attesting the digest pool");
    const pool = Array.from({ length: 5_000 }, (_, i) => digestOf(`bench-${i}`));
    for (let i = 0; i < pool.length; i += 500) {
      const statement = {
        _type: "https://in-toto.io/Statement/v1",
        subject: pool.slice(i, i + 500).map((d, j) => ({ name: `artifact-${i + j}`, digest: { sha256: d.slice(7) } })),
        predicateType: "https://chainloop.dev/attestation/minimal/v1",
        predicate: { workflow: "bench", project: "bench" },
      };
      await attestations.pushAttestation({ content: Buffer.from(JSON.stringify(statement)), workflow: "bench", project: "bench" });
    }

    const sql = new pg.Pool({ connectionString: databaseUrl, max: CONCURRENCY });
    sql.on("error", (e) => log(`idle pg connection lost: ${e.message}`));
    const ids = (
      await sql.query<{ org: string; floor: string; stmt: string; load: string; light: string; alt: string | null; list: string; lenv: string }>(
        `SELECT o.id AS org,
                (SELECT id FROM environments WHERE organization_id = o.id AND name = 'bench-floor') AS floor,
                (SELECT id FROM environments WHERE organization_id = o.id AND name = 'bench-floor-stmt') AS stmt,
                (SELECT id FROM environments WHERE organization_id = o.id AND name = 'bench-load') AS load,
                (SELECT id FROM environments WHERE organization_id = o.id AND name = 'bench-load-light') AS light,
                (SELECT id FROM environments WHERE organization_id = o.id AND name = 'bench-load-alt') AS alt,
                (SELECT id FROM environments WHERE organization_id = o.id AND name = 'bench-list') AS list,
                (SELECT id FROM logical_environments WHERE organization_id = o.id AND name = 'production') AS lenv
         FROM organizations o WHERE o.name = 'default'`,
      )
    ).rows[0];

    // Every slot starts with an active record, so that a new digest supersedes and a repeated one
    // heartbeats from the first call (the 90 % / 10 % mix), rather than creating.
    await seedSlots(sql, ids.org, ids.floor, ids.lenv, "floor-", pool);
    await seedSlots(sql, ids.org, ids.stmt, ids.lenv, "floor-", pool);
    await seedSlots(sql, ids.org, ids.load, ids.lenv, "svc-", pool);
    await seedSlots(sql, ids.org, ids.light, ids.lenv, "svc-", pool);
    if (ids.alt) await seedSlots(sql, ids.org, ids.alt, ids.lenv, "svc-", pool);

    // 1. Floor.
    await settle(sql);
    log(`floor: ${PHASE_SECONDS}s of record transactions over ${CONCURRENCY} pg connections`);
    const floorCpuStart = cpuSnapshot(server.pid);
    const floor = await runFloor(sql, "floor-", pool, floorTransaction(ids.org, ids.floor, ids.lenv));
    const floorCpu = cpuAccountOf(cpuDelta(floorCpuStart, cpuSnapshot(server.pid, true)), floor.transactions, "self");
    results.floor = { ...floor, cpu: floorCpu };
    // A second floor: the server's own one-statement record, prepared, issued straight from pg.
    await settle(sql);
    log(`floor: ${PHASE_SECONDS}s of the server's record statement over ${CONCURRENCY} pg connections`);
    const stmtCpuStart = cpuSnapshot(server.pid);
    const stmtFloor = await runFloor(sql, "floor-", pool, floorStatement(ids.org, "bench-floor-stmt"));
    const stmtCpu = cpuAccountOf(cpuDelta(stmtCpuStart, cpuSnapshot(server.pid, true)), stmtFloor.transactions, "self");
    results.statementFloor = { ...stmtFloor, cpu: stmtCpu };

    // 2. Record throughput over gRPC from a separate process.
    await settle(sql);
    log(`record throughput: ${PHASE_SECONDS}s over gRPC, ${CONCURRENCY} in flight, ${SLOTS} slots, ${LOAD_CLIENT} client`);
    const rssBefore = rssKb(server.pid);
    const load = await runLoad(server.url, pool, { client: LOAD_CLIENT, sessions: LOAD_SESSIONS, environment: "bench-load" }, server.pid);
    const peakRssMb = peakRssKb(server.pid) / 1024;
    const throughput = load.calls / load.seconds;
    results.record = { ...load, throughput, rssBeforeMb: rssBefore / 1024, peakRssMb };
    const clientLabel = (l: LoadResult) => (l.client === "lean" ? `lean, ${l.sessions} session${l.sessions === 1 ? "" : "s"}` : l.client);
    rows.push(
      { metric: "floor: record tx/s (pg, 32 conns, no server)", value: fmt(floor.tps, 0), baseline: "-", ratio: "-", target: "-" },
      {
        metric: "record/s over gRPC (32 in flight)",
        value: fmt(throughput, 0),
        baseline: `floor ${fmt(floor.tps, 0)}`,
        ratio: fmt(throughput / floor.tps, 2),
        target: "ratio >= 0.5",
      },
      {
        metric: "floor 2: the server's record statement via pg",
        value: fmt(stmtFloor.tps, 0),
        baseline: `record ${fmt(throughput, 0)}`,
        ratio: fmt(throughput / stmtFloor.tps, 2),
        target: "-",
      },
      {
        metric: "  its CPU ms/record: Postgres, pg client",
        value: `${fmt(stmtCpu.perRecord.pgBackends, 3)}, ${fmt(stmtCpu.perRecord.client, 3)}`,
        baseline: "-",
        ratio: "-",
        target: "-",
      },
      { metric: "record latency p50 / p95 (ms)", value: `${fmt(load.latenciesMs[0])} / ${fmt(load.latenciesMs[1])}`, baseline: "-", ratio: "-", target: "-" },
      { metric: "record latency p99 (ms)", value: fmt(load.latenciesMs[2]), baseline: "-", ratio: "-", target: "<= 25" },
      { metric: "record errors", value: String(load.errors), baseline: "-", ratio: "-", target: "0" },
      { metric: "record outcomes (created/superseded/heartbeat)", value: outcomeSummary(load.outcomes), baseline: "-", ratio: "-", target: "-" },
      { metric: "server peak RSS during load (MB)", value: fmt(peakRssMb, 0), baseline: "-", ratio: "-", target: "<= 200" },
      ...cpuRows(load.cpuAccount, floorCpu, `load client (${clientLabel(load)})`),
    );
    if (load.errors > 0) log(`record errors: ${load.errors}, first: ${load.firstError}`);

    // What bounds the server: the cheapest unary call through the same stack (connect-node over
    // HTTP/2, one pooled SELECT 1, no token) at the same concurrency, beside the record's figures.
    await settle(sql);
    log(`baseline: ${PHASE_SECONDS / 2}s of grpc.health.v1.Health/Check, ${CONCURRENCY} in flight`);
    const health = await runLoad(
      server.url, pool, { client: "lean", sessions: LOAD_SESSIONS, environment: "bench-load", call: "health", seconds: PHASE_SECONDS / 2 },
      server.pid,
    );
    const healthRate = health.calls / health.seconds;
    // One pipeline's view when the server is not saturated.
    await settle(sql);
    log(`record latency at ${LIGHT_CONCURRENCY} in flight: ${PHASE_SECONDS / 2}s`);
    const light = await runLoad(
      server.url, pool, { client: LOAD_CLIENT, sessions: LOAD_SESSIONS, environment: "bench-load-light", concurrency: LIGHT_CONCURRENCY, seconds: PHASE_SECONDS / 2 },
      server.pid,
    );
    results.healthBaseline = { ...health, throughput: healthRate };
    results.recordLight = { ...light, throughput: light.calls / light.seconds };
    rows.push(
      {
        metric: `baseline: Health/Check calls/s (${CONCURRENCY} in flight)`,
        value: fmt(healthRate, 0),
        baseline: `record ${fmt(throughput, 0)}`,
        ratio: fmt(throughput / healthRate, 2),
        target: "-",
      },
      {
        metric: "CPU ms/call, server: record vs Health/Check",
        value: fmt(load.cpuAccount.perRecord.server, 3),
        baseline: `health ${fmt(health.cpuAccount.perRecord.server, 3)}`,
        ratio: fmt(load.cpuAccount.perRecord.server / health.cpuAccount.perRecord.server, 2),
        target: "-",
      },
      { metric: "Health/Check latency p50 / p99 (ms)", value: `${fmt(health.latenciesMs[0])} / ${fmt(health.latenciesMs[2])}`, baseline: "-", ratio: "-", target: "-" },
      {
        metric: `record at ${LIGHT_CONCURRENCY} in flight: calls/s, p50 / p99 (ms)`,
        value: `${fmt(light.calls / light.seconds, 0)}, ${fmt(light.latenciesMs[0])} / ${fmt(light.latenciesMs[2])}`,
        baseline: "-",
        ratio: "-",
        target: "-",
      },
    );
    for (const [name, l] of [["health", health], ["light record", light]] as const) {
      if (l.errors > 0) log(`${name} errors: ${l.errors}, first: ${l.firstError}`);
    }

    if (COMPARE_CLIENTS) {
      const other: LoadClient = LOAD_CLIENT === "lean" ? "connect" : "lean";
      log(`record throughput again with the ${other} client (environment bench-load-alt), to compare the load client's CPU`);
      const alt = await runLoad(server.url, pool, { client: other, sessions: LOAD_SESSIONS, environment: "bench-load-alt" }, server.pid);
      // Only the client's own CPU per call is compared in the table: the second phase meets a warmer server (JIT, pools).
      results.recordOtherClient = { ...alt, throughput: alt.calls / alt.seconds };
      const [lean, connect] = LOAD_CLIENT === "lean" ? [load, alt] : [alt, load];
      rows.push(
        {
          metric: "load client CPU ms/call: lean vs connect",
          value: fmt(lean.cpu.msPerCall, 3),
          baseline: `connect ${fmt(connect.cpu.msPerCall, 3)}`,
          ratio: fmt(lean.cpu.msPerCall / connect.cpu.msPerCall, 2),
          target: "-",
        },
      );
      if (alt.errors > 0) log(`record errors (${other} client): ${alt.errors}, first: ${alt.firstError}`);
    }

    // 3. List latency as history grows.
    // The server's own statement for that page (50 records and one to see if more follow), for the
    // plan and as a baseline: the same page straight from pg, without the RPC stack.
    const page = deploymentPageQuery(ids.org, { environmentId: ids.list, statuses: ["deployed"] }, undefined, 51);
    const listFigures: Array<{
      history: number;
      p50: number;
      p99: number;
      rounds: Array<{ p50: number; p99: number }>;
      statement: { p50: number; p99: number };
      quietHistory: { p50: number; p99: number };
    }> = [];
    let seeded = 0;
    await seedActive(sql, ids.org, ids.list, ids.lenv);
    seeded += ACTIVE_SLOTS;
    for (const target of HISTORY_SIZES) {
      const total = Number((await sql.query("SELECT count(*)::int AS n FROM deployments")).rows[0].n);
      log(`list: seeding history up to ${target} rows (now ${total})`);
      await seedHistory(sql, ids.org, ids.list, ids.lenv, target - total);
      await settle(sql);
      const lat = await measureList(deployments);
      const statement = await measureListStatement(sql, page);
      // A quiet environment's history: the floor's records, written before everything above.
      const quiet = await measureList(deployments, { environment: "bench-floor", history: true });
      listFigures.push({ history: target, ...lat, statement, quietHistory: { p50: quiet.p50, p99: quiet.p99 } });
    }
    results.list = listFigures;
    for (const f of listFigures) {
      rows.push({
        metric: `list 50 active by env, ${f.history / 1000}k rows: p50 / p99 (ms)`,
        value: `${fmt(f.p50, 2)} / ${fmt(f.p99, 2)}`,
        baseline: `statement via pg ${fmt(f.statement.p50, 2)} / ${fmt(f.statement.p99, 2)}`,
        ratio: "-",
        target: "p50 <= 20",
      });
    }
    for (const f of listFigures) {
      rows.push({
        metric: `list 50 of a quiet env's history, ${f.history / 1000}k rows: p50 / p99 (ms)`,
        value: `${fmt(f.quietHistory.p50, 2)} / ${fmt(f.quietHistory.p99, 2)}`,
        baseline: "-",
        ratio: "-",
        target: "-",
      });
    }
    if (listFigures.length === 2) {
      const [small, large] = listFigures;
      rows.push(
        {
          metric: "list p50 growth 100k -> 1M",
          value: fmt(large.p50, 2),
          baseline: `100k ${fmt(small.p50, 2)}`,
          ratio: fmt(large.p50 / small.p50, 2),
          target: "ratio <= 1.3",
        },
        {
          metric: "  the statement alone via pg: p50 growth",
          value: fmt(large.statement.p50, 2),
          baseline: `100k ${fmt(small.statement.p50, 2)}`,
          ratio: fmt(large.statement.p50 / small.statement.p50, 2),
          target: "-",
        },
      );
    }
    const plan = await sql.query(`EXPLAIN (ANALYZE, BUFFERS) ${page.text}`, page.params);
    results.listPlan = plan.rows.map((r) => r["QUERY PLAN"]);
    const scan = (results.listPlan as string[]).filter((l) => /Scan|Rows Removed|Execution Time/.test(l)).map((l) => l.trim());
    log(`list plan at ${HISTORY_SIZES[HISTORY_SIZES.length - 1] / 1000}k rows: ${scan.join(" | ")}`);
    await settle(sql);
    await sql.end();
    void seeded;

    // 4. CLI round trip.
    log(`cli: ${CLI_RUNS} runs of chainloop deployment record beside node -e 0`);
    let cli = { nodeMs: NaN, cliMs: NaN, runs: 0 };
    try {
      cli = measureCli(server.url, pool);
    } catch (e) {
      log(`cli measurement failed: ${(e as Error).message}`);
    }
    results.cli = cli;
    rows.push({
      metric: "CLI deployment record, median wall (ms)",
      value: fmt(cli.cliMs, 0),
      baseline: `node -e 0 ${fmt(cli.nodeMs, 0)}`,
      ratio: fmt(cli.cliMs / cli.nodeMs, 2),
      target: "ratio <= 2.5",
    });
  } finally {
    await server.stop();
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  printTable(rows);
  results.rows = rows;
  fs.writeFileSync(path.join(ROOT, "bench-results.json"), JSON.stringify(results, null, 2) + "\n");
  process.stdout.write(`\nwritten: ${path.join(ROOT, "bench-results.json")}\n`);
}

type PgRecord = (client: pg.PoolClient, slotName: string, digest: string) => Promise<void>;

/** The floor: the record transaction as an application would write it, statement by statement. */
function floorTransaction(org: string, env: string, lenv: string): PgRecord {
  return async (client, name, digest) => {
    await client.query("BEGIN");
    try {
      const found = await client.query<{ id: string; digest: string }>(
        `SELECT id, digest FROM deployments WHERE organization_id = $1 AND environment_id = $2
         AND logical_environment_id = $3 AND name = $4 AND kind = 'CONTAINER_IMAGE' AND status = 'deployed' FOR UPDATE`,
        [org, env, lenv, name],
      );
      const row = found.rows[0];
      if (row && row.digest === digest) {
        await client.query(`UPDATE deployments SET last_seen_at = now() WHERE id = $1`, [row.id]);
      } else {
        if (row) {
          await client.query(`UPDATE deployments SET status = 'superseded', superseded_at = now() WHERE id = $1`, [row.id]);
        }
        const inserted = await client.query<{ id: string }>(
          `INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest)
           VALUES (gen_random_uuid(), $1, $2, $3, $4, 'CONTAINER_IMAGE', $5) RETURNING id`,
          [org, env, lenv, name, digest],
        );
        if (row) {
          await client.query(`UPDATE deployments SET superseded_by_id = $1 WHERE id = $2`, [inserted.rows[0].id, row.id]);
        }
      }
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK");
      throw e;
    }
  };
}

/** The server's own record statement (server/data/deployments.ts), prepared, straight from pg: what the server adds on top of its SQL. */
function floorStatement(org: string, envName: string): PgRecord {
  return async (client, name, digest) => {
    const params = recordParams(
      { organizationId: org, environment: envName, logicalEnvironment: "production", name, kind: "CONTAINER_IMAGE" },
      { digest, artifactName: "", artifactVersion: "", artifactReference: "" },
      undefined,
    );
    const res = await client.query<{ outcome: string | null }>({ name: RECORD_STATEMENT_NAME, text: RECORD_STATEMENT, values: params });
    if (!res.rows[0]?.outcome) throw new Error("the record statement wrote nothing");
  };
}

/** `record` from CONCURRENCY pg connections for PHASE_SECONDS, 90 % supersede / 10 % heartbeat over SLOTS slots named `${prefix}${slot}`. */
async function runFloor(sql: pg.Pool, prefix: string, pool: string[], record: PgRecord) {
  const deadline = performance.now() + PHASE_SECONDS * 1000;
  const current = new Map<number, string>(Array.from({ length: SLOTS }, (_, slot) => [slot, pool[initialDigest(slot, pool)]]));
  let count = 0;
  let conflicts = 0;
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const client = await sql.connect();
      try {
        while (performance.now() < deadline) {
          const slot = Math.floor(random() * SLOTS);
          const active = current.get(slot);
          const digest = active && random() < 0.1 ? active : pool[Math.floor(random() * pool.length)];
          current.set(slot, digest);
          try {
            await record(client, `${prefix}${slot}`, digest);
            count++;
          } catch (e) {
            // Two writers racing on a slot: the server retries these too; anything else is a bench bug.
            if (!["23505", "40P01", "40001"].includes((e as { code?: string }).code ?? "")) throw e;
            conflicts++;
          }
        }
      } finally {
        client.release();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { transactions: count, conflicts, seconds, tps: count / seconds };
}

interface LoadOutput {
  client: LoadClient;
  sessions?: number;
  calls: number;
  errors: number;
  firstError?: string;
  seconds: number;
  latenciesMs: number[];
  outcomes: Record<string, number>;
  /** The load process's own CPU over its timed loop (process.cpuUsage()). */
  cpu: { userMs: number; systemMs: number; ms: number; msPerCall: number; processMs: number };
}
type LoadResult = LoadOutput & { cpuAccount: CpuAccount; loadProcCpuMs: number };

/**
 * Runs tests/bench/load.ts and accounts the CPU spent between its "start" and "end" lines (its
 * timed loop): the server's and the machine's from /proc, the load process's from its own report.
 */
function runLoad(
  url: string,
  pool: string[],
  opts: { client: LoadClient; sessions: number; environment: string; call?: "record" | "health"; concurrency?: number; seconds?: number },
  serverPid: number,
): Promise<LoadResult> {
  const args = {
    url, token: TOKEN, concurrency: opts.concurrency ?? CONCURRENCY, seconds: opts.seconds ?? PHASE_SECONDS, slots: SLOTS,
    environment: opts.environment, heartbeatRatio: 0.1, digests: pool, call: opts.call ?? "record",
    warmupSeconds: QUICK ? 1 : 3,
    initial: Array.from({ length: SLOTS }, (_, slot) => initialDigest(slot, pool)),
    client: opts.client, sessions: opts.sessions,
  };
  // The digest pool is too large for argv: hand it over in a file.
  const argsFile = path.join(fs.mkdtempSync(path.join("/tmp", "chainloop-load-")), "args.json");
  fs.writeFileSync(argsFile, JSON.stringify(args));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tests/bench/load.ts"), argsFile], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let pending = "";
    let result: LoadOutput | undefined;
    let started: { cpu: CpuSnapshot; loadMs: number } | undefined;
    let ended: { cpu: CpuSnapshot; loadMs: number } | undefined;
    const onLine = (line: string) => {
      const msg = JSON.parse(line) as LoadOutput & { event?: string };
      // Counters are read around the load process's timed loop, this process's CPU last at the start and first at the end.
      if (msg.event === "start") started = { loadMs: procCpuMs(child.pid!), cpu: cpuSnapshot(serverPid) };
      else if (msg.event === "end") ended = { cpu: cpuSnapshot(serverPid, true), loadMs: procCpuMs(child.pid!) };
      else result = msg;
    };
    child.stdout.on("data", (d) => {
      pending += d;
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line) onLine(line);
      }
    });
    child.on("exit", (code) => {
      fs.rmSync(path.dirname(argsFile), { recursive: true, force: true });
      if (pending.trim()) onLine(pending.trim());
      if (code !== 0) return reject(new Error(`load process exited ${code}`));
      if (!result || !started || !ended) return reject(new Error("load process did not report start, end and result"));
      const cpuAccount = cpuAccountOf(cpuDelta(started.cpu, ended.cpu), result.calls, result.cpu.ms);
      resolve({ ...result, cpuAccount, loadProcCpuMs: ended.loadMs - started.loadMs });
    });
  });
}

// CPU accounting, from /proc (Linux). Times are CPU milliseconds summed over all cores.
const CLK_TCK = (() => {
  const n = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim());
  return n > 0 ? n : 100;
})();
/**
 * utime + stime of a process (all its threads), in ms; NaN if it is gone. With `reapedChildren`,
 * plus cutime + cstime: what its children that ended (and were waited for) used.
 */
function procCpuMs(pid: number, reapedChildren = false): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
    const ticks = Number(f[11]) + Number(f[12]) + (reapedChildren ? Number(f[13]) + Number(f[14]) : 0);
    return (ticks * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}
/** Busy time of the whole machine: the "cpu" line of /proc/stat, total minus idle and iowait. */
function machineBusyMs(): number {
  const v = fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).slice(1, 9).map(Number); // user..steal
  const total = v.reduce((a, b) => a + b, 0);
  return ((total - v[3] - v[4]) * 1000) / CLK_TCK;
}
/**
 * CPU of every Postgres process, by pid: the backends (of the bench database and any other), the
 * WAL writer, checkpointer, autovacuum (their titles read "postgres: …") and the postmaster.
 * All of them, not only the bench database's backends: commits make the WAL writer and the
 * postmaster work too, and they belong to the database's cost. The postmaster's figure includes
 * its ended children, so a backend that exits within a window (an idle pool connection closed,
 * a reconnect) still counts: before, its work was lost and Postgres looked 2–10× cheaper.
 */
function postgresProcessesMs(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    const postmaster = /(^|\/)postgres$/.test(cmdline.split("\0", 1)[0]);
    if (postmaster || cmdline.startsWith("postgres: ")) {
      const ms = procCpuMs(Number(entry), postmaster);
      if (Number.isFinite(ms)) out.set(Number(entry), ms);
    }
  }
  return out;
}
interface CpuSnapshot { at: number; machineBusyMs: number; serverMs: number; selfMs: number; pgBackends: Map<number, number> }
/** `selfFirst`: read this process's CPU before the other counters (at the end of a window), else last. */
function cpuSnapshot(serverPid: number, selfFirst = false): CpuSnapshot {
  const self = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const selfBefore = selfFirst ? self() : 0;
  const pgBackends = postgresProcessesMs();
  const serverMs = procCpuMs(serverPid);
  const busy = machineBusyMs();
  const at = performance.now();
  return { at, machineBusyMs: busy, serverMs, selfMs: selfFirst ? selfBefore : self(), pgBackends };
}
interface CpuDelta { wallMs: number; machineBusyMs: number; serverMs: number; selfMs: number; pgBackendsMs: number }
function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): CpuDelta {
  // Every process's total at the end minus every one's at the start: a backend that started within
  // the window counts whole; one that ended within it is in the postmaster's reaped children.
  let pg = 0;
  for (const ms of b.pgBackends.values()) pg += ms;
  for (const ms of a.pgBackends.values()) pg -= ms;
  return { wallMs: b.at - a.at, machineBusyMs: b.machineBusyMs - a.machineBusyMs, serverMs: b.serverMs - a.serverMs, selfMs: b.selfMs - a.selfMs, pgBackendsMs: pg };
}
interface CpuAccount {
  records: number;
  wallMs: number;
  cores: number;
  machineBusyMs: number;
  /** Busy share of the machine's cores over the window. */
  machineUtilisation: number;
  serverMs: number;
  /** The client: the load process, or this process for the floor. */
  clientMs: number;
  /** This process when it is not the client (idle while the load process runs). */
  benchMs: number;
  /** Machine busy minus server, client and this process: Postgres (all of it) and anything else running. */
  restMs: number;
  /** Part of `rest`: every Postgres process (postgresProcessesMs). */
  pgBackendsMs: number;
  perRecord: { server: number; client: number; rest: number; pgBackends: number; machine: number };
}
/** `clientMs`: the client's CPU, or "self" when the client is this process. */
function cpuAccountOf(d: CpuDelta, records: number, clientMs: number | "self"): CpuAccount {
  const client = clientMs === "self" ? d.selfMs : clientMs;
  const bench = clientMs === "self" ? 0 : d.selfMs;
  const rest = d.machineBusyMs - d.serverMs - client - bench;
  const cores = os.availableParallelism();
  const per = (ms: number) => ms / Math.max(1, records);
  return {
    records, wallMs: d.wallMs, cores, machineBusyMs: d.machineBusyMs, machineUtilisation: d.machineBusyMs / (d.wallMs * cores),
    serverMs: d.serverMs, clientMs: client, benchMs: bench, restMs: rest, pgBackendsMs: d.pgBackendsMs,
    perRecord: { server: per(d.serverMs), client: per(client), rest: per(rest), pgBackends: per(d.pgBackendsMs), machine: per(d.machineBusyMs) },
  };
}
function cpuRows(rec: CpuAccount, floor: CpuAccount, clientName: string): Row[] {
  const f3 = (n: number) => fmt(n, 3);
  const row = (metric: string, value: number, floorValue: number | undefined, floorName = "floor"): Row => ({
    metric,
    value: f3(value),
    baseline: floorValue === undefined ? "-" : `${floorName} ${f3(floorValue)}`,
    ratio: floorValue === undefined ? "-" : fmt(value / floorValue, 2),
    target: "-",
  });
  const util = (a: CpuAccount) => `${fmt(a.machineUtilisation * 100, 0)} % of ${a.cores} cores`;
  return [
    row("CPU ms/record: server", rec.perRecord.server, undefined),
    row(`CPU ms/record: ${clientName}`, rec.perRecord.client, floor.perRecord.client, "floor pg client"),
    row("CPU ms/record: rest (Postgres + other)", rec.perRecord.rest, floor.perRecord.rest, "floor rest"),
    row("  of which: Postgres (all its processes)", rec.perRecord.pgBackends, floor.perRecord.pgBackends),
    {
      ...row("CPU ms/record: machine busy", rec.perRecord.machine, floor.perRecord.machine),
      value: `${f3(rec.perRecord.machine)} (${util(rec)})`,
      baseline: `floor ${f3(floor.perRecord.machine)} (${util(floor)})`,
    },
  ];
}
function outcomeSummary(o: Record<string, number>): string {
  const known = ["created", "superseded", "heartbeat"];
  const others = Object.entries(o).filter(([k]) => !known.includes(k));
  return known.map((k) => o[k] ?? 0).join(" / ") + others.map(([k, n]) => `, ${k} ${n}`).join("");
}

let checkpointRefused = false;
/**
 * Between phases: vacuums and analyzes the table (the floors and the load leave thousands of dead
 * rows, and an autovacuum worker starting in the middle of the next phase took CPU from it; its
 * CPU is not even counted per process, the worker exits before the phase ends), then a
 * checkpoint, so that no phase is measured while Postgres writes out the previous one's pages.
 * CHECKPOINT needs superuser or pg_checkpoint; without them the phases run without it, and the
 * log says so once.
 */
async function settle(sql: pg.Pool): Promise<void> {
  await sql.query("VACUUM (ANALYZE) deployments");
  if (checkpointRefused) return;
  try {
    await sql.query("CHECKPOINT");
  } catch (e) {
    checkpointRefused = true;
    log(`CHECKPOINT refused (${(e as Error).message}); phases are measured without one`);
  }
}

/** The digest (index into the pool) each slot is seeded with. */
const initialDigest = (slot: number, pool: string[]) => slot % pool.length;

/** One active record per slot (`${prefix}${slot}`), as recording would leave it. */
async function seedSlots(sql: pg.Pool, org: string, env: string, lenv: string, prefix: string, pool: string[]): Promise<void> {
  const digests = Array.from({ length: SLOTS }, (_, slot) => pool[initialDigest(slot, pool)]);
  await sql.query(
    `INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest, status)
     SELECT gen_random_uuid(), $1, $2, $3, $4 || (g - 1), 'CONTAINER_IMAGE', ($5::text[])[g], 'deployed'
     FROM generate_series(1, $6) g`,
    [org, env, lenv, prefix, digests, SLOTS],
  );
}

async function seedActive(sql: pg.Pool, org: string, env: string, lenv: string): Promise<void> {
  await sql.query(
    `INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest, status)
     SELECT gen_random_uuid(), $1, $2, $3, 'list-' || g, 'CONTAINER_IMAGE', 'sha256:' || md5(g::text) || md5((g + 7)::text), 'deployed'
     FROM generate_series(1, $4) g`,
    [org, env, lenv, ACTIVE_SLOTS],
  );
}

/**
 * History rows for the same environment, inserted after the active ones — the worst case
 * for "active, newest first": other slots churned since these slots last changed.
 */
async function seedHistory(sql: pg.Pool, org: string, env: string, lenv: string, count: number): Promise<void> {
  const chunk = 100_000;
  for (let done = 0; done < count; done += chunk) {
    const n = Math.min(chunk, count - done);
    await sql.query(
      `INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest, status, superseded_at)
       SELECT gen_random_uuid(), $1, $2, $3, 'list-' || (g % $5), 'CONTAINER_IMAGE', 'sha256:' || md5(g::text) || md5((g + 3)::text), 'superseded', now()
       FROM generate_series($4::int + 1, $4::int + $6::int) g`,
      [org, env, lenv, done, ACTIVE_SLOTS, n],
    );
  }
}

/** p50 / p99 of LIST_CALLS sequential calls, after 20 not counted; `call` checks its own answer. */
async function timeCalls(call: () => Promise<void>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 20; i++) await call();
  const times: number[] = [];
  for (let i = 0; i < LIST_CALLS; i++) {
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** The page's statement issued straight from pg (one connection at a time). */
function measureListStatement(sql: pg.Pool, page: { text: string; params: unknown[] }) {
  return timeCalls(async () => {
    const res = await sql.query(page.text, page.params);
    if (res.rows.length !== 51) throw new Error(`the list statement returned ${res.rows.length} rows, expected 51`);
  });
}

/**
 * List p50 / p99 over LIST_ROUNDS rounds, 2 s apart: the median of the rounds' figures. One
 * round's p50 drifted by ±0.6 ms (of ~3 ms) within one run at the same history size, while the
 * statement alone stayed flat, so single rounds made the growth ratio between two sizes read
 * anywhere from 1.26 to 1.78.
 */
async function measureList(
  client: ReturnType<typeof createClient<typeof DeploymentService>>,
  req: { environment: string; history?: boolean } = { environment: "bench-list" },
) {
  const rounds: Array<{ p50: number; p99: number }> = [];
  for (let round = 0; round < LIST_ROUNDS; round++) {
    if (round > 0) await new Promise((r) => setTimeout(r, 2_000));
    rounds.push(
      await timeCalls(async () => {
        const res = await client.listDeployments({ ...req, pageSize: 50 });
        if (res.deployments.length !== 50) throw new Error(`list returned ${res.deployments.length} records, expected 50`);
      }),
    );
  }
  return { p50: median(rounds.map((r) => r.p50)), p99: median(rounds.map((r) => r.p99)), rounds };
}

function measureCli(serverUrl: string, pool: string[]) {
  const env = { ...process.env, CHAINLOOP_SERVER: serverUrl, CHAINLOOP_TOKEN: TOKEN };
  const time = (cmd: string, args: string[]) => {
    const t = performance.now();
    const r = spawnSync(cmd, args, { env, cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
    return performance.now() - t;
  };
  const cliArgs = (i: number) => [
    path.join(ROOT, "cli/chainloop.js"),
    "deployment", "record", "--env", "bench-cli", "--logical-env", "production", "--deployment-name", "cli",
    "--kind", "CONTAINER_IMAGE", "--digest", pool[i % 2],
  ];
  time(process.execPath, cliArgs(0)); // warm the file cache
  const node: number[] = [];
  const cli: number[] = [];
  for (let i = 0; i < CLI_RUNS; i++) {
    node.push(time(process.execPath, ["-e", "0"]));
    cli.push(time(process.execPath, cliArgs(i + 1)));
  }
  return { nodeMs: median(node), cliMs: median(cli), runs: CLI_RUNS };
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}
function peakRssKb(pid: number): number {
  const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

/** The server runs as deployed: `npm start`'s command, logging at LOG_LEVEL (default info: a line per call) to a file. */
async function startServer(databaseUrl: string, dataDir: string) {
  const logFile = path.join(dataDir, "server.log");
  const out = fs.openSync(logFile, "a");
  const child = spawn(process.execPath, ["--enable-source-maps", path.join(ROOT, "dist/server/main.js")], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, CHAINLOOP_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: SERVER_LOG_LEVEL, CHAINLOOP_BOOTSTRAP_TOKEN: TOKEN },
    stdio: ["ignore", out, "inherit"],
  });
  fs.closeSync(out);
  log(`server pid ${child.pid}, LOG_LEVEL=${SERVER_LOG_LEVEL}, log: ${logFile}`);
  // The port is read from /proc (PORT=0), whatever the log level.
  const port = await new Promise<number>((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const p = listeningPort(child.pid!);
      if (p) {
        clearInterval(timer);
        resolve(p);
      } else if (Date.now() - started > 30_000 || child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error("server did not start"));
      }
    }, 100);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once("exit", () => resolve()), child.kill("SIGTERM")))),
  };
}

/** The TCP port a process listens on, from /proc (no log parsing needed). */
function listeningPort(pid: number): number | undefined {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      fs.readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
        const m = /socket:\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        return m ? [m[1]] : [];
      }),
    );
  } catch {
    return undefined;
  }
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === "0A" && inodes.has(f[9])) return parseInt(f[1].split(":")[1], 16);
    }
  }
  return undefined;
}

function printTable(rows: Row[]): void {
  const header: Row = { metric: "METRIC", value: "VALUE", baseline: "BASELINE (same run)", ratio: "RATIO", target: "TARGET" };
  const all = [header, ...rows];
  const keys = Object.keys(header) as Array<keyof Row>;
  const widths = keys.map((k) => Math.max(...all.map((r) => r[k].length)));
  for (const r of all) process.stdout.write(keys.map((k, i) => r[k].padEnd(widths[i])).join("  ").trimEnd() + "\n");
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
