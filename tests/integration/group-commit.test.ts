// Group commit and the change log, against the real databases (in-process: the repository and
// the change feed over openDatabase, no server): records waiting for a batch share one statement
// and one commit and each gets its own answer; a batch that loses a race with another process is
// run again item by item so only that item is affected; and every committed change reaches a
// change-feed subscriber, whatever order the writing transactions committed in and whether or
// not anybody announced it. The server-level effects (concurrent RPCs, watchers across
// processes, kill -9) are in deployments.test.ts, live.test.ts and tests/faults/crash.test.ts.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { openDatabase, type Database } from "../../server/data/client.js";
import { SqlDeploymentRepository } from "../../server/data/deployments.js";
import { migrate } from "../../server/data/migrate.js";
import type { ArtifactInput, NamedSlot, PolicyHold, RecordRefusal, RecordResult } from "../../server/domain/deployments.js";
import type { ChangeNotice } from "../../server/domain/live.js";
import { createLogger } from "../../server/log.js";
import { createUseCases } from "../../server/wiring.js";
import { statementFor } from "../helpers/evidence.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { digest } from "../helpers/facts.js";

const logger = createLogger("silent");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const actor = { tokenId: randomUUID(), tokenName: "ci" };
const art = (d: string): ArtifactInput => ({ digest: d, artifactName: "", artifactVersion: "", artifactReference: "" });
const outcomeOf = (r: RecordResult | RecordRefusal | PolicyHold) => ("missing" in r ? `missing ${r.missing}` : "guarded" in r ? "guarded" : r.outcome);

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe.each(backends())("group commit and the change log on %s", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let orgId: string;
  const attested = Array.from({ length: 40 }, (_, i) => digest(`gc-${i}`));
  const slot = (name: string, environment = "k8s", logicalEnvironment = "production"): NamedSlot => ({
    organizationId: orgId,
    environment,
    logicalEnvironment,
    name,
    kind: "CONTAINER_IMAGE",
  });
  /** The distinct transactions that logged changes to these records. */
  const xidsOf = async (ids: string[]) =>
    (
      await db.sql.query<{ xid: string }>(
        `SELECT DISTINCT xid::text AS xid FROM deployment_changes WHERE deployment_ids && $1::uuid[] AND changes <> ''`,
        [ids],
      )
    ).map((r) => r.xid);

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger });
    await migrate(db, logger);
    const uc = createUseCases(db);
    orgId = (await uc.organizations.create("acme")).id;
    await uc.environments.create(orgId, { name: "k8s", description: "" });
    await uc.evidence.push(orgId, {
      content: Buffer.from(JSON.stringify(statementFor(attested))),
      workflow: "build",
      project: "api",
      projectVersion: "",
    });
  });

  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  test("records waiting behind a running batch share one statement and one commit, and each gets its own answer", async () => {
    const repo = new SqlDeploymentRepository(db.sql, { recordBatches: { maxBatch: 100, maxInFlight: 1 } });
    const first = repo.recordDeployed(slot("first"), art(attested[0]), actor); // runs alone, at once
    // Submitted while it runs: they wait, then go out together.
    const batch = [
      ...Array.from({ length: 12 }, (_, i) => repo.recordDeployed(slot(`svc-${i}`), art(attested[i + 1]), actor)),
      repo.recordDeployed(slot("svc-x", "nowhere"), art(attested[20]), actor),
      repo.recordDeployed(slot("svc-y", "k8s", "qa"), art(attested[21]), actor),
      repo.recordDeployed(slot("svc-z"), art(digest("never attested")), actor),
    ];
    expect(outcomeOf(await first)).toBe("created");
    const results = await Promise.all(batch);
    expect(results.map(outcomeOf)).toEqual([
      ...Array.from({ length: 12 }, () => "created"),
      "missing environment",
      "missing logical-environment",
      "missing evidence",
    ]);
    const created = results.slice(0, 12) as RecordResult[];
    created.forEach((r, i) => {
      expect(r.deployment).toMatchObject({ name: `svc-${i}`, digest: attested[i + 1], status: "deployed", environment: "k8s", recordedBy: actor });
    });
    expect(new Set(created.map((r) => r.deployment.id)).size).toBe(12);
    // One commit for the twelve: one writing transaction in the change log; another for the first.
    expect(await xidsOf(created.map((r) => r.deployment.id))).toHaveLength(1);
    const [firstXid] = await xidsOf([(await first as RecordResult).deployment.id]);
    expect(await xidsOf(created.map((r) => r.deployment.id))).not.toContain(firstXid);
    // Nothing was written for the refused ones.
    const refused = await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM deployments WHERE name IN ('svc-x', 'svc-y', 'svc-z')`, []);
    expect(refused[0].n).toBe(0);
  });

  test("one batch heartbeats, supersedes and creates, each by the slot's own state", async () => {
    const repo = new SqlDeploymentRepository(db.sql, { recordBatches: { maxBatch: 100, maxInFlight: 1 } });
    const a = (await repo.recordDeployed(slot("mix-a"), art(attested[30]), actor)) as RecordResult;
    const b = (await repo.recordDeployed(slot("mix-b"), art(attested[31]), actor)) as RecordResult;
    const blocker = repo.recordDeployed(slot("mix-blocker"), art(attested[32]), actor);
    const [beat, sup, created] = await Promise.all([
      repo.recordDeployed(slot("mix-a"), art(attested[30]), actor),
      repo.recordDeployed(slot("mix-b"), art(attested[33]), actor),
      repo.recordDeployed(slot("mix-c"), art(attested[34]), actor),
    ]);
    await blocker;
    expect([beat, sup, created].map(outcomeOf)).toEqual(["heartbeat", "superseded", "created"]);
    expect((beat as RecordResult).deployment.id).toBe(a.deployment.id);
    expect((beat as RecordResult).deployment.lastSeenAt.getTime()).toBeGreaterThanOrEqual(a.deployment.lastSeenAt.getTime());
    expect((sup as RecordResult).supersededId).toBe(b.deployment.id);
    const old = await db.sql.query<{ status: string; superseded_by_id: string }>(
      `SELECT status::text AS status, superseded_by_id::text AS superseded_by_id FROM deployments WHERE id = $1`,
      [b.deployment.id],
    );
    expect(old[0]).toEqual({ status: "superseded", superseded_by_id: (sup as RecordResult).deployment.id });
    // The three share one commit: a's heartbeat, b's supersede and both new records are logged by one transaction.
    const xids = await db.sql.query<{ xid: string }>(
      `SELECT DISTINCT c.xid::text AS xid FROM deployment_changes c, unnest(c.deployment_ids, string_to_array(c.changes, NULL)) AS x(id, code)
       WHERE (x.id, x.code) IN (($1::uuid, 'h'), ($2::uuid, 's'), ($3::uuid, 'c'), ($4::uuid, 'c'))`,
      [a.deployment.id, b.deployment.id, (sup as RecordResult).deployment.id, (created as RecordResult).deployment.id],
    );
    expect(xids).toHaveLength(1);
  });

  // Postgres only (PGlite is one session): these need a second session holding a transaction open.
  const pgOnly = (name: string, fn: () => Promise<void>) => {
    if (backend === "postgres") test(name, fn);
  };

  pgOnly("a batch that loses a race on one slot with another process is run again item by item: only that slot retries", async () => {
    const repo = new SqlDeploymentRepository(db.sql, { recordBatches: { maxBatch: 100, maxInFlight: 1 } });
    const envRow = await db.sql.query<{ env: string; lenv: string }>(
      `SELECT (SELECT id::text FROM environments WHERE organization_id = $1 AND name = 'k8s') AS env,
              (SELECT id::text FROM logical_environments WHERE organization_id = $1 AND name = 'production') AS lenv`,
      [orgId],
    );
    // "Another process" creates the slot and has not committed yet: its row holds the slot in
    // the partial unique index.
    const other = new pg.Client({ connectionString: tdb.databaseUrl });
    await other.connect();
    try {
      await other.query("BEGIN");
      const otherId = randomUUID();
      await other.query(
        `INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest, status)
         VALUES ($1, $2, $3, $4, 'race', 'CONTAINER_IMAGE', $5, 'deployed')`,
        [otherId, orgId, envRow[0].env, envRow[0].lenv, attested[35]],
      );
      const warm = repo.recordDeployed(slot("race-warm"), art(attested[36]), actor);
      const batch = [
        repo.recordDeployed(slot("race"), art(attested[37]), actor),
        repo.recordDeployed(slot("race-y"), art(attested[38]), actor),
        repo.recordDeployed(slot("race-z"), art(attested[39]), actor),
      ];
      await warm;
      await sleep(300); // the batch is now waiting on the other transaction's index entry
      await other.query("COMMIT");
      const results = (await Promise.all(batch)) as RecordResult[];
      // The batch failed (unique violation) and nothing of it was written; run again item by
      // item, the raced slot now supersedes the other process's record, the others are created.
      expect(results.map(outcomeOf)).toEqual(["superseded", "created", "created"]);
      expect(results[0].supersededId).toBe(otherId);
      const xids = await Promise.all(results.map((r) => xidsOf([r.deployment.id])));
      expect(new Set(xids.flat()).size).toBe(3); // three commits: item by item
    } finally {
      await other.end();
    }
  });

  pgOnly("a subscriber gets every committed change from the log, whatever order transactions committed in, announced or not", async () => {
    const repo = new SqlDeploymentRepository(db.sql, { onCommitted: () => db.changes.announce() });
    const r1 = (await repo.recordDeployed(slot("log-1"), art(attested[1]), actor)) as RecordResult;
    const r2 = (await repo.recordDeployed(slot("log-2"), art(attested[2]), actor)) as RecordResult;
    const notices: ChangeNotice[] = [];
    const unsubscribe = await db.changes.subscribe({ onNotice: (n) => notices.push(n), onInterrupted: () => {} });
    const seen = (id: string, kind: string) => notices.some((n) => n.changes.some((c) => c.deploymentId === id && c.kind === kind));
    const other = new pg.Client({ connectionString: tdb.databaseUrl });
    await other.connect();
    try {
      // An older transaction (it takes its id first) changes r1 and stays open…
      await other.query("BEGIN");
      await other.query(`UPDATE deployments SET last_seen_at = now() + interval '1 second' WHERE id = $1`, [r1.deployment.id]);
      // …while a younger one records r2 and commits first: read at once (announced).
      const beat = (await repo.recordDeployed(slot("log-2"), art(attested[2]), actor)) as RecordResult;
      expect(beat.outcome).toBe("heartbeat");
      await until("r2's heartbeat", () => (seen(r2.deployment.id, "heartbeat") ? true : undefined));
      expect(seen(r1.deployment.id, "heartbeat")).toBe(false);
      // The older one commits now, announcing nothing: the next poll reads it all the same (a
      // position by change sequence alone would have passed it by).
      await other.query("COMMIT");
      await until("r1's heartbeat, committed later by an older transaction", () => (seen(r1.deployment.id, "heartbeat") ? true : undefined), 3_000);
      // Each change once.
      const count = (id: string) => notices.flatMap((n) => n.changes).filter((c) => c.deploymentId === id && c.kind === "heartbeat").length;
      expect([count(r1.deployment.id), count(r2.deployment.id)]).toEqual([1, 1]);
    } finally {
      unsubscribe();
      await other.end();
    }
  });

  test("a transaction's changes reach subscribers updates first, then inserts: a supersede before the record it made", async () => {
    const repo = new SqlDeploymentRepository(db.sql, { onCommitted: () => db.changes.announce() });
    const first = (await repo.recordDeployed(slot("order"), art(attested[3]), actor)) as RecordResult;
    const notices: ChangeNotice[] = [];
    const unsubscribe = await db.changes.subscribe({ onNotice: (n) => notices.push(n), onInterrupted: () => {} });
    // (The subscription may also bring earlier records' creation, if the feed was already reading.)
    const changesOf = (ids: string[]) =>
      notices.flatMap((n) => n.changes).filter((c) => ids.includes(c.deploymentId) && !(c.deploymentId === ids[0] && c.kind === "created"));
    try {
      // Through the record statement…
      const second = (await repo.recordDeployed(slot("order"), art(attested[4]), actor)) as RecordResult;
      await until("the supersede's two changes", () => (changesOf([first.deployment.id, second.deployment.id]).length >= 2 ? true : undefined));
      expect(changesOf([first.deployment.id, second.deployment.id])).toEqual([
        { kind: "superseded", deploymentId: first.deployment.id },
        { kind: "created", deploymentId: second.deployment.id },
      ]);
      // …and through a statement whose INSERT trigger fires before its UPDATE trigger (an
      // operator's SQL, or another version's statement): the same order.
      const thirdId = randomUUID();
      await db.sql.query(
        `WITH beat AS (
           UPDATE deployments SET last_seen_at = now() WHERE id = $4 RETURNING id
         ), old AS (
           UPDATE deployments SET status = 'superseded', superseded_at = now(), superseded_by_id = $2 WHERE id = $1
           RETURNING organization_id, environment_id, logical_environment_id, name, kind
         ), ins AS (
           INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest, status)
           SELECT $2, organization_id, environment_id, logical_environment_id, name, kind, $3, 'deployed' FROM old
           RETURNING id
         )
         SELECT 1`,
        [second.deployment.id, thirdId, attested[5], first.deployment.id],
      );
      const logged = await db.sql.query<{ changes: string }>(
        `SELECT changes FROM deployment_changes WHERE deployment_ids && $1::uuid[] ORDER BY seq`,
        [[second.deployment.id, thirdId]],
      );
      expect(logged.map((r) => r.changes).slice(-2)).toEqual(["c", "s"]); // this statement logged its insert first (the heartbeat is first's)
      db.changes.announce();
      await until("the second supersede's two changes", () => (changesOf([second.deployment.id, thirdId]).length >= 2 ? true : undefined));
      expect(changesOf([second.deployment.id, thirdId]).slice(-2)).toEqual([
        { kind: "superseded", deploymentId: second.deployment.id },
        { kind: "created", deploymentId: thirdId },
      ]);
    } finally {
      unsubscribe();
    }
  });
});
