// Environment snapshots (SnapshotUseCase over the real repositories and databases, in-process):
// what a snapshot records and decommissions, what it refuses and when it writes nothing, and
// that concurrent snapshots and records on one environment stay correct. The RPC, its scopes and
// watchers are in snapshot-rpc.test.ts; the CLI in tests/cli/snapshot.test.ts.
import { randomUUID } from "node:crypto";
import { openDatabase, type Database } from "../../server/data/client.js";
import { migrate } from "../../server/data/migrate.js";
import type { Deployment } from "../../server/domain/deployments.js";
import type { SnapshotEntryInput, SnapshotInput } from "../../server/domain/snapshots.js";
import { createLogger } from "../../server/log.js";
import { createUseCases, type UseCases } from "../../server/wiring.js";
import { statementFor } from "../helpers/evidence.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { digest, domainFailure, listAll } from "../helpers/facts.js";

const logger = createLogger("silent");
const agent = { tokenId: randomUUID(), tokenName: "cluster-agent" };
const ci = { tokenId: randomUUID(), tokenName: "ci" };

const entry = (name: string, d: string, extra: Partial<SnapshotEntryInput> = {}): SnapshotEntryInput => ({
  name,
  kind: "CONTAINER_IMAGE",
  digest: d,
  artifactName: "",
  artifactVersion: "",
  artifactReference: "",
  ...extra,
});

describe.each(backends())("environment snapshots on %s", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let uc: UseCases;
  let orgId: string;
  const v = (s: string) => digest(`snap ${s}`);
  const attested = ["a1", "a2", "b1", "b2", "c1", "d1", "e1", ...Array.from({ length: 40 }, (_, i) => `r${i}`)].map(v);

  /** Every record of the organization, by id (history included). */
  async function everything(): Promise<Map<string, Deployment>> {
    const all = await listAll(async (pageToken) => {
      const page = await uc.deployments.list(orgId, {
        environment: "", logicalEnvironment: "", name: "", kind: undefined, digest: "", status: undefined,
        history: true, pageSize: 1000, pageToken,
      });
      return { items: page.items, next: page.nextPageToken };
    });
    return new Map(all.map((d) => [d.id, d]));
  }

  /** Active records of a scope: deployment name → digest. */
  async function running(environment: string, logicalEnvironment: string): Promise<Record<string, string>> {
    const all = [...(await everything()).values()];
    const active = all.filter((d) => d.environment === environment && d.logicalEnvironment === logicalEnvironment && d.status === "deployed");
    return Object.fromEntries(active.map((d) => [d.name, d.digest]).sort(([a], [b]) => a.localeCompare(b)));
  }

  const snapshot = (environment: string, logicalEnvironment: string, entries: SnapshotEntryInput[], opts: Partial<SnapshotInput> = {}) =>
    uc.snapshots.report(
      orgId,
      { environment, logicalEnvironment, entries, decommissionMissing: true, allOrNothing: false, validateOnly: false, ...opts },
      agent,
    );

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger });
    await migrate(db, logger);
    uc = createUseCases(db);
    orgId = (await uc.organizations.create("acme")).id;
    for (const name of ["cluster", "other", "race"]) await uc.environments.create(orgId, { name, description: "" });
    for (const name of ["qa", "aon", "dry", "big"]) await uc.environments.createLogical(orgId, { name, description: "" });
    await uc.evidence.push(orgId, { content: Buffer.from(JSON.stringify(statementFor(attested))), workflow: "build", project: "api", projectVersion: "" });
  });

  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  test("records what is new, heartbeats what is unchanged, supersedes what changed and decommissions what is gone", async () => {
    // Something recorded by a pipeline in the same scope, and elsewhere (which a snapshot of this scope never touches).
    await uc.deployments.record(orgId, { environment: "cluster", logicalEnvironment: "production", ...entry("legacy", v("d1")), status: undefined }, ci);
    await uc.deployments.record(orgId, { environment: "cluster", logicalEnvironment: "staging", ...entry("api", v("a1")), status: undefined }, ci);
    await uc.deployments.record(orgId, { environment: "other", logicalEnvironment: "production", ...entry("api", v("a1")), status: undefined }, ci);

    const first = await snapshot("cluster", "production", [
      entry("api", v("a1"), { artifactName: "ghcr.io/acme/api", artifactVersion: "1.0", artifactReference: "ghcr.io/acme/api:1.0" }),
      entry("web", v("b1")),
      entry("legacy", v("d1")),
    ]);
    expect(first.applied).toBe(true);
    expect(first.results.map((r) => [r.index, r.name, r.outcome])).toEqual([
      [0, "api", "created"],
      [1, "web", "created"],
      [2, "legacy", "heartbeat"],
    ]);
    expect(first.decommissioned).toEqual([]);
    expect(await running("cluster", "production")).toEqual({ api: v("a1"), legacy: v("d1"), web: v("b1") });
    const api = (await uc.deployments.get(orgId, first.results[0]!.deploymentId!))!;
    expect(api).toMatchObject({ artifactName: "ghcr.io/acme/api", artifactVersion: "1.0", recordedBy: agent, status: "deployed" });

    // The same snapshot again: heartbeats only, no new record.
    const before = await everything();
    const again = await snapshot("cluster", "production", [entry("api", v("a1")), entry("web", v("b1")), entry("legacy", v("d1"))]);
    expect(again.results.map((r) => r.outcome)).toEqual(["heartbeat", "heartbeat", "heartbeat"]);
    expect(again.decommissioned).toEqual([]);
    const after = await everything();
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    expect(after.get(api.id)!.lastSeenAt.getTime()).toBeGreaterThanOrEqual(api.lastSeenAt.getTime());

    // web moves to b2 (supersede), legacy vanished (decommissioned by the snapshot), api unchanged.
    const third = await snapshot("cluster", "production", [entry("web", v("b2")), entry("api", v("a1"))]);
    expect(third.results.map((r) => [r.name, r.outcome])).toEqual([
      ["web", "superseded"],
      ["api", "heartbeat"],
    ]);
    expect(third.results[0]!.supersededId).toBe(first.results[1]!.deploymentId);
    expect(third.decommissioned.map((d) => [d.name, d.status, d.decommissionedBySnapshot, d.decommissionedBy])).toEqual([
      ["legacy", "decommissioned", true, agent],
    ]);
    expect(await running("cluster", "production")).toEqual({ api: v("a1"), web: v("b2") });
    // Other scopes untouched.
    expect(await running("cluster", "staging")).toEqual({ api: v("a1") });
    expect(await running("other", "production")).toEqual({ api: v("a1") });
    // An explicit decommission is not "by snapshot".
    const explicit = await uc.deployments.record(orgId, { environment: "other", logicalEnvironment: "production", ...entry("api", v("a1")), status: "decommissioned" }, ci);
    expect(explicit.deployment.decommissionedBySnapshot).toBe(false);
  });

  test("an empty snapshot empties the scope; --no-decommission-missing only records", async () => {
    await snapshot("cluster", "development", [entry("a", v("a1")), entry("b", v("b1"))]);
    const onlyRecord = await snapshot("cluster", "development", [entry("c", v("c1"))], { decommissionMissing: false });
    expect(onlyRecord.decommissioned).toEqual([]);
    expect(onlyRecord.decommissionSkippedReason).toBeUndefined();
    expect(await running("cluster", "development")).toEqual({ a: v("a1"), b: v("b1"), c: v("c1") });
    const empty = await snapshot("cluster", "development", []);
    expect(empty.decommissioned.map((d) => d.name).sort()).toEqual(["a", "b", "c"]);
    expect(await running("cluster", "development")).toEqual({});
  });

  test("refused entries are reported one by one; the valid ones are recorded and nothing is decommissioned", async () => {
    await snapshot("cluster", "qa", [entry("keep", v("a1")), entry("old", v("b1"))]);
    const res = await snapshot("cluster", "qa", [
      entry("keep", v("a1")),
      entry("new", v("c1")),
      entry("unattested", digest("nobody attested this")),
      entry("bad-digest", "sha256:xyz"),
      entry("Bad Name", v("e1")),
      entry("no-kind", v("e1"), { kind: undefined }),
      entry("odd-kind", v("e1"), { kind: undefined, invalid: "entries[6]: kind 7 is not a known artifact kind" }),
      entry("", ""),
    ]);
    expect(res.applied).toBe(true);
    expect(res.results.map((r) => [r.name, r.outcome ?? r.refusal])).toEqual([
      ["keep", "heartbeat"],
      ["new", "created"],
      ["unattested", "no-evidence"],
      ["bad-digest", "invalid-entry"],
      ["Bad Name", "invalid-entry"],
      ["no-kind", "invalid-entry"],
      ["odd-kind", "invalid-entry"],
      ["", "invalid-entry"],
    ]);
    expect(res.results[2]!.message).toMatch(/has no evidence.*chainloop attestation push/);
    expect(res.results[3]!.message).toMatch(/digest/);
    expect(res.results[4]!.message).toMatch(/deployment_name "Bad Name" is not valid/);
    expect(res.results[5]!.message).toMatch(/kind is required/);
    expect(res.results[6]!.message).toBe("entries[6]: kind 7 is not a known artifact kind");
    expect(res.decommissioned).toEqual([]);
    expect(res.decommissionSkippedReason).toMatch(/nothing was decommissioned: 6 of 8 entries were refused/);
    // "old" survives: the snapshot was partial.
    expect(await running("cluster", "qa")).toEqual({ keep: v("a1"), new: v("c1"), old: v("b1") });
  });

  test("all_or_nothing: one refused entry and nothing is written", async () => {
    await snapshot("cluster", "aon", [entry("x", v("a1")), entry("y", v("b1"))]);
    const before = await everything();
    const res = await snapshot("cluster", "aon", [entry("x", v("a2")), entry("z", v("c1")), entry("w", digest("unattested"))], {
      allOrNothing: true,
    });
    expect(res.applied).toBe(false);
    expect(res.results.map((r) => [r.name, r.outcome, r.refusal])).toEqual([
      ["x", undefined, undefined],
      ["z", undefined, undefined],
      ["w", undefined, "no-evidence"],
    ]);
    expect(res.decommissioned).toEqual([]);
    const after = await everything();
    expect([...after.values()].map((d) => [d.id, d.status, d.lastSeenAt.getTime()]).sort()).toEqual(
      [...before.values()].map((d) => [d.id, d.status, d.lastSeenAt.getTime()]).sort(),
    );
    // Without the refused entry, the same snapshot goes through.
    const ok = await snapshot("cluster", "aon", [entry("x", v("a2")), entry("z", v("c1"))], { allOrNothing: true });
    expect(ok.applied).toBe(true);
    expect(ok.decommissioned.map((d) => d.name)).toEqual(["y"]);
    expect(await running("cluster", "aon")).toEqual({ x: v("a2"), z: v("c1") });
  });

  test("validate_only says what would change and changes nothing", async () => {
    await snapshot("cluster", "dry", [entry("stay", v("a1")), entry("move", v("b1")), entry("gone", v("c1"))]);
    const before = await everything();
    const plan = await snapshot("cluster", "dry", [entry("stay", v("a1")), entry("move", v("b2")), entry("fresh", v("d1"))], {
      validateOnly: true,
    });
    expect(plan.applied).toBe(false);
    expect(plan.results.map((r) => [r.name, r.outcome, r.deploymentId === undefined])).toEqual([
      ["stay", "heartbeat", false],
      ["move", "superseded", false],
      ["fresh", "created", true], // would be created: it has no id
    ]);
    expect(plan.results[1]!.supersededId).toBe([...before.values()].find((d) => d.name === "move" && d.status === "deployed")!.id);
    expect(plan.decommissioned.map((d) => [d.name, d.status])).toEqual([["gone", "decommissioned"]]);
    const after = await everything();
    expect([...after.values()].map((d) => [d.id, d.status, d.lastSeenAt.getTime()]).sort()).toEqual(
      [...before.values()].map((d) => [d.id, d.status, d.lastSeenAt.getTime()]).sort(),
    );
  });

  test("malformed snapshots are refused whole and change nothing", async () => {
    const before = await everything();
    const dup = await domainFailure(snapshot("cluster", "production", [entry("api", v("a1")), entry("web", v("b1")), entry("api", v("a2"))]));
    expect(dup.kind).toBe("InvalidArgument");
    expect(dup.message).toMatch(/names each slot .* once: entries 0 and 2 are both cluster\/production api \(CONTAINER_IMAGE\)/);
    const tooMany = await domainFailure(snapshot("cluster", "production", Array.from({ length: 10_001 }, (_, i) => entry(`s${i}`, v("a1")))));
    expect(tooMany).toEqual({ kind: "InvalidArgument", message: expect.stringMatching(/at most 10000 entries; this one has 10001/) });
    expect(await domainFailure(snapshot("nowhere", "production", []))).toMatchObject({ kind: "NotFound", message: expect.stringMatching(/nowhere/) });
    expect(await domainFailure(snapshot("cluster", "nope", []))).toMatchObject({ kind: "NotFound", message: expect.stringMatching(/valid ones/) });
    expect(await domainFailure(snapshot("Bad Env", "production", []))).toMatchObject({ kind: "InvalidArgument" });
    const after = await everything();
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  });

  test("concurrent snapshots and records on one environment: one deployed per slot, no lost decommission", async () => {
    const slots = Array.from({ length: 12 }, (_, i) => `svc-${i}`);
    const pick = (seed: number, i: number) => v(`r${(seed * 7 + i * 3) % 40}`);
    // Snapshots of varying subsets and digests, and single records, all at once, several rounds.
    const reported: Array<Awaited<ReturnType<typeof snapshot>>> = [];
    for (let round = 0; round < 4; round++) {
      const work: Array<Promise<unknown>> = [];
      for (let s = 0; s < 4; s++) {
        const seed = round * 10 + s;
        const subset = slots.filter((_, i) => (i + seed) % 3 !== 0);
        work.push(snapshot("race", "production", subset.map((n, i) => entry(n, pick(seed, i)))).then((r) => reported.push(r)));
      }
      for (let r = 0; r < 16; r++) {
        const name = slots[(round * 5 + r) % slots.length]!;
        work.push(
          uc.deployments.record(orgId, { environment: "race", logicalEnvironment: "production", ...entry(name, pick(round + r, r)), status: undefined }, ci),
        );
      }
      await Promise.all(work);
    }
    expect(reported).toHaveLength(16);
    const all = [...(await everything()).values()].filter((d) => d.environment === "race");
    // At most one deployed record per slot.
    const deployedPerSlot = new Map<string, number>();
    for (const d of all.filter((d) => d.status === "deployed")) deployedPerSlot.set(d.name, (deployedPerSlot.get(d.name) ?? 0) + 1);
    expect([...deployedPerSlot.values()].every((n) => n === 1)).toBe(true);
    // Every record a snapshot said it decommissioned stays decommissioned, by a snapshot.
    const byId = new Map(all.map((d) => [d.id, d]));
    for (const r of reported) {
      for (const d of r.decommissioned) expect(byId.get(d.id)).toMatchObject({ status: "decommissioned", decommissionedBySnapshot: true });
    }
    // Superseded records point at a record of their own slot.
    for (const d of all.filter((d) => d.status === "superseded")) expect(byId.get(d.supersededById!)?.name).toBe(d.name);
    // A last snapshot leaves exactly what it names running.
    const last = slots.slice(0, 5).map((n, i) => entry(n, pick(99, i)));
    await snapshot("race", "production", last);
    expect(await running("race", "production")).toEqual(Object.fromEntries(last.map((e) => [e.name, e.digest])));
  });

  test("a snapshot of 2,000 new entries, then the same again as heartbeats", async () => {
    const entries = Array.from({ length: 2_000 }, (_, i) => entry(`w-${i}`, attested[i % attested.length]!));
    const first = await snapshot("cluster", "big", entries);
    expect(first.results.filter((r) => r.outcome === "created")).toHaveLength(2_000);
    const second = await snapshot("cluster", "big", entries);
    expect(second.results.filter((r) => r.outcome === "heartbeat")).toHaveLength(2_000);
    expect(second.decommissioned).toEqual([]);
  });
});
