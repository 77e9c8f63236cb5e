// Crash: sustained RecordDeployment load from 16 concurrent callers (new digests and
// heartbeats over many slots, Connect over HTTP/1.1 and HTTP/2 and gRPC), `kill -9` of the
// server mid-load, restart on the same database. Every call answered OK before the kill must
// be in the database afterwards (by id, with its digest and slot; heartbeats' last_seen not
// older than acknowledged), and no slot may hold two `deployed` records. On both backends:
// Postgres (checked with SQL too) and the embedded PGlite, whose durability across a process
// crash this test measures (README: "Durability").
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient, grpcTransportClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import {
  countBy,
  digestOf,
  makeSlots,
  newStats,
  outcomeName,
  prng,
  recordLoad,
  seedFromEnv,
  verifyAcked,
  waitFor,
} from "../helpers/faults.js";
import { startServer, type ServerProcess } from "../helpers/server.js";

const CONCURRENCY = 16;
const SLOTS = 40;
const DIGESTS = 400;

describe.each(backends())("kill -9 under record load on %s", (backend) => {
  let db: TestDatabase | undefined;
  let server: ServerProcess | undefined;

  afterAll(async () => {
    await server?.stop("SIGKILL");
    await db?.drop();
  });

  it("loses no acknowledged record and keeps at most one deployed record per slot", async () => {
    const seed = seedFromEnv();
    console.log(`[crash/${backend}] seed=${seed} (FAULT_SEED=${seed} repeats this run)`);
    const rng = prng(seed);
    db = await createTestDatabase(backend);
    server = await startServer(db.env);
    const environment = "crash-env";
    await connectClient(EnvironmentService, server.url).createEnvironment({ name: environment });
    const digests = Array.from({ length: DIGESTS }, (_, i) => digestOf(`crash ${seed} ${i}`));
    await attest(server.url, digests); // one statement naming every digest
    const slots = makeSlots(environment, SLOTS);

    const clients = [
      connectClient(DeploymentService, server.url, "1.1"),
      connectClient(DeploymentService, server.url, "2"),
      grpcTransportClient(DeploymentService, server.url),
    ];
    // Kill once enough calls were acknowledged that the load is sustained (and some slots
    // have been superseded several times), at a random moment after that.
    const killAfterAcks = backend === "postgres" ? 400 + rng.int(400) : 150 + rng.int(150);
    let killed = false;
    const stats = newStats();
    const load = recordLoad({
      clients,
      concurrency: CONCURRENCY,
      slots,
      digests,
      rng,
      stop: () => killed,
      maxCalls: 50_000,
      maxMs: 60_000,
      stats,
    });
    await waitFor("acknowledged calls before the kill", async () => stats.acked.length >= killAfterAcks, 45_000, 5);
    const inFlightAtKill = stats.sent - stats.acked.length - Object.values(stats.errors).reduce((a, b) => a + b, 0);
    server.child.kill("SIGKILL");
    killed = true;
    const killedAt = Date.now();
    await server.stop(); // waits for the exit
    await load;
    const ackedBeforeKill = stats.acked.filter((a) => a.at <= killedAt).length;
    const errorsBeforeKill = stats.failures.filter((f) => f.endedAt < killedAt);

    // Restart on the same database.
    const restartStarted = Date.now();
    server = await startServer(db.env, { timeoutMs: 60_000 });
    const restartMs = Date.now() - restartStarted;
    const reader = connectClient(DeploymentService, server.url);
    const v = await verifyAcked(reader, stats.acked, environment);

    // By id through GetDeployment, for the last acknowledged calls (the ones most at risk).
    const lastAcked = stats.acked.slice(-50);
    const gotById = await Promise.all(
      lastAcked.map(async (a) => {
        try {
          const res = await reader.getDeployment({ id: a.id });
          return res.deployment?.digest === a.digest;
        } catch (e) {
          return ConnectError.from(e).code === Code.NotFound ? false : Promise.reject(e);
        }
      }),
    );

    let sql: { doubles: number; foundBySql: number } | undefined;
    if (db.databaseUrl) {
      const c = new pg.Client({ connectionString: db.databaseUrl });
      await c.connect();
      try {
        const doubles = await c.query(
          `SELECT organization_id, environment_id, logical_environment_id, name, kind, count(*)
             FROM deployments WHERE status = 'deployed'
            GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1`,
        );
        const ids = [...new Set(stats.acked.map((a) => a.id))];
        const found = await c.query(`SELECT id::text AS id, digest FROM deployments WHERE id = ANY($1::uuid[])`, [ids]);
        const digestById = new Map(found.rows.map((r) => [r.id as string, r.digest as string]));
        const foundBySql = stats.acked.filter((a) => digestById.get(a.id) === a.digest).length;
        sql = { doubles: doubles.rowCount ?? 0, foundBySql };
      } finally {
        await c.end();
      }
    }

    console.log(
      `[crash/${backend}] calls sent=${stats.sent} acknowledged=${stats.acked.length} (before kill: ${ackedBeforeKill}) ` +
        `in flight at kill≈${inFlightAtKill} outcomes=${JSON.stringify(countBy(stats.acked, (a) => outcomeName(a.outcome)))} ` +
        `errors=${JSON.stringify(stats.errors)} (before the kill: ${errorsBeforeKill.length})\n` +
        `[crash/${backend}] after restart (${restartMs} ms): records=${v.total} acknowledged found=${v.found}/${v.acked} ` +
        `missing=${v.missing.length} wrong=${v.wrong.length} lost heartbeats=${v.lostHeartbeats.length} ` +
        `slots with 2+ deployed=${v.doubleDeployed.length} dangling superseded_by=${v.danglingSupersede.length} ` +
        `last 50 by GetDeployment=${gotById.filter(Boolean).length}/50` +
        (sql ? ` SQL: acknowledged found=${sql.foundBySql}/${v.acked}, slots with 2+ deployed=${sql.doubles}` : ""),
    );

    expect(stats.acked.length).toBeGreaterThanOrEqual(killAfterAcks);
    expect(errorsBeforeKill).toEqual([]); // the load itself ran clean until the kill
    expect(v.missing.map((a) => a.id)).toEqual([]);
    expect(v.wrong).toEqual([]);
    expect(v.found).toBe(v.acked);
    expect(v.lostHeartbeats.map((a) => a.id)).toEqual([]);
    expect(v.doubleDeployed).toEqual([]);
    expect(v.danglingSupersede).toEqual([]);
    expect(gotById.every(Boolean)).toBe(true);
    if (sql) {
      expect(sql.doubles).toBe(0);
      expect(sql.foundBySql).toBe(v.acked);
    }

    // The restarted server keeps recording into the same slots.
    const again = await connectClient(DeploymentService, server.url).recordDeployment({ ...slots[0], digest: digests[0] });
    expect(again.deployment?.digest).toBe(digests[0]);
  }, 180_000);
});
