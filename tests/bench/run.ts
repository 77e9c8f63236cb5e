// `npm run bench [-- --quick]`: the benchmark. Runs on real Postgres (DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/postgres): creates its own database, starts two server
// processes of its own (the built dist/server/main.js, as `npm start` runs it), seeds its own
// data, and prints one table of figures (also written to bench-results.json), each beside the
// baseline measured in the same run:
//   1. the floor: pgbench running the smallest correct record transaction (tests/bench/floor.sql:
//      one table whose only secondary indexes are the partial unique index on the active slot and
//      the slot + digest index that finds what a new record rolls back, the same CTE shape as the
//      server's statement), 32 connections, 10k slots, for each mix
//   2. record throughput through server A: wrk over HTTP/1.1 Connect JSON (tests/bench/record.lua),
//      32 connections, 10k slots, 90 % heartbeats (an agent's fleet) and 10 % heartbeats
//      (supersede-heavy), while a watcher (tests/bench/watch.ts) streams every change from
//      server B: records/s and the ratio to the floor of the same mix, latency, errors,
//      outcomes, records per commit (group commit), CPU per record of each process, the
//      watcher's cross-process latency, and what Postgres's backends waited on
//   3. the RPC stack's own cost: grpc.health.v1.Health/Check through server A with wrk
//      (tests/bench/health.lua), 32 connections
//   4. light load: 4 connections, 90 % heartbeats: p50/p99, beside Health/Check at 4 connections
//   5. server A's peak RSS, and the metrics' cost: the heartbeat mix through server C, started
//      with CHAINLOOP_METRICS=off, beside server A's
//   6. a hanging webhook receiver does not slow the record path: each mix through server A
//      without, then with, a webhook subscription whose receiver (an HTTP server in this process)
//      accepts every delivery and never answers: records/s of both and their ratio, latency,
//      CPU per record, the events the records made (supersedes 2 each, heartbeats none), and the
//      outbox: deliveries pending / attempted when the load ended, and how long the fan-out took
//      to catch up
//   7. list latency: a page of 50 active records filtered by environment with 10k active slots,
//      at 100k and 1M history rows, beside the page's statement straight from pg
//   8. environment snapshots through server A: 10,000 entries (ReportSnapshot) new, unchanged
//      (heartbeats only), then with 10 % changed and 10 % gone; the time of each beside the same
//      10,000 records at the heartbeat mix's measured rate, and server A's RSS
//   9. CLI round trip: `chainloop deployment record --digest …` beside `node -e 0`
//   10. point in time, last (so that no phase above runs on its rows): a 1M-record history of 4
//      environments over 400 days (seedPointInTime), then a page of 50 as of 1 hour and 300
//      days ago (ListDeployments as_of, `deployment list --at`), by environment and
//      organization-wide, beside the page's statement straight from pg; and DiffDeployments of two
//      environments' production (2,500 records each) now against now, and now against 1 hour and
//      300 days ago
// wrk and pgbench are C programs: they leave the server and Postgres the CPU a Node load client
// would take. The bench installs them (apt-get) when they are missing and it may.
// --quick: short phases and 100k rows only (a smoke check for CI; the point-in-time history too).
// --log-level=LEVEL: the servers' LOG_LEVEL (default info: one line per call, to a file).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { deploymentPageQuery } from "../../server/data/deployment-pages.js";
import { AttestationService } from "../../gen/proto/chainloop/v1/attestation_pb.js";
import { ArtifactKind, DeploymentService, RecordOutcome } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { WebhookService } from "../../gen/proto/chainloop/v1/webhook_pb.js";
import { hang, ok, WebhookReceiver } from "../helpers/webhook-receiver.js";
import { cpuAccount, cpuSnapshot, rssMb, type CpuAccount, type CpuSnapshot } from "./cpu.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const QUICK = process.argv.includes("--quick");
const TOKEN = `clp_bench${randomBytes(16).toString("hex")}`;
/** Every server process shares it, so that any of them can sign a subscription's deliveries. */
const SECRETS_KEY = randomBytes(32).toString("hex");
const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const CONNECTIONS = 32;
const LIGHT_CONNECTIONS = 4;
const SLOTS = 10_000;
const DIGESTS = 5_000;
/** wrk threads: two event loops, a few percent of a core between them. */
const WRK_THREADS = 2;
const SERVER_LOG_LEVEL = process.argv.find((a) => a.startsWith("--log-level="))?.slice("--log-level=".length) ?? "info";
const PHASE_SECONDS = QUICK ? 5 : 20;
const HALF_PHASE_SECONDS = Math.ceil(PHASE_SECONDS / 2);
const WARMUP_SECONDS = QUICK ? 3 : 8;
const MIXES = [
  { name: "heartbeats", heartbeatPct: 90, environment: "bench-hb", target: 0.5 },
  { name: "supersedes", heartbeatPct: 10, environment: "bench-sup", target: 0.3 },
] as const;
const ACTIVE_SLOTS = 10_000;
const HISTORY_SIZES = QUICK ? [100_000] : [100_000, 1_000_000];
const LIST_CALLS = QUICK ? 60 : 300;
const LIST_ROUNDS = 3;
const CLI_RUNS = QUICK ? 5 : 15;
const SNAPSHOT_ENTRIES = 10_000;
const SNAPSHOT_REPEATS = QUICK ? 1 : 3;
/** The point-in-time phase's history: records, environments, slots per environment, days it spans. */
const PIT_HISTORY = QUICK ? 100_000 : 1_000_000;
const PIT_ENVIRONMENTS = 4;
const PIT_SLOTS = 2_500;
const PIT_DAYS = 400;
/** DiffDeployments calls per case (each compares two places of PIT_SLOTS records), after 3 not counted. */
const DIFF_CALLS = QUICK ? 10 : 40;
/** The hanging-receiver phase's environments: each mix without and with the subscription. */
/** The webhook phase's environments: without a subscription, with a hanging receiver, with an answering one. */
const webhookEnv = (mix: (typeof MIXES)[number], variant: "off" | "on" | "ok") => `bench-wh-${mix.name}-${variant}`;
/** How long the outbox may take, after the load, to hold a delivery for every event before the phase reports it behind. */
const OUTBOX_CATCH_UP_MS = 15_000;
/** How often Postgres's backends are sampled for what they wait on. */
const WAIT_SAMPLE_MS = 25;

const digestOf = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;
const median = (xs: number[]) => percentile(xs, 50);
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  metric: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
}
const row = (metric: string, value: string, baseline = "-", ratio = "-", target = "-"): Row => ({ metric, value, baseline, ratio, target });

/** wrk and pgbench, from Debian's packages: installed when missing (as root, with apt-get), else a clear error. */
function ensureTools(): void {
  const missing = [
    ["wrk", "wrk"],
    ["pgbench", "postgresql-client"],
  ].filter(([cmd]) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status !== 0);
  if (missing.length === 0) return;
  const pkgs = missing.map(([, pkg]) => pkg);
  const canInstall = process.getuid?.() === 0 && spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
  if (!canInstall) throw new Error(`the benchmark needs ${missing.map(([c]) => c).join(" and ")}: apt-get install ${pkgs.join(" ")}`);
  log(`installing ${pkgs.join(", ")} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  const r = spawnSync("apt-get", ["install", "-y", "-qq", ...pkgs], { stdio: "inherit", env });
  if (r.status !== 0) throw new Error(`apt-get install ${pkgs.join(" ")} failed`);
}

async function main(): Promise<void> {
  ensureTools();
  const dbName = `chainloop_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const dataDir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "chainloop-bench-"));
  const server = await startServer(databaseUrl, path.join(dataDir, "a"));
  const other = await startServer(databaseUrl, path.join(dataDir, "b"));
  // Server C: the same, with CHAINLOOP_METRICS=off, for the metrics' cost on the record path.
  const bare = await startServer(databaseUrl, path.join(dataDir, "c"), { CHAINLOOP_METRICS: "off" });
  let watcher: Watcher | undefined;
  const rows: Row[] = [];
  const results: Record<string, unknown> = { quick: QUICK, startedAt: new Date().toISOString(), phaseSeconds: PHASE_SECONDS };
  const sql = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  sql.on("error", (e) => log(`idle pg connection lost: ${e.message}`));
  try {
    const transport = createGrpcTransport({
      baseUrl: server.url,
      interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${TOKEN}`), next(req))],
    });
    const envs = createClient(EnvironmentService, transport);
    const deployments = createClient(DeploymentService, transport);
    const attestations = createClient(AttestationService, transport);
    const recordEnvs = [
      "bench-warm",
      ...MIXES.map((m) => m.environment),
      "bench-hb-bare",
      "bench-light",
      ...MIXES.flatMap((m) => [webhookEnv(m, "off"), webhookEnv(m, "on"), webhookEnv(m, "ok")]),
    ];
    for (const name of [...recordEnvs, "bench-list", "bench-cli", "bench-snapshot"]) await envs.createEnvironment({ name });

    log(`attesting ${DIGESTS} digests`);
    const pool = Array.from({ length: DIGESTS }, (_, i) => digestOf(`bench-${i}`));
    for (let i = 0; i < pool.length; i += 500) {
      const statement = {
        _type: "https://in-toto.io/Statement/v1",
        subject: pool.slice(i, i + 500).map((d, j) => ({ name: `artifact-${i + j}`, digest: { sha256: d.slice(7) } })),
        predicateType: "https://chainloop.dev/attestation/minimal/v1",
        predicate: { workflow: "bench", project: "bench" },
      };
      await attestations.pushAttestation({ content: Buffer.from(JSON.stringify(statement)), workflow: "bench", project: "bench" });
    }
    const ids = (
      await sql.query<{ org: string; lenv: string }>(
        `SELECT o.id AS org, (SELECT id FROM logical_environments WHERE organization_id = o.id AND name = 'production') AS lenv
         FROM organizations o WHERE o.name = 'default'`,
      )
    ).rows[0];
    const envId = async (name: string) => (await sql.query<{ id: string }>(`SELECT id FROM environments WHERE name = $1`, [name])).rows[0].id;

    // Every slot starts with an active record, so that the mix holds from the first call (a
    // repeated digest heartbeats, another supersedes) rather than creating.
    log(`seeding ${SLOTS} active slots in each of ${recordEnvs.join(", ")}, and the floor's table`);
    for (const name of recordEnvs) await seedSlots(sql, ids.org, await envId(name), ids.lenv, pool);
    await createFloorTable(sql);

    watcher = await startWatcher(other.url);
    const procs = { server: server.pid, watchServer: other.pid, watcher: watcher.pid };

    log(`warm-up: ${WARMUP_SECONDS}s of records (not counted)`);
    await runWrk(server.url, recordArgs(pool, "bench-warm", 90), CONNECTIONS, WARMUP_SECONDS, "record.lua", procs);

    const mixResults: Array<{ mix: (typeof MIXES)[number]; floor: PgbenchResult; load: WrkResult; watch?: WatchPhase }> = [];
    for (const mix of MIXES) {
      await settle(sql);
      log(`floor, ${mix.name}: ${PHASE_SECONDS}s of pgbench, ${CONNECTIONS} connections, ${mix.heartbeatPct} % heartbeats`);
      const floor = await runPgbench(databaseUrl, mix.heartbeatPct, procs, sql, dbName);
      await settle(sql);
      log(`server, ${mix.name}: ${PHASE_SECONDS}s of wrk, ${CONNECTIONS} connections, ${mix.heartbeatPct} % heartbeats, watcher on server B`);
      watcher.command(`phase ${mix.name}`);
      const load = await runWrk(server.url, recordArgs(pool, mix.environment, mix.heartbeatPct), CONNECTIONS, PHASE_SECONDS, "record.lua", procs, { sql, dbName });
      mixResults.push({ mix, floor, load });
      if (mix.name === "heartbeats") {
        // The metrics' cost: the same mix at once through server C (CHAINLOOP_METRICS=off),
        // warmed up the same way, so both servers are measured under the same conditions.
        await settle(sql);
        log(`server C (CHAINLOOP_METRICS=off): ${WARMUP_SECONDS}s warm-up, then ${PHASE_SECONDS}s of the heartbeat mix`);
        const bareProcs = { ...procs, server: bare.pid };
        // Server C's warm-up records are not the heartbeat phase's events.
        await sleep(1_000); // the watcher's last events of the phase arrive
        watcher.command("phase idle");
        await runWrk(bare.url, recordArgs(pool, "bench-warm", 90), CONNECTIONS, WARMUP_SECONDS, "record.lua", bareProcs);
        await settle(sql);
        watcher.command("phase metrics-off");
        results.metricsOff = await runWrk(bare.url, recordArgs(pool, "bench-hb-bare", 90), CONNECTIONS, PHASE_SECONDS, "record.lua", bareProcs);
      }
    }
    const bareLoad = results.metricsOff as WrkResult;
    // What serialized every record's commit before: the floor's transaction, notifying.
    await settle(sql);
    log(`floor with a NOTIFY per transaction (the old per-record trigger's cost): ${HALF_PHASE_SECONDS}s of pgbench, 90 % heartbeats`);
    const notifying = await runPgbench(databaseUrl, 90, procs, sql, dbName, notifyingFloorScript(dataDir), HALF_PHASE_SECONDS);
    results.notifyingFloor = notifying;
    await sleep(1_000); // the watcher's last events arrive
    watcher.command("phase idle");
    const watchReport = await watcher.report();
    for (const m of mixResults) m.watch = watchReport.phases[m.mix.name];
    const rss = rssMb(server.pid);

    const hangingWebhook = await measureHangingWebhook(server.url, createClient(WebhookService, transport), sql, dbName, pool, procs);
    results.hangingWebhook = hangingWebhook;

    await settle(sql);
    log(`baseline: ${HALF_PHASE_SECONDS}s of grpc.health.v1.Health/Check through server A, ${CONNECTIONS} connections`);
    const health = await runWrk(server.url, undefined, CONNECTIONS, HALF_PHASE_SECONDS, "health.lua", procs);
    await settle(sql);
    log(`light load: ${HALF_PHASE_SECONDS}s, ${LIGHT_CONNECTIONS} connections, 90 % heartbeats; then Health/Check the same way`);
    const light = await runWrk(server.url, recordArgs(pool, "bench-light", 90), LIGHT_CONNECTIONS, HALF_PHASE_SECONDS, "record.lua", procs);
    const lightHealth = await runWrk(server.url, undefined, LIGHT_CONNECTIONS, HALF_PHASE_SECONDS, "health.lua", procs);
    results.lightHealth = lightHealth;
    results.mixes = mixResults;
    results.health = health;
    results.light = light;
    results.watcher = watchReport;
    results.rssMb = rss;

    for (const { mix, floor, load, watch } of mixResults) {
      const rate = load.requests / load.seconds;
      const label = `${mix.name} (${mix.heartbeatPct} % hb)`;
      rows.push(
        row(`floor, ${label}: pgbench tx/s`, fmt(floor.tps, 0)),
        row(`record/s via server, ${label}`, fmt(rate, 0), `floor ${fmt(floor.tps, 0)}`, fmt(rate / floor.tps, 2), `ratio >= ${mix.target}`),
        row(`  latency p50 / p99 (ms)`, `${fmt(load.p50Ms)} / ${fmt(load.p99Ms)}`, `floor ${fmt(floor.latencyMs)} avg`),
        row(
          `  errors; outcomes (heartbeat/superseded/created/rolled back)`,
          `${load.errors}; ${load.heartbeat}/${load.superseded}/${load.created}/${load.rolledBack}`,
          "-",
          "-",
          "0 errors",
        ),
        row(`  records per commit (group commit)`, fmt(load.recordsPerCommit ?? NaN, 1), "floor 1"),
        row(`  CPU ms/record: server A / wrk / Postgres`, `${fmt(load.cpu.perRecord.server, 3)} / ${fmt(load.cpu.perRecord.load, 3)} / ${fmt(load.cpu.perRecord.postgres, 3)}`, `floor pgbench ${fmt(floor.cpu.perRecord.load, 3)}, Postgres ${fmt(floor.cpu.perRecord.postgres, 3)}`),
        row(`  CPU ms/record: server B + watcher; machine`, `${fmt(load.cpu.perRecord.watchServer + load.cpu.perRecord.watcher, 3)}; ${fmt(load.cpu.perRecord.machine, 3)} (${fmt(load.cpu.utilisation * 100, 0)} % of ${load.cpu.cores} cores)`, `floor machine ${fmt(floor.cpu.perRecord.machine, 3)} (${fmt(floor.cpu.utilisation * 100, 0)} %)`),
        row(`  watcher on server B: events, latency p50 / p99 / max (ms)`, watch ? `${watch.events}, ${fmt(watch.latencyMs.p50, 0)} / ${fmt(watch.latencyMs.p99, 0)} / ${fmt(watch.latencyMs.max, 0)}` : "n/a", "-", "-", "p99 <= 1000"),
        // Every supersede and rollback (the mix's rollbacks replace an active record) is two events
        // (the old record superseded, the new one created); heartbeats may be coalesced.
        row(
          `  watcher: created + superseded events / expected; heartbeats`,
          watch ? `${(watch.byType.CREATED ?? 0) + (watch.byType.SUPERSEDED ?? 0)} / ${load.created + 2 * (load.superseded + load.rolledBack)}; ${watch.byType.HEARTBEAT ?? 0} of ${load.heartbeat}` : "n/a",
          "-",
          "-",
          "all",
        ),
        row(`  Postgres backends: lock waits / active samples`, waitSummary(load.waits), `floor ${waitSummary(floor.waits)}`, "-", "no Lock:object"),
      );
      if (load.firstError) log(`${mix.name}: first error: ${load.firstError}`);
    }
    if (watchReport.error) log(`watcher error: ${watchReport.error}`);
    rows.push(
      row(
        "floor with a NOTIFY per tx (old design), 90 % hb: tx/s",
        fmt(notifying.tps, 0),
        `floor ${fmt(mixResults[0].floor.tps, 0)}`,
        fmt(notifying.tps / mixResults[0].floor.tps, 2),
      ),
      row("  Postgres backends: lock waits / active samples", waitSummary(notifying.waits)),
    );
    const heartbeatLoad = mixResults[0].load;
    rows.push(
      row(
        "metrics' cost, 90 % hb: record/s server A (metrics on) / C (off)",
        `${fmt(heartbeatLoad.requests / heartbeatLoad.seconds, 0)} / ${fmt(bareLoad.requests / bareLoad.seconds, 0)}`,
        "server C",
        fmt(heartbeatLoad.requests / heartbeatLoad.seconds / (bareLoad.requests / bareLoad.seconds), 2),
      ),
      row(
        "  CPU ms/record, server A (on) / C (off); errors on C",
        `${fmt(heartbeatLoad.cpu.perRecord.server, 3)} / ${fmt(bareLoad.cpu.perRecord.server, 3)}; ${bareLoad.errors}`,
        "server C",
        fmt(heartbeatLoad.cpu.perRecord.server / bareLoad.cpu.perRecord.server, 2),
      ),
    );
    if (hangingWebhook.error) rows.push(row("hanging webhook receiver", `n/a (${hangingWebhook.error})`));
    for (const h of hangingWebhook.phases) {
      const on = h.with.requests / h.with.seconds;
      const off = h.without.requests / h.without.seconds;
      const o = h.outbox;
      rows.push(
        row(
          `hanging webhook receiver, ${h.mix} (${h.heartbeatPct} % hb): record/s with / without`,
          `${fmt(on, 0)} / ${fmt(off, 0)}`,
          `without ${fmt(off, 0)}`,
          fmt(on / off, 2),
          "ratio >= 0.9",
        ),
        row(`  latency p50 / p99 (ms) with; errors`, `${fmt(h.with.p50Ms)} / ${fmt(h.with.p99Ms)}; ${h.with.errors}`, `without ${fmt(h.without.p50Ms)} / ${fmt(h.without.p99Ms)}; ${h.without.errors}`, "-", "0 errors"),
        row(`  CPU ms/record, server A with / without`, `${fmt(h.with.cpu.perRecord.server, 3)} / ${fmt(h.without.cpu.perRecord.server, 3)}`, "without", fmt(h.with.cpu.perRecord.server / h.without.cpu.perRecord.server, 2)),
        // Heartbeats make no event; a supersede (or rollback) makes two, a created record one.
        row(
          `  events (heartbeat/superseded/created/rolled back -> events)`,
          `${h.with.heartbeat}/${h.with.superseded}/${h.with.created}/${h.with.rolledBack} -> ${h.events}`,
        ),
        row(
          `  outbox at the load's end: deliveries pending / attempted (attempts)`,
          `${o.atEnd.pending} / ${o.atEnd.attempted} (${o.atEnd.attempts}) of ${o.atEnd.total}`,
          `events ${h.events} (+ records in flight at wrk's end)`,
        ),
        row(
          `  outbox: every event's delivery in after; then pending / delivered`,
          o.caughtUpMs === null ? `not within ${OUTBOX_CATCH_UP_MS} ms (${o.final.total} of ${h.events})` : `${fmt(o.caughtUpMs, 0)} ms; ${o.final.pending} / ${o.final.delivered}`,
          "-",
          "-",
          "all, 0 delivered",
        ),
        row(
          `  receiver: requests (still hanging); signatures verified`,
          `${h.receiver.requests} (${h.receiver.hanging}); ${h.receiver.verified}/${h.receiver.requests}`,
          "-",
          "-",
          "all verified",
        ),
      );
      if (h.answering) {
        const a = h.answering;
        const okRate = a.load.requests / a.load.seconds;
        rows.push(
          row(`  hanging vs a receiver answering at once: record/s`, `${fmt(on, 0)} / ${fmt(okRate, 0)}`, `answering ${fmt(okRate, 0)}`, fmt(on / okRate, 2), "ratio >= 0.9"),
          row(`    answering: record/s vs without; CPU ms/record server A`, `${fmt(okRate, 0)} / ${fmt(off, 0)}; ${fmt(a.load.cpu.perRecord.server, 3)}`, `without ${fmt(off, 0)}`, fmt(okRate / off, 2)),
          row(
            `    answering: events delivered (signatures verified); all delivered after the load in`,
            `${a.delivered} of ${a.events} (${a.verified}); ${a.deliveredAllMs === null ? "not yet" : `${fmt(a.deliveredAllMs, 0)} ms`}`,
            "-",
            "-",
            "all",
          ),
        );
      }
    }
    rows.push(
      row(
        `Health/Check via server A: calls/s; CPU ms/call`,
        `${fmt(health.requests / health.seconds, 0)}; ${fmt(health.cpu.perRecord.server, 3)}`,
        `record ${fmt(heartbeatLoad.requests / heartbeatLoad.seconds, 0)}; ${fmt(heartbeatLoad.cpu.perRecord.server, 3)}`,
        fmt(heartbeatLoad.cpu.perRecord.server / health.cpu.perRecord.server, 2),
      ),
      row(
        `light load (${LIGHT_CONNECTIONS} conns): record/s, p50 / p99 (ms)`,
        `${fmt(light.requests / light.seconds, 0)}, ${fmt(light.p50Ms)} / ${fmt(light.p99Ms)}`,
        `Health/Check ${fmt(lightHealth.p50Ms)} / ${fmt(lightHealth.p99Ms)}`,
        "-",
        "p99 <= 10",
      ),
      row(`server A peak RSS (MB)`, fmt(rss.peak, 0), "-", "-", "<= 200"),
    );

    // List latency as history grows.
    const listEnv = await envId("bench-list");
    const page = deploymentPageQuery(ids.org, { environmentId: listEnv, statuses: ["deployed"] }, undefined, 51);
    const listFigures: Array<{ history: number; p50: number; p99: number; statement: { p50: number; p99: number }; quietHistory: { p50: number; p99: number } }> = [];
    await seedActive(sql, ids.org, listEnv, ids.lenv);
    for (const target of HISTORY_SIZES) {
      const total = Number((await sql.query("SELECT count(*)::int AS n FROM deployments")).rows[0].n);
      log(`list: seeding history up to ${target} rows (now ${total})`);
      await seedHistory(sql, ids.org, listEnv, ids.lenv, target - total);
      await settle(sql);
      const lat = await measureList(deployments);
      const statement = await measureListStatement(sql, page);
      // A quiet environment's history: the supersede mix's records, written before everything above.
      const quiet = await measureList(deployments, { environment: "bench-sup", history: true });
      listFigures.push({ history: target, p50: lat.p50, p99: lat.p99, statement, quietHistory: { p50: quiet.p50, p99: quiet.p99 } });
    }
    results.list = listFigures;
    for (const f of listFigures) {
      rows.push(row(`list 50 active by env, ${f.history / 1000}k rows: p50 / p99 (ms)`, `${fmt(f.p50, 2)} / ${fmt(f.p99, 2)}`, `statement via pg ${fmt(f.statement.p50, 2)} / ${fmt(f.statement.p99, 2)}`, "-", "p50 <= 20"));
    }
    for (const f of listFigures) {
      rows.push(row(`list 50 of a quiet env's history, ${f.history / 1000}k rows: p50 / p99 (ms)`, `${fmt(f.quietHistory.p50, 2)} / ${fmt(f.quietHistory.p99, 2)}`));
    }
    if (listFigures.length === 2) {
      const [small, large] = listFigures;
      rows.push(row("list p50 growth 100k -> 1M", fmt(large.p50, 2), `100k ${fmt(small.p50, 2)}`, fmt(large.p50 / small.p50, 2), "ratio <= 1.3"));
    }
    const plan = await sql.query(`EXPLAIN (ANALYZE, BUFFERS) ${page.text}`, page.params);
    results.listPlan = plan.rows.map((r) => r["QUERY PLAN"]);

    // Environment snapshots.
    await settle(sql);
    const snap = await measureSnapshots(deployments, pool, server.pid);
    results.snapshots = snap;
    const recordRate = heartbeatLoad.requests / heartbeatLoad.seconds;
    const asRecords = (SNAPSHOT_ENTRIES / recordRate) * 1000;
    const snapRow = (label: string, ms: number) =>
      row(`snapshot of ${SNAPSHOT_ENTRIES / 1000}k entries, ${label} (ms)`, fmt(ms, 0), `10k records at ${fmt(recordRate, 0)}/s: ${fmt(asRecords, 0)}`, fmt(ms / asRecords, 2));
    rows.push(
      snapRow("all new", snap.createdMs),
      snapRow(`unchanged, median of ${SNAPSHOT_REPEATS}`, snap.unchangedMs),
      snapRow("10 % changed, 10 % gone", snap.changedMs),
      row(`  server A RSS around the snapshots: before / after / peak (MB)`, `${fmt(snap.rssBefore.now, 0)} / ${fmt(snap.rssAfter.now, 0)} / ${fmt(snap.rssAfter.peak, 0)}`, "-", "-", "<= 200"),
    );

    // CLI round trip.
    log(`cli: ${CLI_RUNS} runs of chainloop deployment record beside node -e 0`);
    let cli = { nodeMs: NaN, cliMs: NaN, runs: 0 };
    try {
      cli = measureCli(server.url, pool);
    } catch (e) {
      log(`cli measurement failed: ${(e as Error).message}`);
    }
    results.cli = cli;
    rows.push(row("CLI deployment record, median wall (ms)", fmt(cli.cliMs, 0), `node -e 0 ${fmt(cli.nodeMs, 0)}`, fmt(cli.cliMs / cli.nodeMs, 2), "ratio <= 2.5"));

    // Point in time, last: its history would change every phase above.
    const pit = await measurePointInTime(sql, deployments, envs, ids);
    results.pointInTime = pit;
    const pitLabel = `${PIT_HISTORY / 1000}k-record history`;
    for (const c of pit.list) {
      rows.push(
        row(
          `list 50 as of ${c.instant}, ${c.scope}, ${pitLabel}: p50 / p99 (ms)`,
          `${fmt(c.p50, 2)} / ${fmt(c.p99, 2)}`,
          `statement via pg ${fmt(c.statement.p50, 2)} / ${fmt(c.statement.p99, 2)}`,
          "-",
          "p50 <= 20",
        ),
      );
    }
    for (const c of pit.diff) {
      rows.push(
        row(
          `diff ${PIT_SLOTS / 1000}k vs ${PIT_SLOTS / 1000}k records, now vs ${c.instant}, ${pitLabel}: p50 / p99 (ms)`,
          c.error ? `n/a (${c.error})` : `${fmt(c.p50, 1)} / ${fmt(c.p99, 1)}`,
        ),
      );
    }
  } finally {
    await watcher?.stop();
    await sql.end();
    await server.stop();
    await other.stop();
    await bare.stop();
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

/** The args file record.lua reads: token, environment, slots, heartbeat percent, wrk threads, then the digests. */
function recordArgs(pool: string[], environment: string, heartbeatPct: number): string[] {
  return [TOKEN, environment, String(SLOTS), String(heartbeatPct), String(WRK_THREADS), ...pool];
}

interface WrkResult {
  requests: number;
  seconds: number;
  errors: number;
  firstError: string;
  heartbeat: number;
  superseded: number;
  created: number;
  rolledBack: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  cpu: CpuAccount;
  /** Records per record statement (distinct writing transactions in the change log). */
  recordsPerCommit?: number;
  waits?: WaitSamples;
}

/**
 * Runs wrk with `script` for `seconds` (its args file, if any, after `--`), and accounts the CPU
 * spent meanwhile. With `db`: the change log's transactions (for records per commit) and the
 * backends' wait events over the window.
 */
async function runWrk(
  serverUrl: string,
  args: string[] | undefined,
  connections: number,
  seconds: number,
  script: string,
  procs: Record<string, number>,
  db?: { sql: pg.Pool; dbName: string },
): Promise<WrkResult> {
  let argsFile: string | undefined;
  if (args) {
    argsFile = path.join(fs.mkdtempSync(path.join("/tmp", "chainloop-wrk-")), "args.txt");
    fs.writeFileSync(argsFile, args.join("\n") + "\n");
  }
  const threads = Math.min(WRK_THREADS, connections);
  const before = db ? (await db.sql.query<{ now: Date }>("SELECT now()")).rows[0].now : undefined;
  const sampler = db ? sampleWaits(db.sql, db.dbName) : undefined;
  const start = cpuSnapshot(procs);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      "wrk",
      [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, "--latency", "-s", path.join(ROOT, "tests/bench", script), serverUrl, ...(argsFile ? ["--", argsFile] : [])],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
  }).finally(() => sampler?.stop());
  const end = cpuSnapshot(procs);
  const waits = await sampler?.stop();
  if (argsFile) fs.rmSync(path.dirname(argsFile), { recursive: true, force: true });
  const line = out.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`wrk printed no RESULT line:\n${out}`);
  const r = JSON.parse(line.slice("RESULT ".length)) as Record<string, number | string>;
  const num = (k: string) => Number(r[k] ?? 0);
  const errors = num("errors") + num("socketErrors") + num("non2xx") + num("other");
  const result: WrkResult = {
    requests: num("requests"),
    seconds: num("durationUs") / 1e6,
    errors,
    firstError: String(r.firstError ?? ""),
    heartbeat: num("heartbeat"),
    superseded: num("superseded"),
    created: num("created"),
    rolledBack: num("rolledBack"),
    p50Ms: num("p50") / 1000,
    p90Ms: num("p90") / 1000,
    p99Ms: num("p99") / 1000,
    maxMs: num("max") / 1000,
    cpu: cpuAccount(start, end, num("requests")),
    waits,
  };
  if (db && before) {
    const commits = Number(
      (await db.sql.query<{ n: string }>(`SELECT count(DISTINCT xid) AS n FROM deployment_changes WHERE created_at >= $1 AND changes <> ''`, [before])).rows[0].n,
    );
    result.recordsPerCommit = result.requests / Math.max(1, commits);
  }
  return result;
}

interface PgbenchResult {
  tps: number;
  transactions: number;
  failed: number;
  latencyMs: number;
  cpu: CpuAccount;
  waits: WaitSamples;
}

/** The floor: pgbench running tests/bench/floor.sql (or `script`), prepared, CONNECTIONS clients, for `seconds`. */
async function runPgbench(
  databaseUrl: string,
  heartbeatPct: number,
  procs: Record<string, number>,
  sql: pg.Pool,
  dbName: string,
  script = path.join(ROOT, "tests/bench/floor.sql"),
  seconds = PHASE_SECONDS,
): Promise<PgbenchResult> {
  const sampler = sampleWaits(sql, dbName);
  const start = cpuSnapshot(procs);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      "pgbench",
      ["-n", "-M", "prepared", "-c", String(CONNECTIONS), "-j", "2", "-T", String(seconds), "-D", `slots=${SLOTS}`, "-D", `hb=${heartbeatPct}`,
        "-f", script, databaseUrl],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`pgbench exited ${code}: ${text}`))));
  }).finally(() => sampler.stop());
  const end = cpuSnapshot(procs);
  const waits = await sampler.stop();
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const transactions = num(/number of transactions actually processed: (\d+)/);
  return {
    tps: num(/tps = ([\d.]+) \(without initial connection time\)/),
    transactions,
    failed: num(/number of failed transactions: (\d+)/),
    latencyMs: num(/latency average = ([\d.]+) ms/),
    cpu: cpuAccount(start, end, transactions),
    waits,
  };
}

interface WaitSamples {
  samples: number;
  /** Active backend-samples, by what they waited on ("CPU" when nothing). */
  byEvent: Record<string, number>;
}

/** Samples pg_stat_activity every WAIT_SAMPLE_MS: what the database's active backends wait on. */
function sampleWaits(sql: pg.Pool, dbName: string): { stop(): Promise<WaitSamples> } {
  const result: WaitSamples = { samples: 0, byEvent: {} };
  let running = true;
  const loop = (async () => {
    while (running) {
      if (sql.ending) return;
      const rows = (
        await sql.query<{ w: string; n: number }>(
          `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS w, count(*)::int AS n FROM pg_stat_activity
           WHERE datname = $1 AND backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid() GROUP BY 1`,
          [dbName],
        )
      ).rows;
      result.samples++;
      for (const r of rows) result.byEvent[r.w] = (result.byEvent[r.w] ?? 0) + r.n;
      await sleep(WAIT_SAMPLE_MS);
    }
  })().catch((e: Error) => log(`wait sampling stopped: ${e.message}`));
  return {
    async stop() {
      running = false;
      await loop;
      return result;
    },
  };
}

/** "Lock waits: n (share) of m; top: …". */
function waitSummary(w: WaitSamples | undefined): string {
  if (!w) return "n/a";
  const total = Object.values(w.byEvent).reduce((a, b) => a + b, 0);
  const locks = Object.entries(w.byEvent).filter(([k]) => k.startsWith("Lock:")).reduce((a, [, n]) => a + n, 0);
  const object = w.byEvent["Lock:object"] ?? 0;
  return `${locks} / ${total} (${fmt((100 * locks) / Math.max(1, total), 0)} %; Lock:object ${object})`;
}

interface WatchPhase {
  events: number;
  byType: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
}
interface Watcher {
  pid: number;
  command(line: string): void;
  report(): Promise<{ phases: Record<string, WatchPhase>; error: string | null }>;
  stop(): Promise<void>;
}

/** Starts tests/bench/watch.ts against `url` and waits for its snapshot to end. */
async function startWatcher(url: string): Promise<Watcher> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tests/bench/watch.ts"), url, TOKEN], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error("the watcher exited");
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const ready = await Promise.race([next(), sleep(60_000).then(() => ({ event: "timeout" }))]);
  if (ready.event !== "ready") throw new Error(`the watcher did not become ready: ${JSON.stringify(ready)}`);
  return {
    pid: child.pid!,
    command: (line) => child.stdin!.write(line + "\n"),
    async report() {
      child.stdin!.write("report\n");
      return (await next()) as unknown as { phases: Record<string, WatchPhase>; error: string | null };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.stdin!.write("quit\n");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}

/**
 * The floor's transaction with one NOTIFY in it, as every record's commit had before the change
 * log (a per-row trigger called pg_notify): Postgres takes one database-wide lock at the commit of
 * any transaction that notified, so such commits queue behind each other, from every process.
 * Written next to the run's data for the run: floor.sql's statement, notifying.
 */
function notifyingFloorScript(dir: string): string {
  const floor = fs.readFileSync(path.join(ROOT, "tests/bench/floor.sql"), "utf8");
  // `input` is read by every branch (heartbeat, supersede, insert), so its notify always runs.
  const script = floor.replace("), input AS (\n  SELECT coalesce(", "), input AS (\n  SELECT pg_notify('chainloop_bench', :slot::text) AS notified, coalesce(");
  if (script === floor) throw new Error("tests/bench/floor.sql changed shape: cannot add the NOTIFY");
  const file = path.join(dir, "floor-notify.sql");
  fs.writeFileSync(file, script);
  return file;
}

/** The floor's table: one slot, digest, status and timestamps per record; the partial unique index on the active slot. */
async function createFloorTable(sql: pg.Pool): Promise<void> {
  await sql.query(`
    CREATE TABLE floor_records (
      id bigserial PRIMARY KEY,
      environment int NOT NULL, logical_environment int NOT NULL, name text NOT NULL, kind text NOT NULL,
      digest text NOT NULL, status text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(), last_seen_at timestamptz NOT NULL DEFAULT now(), superseded_at timestamptz,
      rollback_of bigint
    );
    CREATE UNIQUE INDEX floor_records_active_slot ON floor_records (environment, logical_environment, name, kind) WHERE status = 'deployed';
    CREATE INDEX floor_records_slot_digest ON floor_records (environment, logical_environment, name, kind, digest);
    -- Promotion policies by logical environment: the record path probes it for every new record (none here).
    CREATE TABLE floor_policies (logical_environment int PRIMARY KEY, version bigint NOT NULL);
    INSERT INTO floor_records (environment, logical_environment, name, kind, digest, status)
    SELECT 1, 1, 'svc-' || g, 'CONTAINER_IMAGE', 'sha256:' || md5(g::text) || md5((g + 1)::text), 'deployed' FROM generate_series(0, ${SLOTS - 1}) g;`);
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
  await sql.query("VACUUM (ANALYZE) deployments, deployment_changes");
  await sql.query("VACUUM (ANALYZE) floor_records").catch(() => undefined); // not there before the floor is set up
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

/** One active record per slot ("svc-<slot>", digest number slot % pool size: what record.lua assumes), as recording would leave it. */
async function seedSlots(sql: pg.Pool, org: string, env: string, lenv: string, pool: string[]): Promise<void> {
  const digests = Array.from({ length: SLOTS }, (_, slot) => pool[initialDigest(slot, pool)]);
  await sql.query(
    `INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest, status)
     SELECT gen_random_uuid(), $1, $2, $3, 'svc-' || (g - 1), 'CONTAINER_IMAGE', ($4::text[])[g], 'deployed'
     FROM generate_series(1, $5) g`,
    [org, env, lenv, digests, SLOTS],
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

interface OutboxCounts {
  /** Deliveries of the subscription, by status, and those attempted at least once (attempts: their sum). */
  total: number;
  pending: number;
  delivered: number;
  failed: number;
  attempted: number;
  attempts: number;
}

interface HangingWebhookPhase {
  mix: string;
  heartbeatPct: number;
  without: WrkResult;
  with: WrkResult;
  /**
   * The events the subscribed run's records made, from wrk's counted answers: one per created
   * record, two per supersede or rollback. The outbox may hold a few more: records still in flight
   * when wrk stopped (at most CONNECTIONS) commit, but their answers are not counted.
   */
  events: number;
  outbox: { atEnd: OutboxCounts; final: OutboxCounts; caughtUpMs: number | null };
  receiver: { requests: number; hanging: number; verified: number };
  /**
   * The same load with a subscription whose receiver answers 204 at once: what delivering costs
   * (the hanging run's difference from it is what hanging costs), and how soon every event was
   * delivered after the load ended.
   */
  answering?: { load: WrkResult; events: number; delivered: number; deliveredAllMs: number | null; verified: number };
}

async function outboxCounts(sql: pg.Pool, subscriptionId: string): Promise<OutboxCounts> {
  const r = (
    await sql.query<Record<keyof OutboxCounts, number>>(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE status = 'pending')::int AS pending,
              count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE attempts > 0)::int AS attempted,
              coalesce(sum(attempts), 0)::int AS attempts
       FROM webhook_deliveries WHERE subscription_id = $1`,
      [subscriptionId],
    )
  ).rows[0];
  return r;
}

/**
 * A hanging webhook receiver does not slow the record path: for each mix, the record load through
 * server A (as the mix phases run it) into a fresh environment without any subscription, then
 * into another with a subscription (filtered to it) whose receiver accepts every request and never
 * answers, each after settle(). Every server process delivers (they share the database), so
 * hanging attempts take delivery slots in all of them, with the server's default timeout (10 s)
 * and backoff. After the subscribed run: the outbox's deliveries when the load ended, and how
 * long the fan-out took to hold one for every event the records made. The subscription is then
 * deleted (its pending deliveries with it) and the receiver closed, so that no later phase pays
 * for it.
 */
async function measureHangingWebhook(
  serverUrl: string,
  webhooks: ReturnType<typeof createClient<typeof WebhookService>>,
  sql: pg.Pool,
  dbName: string,
  pool: string[],
  procs: Record<string, number>,
): Promise<{ phases: HangingWebhookPhase[]; error: string }> {
  const phases: HangingWebhookPhase[] = [];
  for (const mix of MIXES) {
    await settle(sql);
    log(`hanging webhook receiver, ${mix.name}: ${PHASE_SECONDS}s of wrk without a subscription`);
    const without = await runWrk(serverUrl, recordArgs(pool, webhookEnv(mix, "off"), mix.heartbeatPct), CONNECTIONS, PHASE_SECONDS, "record.lua", procs, { sql, dbName });
    await settle(sql);
    const receiver = await WebhookReceiver.start({ mode: hang() });
    let subscriptionId: string | undefined;
    try {
      try {
        const created = await webhooks.createWebhook({ url: receiver.url, environment: webhookEnv(mix, "on"), description: "bench: a receiver that never answers" });
        subscriptionId = created.webhook!.id;
        receiver.setSecret(created.secret);
      } catch (e) {
        const error = e instanceof ConnectError && e.code === Code.Unimplemented ? "WebhookService is Unimplemented" : (e as Error).message;
        log(`hanging webhook receiver: cannot subscribe: ${error}`);
        return { phases, error };
      }
      log(`hanging webhook receiver, ${mix.name}: ${PHASE_SECONDS}s of wrk with a subscription whose receiver never answers`);
      const withHook = await runWrk(serverUrl, recordArgs(pool, webhookEnv(mix, "on"), mix.heartbeatPct), CONNECTIONS, PHASE_SECONDS, "record.lua", procs, { sql, dbName });
      const ended = performance.now();
      const atEnd = await outboxCounts(sql, subscriptionId);
      const events = withHook.created + 2 * (withHook.superseded + withHook.rolledBack);
      let final = atEnd;
      let caughtUpMs: number | null = null;
      while (performance.now() - ended < OUTBOX_CATCH_UP_MS) {
        final = await outboxCounts(sql, subscriptionId);
        if (final.total >= events) {
          caughtUpMs = performance.now() - ended;
          break;
        }
        await sleep(50);
      }
      log(`hanging webhook receiver, ${mix.name}: ${events} events; outbox at the end ${JSON.stringify(atEnd)}, then ${JSON.stringify(final)}; receiver: ${receiver.summary()}`);
      phases.push({
        mix: mix.name,
        heartbeatPct: mix.heartbeatPct,
        without,
        with: withHook,
        events,
        outbox: { atEnd, final, caughtUpMs },
        receiver: {
          requests: receiver.requests.length,
          hanging: receiver.hangingCount,
          verified: receiver.requests.filter((r) => r.verification?.library && r.verification.manual).length,
        },
      });
    } finally {
      if (subscriptionId) await webhooks.deleteWebhook({ id: subscriptionId }).catch((e: Error) => log(`deleting the bench's subscription failed: ${e.message}`));
      await receiver.close();
    }
    phases[phases.length - 1]!.answering = await measureAnsweringWebhook(serverUrl, webhooks, sql, dbName, pool, procs, mix);
  }
  return { phases, error: "" };
}

/** The webhook phase's third run: a receiver that answers 204 at once (every delivery is made while the load runs). */
async function measureAnsweringWebhook(
  serverUrl: string,
  webhooks: ReturnType<typeof createClient<typeof WebhookService>>,
  sql: pg.Pool,
  dbName: string,
  pool: string[],
  procs: Record<string, number>,
  mix: (typeof MIXES)[number],
): Promise<HangingWebhookPhase["answering"]> {
  await settle(sql);
  const receiver = await WebhookReceiver.start({ mode: ok() });
  let subscriptionId: string | undefined;
  try {
    const created = await webhooks.createWebhook({ url: receiver.url, environment: webhookEnv(mix, "ok"), description: "bench: a receiver that answers at once" });
    subscriptionId = created.webhook!.id;
    receiver.setSecret(created.secret);
    log(`answering webhook receiver, ${mix.name}: ${PHASE_SECONDS}s of wrk with a subscription whose receiver answers 204 at once`);
    const load = await runWrk(serverUrl, recordArgs(pool, webhookEnv(mix, "ok"), mix.heartbeatPct), CONNECTIONS, PHASE_SECONDS, "record.lua", procs, { sql, dbName });
    const ended = performance.now();
    const events = load.created + 2 * (load.superseded + load.rolledBack);
    let counts = await outboxCounts(sql, subscriptionId);
    let deliveredAllMs: number | null = null;
    while (performance.now() - ended < OUTBOX_CATCH_UP_MS * 4) {
      counts = await outboxCounts(sql, subscriptionId);
      if (counts.total >= events && counts.delivered === counts.total) {
        deliveredAllMs = performance.now() - ended;
        break;
      }
      await sleep(100);
    }
    log(`answering webhook receiver, ${mix.name}: ${events} events; outbox ${JSON.stringify(counts)}; receiver: ${receiver.summary()}`);
    return {
      load,
      events,
      delivered: counts.delivered,
      deliveredAllMs,
      verified: receiver.requests.filter((r) => r.verification?.library && r.verification.manual).length,
    };
  } finally {
    if (subscriptionId) await webhooks.deleteWebhook({ id: subscriptionId }).catch((e: Error) => log(`deleting the bench's subscription failed: ${e.message}`));
    await receiver.close();
  }
}

/**
 * ReportSnapshot with SNAPSHOT_ENTRIES entries through server A: all new, then unchanged
 * (SNAPSHOT_REPEATS times, median), then 10 % of the digests changed and 10 % of the entries gone.
 * Each outcome is checked, so a snapshot that did less than it should cannot look fast.
 */
async function measureSnapshots(deployments: ReturnType<typeof createClient<typeof DeploymentService>>, pool: string[], pid: number) {
  const entries = Array.from({ length: SNAPSHOT_ENTRIES }, (_, i) => ({
    deploymentName: `snap-${i}`,
    kind: ArtifactKind.CONTAINER_IMAGE,
    digest: pool[i % pool.length],
    artifactName: `registry.example/snap-${i}`,
    artifactVersion: "1.0.0",
    artifactReference: `registry.example/snap-${i}:1.0.0`,
  }));
  const report = async (list: typeof entries, expect: Partial<Record<RecordOutcome, number>>, decommissioned: number) => {
    const t0 = performance.now();
    const res = await deployments.reportSnapshot(
      { environment: "bench-snapshot", logicalEnvironment: "production", entries: list },
      { timeoutMs: 120_000 },
    );
    const ms = performance.now() - t0;
    const got: Partial<Record<RecordOutcome, number>> = {};
    for (const r of res.results) got[r.outcome] = (got[r.outcome] ?? 0) + 1;
    if (JSON.stringify(got) !== JSON.stringify(expect) || res.decommissioned.length !== decommissioned) {
      throw new Error(`snapshot outcomes ${JSON.stringify(got)} + ${res.decommissioned.length} decommissioned; expected ${JSON.stringify(expect)} + ${decommissioned}`);
    }
    return ms;
  };
  const rssBefore = rssMb(pid);
  log(`snapshots: ${SNAPSHOT_ENTRIES} entries, new; unchanged x${SNAPSHOT_REPEATS}; 10 % changed and 10 % gone`);
  const createdMs = await report(entries, { [RecordOutcome.CREATED]: SNAPSHOT_ENTRIES }, 0);
  const unchanged: number[] = [];
  for (let i = 0; i < SNAPSHOT_REPEATS; i++) unchanged.push(await report(entries, { [RecordOutcome.HEARTBEAT]: SNAPSHOT_ENTRIES }, 0));
  const tenth = SNAPSHOT_ENTRIES / 10;
  const changed = entries
    .slice(tenth) // the first tenth is gone
    .map((e, i) => (i < tenth ? { ...e, digest: pool[(Number(e.deploymentName.slice(5)) + 1) % pool.length], artifactVersion: "1.0.1" } : e));
  const changedMs = await report(changed, { [RecordOutcome.HEARTBEAT]: SNAPSHOT_ENTRIES - 2 * tenth, [RecordOutcome.SUPERSEDED]: tenth }, tenth);
  return { createdMs, unchangedMs: median(unchanged), unchangedRuns: unchanged, changedMs, rssBefore, rssAfter: rssMb(pid) };
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

/**
 * A history for the point-in-time phase: PIT_HISTORY records in PIT_ENVIRONMENTS environments of
 * PIT_SLOTS slots ("pit-<n>", production), made over PIT_DAYS days up to 10 minutes ago, evenly
 * in time but not across slots (a slot's share grows with the square root: some slots change
 * daily, others every few weeks). Each record ends when the next one of its slot starts; one in 33
 * is decommissioned halfway to the next instead, and one in 20 of the slots' last records is
 * decommissioned a minute after it started; the rest of the last ones run now. Times are
 * jittered by ±2 s, as two server processes' clocks may disagree: a record can end before it
 * starts. Digests come from the attested pool, so each record has provenance to join.
 */
async function seedPointInTime(sql: pg.Pool, org: string, envIds: string[], lenv: string, pool: string[]): Promise<void> {
  await sql.query(
    `INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest, status,
       created_at, last_seen_at, superseded_at, decommissioned_at)
     SELECT gen_random_uuid(), $1, ($3::uuid[])[env + 1], $2, 'pit-' || slot, 'CONTAINER_IMAGE', ($4::text[])[g % array_length($4::text[], 1) + 1],
       CASE WHEN next_at IS NULL THEN (CASE WHEN g % 20 = 0 THEN 'decommissioned' ELSE 'deployed' END)
            WHEN g % 33 = 0 THEN 'decommissioned' ELSE 'superseded' END::deployment_status,
       created_at, created_at,
       CASE WHEN next_at IS NOT NULL AND g % 33 <> 0 THEN next_at END,
       CASE WHEN next_at IS NULL AND g % 20 = 0 THEN created_at + interval '1 minute'
            WHEN next_at IS NOT NULL AND g % 33 = 0 THEN created_at + (next_at - created_at) / 2 END
     FROM (
       SELECT g, env, slot, created_at, lead(created_at) OVER (PARTITION BY env, slot ORDER BY g) AS next_at
       FROM (
         SELECT g, g % $5::int AS env, floor($6::int * power(random(), 2))::int AS slot,
           now() - interval '10 minutes' - make_interval(days => $7::int) * (1 - g::float8 / $8::int)
             + interval '2 seconds' * (random() * 2 - 1) AS created_at
         FROM generate_series(1, $8::int) g) x
     ) y
     ORDER BY g`,
    [org, lenv, envIds, pool, envIds.length, PIT_SLOTS, PIT_DAYS, PIT_HISTORY],
  );
}

/**
 * The point-in-time phase: seeds its history, then times a page of 50 as of 1 hour and 300 days
 * ago through server A (LIST_ROUNDS rounds of LIST_CALLS, as measureList), by environment and
 * organization-wide, each beside its statement from pg (EXPLAIN ANALYZE kept in the results);
 * then DiffDeployments of two environments' production now against now, 1 hour and 300 days ago.
 */
async function measurePointInTime(
  sql: pg.Pool,
  client: ReturnType<typeof createClient<typeof DeploymentService>>,
  envs: ReturnType<typeof createClient<typeof EnvironmentService>>,
  ids: { org: string; lenv: string },
) {
  const names = Array.from({ length: PIT_ENVIRONMENTS }, (_, i) => `bench-pit-${i}`);
  const envIds: string[] = [];
  for (const name of names) envIds.push((await envs.createEnvironment({ name })).environment!.id);
  const pool = (await sql.query<{ digest: string }>(`SELECT DISTINCT digest FROM attested_artifacts WHERE organization_id = $1 LIMIT 5000`, [ids.org])).rows.map((r) => r.digest);
  log(`point in time: seeding a ${PIT_HISTORY}-record history of ${PIT_ENVIRONMENTS} environments over ${PIT_DAYS} days`);
  const t0 = performance.now();
  await seedPointInTime(sql, ids.org, envIds, ids.lenv, pool);
  log(`point in time: seeded in ${fmt((performance.now() - t0) / 1000, 0)} s`);
  await settle(sql);
  const total = Number((await sql.query("SELECT count(*)::int AS n FROM deployments")).rows[0].n);
  const now = Date.now();
  const instants = [
    { instant: "1h ago", at: new Date(now - 3_600_000) },
    { instant: "300d ago", at: new Date(now - 300 * 86_400_000) },
  ];
  const scopes = [
    { scope: "by env", environment: names[1], filters: { environmentId: envIds[1] } },
    { scope: "whole org", environment: "", filters: {} },
  ];
  const list = [];
  const plans: Record<string, string[]> = {};
  for (const { instant, at } of instants) {
    for (const { scope, environment, filters } of scopes) {
      log(`point in time: list 50 as of ${instant} (${at.toISOString()}), ${scope}`);
      const rounds: Array<{ p50: number; p99: number }> = [];
      for (let round = 0; round < LIST_ROUNDS; round++) {
        if (round > 0) await sleep(2_000);
        rounds.push(
          await timeCalls(async () => {
            const res = await client.listDeployments({ environment, asOf: timestampFromDate(at), pageSize: 50 });
            if (res.deployments.length !== 50) throw new Error(`list as of ${instant} returned ${res.deployments.length} records, expected 50`);
          }),
        );
      }
      const page = deploymentPageQuery(ids.org, { ...filters, asOf: at }, undefined, 51);
      const statement = await measureListStatement(sql, page);
      plans[`${instant}, ${scope}`] = (await sql.query(`EXPLAIN (ANALYZE, BUFFERS) ${page.text}`, page.params)).rows.map((r) => r["QUERY PLAN"]);
      list.push({ instant, scope, p50: median(rounds.map((r) => r.p50)), p99: median(rounds.map((r) => r.p99)), rounds, statement });
    }
  }

  const diff = [];
  for (const { instant, at } of [{ instant: "now", at: undefined }, ...instants]) {
    log(`point in time: DiffDeployments ${names[1]}/production now vs ${names[2]}/production ${instant}, ${DIFF_CALLS} calls`);
    const call = async () => {
      const res = await client.diffDeployments(
        {
          fromPlace: { environment: names[1], logicalEnvironment: "production" },
          toPlace: { environment: names[2], logicalEnvironment: "production", asOf: at ? timestampFromDate(at) : undefined },
        },
        { timeoutMs: 60_000 },
      );
      const counted = res.sameCount + res.differentCount + res.onlyInFromCount + res.onlyInToCount;
      if (res.entries.length !== counted || counted < PIT_SLOTS / 2) throw new Error(`diff returned ${res.entries.length} entries, counts ${counted}`);
      return res.entries.length;
    };
    try {
      const entries = await call();
      for (let i = 0; i < 2; i++) await call();
      const times: number[] = [];
      for (let i = 0; i < DIFF_CALLS; i++) {
        const t = performance.now();
        await call();
        times.push(performance.now() - t);
      }
      diff.push({ instant, entries, p50: percentile(times, 50), p99: percentile(times, 99), calls: DIFF_CALLS, error: "" });
    } catch (e) {
      const error = e instanceof ConnectError && e.code === Code.Unimplemented ? "Unimplemented" : (e as Error).message;
      log(`point in time: diff ${instant} failed: ${error}`);
      diff.push({ instant, entries: 0, p50: NaN, p99: NaN, calls: 0, error });
    }
  }
  return { history: PIT_HISTORY, environments: PIT_ENVIRONMENTS, slots: PIT_SLOTS, days: PIT_DAYS, tableRows: total, list, plans, diff };
}

/** The server runs as deployed: `npm start`'s command, logging at LOG_LEVEL (default info: a line per call) to a file. */
async function startServer(databaseUrl: string, dataDir: string, extraEnv: Record<string, string> = {}) {
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(dataDir, "server.log");
  const out = fs.openSync(logFile, "a");
  const child = spawn(process.execPath, ["--enable-source-maps", path.join(ROOT, "dist/server/main.js")], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      CHAINLOOP_DATA_DIR: dataDir,
      PORT: "0",
      LOG_LEVEL: SERVER_LOG_LEVEL,
      CHAINLOOP_BOOTSTRAP_TOKEN: TOKEN,
      // The hanging-receiver phase's receiver listens on 127.0.0.1.
      CHAINLOOP_WEBHOOK_ALLOW_PRIVATE: "1",
      CHAINLOOP_SECRETS_KEY: SECRETS_KEY,
      ...extraEnv,
    },
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
