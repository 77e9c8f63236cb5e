// Database outage: the server runs on a Postgres cluster of this test's own (tests/helpers/
// pg-cluster.ts). Under RecordDeployment load the database goes away twice, without the
// server being restarted:
//   1. down:   `pg_ctl stop -m immediate` (a database crash: connections are closed) for a
//              few seconds, then `pg_ctl start` (crash recovery);
//   2. frozen: every Postgres process SIGSTOPped (a hung host or a partition: connections
//              stay open and nothing answers) for longer than the server's database timeouts.
// During each outage every call fails with Unavailable (never Internal) within CALL_BOUND_MS
// (never a hang), /healthz and grpc.health.v1 say NOT_SERVING; afterwards the same server
// process recovers by itself (SERVING, calls succeed) and no acknowledged record is lost.
import { Code, ConnectError } from "@connectrpc/connect";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "../../gen/proto/grpc/health/v1/health_pb.js";
import { connectClient, grpcTransportClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import {
  countBy,
  digestOf,
  healthz,
  makeSlots,
  newStats,
  prng,
  recordLoad,
  seedFromEnv,
  sleep,
  verifyAcked,
  waitFor,
} from "../helpers/faults.js";
import { createCluster, type PgCluster } from "../helpers/pg-cluster.js";
import { startServer, type ServerProcess } from "../helpers/server.js";

/** No call may take longer than this, outage or not. */
const CALL_BOUND_MS = 6_000;
const DOWN_MS = 4_000;
/** Longer than the server's database timeouts (5 s), so that a missing timeout shows as a hang. */
const FROZEN_MS = 8_000;

describe("database outage under record load (own Postgres cluster)", () => {
  let cluster: PgCluster | undefined;
  let server: ServerProcess | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    cluster?.thaw();
    await server?.stop("SIGKILL");
    await cluster?.destroy();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers Unavailable within the bound, reports NOT_SERVING, recovers by itself and loses nothing", async () => {
    const seed = seedFromEnv();
    console.log(`[outage] seed=${seed} (FAULT_SEED=${seed} repeats this run)`);
    const rng = prng(seed);
    cluster = await createCluster();
    const db = cluster;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-outage-"));
    server = await startServer({ DATABASE_URL: cluster.url, CHAINLOOP_DATA_DIR: dataDir });
    const srv = server;
    const pid = srv.child.pid!;
    const environment = "outage-env";
    await connectClient(EnvironmentService, srv.url).createEnvironment({ name: environment });
    const digests = Array.from({ length: 300 }, (_, i) => digestOf(`outage ${seed} ${i}`));
    await attest(srv.url, digests);
    const slots = makeSlots(environment, 30);
    const health = grpcTransportClient(Health, srv.url, null);
    const grpcHealth = async () => {
      try {
        return Serving[(await health.check({ service: "" }, { timeoutMs: CALL_BOUND_MS + 1_000 })).status];
      } catch (e) {
        return `error:${Code[ConnectError.from(e).code]}`;
      }
    };
    /** The last health answers, for the message when the server does not recover. */
    let lastHealth = "";
    const serving = async () => {
      const h = await healthz(srv.url).then(
        (x) => x.status,
        (e: Error) => `error:${e.message}`,
      );
      const g = await grpcHealth();
      lastHealth = `/healthz ${h}, grpc.health ${g}`;
      return h === "SERVING" && g === "SERVING";
    };
    expect(await serving()).toBe(true);

    let stop = false;
    const stats = newStats();
    const load = recordLoad({
      clients: [connectClient(DeploymentService, srv.url, "1.1"), grpcTransportClient(DeploymentService, srv.url)],
      concurrency: 16,
      slots,
      digests,
      rng,
      stop: () => stop,
      maxCalls: 100_000,
      maxMs: 150_000,
      pauseMs: 5,
      stats,
    });

    interface Outage {
      kind: string;
      from: number;
      to: number;
      health: Array<{ healthz: string; healthzCode: number; grpc: string; ms: number }>;
      servingAfterMs: number;
      firstOkAfterMs: number;
    }
    /** Takes the database away with `begin`, probes health meanwhile, brings it back with `end`. */
    const outage = async (kind: string, durationMs: number, begin: () => Promise<void>, end: () => Promise<void>): Promise<Outage> => {
      const ackedBefore = stats.acked.length;
      await waitFor(`acknowledged calls before the ${kind} outage`, async () => stats.acked.length >= ackedBefore + 200, 30_000, 10);
      await begin();
      const from = Date.now();
      const probes: Outage["health"] = [];
      // Probes started in the outage's last second could straddle its end: they are not judged.
      while (Date.now() - from < durationMs - 1_000) {
        const t0 = Date.now();
        const [h, g] = await Promise.all([
          healthz(srv.url, CALL_BOUND_MS + 1_000).catch((e: Error) => ({ code: 0, status: `error:${e.message}` })),
          grpcHealth(),
        ]);
        probes.push({ healthz: h.status, healthzCode: h.code, grpc: g, ms: Date.now() - t0 });
        await sleep(250);
      }
      await sleep(Math.max(0, from + durationMs - Date.now()));
      await end();
      const to = Date.now();
      const servingAfterMs = await waitFor(`SERVING again after the ${kind} outage`, serving, 20_000).catch((e: Error) => {
        throw new Error(`${e.message}; last answers: ${lastHealth}; the server's last log lines:\n${srv.logs.slice(-30).join("\n")}`);
      });
      await waitFor(`acknowledged calls after the ${kind} outage`, async () => stats.acked.some((a) => a.at > to), 20_000, 10);
      const firstOkAfterMs = Math.min(...stats.acked.filter((a) => a.at > to).map((a) => a.at - to));
      return { kind, from, to, health: probes, servingAfterMs, firstOkAfterMs };
    };

    const outages: Outage[] = [];
    try {
      outages.push(await outage("down", DOWN_MS, () => db.stop("immediate"), () => db.start()));
      outages.push(
        await outage(
          "frozen",
          FROZEN_MS,
          async () => void db.freeze(),
          async () => db.thaw(),
        ),
      );
      // And some more load after both.
      const after = stats.acked.length;
      await waitFor("acknowledged calls after the outages", async () => stats.acked.length >= after + 200, 30_000, 10);
    } finally {
      stop = true;
      await load;
    }

    const unexpected = [...new Set(srv.logs.filter((l) => l.includes('"unexpected error"')).map((l) => l.slice(0, 1500)))];
    if (unexpected.length) console.log(`[outage] server logged ${unexpected.length} distinct unexpected errors:\n${unexpected.slice(0, 5).join("\n")}`);
    const slowest = Math.max(...stats.calls.map((c) => c.ms));
    console.log(
      `[outage] calls sent=${stats.sent} acknowledged=${stats.acked.length} errors=${JSON.stringify(stats.errors)} ` +
        `slowest call ${Math.round(slowest)} ms (bound ${CALL_BOUND_MS} ms)\n` +
        outages
          .map((o) => {
            const during = stats.calls.filter((c) => c.startedAt >= o.from && c.startedAt < o.to);
            const failed = stats.failures.filter((f) => f.startedAt >= o.from && f.startedAt < o.to);
            return (
              `[outage] ${o.kind} for ${o.to - o.from} ms: ${during.length} calls started, ${during.filter((c) => c.ok).length} OK, ` +
              `${failed.length} failed ${JSON.stringify(countBy(failed, (f) => f.code))}, slowest ${Math.round(Math.max(0, ...during.map((c) => c.ms)))} ms; ` +
              `health ${JSON.stringify(countBy(o.health, (h) => `${h.healthzCode}/${h.healthz}/grpc:${h.grpc}`))} ` +
              `(slowest probe ${Math.max(0, ...o.health.map((h) => h.ms))} ms); SERVING again ${o.servingAfterMs} ms after, ` +
              `first OK call ${o.firstOkAfterMs} ms after`
            );
          })
          .join("\n"),
    );

    // Every failure, whenever it happened, is Unavailable with a message, and no call hung.
    expect(Object.keys(stats.errors).filter((k) => k !== "Unavailable")).toEqual([]);
    expect(stats.failures.filter((f) => f.message === "")).toEqual([]);
    expect(slowest).toBeLessThanOrEqual(CALL_BOUND_MS);
    expect(unexpected).toEqual([]);
    for (const o of outages) {
      // Each outage was felt, health said so within the bound, and the same process recovered.
      expect(stats.failures.filter((f) => f.startedAt >= o.from && f.startedAt < o.to).length).toBeGreaterThan(0);
      expect(o.health.length).toBeGreaterThan(0);
      for (const h of o.health) {
        expect(h).toMatchObject({ healthz: "NOT_SERVING", healthzCode: 503, grpc: "NOT_SERVING" });
        expect(h.ms).toBeLessThanOrEqual(CALL_BOUND_MS);
      }
      expect(o.firstOkAfterMs).toBeLessThan(15_000);
    }
    expect(srv.child.exitCode).toBeNull();
    expect(srv.child.signalCode).toBeNull();
    expect(srv.child.pid).toBe(pid);

    // Nothing acknowledged was lost; the slot invariant holds (API and SQL).
    const v = await verifyAcked(connectClient(DeploymentService, srv.url), stats.acked, environment);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const doubles = await c
      .query(
        `SELECT 1 FROM deployments WHERE status = 'deployed'
          GROUP BY organization_id, environment_id, logical_environment_id, name, kind HAVING count(*) > 1`,
      )
      .finally(() => c.end());
    console.log(
      `[outage] after: records=${v.total} acknowledged found=${v.found}/${v.acked} missing=${v.missing.length} ` +
        `lost heartbeats=${v.lostHeartbeats.length} slots with 2+ deployed=${v.doubleDeployed.length} (SQL: ${doubles.rowCount})`,
    );
    expect(v.missing.map((a) => a.id)).toEqual([]);
    expect(v.wrong).toEqual([]);
    expect(v.found).toBe(v.acked);
    expect(v.lostHeartbeats.map((a) => a.id)).toEqual([]);
    expect(v.doubleDeployed).toEqual([]);
    expect(doubles.rowCount).toBe(0);
  }, 240_000);
});
