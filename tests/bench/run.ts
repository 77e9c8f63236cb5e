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
// --quick: short phases and 100k rows only (a smoke check for CI).
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { AttestationService } from "../../gen/proto/chainloop/v1/attestation_pb.js";
import { DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const QUICK = process.argv.includes("--quick");
const TOKEN = `clp_bench${randomBytes(16).toString("hex")}`;
const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const CONCURRENCY = 32;
const SLOTS = 2_000;
const PHASE_SECONDS = QUICK ? 4 : 20;
const ACTIVE_SLOTS = 10_000;
const HISTORY_SIZES = QUICK ? [100_000] : [100_000, 1_000_000];
const LIST_CALLS = QUICK ? 60 : 300;
const CLI_RUNS = QUICK ? 5 : 15;

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
    for (const name of ["bench-load", "bench-floor", "bench-list", "bench-cli"]) await envs.createEnvironment({ name });

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
      await sql.query<{ org: string; floor: string; list: string; lenv: string }>(
        `SELECT o.id AS org,
                (SELECT id FROM environments WHERE organization_id = o.id AND name = 'bench-floor') AS floor,
                (SELECT id FROM environments WHERE organization_id = o.id AND name = 'bench-list') AS list,
                (SELECT id FROM logical_environments WHERE organization_id = o.id AND name = 'production') AS lenv
         FROM organizations o WHERE o.name = 'default'`,
      )
    ).rows[0];

    // 1. Floor.
    log(`floor: ${PHASE_SECONDS}s of record transactions over ${CONCURRENCY} pg connections`);
    const floor = await runFloor(sql, ids.org, ids.floor, ids.lenv, pool);
    results.floor = floor;

    // 2. Record throughput over gRPC from a separate process.
    log(`record throughput: ${PHASE_SECONDS}s over gRPC, ${CONCURRENCY} in flight, ${SLOTS} slots`);
    const rssBefore = rssKb(server.pid);
    const load = await runLoad(server.url, pool);
    const peakRssMb = peakRssKb(server.pid) / 1024;
    const throughput = load.calls / load.seconds;
    results.record = { ...load, throughput, rssBeforeMb: rssBefore / 1024, peakRssMb };
    rows.push(
      { metric: "floor: record tx/s (pg, 32 conns, no server)", value: fmt(floor.tps, 0), baseline: "-", ratio: "-", target: "-" },
      {
        metric: "record/s over gRPC (32 in flight)",
        value: fmt(throughput, 0),
        baseline: `floor ${fmt(floor.tps, 0)}`,
        ratio: fmt(throughput / floor.tps, 2),
        target: "ratio >= 0.5",
      },
      { metric: "record latency p50 / p95 (ms)", value: `${fmt(load.latenciesMs[0])} / ${fmt(load.latenciesMs[1])}`, baseline: "-", ratio: "-", target: "-" },
      { metric: "record latency p99 (ms)", value: fmt(load.latenciesMs[2]), baseline: "-", ratio: "-", target: "<= 25" },
      { metric: "record errors", value: String(load.errors), baseline: "-", ratio: "-", target: "0" },
      { metric: "server peak RSS during load (MB)", value: fmt(peakRssMb, 0), baseline: "-", ratio: "-", target: "<= 200" },
    );

    // 3. List latency as history grows.
    const listFigures: Array<{ history: number; p50: number; p99: number }> = [];
    let seeded = 0;
    await seedActive(sql, ids.org, ids.list, ids.lenv);
    seeded += ACTIVE_SLOTS;
    for (const target of HISTORY_SIZES) {
      const total = Number((await sql.query("SELECT count(*)::int AS n FROM deployments")).rows[0].n);
      log(`list: seeding history up to ${target} rows (now ${total})`);
      await seedHistory(sql, ids.org, ids.list, ids.lenv, target - total);
      await sql.query("ANALYZE deployments");
      const lat = await measureList(deployments);
      listFigures.push({ history: target, ...lat });
    }
    results.list = listFigures;
    for (const f of listFigures) {
      rows.push({
        metric: `list 50 active by env, ${f.history / 1000}k rows: p50 / p99 (ms)`,
        value: `${fmt(f.p50, 2)} / ${fmt(f.p99, 2)}`,
        baseline: "-",
        ratio: "-",
        target: "p50 <= 20",
      });
    }
    if (listFigures.length === 2) {
      rows.push({
        metric: "list p50 growth 100k -> 1M",
        value: fmt(listFigures[1].p50, 2),
        baseline: `100k ${fmt(listFigures[0].p50, 2)}`,
        ratio: fmt(listFigures[1].p50 / listFigures[0].p50, 2),
        target: "ratio <= 1.3",
      });
    }
    const plan = await sql.query(
      `EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM deployments WHERE organization_id = $1 AND environment_id = $2 AND status = 'deployed' ORDER BY seq DESC LIMIT 51`,
      [ids.org, ids.list],
    );
    results.listPlan = plan.rows.map((r) => r["QUERY PLAN"]);
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

async function runFloor(sql: pg.Pool, org: string, env: string, lenv: string, pool: string[]) {
  const deadline = performance.now() + PHASE_SECONDS * 1000;
  const current = new Map<number, string>();
  let count = 0;
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
            await client.query("BEGIN");
            const found = await client.query<{ id: string; digest: string }>(
              `SELECT id, digest FROM deployments WHERE organization_id = $1 AND environment_id = $2
               AND logical_environment_id = $3 AND name = $4 AND kind = 'CONTAINER_IMAGE' AND status = 'deployed' FOR UPDATE`,
              [org, env, lenv, `floor-${slot}`],
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
                [org, env, lenv, `floor-${slot}`, digest],
              );
              if (row) {
                await client.query(`UPDATE deployments SET superseded_by_id = $1 WHERE id = $2`, [inserted.rows[0].id, row.id]);
              }
            }
            await client.query("COMMIT");
            count++;
          } catch {
            await client.query("ROLLBACK"); // a race on an empty slot: the server retries these too
          }
        }
      } finally {
        client.release();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { transactions: count, seconds, tps: count / seconds };
}

function runLoad(url: string, pool: string[]): Promise<{ calls: number; errors: number; firstError?: string; seconds: number; latenciesMs: number[] }> {
  const args = { url, token: TOKEN, concurrency: CONCURRENCY, seconds: PHASE_SECONDS, slots: SLOTS, environment: "bench-load", heartbeatRatio: 0.1, digests: pool };
  // The digest pool is too large for argv: hand it over in a file.
  const argsFile = path.join(fs.mkdtempSync(path.join("/tmp", "chainloop-load-")), "args.json");
  fs.writeFileSync(argsFile, JSON.stringify(args));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tests/bench/load.ts"), argsFile], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => {
      fs.rmSync(path.dirname(argsFile), { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`load process exited ${code}`));
      resolve(JSON.parse(out.trim().split("\n").pop()!));
    });
  });
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

async function measureList(client: ReturnType<typeof createClient<typeof DeploymentService>>) {
  for (let i = 0; i < 20; i++) await client.listDeployments({ environment: "bench-list", pageSize: 50 });
  const times: number[] = [];
  for (let i = 0; i < LIST_CALLS; i++) {
    const t = performance.now();
    const res = await client.listDeployments({ environment: "bench-list", pageSize: 50 });
    times.push(performance.now() - t);
    if (res.deployments.length !== 50) throw new Error(`list returned ${res.deployments.length} records, expected 50`);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
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

async function startServer(databaseUrl: string, dataDir: string) {
  const child = spawn(process.execPath, [path.join(ROOT, "dist/server/main.js")], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, CHAINLOOP_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "warn", CHAINLOOP_BOOTSTRAP_TOKEN: TOKEN },
    stdio: ["ignore", "pipe", "inherit"],
  });
  // LOG_LEVEL=warn silences per-call logs; the "listening" line is info, so poll the port from /proc instead.
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
  child.stdout.resume();
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
