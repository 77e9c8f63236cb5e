// GetDeliveryMetrics (DORA) on both database backends.
//
// First, the use case over the real repository and database, on a history written directly
// into the tables with chosen times (supersedes, rollbacks, decommissions inside and outside the
// failure window, a failure never restored, a digest deployed in two environments, slots whose
// records interleave in time, seq order unlike create-time order, an unattested digest, a record
// in another logical environment, one exactly at the period's end): every expected number is
// worked out by hand in the comments. Then the RPC through a server process and the Connect
// client, on records made through the real record path, and its error codes.
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ArtifactKind, DeploymentService, DeploymentStatus } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { DeliveryMetricsService, MetricsBucket } from "../../gen/proto/chainloop/v1/delivery_metrics_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { openDatabase, type Database } from "../../server/data/client.js";
import { migrate } from "../../server/data/migrate.js";
import type { MetricsInput, PeriodMetrics } from "../../server/domain/delivery-metrics.js";
import { bucketCount } from "../../server/domain/delivery-metrics.js";
import { createLogger } from "../../server/log.js";
import { createUseCases, type UseCases } from "../../server/wiring.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { digest, domainFailure } from "../helpers/facts.js";

const logger = createLogger("silent");
const t = (iso: string) => new Date(iso);
const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;

// The digests and the attestations that mention them (earliest first):
//   A  Oct 30 10:00 (shop, subject); Nov 3 00:00 (other, material)  → earliest Oct 30 10:00
//   B  Nov 4 09:00 (shop, subject)
//   C  Nov 9 08:00 (tools, material); Nov 16 08:00 (shop, subject)   → earliest Nov 9 08:00 (any role)
//   D  Nov 18 00:00 (tools, subject)                                  → not in project "shop"
//   E  Nov 18 12:30 (shop, subject)
//   G  never attested                                                 → no lead time, not in "shop"
const A = digest("A"), B = digest("B"), C = digest("C"), D = digest("D"), E = digest("E"), G = digest("G");
const ATTESTATIONS: Array<{ at: string; project: string; subjects: string[]; materials: string[] }> = [
  { at: "2026-10-30T10:00:00Z", project: "shop", subjects: [A], materials: [] },
  { at: "2026-11-03T00:00:00Z", project: "other", subjects: [], materials: [A] },
  { at: "2026-11-04T09:00:00Z", project: "shop", subjects: [B], materials: [] },
  { at: "2026-11-09T08:00:00Z", project: "tools", subjects: [], materials: [C] },
  { at: "2026-11-16T08:00:00Z", project: "shop", subjects: [C], materials: [] },
  { at: "2026-11-18T00:00:00Z", project: "tools", subjects: [D], materials: [] },
  { at: "2026-11-18T12:30:00Z", project: "shop", subjects: [E], materials: [] },
];

// The records. Slots: east/production api, east/production web, west/production api,
// west/production job, east/staging api. `seq` is deliberately not in create-time order.
//   key  slot         digest created        seq  what became of it
//   r1   east api     A  Nov 1 12:00         10   superseded by r2 (before the period)
//   r2   east api     B  Nov 5 10:00         31   superseded by r3, a rollback → failed, restored in 30m
//   r3   east api     A  Nov 5 10:30         30   rollback of r1; superseded by r4
//   r4   east api     C  Nov 17 09:00        70   decommissioned at 09:20 (20m ≤ 1h) → failed; next record r5 → restored in 60m
//   r5   east api     C  Nov 17 10:00        72   deployed (w2's seq 80 and x2's 20 lie between/below: the slot's next is by seq)
//   w1   east web     B  Nov 6 00:00         40   decommissioned at 03:00 (3h > 1h) → not failed
//   w2   east web     D  Nov 18 12:00        80   superseded by w3 (not a rollback)
//   w3   east web     E  Nov 18 13:00        81   decommissioned at 13:45 (45m) → failed, never restored
//   x1   west api     B  Nov 4 12:00         60   superseded by x2
//   x2   west api     C  Nov 16 12:00        20   superseded by x3, a rollback → failed, restored in 10m
//   x3   west api     B  Nov 16 12:10        21   rollback of x1; deployed
//   j0   west job     A  Nov 4 00:00         90   (exactly the period's start: counts) superseded by j1
//   j1   west job     G  Nov 24 06:00        91   superseded by j2 (not a rollback)
//   j2   west job     E  Nov 25 12:00        50   (exactly the period's end: does not count) deployed
//   s1   east staging C  Nov 10 00:00        5    deployed — another logical environment: never counts
interface Row {
  key: string;
  env: "east" | "west";
  lenv: "production" | "staging";
  name: string;
  digest: string;
  at: string;
  seq: number;
  supersededBy?: string;
  decommissionedAt?: string;
  rollbackOf?: string;
}
const ROWS: Row[] = [
  { key: "r1", env: "east", lenv: "production", name: "api", digest: A, at: "2026-11-01T12:00:00Z", seq: 10, supersededBy: "r2" },
  { key: "r2", env: "east", lenv: "production", name: "api", digest: B, at: "2026-11-05T10:00:00Z", seq: 31, supersededBy: "r3" },
  { key: "r3", env: "east", lenv: "production", name: "api", digest: A, at: "2026-11-05T10:30:00Z", seq: 30, supersededBy: "r4", rollbackOf: "r1" },
  { key: "r4", env: "east", lenv: "production", name: "api", digest: C, at: "2026-11-17T09:00:00Z", seq: 70, decommissionedAt: "2026-11-17T09:20:00Z" },
  { key: "r5", env: "east", lenv: "production", name: "api", digest: C, at: "2026-11-17T10:00:00Z", seq: 72 },
  { key: "w1", env: "east", lenv: "production", name: "web", digest: B, at: "2026-11-06T00:00:00Z", seq: 40, decommissionedAt: "2026-11-06T03:00:00Z" },
  { key: "w2", env: "east", lenv: "production", name: "web", digest: D, at: "2026-11-18T12:00:00Z", seq: 80, supersededBy: "w3" },
  { key: "w3", env: "east", lenv: "production", name: "web", digest: E, at: "2026-11-18T13:00:00Z", seq: 81, decommissionedAt: "2026-11-18T13:45:00Z" },
  { key: "x1", env: "west", lenv: "production", name: "api", digest: B, at: "2026-11-04T12:00:00Z", seq: 60, supersededBy: "x2" },
  { key: "x2", env: "west", lenv: "production", name: "api", digest: C, at: "2026-11-16T12:00:00Z", seq: 20, supersededBy: "x3" },
  { key: "x3", env: "west", lenv: "production", name: "api", digest: B, at: "2026-11-16T12:10:00Z", seq: 21, rollbackOf: "x1" },
  { key: "j0", env: "west", lenv: "production", name: "job", digest: A, at: "2026-11-04T00:00:00Z", seq: 90, supersededBy: "j1" },
  { key: "j1", env: "west", lenv: "production", name: "job", digest: G, at: "2026-11-24T06:00:00Z", seq: 91, supersededBy: "j2" },
  { key: "j2", env: "west", lenv: "production", name: "job", digest: E, at: "2026-11-25T12:00:00Z", seq: 50 },
  { key: "s1", env: "east", lenv: "staging", name: "api", digest: C, at: "2026-11-10T00:00:00Z", seq: 5 },
];

// The period of most checks: Wednesday Nov 4 00:00 to Wednesday Nov 25 12:00 = 21.5 days.
// ISO weeks (Monday to Monday) clipped to it:
//   W1 [Nov 4, Nov 9)   5 days    W2 [Nov 9, Nov 16)  7 days (empty in production)
//   W3 [Nov 16, Nov 23) 7 days    W4 [Nov 23, Nov 25 12:00) 2.5 days
const START = t("2026-11-04T00:00:00Z");
const END = t("2026-11-25T12:00:00Z");

/** What a period's answer should be: the given counts, and nothing else. */
function expected(p: Partial<Omit<PeriodMetrics, "start" | "end">> & { start: string; end: string }): PeriodMetrics {
  const start = t(p.start);
  const end = t(p.end);
  const deploymentCount = p.deploymentCount ?? 0;
  const failedCount = p.failedCount ?? 0;
  return {
    deploymentCount,
    failedCount,
    rollbackCount: 0,
    leadTimeCount: 0,
    leadTimeMedianMs: undefined,
    leadTimeP90Ms: undefined,
    restoredCount: 0,
    timeToRestoreMedianMs: undefined,
    timeToRestoreP90Ms: undefined,
    deploymentsPerDay: deploymentCount / ((end.getTime() - start.getTime()) / DAY),
    changeFailureRate: deploymentCount === 0 ? 0 : failedCount / deploymentCount,
    ...p,
    start,
    end,
  } as PeriodMetrics;
}

describe.each(backends())("delivery metrics on %s", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let uc: UseCases;
  let orgId: string;
  const ids = new Map<string, string>();

  const metrics = (input: Partial<MetricsInput> = {}) =>
    uc.deliveryMetrics.get(orgId, { logicalEnvironment: "production", environment: "", project: "", start: START, end: END, ...input });

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger });
    await migrate(db, logger);
    uc = createUseCases(db);
    orgId = (await uc.organizations.create("acme")).id;
    // Another organization with the same names and digests: never counted.
    const otherOrg = (await uc.organizations.create("other")).id;
    const envIds: Record<string, string> = {};
    for (const org of [orgId, otherOrg]) {
      for (const name of ["east", "west"]) {
        const env = await uc.environments.create(org, { name, description: "" });
        if (org === orgId) envIds[name] = env.id;
      }
    }
    const lenvIds = Object.fromEntries((await uc.environments.listLogical(orgId)).map((l) => [l.name, l.id]));
    const otherProduction = (await uc.environments.listLogical(otherOrg)).find((l) => l.name === "production")!.id;
    const otherEast = (await uc.environments.get(otherOrg, "east")).id;

    for (const [i, a] of ATTESTATIONS.entries()) {
      const id = randomUUID();
      await db.sql.query(
        `INSERT INTO attestations (id, organization_id, digest, content, size_bytes, format, statement_type, predicate_type, workflow, project, created_at)
         VALUES ($1, $2, $3, $4, 2, 'IN_TOTO_STATEMENT', 'https://in-toto.io/Statement/v1', 'x', 'build', $5, $6)`,
        [id, orgId, digest(`attestation ${i}`), Buffer.from("{}"), a.project, a.at],
      );
      const mentions = [...a.subjects.map((d) => [d, "subject"]), ...a.materials.map((d) => [d, "material"])];
      for (const [pos, [d, role]] of mentions.entries()) {
        await db.sql.query(
          `INSERT INTO attested_artifacts (attestation_id, digest, role, organization_id, position) VALUES ($1, $2, $3::artifact_role, $4, $5)`,
          [id, d, role, orgId, pos],
        );
      }
    }

    for (const r of ROWS) ids.set(r.key, randomUUID());
    // One statement: the successor links (foreign keys) are checked at its end, when every row exists.
    const values = ROWS.map((r) => {
      const successor = r.supersededBy ? ROWS.find((s) => s.key === r.supersededBy)! : undefined;
      const status = successor ? "superseded" : r.decommissionedAt ? "decommissioned" : "deployed";
      return [
        ids.get(r.key), r.seq, orgId, envIds[r.env], lenvIds[r.lenv], r.name, r.digest, status, r.at, r.at,
        successor?.at ?? null, successor ? ids.get(successor.key) : null, r.decommissionedAt ?? null, r.rollbackOf ? ids.get(r.rollbackOf) : null,
      ];
    });
    const width = values[0]!.length;
    await db.sql.query(
      `INSERT INTO deployments (id, seq, organization_id, environment_id, logical_environment_id, name, kind, digest, status, created_at,
         last_seen_at, superseded_at, superseded_by_id, decommissioned_at, rollback_of_id)
       VALUES ${values
         .map((_, i) => {
           const p = (k: number) => `$${i * width + k}`;
           return `(${p(1)}::uuid, ${p(2)}::bigint, ${p(3)}::uuid, ${p(4)}::uuid, ${p(5)}::uuid, ${p(6)}, 'CONTAINER_IMAGE', ${p(7)}, ${p(8)}::deployment_status,
             ${p(9)}::timestamptz, ${p(10)}::timestamptz, ${p(11)}::timestamptz, ${p(12)}::uuid, ${p(13)}::timestamptz, ${p(14)}::uuid)`;
         })
         .join(", ")}`,
      values.flat(),
    );
    // The other organization: a deployment and a rollback-failed one in its production, in the period.
    const [o1, o2, o3] = [randomUUID(), randomUUID(), randomUUID()];
    await db.sql.query(
      `INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest, status, created_at, superseded_at, superseded_by_id, rollback_of_id)
       VALUES ($1::uuid, $4::uuid, $5::uuid, $6::uuid, 'api', 'CONTAINER_IMAGE', $7, 'superseded', '2026-11-05T00:00:00Z', '2026-11-05T01:00:00Z', $2::uuid, NULL),
              ($2::uuid, $4::uuid, $5::uuid, $6::uuid, 'api', 'CONTAINER_IMAGE', $8, 'superseded', '2026-11-05T01:00:00Z', '2026-11-05T02:00:00Z', $3::uuid, NULL),
              ($3::uuid, $4::uuid, $5::uuid, $6::uuid, 'api', 'CONTAINER_IMAGE', $7, 'deployed', '2026-11-05T02:00:00Z', NULL, NULL, $1::uuid)`,
      [o1, o2, o3, otherOrg, otherEast, otherProduction, A, B],
    );
  });

  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  test("every environment, week buckets: the hand-computed answer", async () => {
    const res = await metrics({ bucket: "week" });
    expect(res.bucket).toBe("week");
    expect(res.failureWindowMs).toBe(H);
    // Deployments in [Nov 4, Nov 25 12:00) in production: j0 x1 r2 r3 w1 | x2 x3 r4 r5 w2 w3 | j1 = 12
    // (r1 is before, j2 at the end, s1 in staging). Failed: r2, x2 (replaced by rollbacks), r4 and
    // w3 (decommissioned within 1h) = 4; w1 (3h) is not. Rollbacks: r3, x3.
    // Lead times (first production deployment of the digest in the period − earliest attestation):
    //   A: first deployed in r1 (Nov 1), before the period → none
    //   B: x1 Nov 4 12:00 − Nov 4 09:00 = 3h          C: x2 Nov 16 12:00 − Nov 9 08:00 = 7d4h = 172h
    //   D: w2 Nov 18 12:00 − Nov 18 00:00 = 12h       E: w3 Nov 18 13:00 − Nov 18 12:30 = 0.5h
    //   G: never attested → none. (C's staging record s1, Nov 10, is not a production deployment.)
    //   sorted [0.5, 3, 12, 172] h: median (3 + 12) / 2 = 7.5h; p90 at 0.9 × 3 = 2.7 → 12 + 0.7 × 160 = 124h
    // Time to restore: r2 → r3 30m, x2 → x3 10m, r4 → r5 60m (w3 not restored):
    //   sorted [10, 30, 60] m: median 30m; p90 at 0.9 × 2 = 1.8 → 30 + 0.8 × 30 = 54m
    expect(res.total).toEqual(
      expected({
        start: "2026-11-04T00:00:00Z", end: "2026-11-25T12:00:00Z",
        deploymentCount: 12, failedCount: 4, rollbackCount: 2,
        leadTimeCount: 4, leadTimeMedianMs: 7 * H + 30 * MIN, leadTimeP90Ms: 124 * H,
        restoredCount: 3, timeToRestoreMedianMs: 30 * MIN, timeToRestoreP90Ms: 54 * MIN,
      }),
    );
    expect(res.total.deploymentsPerDay).toBe(12 / 21.5);
    expect(res.total.changeFailureRate).toBe(1 / 3);
    expect(res.buckets).toEqual([
      // W1 (clipped to start Wednesday Nov 4): j0 x1 r2 r3 w1 = 5 over 5 days; failed r2; rollback r3;
      // lead B 3h; restore r2 30m.
      expected({
        start: "2026-11-04T00:00:00Z", end: "2026-11-09T00:00:00Z",
        deploymentCount: 5, failedCount: 1, rollbackCount: 1,
        leadTimeCount: 1, leadTimeMedianMs: 3 * H, leadTimeP90Ms: 3 * H,
        restoredCount: 1, timeToRestoreMedianMs: 30 * MIN, timeToRestoreP90Ms: 30 * MIN,
      }),
      // W2: nothing in production (s1 is staging).
      expected({ start: "2026-11-09T00:00:00Z", end: "2026-11-16T00:00:00Z" }),
      // W3: x2 x3 r4 r5 w2 w3 = 6 over 7 days; failed x2 r4 w3 = 3 (1/2); rollback x3.
      // Lead: C 172h, D 12h, E 0.5h → median 12h; p90 at 1.8 → 12 + 0.8 × 160 = 140h.
      // Restore: x2 10m, r4 60m → median 35m; p90 10 + 0.9 × 50 = 55m.
      expected({
        start: "2026-11-16T00:00:00Z", end: "2026-11-23T00:00:00Z",
        deploymentCount: 6, failedCount: 3, rollbackCount: 1,
        leadTimeCount: 3, leadTimeMedianMs: 12 * H, leadTimeP90Ms: 140 * H,
        restoredCount: 2, timeToRestoreMedianMs: 35 * MIN, timeToRestoreP90Ms: 55 * MIN,
      }),
      // W4 (clipped to end Wednesday Nov 25 12:00, 2.5 days): j1 (G, unattested: no lead time).
      expected({ start: "2026-11-23T00:00:00Z", end: "2026-11-25T12:00:00Z", deploymentCount: 1 }),
    ]);
    expect(res.buckets.map((b) => b.deploymentsPerDay)).toEqual([1, 0, 6 / 7, 0.4]);
    expect(res.buckets.map((b) => b.changeFailureRate)).toEqual([0.2, 0, 0.5, 0]);
  });

  test("one environment: lead time from the digest's first deployment in that environment", async () => {
    const east = await metrics({ environment: "east" });
    // east: r2 r3 w1 | r4 r5 w2 w3 = 7; failed r2 r4 w3 = 3; rollback r3.
    // Lead (first in east's production): B r2 Nov 5 10:00 − Nov 4 09:00 = 25h; C r4 Nov 17 09:00 −
    //   Nov 9 08:00 = 8d1h = 193h; D 12h; E 0.5h (A: r1 before the period).
    //   sorted [0.5, 12, 25, 193]: median 18.5h; p90 at 2.7 → 25 + 0.7 × 168 = 142.6h
    // Restore: r2 30m, r4 60m → median 45m; p90 30 + 0.9 × 30 = 57m.
    expect(east.total).toEqual(
      expected({
        start: "2026-11-04T00:00:00Z", end: "2026-11-25T12:00:00Z",
        deploymentCount: 7, failedCount: 3, rollbackCount: 1,
        leadTimeCount: 4, leadTimeMedianMs: 18 * H + 30 * MIN, leadTimeP90Ms: 142 * H + 36 * MIN,
        restoredCount: 2, timeToRestoreMedianMs: 45 * MIN, timeToRestoreP90Ms: 57 * MIN,
      }),
    );
    expect(east.buckets.map((b) => b.deploymentCount)).toEqual([3, 0, 4, 0]);

    const west = await metrics({ environment: "west" });
    // west: j0 x1 | x2 x3 | j1 = 5; failed x2; rollback x3. Lead (first in west): A j0 Nov 4 00:00 −
    //   Oct 30 10:00 = 4d14h = 110h; B x1 3h; C x2 172h; G none → sorted [3, 110, 172]:
    //   median 110h; p90 at 1.8 → 110 + 0.8 × 62 = 159.6h. Restore: x2 10m.
    expect(west.total).toEqual(
      expected({
        start: "2026-11-04T00:00:00Z", end: "2026-11-25T12:00:00Z",
        deploymentCount: 5, failedCount: 1, rollbackCount: 1,
        leadTimeCount: 3, leadTimeMedianMs: 110 * H, leadTimeP90Ms: 159 * H + 36 * MIN,
        restoredCount: 1, timeToRestoreMedianMs: 10 * MIN, timeToRestoreP90Ms: 10 * MIN,
      }),
    );
    expect(west.buckets.map((b) => b.deploymentCount)).toEqual([2, 0, 2, 1]);
  });

  test("a project: only digests an attestation of it names as a subject", async () => {
    const res = await metrics({ project: "shop" });
    // shop names A, B, C (its Nov 16 attestation), E as subjects; not D (tools), not G. Out: w2, j1 → 10.
    // Failed: r2 x2 r4 w3 = 4 → 0.4. Lead: B 3h, C 172h (earliest attestation of any project), E 0.5h
    //   → sorted [0.5, 3, 172]: median 3h; p90 at 1.8 → 3 + 0.8 × 169 = 138.2h. Restore as for all: 10, 30, 60m.
    expect(res.total).toEqual(
      expected({
        start: "2026-11-04T00:00:00Z", end: "2026-11-25T12:00:00Z",
        deploymentCount: 10, failedCount: 4, rollbackCount: 2,
        leadTimeCount: 3, leadTimeMedianMs: 3 * H, leadTimeP90Ms: 138 * H + 12 * MIN,
        restoredCount: 3, timeToRestoreMedianMs: 30 * MIN, timeToRestoreP90Ms: 54 * MIN,
      }),
    );
    expect(res.total.changeFailureRate).toBe(0.4);
    expect(res.buckets.map((b) => b.deploymentCount)).toEqual([5, 0, 5, 0]);
    // A project with no attestations: an all-zero answer, every bucket still there.
    const none = await metrics({ project: "nobody" });
    expect(none.total).toEqual(expected({ start: "2026-11-04T00:00:00Z", end: "2026-11-25T12:00:00Z" }));
    expect(none.buckets).toHaveLength(4);
  });

  test("the failure window: a decommission exactly at its end counts, and is restored by the slot's next record", async () => {
    const wide = await metrics({ failureWindowMs: 3 * H });
    // w1 was decommissioned exactly 3h after its creation → failed (at most the window). Its slot's
    // next record is w2, Nov 18 12:00: restored in 12d12h = 300h. Failed r2 x2 r4 w1 w3 = 5.
    // Restore sorted [10m, 30m, 60m, 300h] (ms: 0.6M, 1.8M, 3.6M, 1080M): median 45m;
    //   p90 at 0.9 × 3 = 2.7 → 60m + 0.7 × (300h − 1h) = 3.6M + 0.7 × 1076.4M = 757.08M ms = 210.3h
    expect(wide.total).toMatchObject({
      failedCount: 5, restoredCount: 4, timeToRestoreMedianMs: 45 * MIN, timeToRestoreP90Ms: 210 * H + 18 * MIN, changeFailureRate: 5 / 12,
    });
    expect(wide.failureWindowMs).toBe(3 * H);
    // 10 minutes: r4 (20m) and w3 (45m) no longer failed: r2, x2 → 2; restored 30m, 10m.
    const narrow = await metrics({ failureWindowMs: 10 * MIN });
    expect(narrow.total).toMatchObject({ failedCount: 2, restoredCount: 2, timeToRestoreMedianMs: 20 * MIN, timeToRestoreP90Ms: 28 * MIN });
  });

  test("day buckets clipped at both ends", async () => {
    const res = await metrics({ start: t("2026-11-16T06:00:00Z"), end: t("2026-11-18T18:00:00Z"), bucket: "day" });
    // [Nov 16 06:00, Nov 17) 0.75 day: x2 x3 — lead C (first deployment, x2) 172h; restore x2 10m
    // [Nov 17, Nov 18)       1 day:    r4 r5 — C's first deployment was x2 → no lead; restore r4 60m
    // [Nov 18, Nov 18 18:00) 0.75 day: w2 w3 — lead D 12h, E 0.5h → median 6.25h; p90 0.5 + 0.9 × 11.5 = 10.85h
    //   (x3, B: deployed before, in x1 → no lead time)
    expect(res.buckets).toEqual([
      expected({
        start: "2026-11-16T06:00:00Z", end: "2026-11-17T00:00:00Z", deploymentCount: 2, failedCount: 1, rollbackCount: 1,
        leadTimeCount: 1, leadTimeMedianMs: 172 * H, leadTimeP90Ms: 172 * H,
        restoredCount: 1, timeToRestoreMedianMs: 10 * MIN, timeToRestoreP90Ms: 10 * MIN,
      }),
      expected({
        start: "2026-11-17T00:00:00Z", end: "2026-11-18T00:00:00Z", deploymentCount: 2, failedCount: 1,
        restoredCount: 1, timeToRestoreMedianMs: 60 * MIN, timeToRestoreP90Ms: 60 * MIN,
      }),
      expected({
        start: "2026-11-18T00:00:00Z", end: "2026-11-18T18:00:00Z", deploymentCount: 2, failedCount: 1,
        leadTimeCount: 2, leadTimeMedianMs: 6 * H + 15 * MIN, leadTimeP90Ms: 10 * H + 51 * MIN,
      }),
    ]);
    expect(res.buckets.map((b) => b.deploymentsPerDay)).toEqual([2 / 0.75, 2, 2 / 0.75]);
    expect(res.total.deploymentCount).toBe(6);
  });

  test("month buckets, across a month's end", async () => {
    const res = await metrics({ start: t("2026-10-15T00:00:00Z"), end: t("2026-12-02T00:00:00Z"), bucket: "month" });
    // November holds r1 (Nov 1 12:00), the 12 of the main period and j2 (Nov 25 12:00) = 14.
    // Lead: A now first deployed in the period (r1): Nov 1 12:00 − Oct 30 10:00 = 50h; with B 3h,
    //   C 172h, D 12h, E 0.5h → sorted [0.5, 3, 12, 50, 172]: median 12h; p90 at 3.6 → 50 + 0.6 × 122 = 123.2h
    expect(res.buckets.map((b) => [b.start.toISOString(), b.end.toISOString(), b.deploymentCount])).toEqual([
      ["2026-10-15T00:00:00.000Z", "2026-11-01T00:00:00.000Z", 0],
      ["2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z", 14],
      ["2026-12-01T00:00:00.000Z", "2026-12-02T00:00:00.000Z", 0],
    ]);
    expect(res.total).toMatchObject({ deploymentCount: 14, failedCount: 4, leadTimeCount: 5, leadTimeMedianMs: 12 * H, leadTimeP90Ms: 123 * H + 12 * MIN });
    expect(res.buckets[1]!.deploymentsPerDay).toBe(14 / 30);
  });

  test("defaults: the 30 days before now, week buckets, a 1 hour failure window", async () => {
    const before = Date.now();
    const res = await uc.deliveryMetrics.get(orgId, { logicalEnvironment: "production", environment: "", project: "" });
    const after = Date.now();
    expect(res.bucket).toBe("week");
    expect(res.failureWindowMs).toBe(H);
    const end = res.total.end.getTime();
    expect(end).toBeGreaterThanOrEqual(before);
    expect(end).toBeLessThanOrEqual(after);
    expect(end - res.total.start.getTime()).toBe(30 * DAY);
    expect(res.buckets).toHaveLength(bucketCount(res.total.start, res.total.end, "week"));
    expect(res.buckets[0]!.start).toEqual(res.total.start);
    expect(res.buckets.at(-1)!.end).toEqual(res.total.end);
  });

  test("bucket counting agrees with the statement's series, up to the limit of 1,000", async () => {
    // Exactly 1,000 days (a whole first and last day) is allowed and answers 1,000 buckets.
    const start = t("2024-01-01T00:00:00Z");
    const thousand = await metrics({ start, end: new Date(start.getTime() + 1000 * DAY), bucket: "day" });
    expect(thousand.buckets).toHaveLength(1000);
    // One millisecond more touches a 1,001st day.
    const over = await domainFailure(metrics({ start, end: new Date(start.getTime() + 1000 * DAY + 1), bucket: "day" }));
    expect(over.kind).toBe("InvalidArgument");
    expect(over.message).toMatch(/1001 day buckets; the limit is 1000/);
    // Weeks and months counted here match the series for awkward ends (mid-week, month ends, leap day).
    for (const [s, e, bucket, n] of [
      ["2026-11-04T00:00:00Z", "2026-11-25T12:00:00Z", "week", 4],
      ["2026-11-02T00:00:00Z", "2026-11-30T00:00:00Z", "week", 4],
      ["2024-01-31T00:00:00Z", "2024-03-01T00:00:00Z", "month", 2],
      ["2024-01-31T00:00:00Z", "2024-03-01T00:00:00.001Z", "month", 3],
      ["2024-02-29T23:59:59Z", "2024-03-01T00:00:01Z", "day", 2],
    ] as const) {
      expect([s, bucketCount(t(s), t(e), bucket)]).toEqual([s, n]);
      expect([s, (await metrics({ start: t(s), end: t(e), bucket })).buckets.length]).toEqual([s, n]);
    }
  });

  test("bad input: clear errors, before any reading", async () => {
    const cases: Array<[Partial<MetricsInput>, string, RegExp]> = [
      [{ logicalEnvironment: "" }, "InvalidArgument", /logical_environment is required/],
      [{ logicalEnvironment: "Prod!" }, "InvalidArgument", /logical_environment "Prod!" is not a valid name/],
      [{ start: END, end: START }, "InvalidArgument", /end_time 2026-11-04T00:00:00.000Z is not after start_time 2026-11-25T12:00:00.000Z/],
      [{ start: START, end: START }, "InvalidArgument", /is not after start_time/],
      [{ start: new Date(Date.now() + DAY), end: undefined }, "InvalidArgument", /end_time unset means now/],
      [{ start: t("2020-01-01T00:00:00Z"), bucket: "day" }, "InvalidArgument", /day buckets; the limit is 1000: choose a longer bucket or a shorter period/],
      [{ failureWindowMs: -1 }, "InvalidArgument", /failure_window must be from 0 to 366 days/],
      [{ start: new Date(Number.NaN) }, "InvalidArgument", /start_time must be a time from year 1 to 9999/],
      [{ logicalEnvironment: "prod" }, "NotFound", /logical environment "prod" not found; valid ones: development, staging, production/],
      [{ environment: "north" }, "NotFound", /environment "north" not found; create it with: chainloop environment create --name north/],
      [{ environment: "north", logicalEnvironment: "prod" }, "NotFound", /environment "north" not found/],
    ];
    for (const [input, kind, message] of cases) {
      const err = await domainFailure(metrics(input));
      expect([input, err.kind]).toEqual([input, kind]);
      expect(err.message).toMatch(message);
    }
  });
});

describe.each(backends())("GetDeliveryMetrics through a server on %s", (backend) => {
  const served = serveFor(backend);

  const code = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return [ConnectError.from(e).code, ConnectError.from(e).rawMessage];
    }
    return undefined;
  };

  it("counts what the record path wrote: A, B, a rollback to A, a decommission", async () => {
    const deployments = connectClient(DeploymentService, served.url);
    const metrics = connectClient(DeliveryMetricsService, served.url);
    await connectClient(EnvironmentService, served.url).createEnvironment({ name: "prod-cluster" });
    const [a, b] = [digest("rpc A"), digest("rpc B")];
    await attest(served.url, [a, b]);
    const record = (d: string) =>
      deployments.recordDeployment({ environment: "prod-cluster", logicalEnvironment: "production", deploymentName: "api", kind: ArtifactKind.CONTAINER_IMAGE, digest: d });
    await record(a); // created
    await record(b); // supersedes A
    const back = await record(a); // a rollback of the first A record: B failed, restored by it
    expect(back.deployment?.rollbackOfId).not.toBe("");
    await record(a); // a heartbeat: not a deployment
    await deployments.recordDeployment({
      environment: "prod-cluster", logicalEnvironment: "production", deploymentName: "api", kind: ArtifactKind.CONTAINER_IMAGE, digest: a, status: DeploymentStatus.DECOMMISSIONED,
    }); // decommissioned within the hour: the rollback record failed too, never restored

    const res = await metrics.getDeliveryMetrics({ logicalEnvironment: "production", bucket: MetricsBucket.DAY });
    expect(res.bucket).toBe(MetricsBucket.DAY);
    expect(Number(res.failureWindow!.seconds)).toBe(3600);
    // 3 deployments (A, B, A again); failed: B (replaced by a rollback) and the last A (decommissioned) = 2;
    // 1 rollback; B restored; lead time for A and B (their first deployments).
    expect(res.total).toMatchObject({ deploymentCount: 3, failedCount: 2, rollbackCount: 1, leadTimeCount: 2, restoredCount: 1 });
    expect(res.total!.changeFailureRate).toBeCloseTo(2 / 3, 12);
    expect(res.total!.deploymentsPerDay).toBeCloseTo(3 / 30, 12);
    for (const d of [res.total!.leadTimeMedian, res.total!.leadTimeP90, res.total!.timeToRestoreMedian, res.total!.timeToRestoreP90]) {
      expect(d).toBeDefined();
      expect(Number(d!.seconds) * 1e9 + d!.nanos).toBeGreaterThanOrEqual(0);
    }
    // 30 days from now back: 30 or 31 day buckets; the last (today, or yesterday too just after midnight) hold all three.
    expect([30, 31]).toContain(res.buckets.length);
    expect(res.buckets.reduce((n, bk) => n + bk.deploymentCount, 0)).toBe(3);
    expect(res.buckets.slice(0, -2).every((bk) => bk.deploymentCount === 0 && bk.leadTimeMedian === undefined)).toBe(true);

    // A period before anything: zeros, unset durations.
    const empty = await metrics.getDeliveryMetrics({
      logicalEnvironment: "production", startTime: timestampFromDate(t("2026-01-05T00:00:00Z")), endTime: timestampFromDate(t("2026-01-19T00:00:00Z")),
      failureWindow: { seconds: 60n, nanos: 0 },
    });
    expect(empty.bucket).toBe(MetricsBucket.WEEK);
    expect(Number(empty.failureWindow!.seconds)).toBe(60);
    expect(empty.buckets).toHaveLength(2);
    expect(empty.total).toMatchObject({ deploymentCount: 0, deploymentsPerDay: 0, changeFailureRate: 0, leadTimeCount: 0, restoredCount: 0 });
    expect(empty.total!.leadTimeMedian).toBeUndefined();
    expect(empty.total!.timeToRestoreP90).toBeUndefined();
  });

  it("answers INVALID_ARGUMENT and NOT_FOUND", async () => {
    const metrics = connectClient(DeliveryMetricsService, served.url);
    const at = (iso: string) => timestampFromDate(t(iso));
    expect(await code(metrics.getDeliveryMetrics({}))).toEqual([Code.InvalidArgument, "logical_environment is required"]);
    expect((await code(metrics.getDeliveryMetrics({ logicalEnvironment: "production", startTime: at("2026-02-01T00:00:00Z"), endTime: at("2026-01-01T00:00:00Z") })))?.[0]).toBe(
      Code.InvalidArgument,
    );
    expect(
      (await code(metrics.getDeliveryMetrics({ logicalEnvironment: "production", startTime: at("2000-01-01T00:00:00Z"), bucket: MetricsBucket.DAY })))?.[0],
    ).toBe(Code.InvalidArgument);
    expect((await code(metrics.getDeliveryMetrics({ logicalEnvironment: "production", bucket: 9 as MetricsBucket })))).toEqual([
      Code.InvalidArgument,
      "bucket 9 is not a known metrics bucket (DAY, WEEK, MONTH)",
    ]);
    expect((await code(metrics.getDeliveryMetrics({ logicalEnvironment: "production", failureWindow: { seconds: -1n, nanos: 0 } })))?.[0]).toBe(Code.InvalidArgument);
    expect((await code(metrics.getDeliveryMetrics({ logicalEnvironment: "nope" })))?.[0]).toBe(Code.NotFound);
    expect((await code(metrics.getDeliveryMetrics({ logicalEnvironment: "production", environment: "nope" })))?.[0]).toBe(Code.NotFound);
  });
});
