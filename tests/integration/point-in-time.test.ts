// ListDeployments as of a time (DeploymentUseCase.list with asOf, over the real repositories and
// databases, in-process): a history made through the record path — supersedes, a decommission, a
// rollback, a re-deploy, records on several slots at once — and, at instants taken between its
// steps, the exact records that were deployed then, in order, with every filter and paging; and
// what is refused. The CLI's --at is in tests/cli/point-in-time.test.ts.
import { createHash, randomUUID } from "node:crypto";
import { openDatabase, type Database } from "../../server/data/client.js";
import { migrate } from "../../server/data/migrate.js";
import type { Deployment, ListInput, RecordInput } from "../../server/domain/deployments.js";
import { createLogger } from "../../server/log.js";
import { createUseCases, type UseCases } from "../../server/wiring.js";
import { statementFor } from "../helpers/evidence.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { domainFailure } from "../helpers/facts.js";

const logger = createLogger("silent");
const v = (s: string) => `sha256:${createHash("sha256").update(`pit ${s}`).digest("hex")}`;
const ci = { tokenId: randomUUID(), tokenName: "ci" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const NO_FILTERS: ListInput = {
  environment: "", logicalEnvironment: "", name: "", kind: undefined, digest: "", status: undefined,
  history: false, pageSize: 0, pageToken: "",
};

/** Newest first by the time each record was made, seq breaking ties: the order of a list as of a time. */
const asOfOrder = (a: Deployment, b: Deployment) =>
  b.createdAt.getTime() - a.createdAt.getTime() || (b.seq > a.seq ? 1 : b.seq < a.seq ? -1 : 0);

describe.each(backends())("ListDeployments as of a time on %s", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let uc: UseCases;
  let orgId: string;
  /** Records by label, as recording returned them. */
  const r: Record<string, Deployment> = {};
  /** Instants between the steps of the history, by label. */
  const t: Record<string, Date> = {};

  const record = async (label: string, environment: string, logicalEnvironment: string, name: string, digest: string, extra: Partial<RecordInput> = {}) => {
    const res = await uc.deployments.record(
      orgId,
      { environment, logicalEnvironment, name, kind: "CONTAINER_IMAGE", digest, artifactName: "", artifactVersion: "", artifactReference: "", status: undefined, ...extra },
      ci,
    );
    r[label] = res.deployment;
    return res;
  };
  /** An instant strictly between the step before and the step after (records get the process's clock, to the millisecond). */
  const mark = async (label: string) => {
    await sleep(5);
    t[label] = new Date();
    await sleep(5);
  };

  const list = (input: Partial<ListInput>) => uc.deployments.list(orgId, { ...NO_FILTERS, ...input });
  /** Every page, `pageSize` at a time, checking each page's size and that the token moves on. */
  async function all(input: Partial<ListInput>, pageSize = 1000): Promise<Deployment[]> {
    const out: Deployment[] = [];
    let pageToken = "";
    for (let pages = 0; ; pages++) {
      if (pages > 100) throw new Error("too many pages");
      const page = await list({ ...input, pageSize, pageToken });
      expect(page.items.length).toBeLessThanOrEqual(pageSize);
      if (page.nextPageToken !== "") expect(page.items).toHaveLength(pageSize);
      out.push(...page.items);
      if (page.nextPageToken === "") return out;
      pageToken = page.nextPageToken;
    }
  }
  const labelsOf = (ds: Deployment[]) => ds.map((d) => Object.keys(r).find((k) => r[k]!.id === d.id) ?? d.id);
  /** The labels of `labels`' records in the order a list as of a time gives them. */
  const ordered = (labels: string[]) => labelsOf(labels.map((l) => r[l]!).sort(asOfOrder));

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger });
    await migrate(db, logger);
    uc = createUseCases(db);
    orgId = (await uc.organizations.create("acme")).id;
    // Another organization with the same names and digests: never in acme's answers.
    const otherOrg = (await uc.organizations.create("globex")).id;
    for (const org of [orgId, otherOrg]) {
      for (const name of ["east", "west"]) await uc.environments.create(org, { name, description: "" });
      const push = (digests: string[], project: string, projectVersion: string) =>
        uc.evidence.push(org, {
          content: Buffer.from(JSON.stringify(statementFor(digests, { org, project, projectVersion }))),
          workflow: "build",
          project,
          projectVersion,
        });
      await push([v("a1")], "api", "1.0");
      await push([v("a2")], "api", "2.0");
      await push([v("b1"), v("b2"), v("c1"), v("d1")], "web", "");
    }
    await uc.deployments.record(
      otherOrg,
      { environment: "east", logicalEnvironment: "production", name: "api", kind: "CONTAINER_IMAGE", digest: v("a1"), artifactName: "", artifactVersion: "", artifactReference: "", status: undefined },
      ci,
    );

    // The history, with an instant after each step.
    await mark("t0");
    await record("api1", "east", "production", "api", v("a1"));
    await mark("t1");
    await record("web1", "east", "production", "web", v("b1"));
    await record("westApi1", "west", "production", "api", v("a1"));
    await mark("t2");
    const superseding = await record("api2", "east", "production", "api", v("a2"));
    expect(superseding.supersededId).toBe(r.api1!.id);
    await mark("t3");
    await record("stagingApi", "east", "staging", "api", v("a1"));
    await mark("t4");
    const gone = await record("webGone", "east", "production", "web", v("b1"), { status: "decommissioned" });
    expect(gone.outcome).toBe("decommissioned");
    expect(gone.deployment.id).toBe(r.web1!.id);
    delete r.webGone;
    await mark("t5");
    // a1 ran in this slot before and was superseded there: a rollback.
    const back = await record("api3", "east", "production", "api", v("a1"));
    expect(back.outcome).toBe("rolled-back");
    expect(back.deployment.rollbackOfId).toBe(r.api1!.id);
    await mark("t6");
    // Several slots at once; web comes back with another digest after its decommission.
    await Promise.all([
      record("worker", "east", "production", "worker", v("c1")),
      record("westApi2", "west", "production", "api", v("a2")),
      record("web2", "east", "production", "web", v("b2")),
      record("chart", "east", "production", "worker", v("d1"), { kind: "HELM_CHART" }),
    ]);
    await mark("t7");
    // A heartbeat moves nothing in time.
    expect((await record("api3beat", "east", "production", "api", v("a1"))).outcome).toBe("heartbeat");
    delete r.api3beat;
    await mark("t8");
  });

  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  // What was deployed at each instant, by label.
  const expected: Record<string, string[]> = {
    t0: [],
    t1: ["api1"],
    t2: ["api1", "web1", "westApi1"],
    t3: ["api2", "web1", "westApi1"],
    t4: ["api2", "web1", "westApi1", "stagingApi"],
    t5: ["api2", "westApi1", "stagingApi"],
    t6: ["api3", "westApi1", "stagingApi"],
    t7: ["api3", "stagingApi", "worker", "westApi2", "web2", "chart"],
    t8: ["api3", "stagingApi", "worker", "westApi2", "web2", "chart"],
  };

  test.each(Object.keys(expected))("as of %s: exactly the records deployed then, newest first", async (instant) => {
    const page = await list({ asOf: t[instant] });
    expect(labelsOf(page.items)).toEqual(ordered(expected[instant]!));
    expect(page.nextPageToken).toBe("");
  });

  test("as of now is what runs now; a little ahead of the server's clock (skew) too", async () => {
    const now = await list({});
    const asOfNow = await list({ asOf: new Date() });
    expect(labelsOf(asOfNow.items).sort()).toEqual(labelsOf(now.items).sort());
    expect(labelsOf(asOfNow.items).sort()).toEqual([...expected.t8!].sort());
    const ahead = await list({ asOf: new Date(Date.now() + 30_000) });
    expect(labelsOf(ahead.items)).toEqual(labelsOf(asOfNow.items));
  });

  test("the instants a record starts and ends: created at is in, superseded at is out (its successor is in)", async () => {
    // Superseding and inserting the successor happen at one time: api1 ends when api2 starts.
    expect(r.api1!.id).not.toBe(r.api2!.id);
    const api1 = await uc.deployments.get(orgId, r.api1!.id);
    expect(api1.supersededAt?.getTime()).toBe(r.api2!.createdAt.getTime());
    const atStart = await list({ asOf: r.api1!.createdAt, environment: "east", name: "api" });
    expect(labelsOf(atStart.items)).toEqual(["api1"]);
    const justBefore = await list({ asOf: new Date(r.api1!.createdAt.getTime() - 1), environment: "east", name: "api" });
    expect(justBefore.items).toEqual([]);
    const atSwitch = await list({ asOf: r.api2!.createdAt, environment: "east", logicalEnvironment: "production", name: "api" });
    expect(labelsOf(atSwitch.items)).toEqual(["api2"]);
    // web1 was decommissioned at a time: from then on it is not deployed.
    const web1 = await uc.deployments.get(orgId, r.web1!.id);
    expect(web1.status).toBe("decommissioned");
    const atEnd = await list({ asOf: web1.decommissionedAt!, name: "web" });
    expect(atEnd.items).toEqual([]);
    const beforeEnd = await list({ asOf: new Date(web1.decommissionedAt!.getTime() - 1), name: "web" });
    expect(labelsOf(beforeEnd.items)).toEqual(["web1"]);
  });

  test("every filter applies as of a time", async () => {
    const at = t.t7!;
    const labels = async (input: Partial<ListInput>) => labelsOf(await all({ asOf: at, ...input }));
    expect(await labels({ environment: "east" })).toEqual(ordered(["api3", "stagingApi", "worker", "web2", "chart"]));
    expect(await labels({ environment: "west" })).toEqual(["westApi2"]);
    expect(await labels({ logicalEnvironment: "staging" })).toEqual(["stagingApi"]);
    expect(await labels({ environment: "east", logicalEnvironment: "production" })).toEqual(ordered(["api3", "worker", "web2", "chart"]));
    expect(await labels({ name: "api" })).toEqual(ordered(["api3", "stagingApi", "westApi2"]));
    expect(await labels({ name: "worker", kind: "HELM_CHART" })).toEqual(["chart"]);
    expect(await labels({ digest: v("a1") })).toEqual(ordered(["api3", "stagingApi"]));
    expect(await labels({ digest: v("b1") })).toEqual([]);
    expect(await labels({ project: "api" })).toEqual(ordered(["api3", "stagingApi", "westApi2"]));
    expect(await labels({ project: "api", projectVersion: "2.0" })).toEqual(["westApi2"]);
    expect(await labels({ project: "web" })).toEqual(ordered(["worker", "web2", "chart"]));
    expect(await labels({ rollbacksOnly: true })).toEqual(["api3"]);
    // Earlier: westApi1 and web1 were running, the rollback had not happened.
    expect(labelsOf(await all({ asOf: t.t4!, environment: "west" }))).toEqual(["westApi1"]);
    expect(labelsOf(await all({ asOf: t.t4!, digest: v("b1") }))).toEqual(["web1"]);
    expect(labelsOf(await all({ asOf: t.t4!, project: "api", projectVersion: "1.0" }))).toEqual(ordered(["westApi1", "stagingApi"]));
    expect(labelsOf(await all({ asOf: t.t5!, rollbacksOnly: true }))).toEqual([]);
    expect(labelsOf(await all({ asOf: t.t6!, rollbacksOnly: true, environment: "east" }))).toEqual(["api3"]);
  });

  test.each([1, 2])("pages of %i give the same records in the same order, at every instant and with filters", async (pageSize) => {
    for (const instant of Object.keys(expected)) {
      expect(labelsOf(await all({ asOf: t[instant] }, pageSize))).toEqual(ordered(expected[instant]!));
    }
    expect(labelsOf(await all({ asOf: t.t7!, environment: "east" }, pageSize))).toEqual(ordered(["api3", "stagingApi", "worker", "web2", "chart"]));
    expect(labelsOf(await all({ asOf: t.t7!, project: "web" }, pageSize))).toEqual(ordered(["worker", "web2", "chart"]));
  });

  test("a page token is only good for the same instant and filters", async () => {
    const first = await list({ asOf: t.t7!, pageSize: 2 });
    expect(first.nextPageToken).not.toBe("");
    const other = await domainFailure(list({ asOf: t.t6!, pageSize: 2, pageToken: first.nextPageToken }));
    expect(other.kind).toBe("InvalidArgument");
    expect(other.message).toMatch(/page_token was issued for a different query/);
    const withoutAsOf = await domainFailure(list({ pageSize: 2, pageToken: first.nextPageToken }));
    expect(withoutAsOf.kind).toBe("InvalidArgument");
    const nowToken = (await list({ pageSize: 2 })).nextPageToken;
    expect(nowToken).not.toBe("");
    expect((await domainFailure(list({ asOf: t.t7!, pageSize: 2, pageToken: nowToken }))).kind).toBe("InvalidArgument");
    // The same instant: the next page.
    const second = await list({ asOf: new Date(t.t7!.getTime()), pageSize: 2, pageToken: first.nextPageToken });
    expect(labelsOf([...first.items, ...second.items])).toEqual(ordered(expected.t7!).slice(0, 4));
  });

  test("refused: with history, with a status, in the future, not a time; nothing changes", async () => {
    const before = labelsOf(await all({ history: true }));
    const cases: Array<[Partial<ListInput>, RegExp]> = [
      [{ asOf: t.t5!, history: true }, /^as_of cannot be combined with history/],
      [{ asOf: t.t5!, status: "deployed" }, /^as_of cannot be combined with status \(DEPLOYED\)/],
      [{ asOf: t.t5!, status: "superseded" }, /^as_of cannot be combined with status \(SUPERSEDED\)/],
      [{ asOf: new Date(Date.now() + 120_000) }, /^as_of \S+ is in the future \(the server's time is \S+\)/],
      [{ asOf: new Date(Number.NaN) }, /^as_of is not a time a Timestamp can hold/],
      [{ asOf: new Date(Date.parse("0001-01-01T00:00:00Z") - 1) }, /^as_of is not a time a Timestamp can hold/],
    ];
    for (const [input, message] of cases) {
      const err = await domainFailure(list(input));
      expect(err.kind).toBe("InvalidArgument");
      expect(err.message).toMatch(message);
    }
    // Far back is fine: nothing ran then.
    expect((await list({ asOf: new Date("1970-01-01T00:00:00Z") })).items).toEqual([]);
    expect(labelsOf(await all({ history: true }))).toEqual(before);
  });

  test("a record whose end is before its start (two processes' clocks disagreed) was never deployed, and breaks nothing", async () => {
    const res = await record("skewA", "west", "staging", "skew", v("a1"));
    await sleep(5);
    const next = await record("skewB", "west", "staging", "skew", v("a2"));
    // As if the process that superseded it ran 10 s behind the one that recorded it.
    await db.sql.query(`UPDATE deployments SET superseded_at = created_at - interval '10 seconds' WHERE id = $1::uuid`, [res.deployment.id]);
    const skewed = await uc.deployments.get(orgId, res.deployment.id);
    expect(skewed.supersededAt!.getTime()).toBeLessThan(skewed.createdAt.getTime());
    for (const at of [new Date(skewed.createdAt.getTime() - 5_000), skewed.createdAt, new Date(next.deployment.createdAt.getTime() - 1)]) {
      expect(labelsOf((await list({ asOf: at, name: "skew" })).items)).toEqual([]);
    }
    expect(labelsOf((await list({ asOf: new Date(), name: "skew" })).items)).toEqual(["skewB"]);
  });
  test("order and paging follow the records' times, also where they disagree with the order they were written in", async () => {
    await uc.environments.createLogical(orgId, { name: "skewed", description: "" });
    for (const name of ["q1", "q2", "q3"]) {
      await record(name, "east", "skewed", name, v("c1"));
      await sleep(3);
    }
    // As if q1 had been recorded by a process whose clock ran ahead: made after q3, written before it.
    await db.sql.query(`UPDATE deployments SET created_at = $2::timestamptz, last_seen_at = $2::timestamptz WHERE id = $1::uuid`, [
      r.q1!.id,
      new Date(r.q3!.createdAt.getTime() + 2).toISOString(),
    ]);
    await sleep(10);
    const at = new Date();
    for (const pageSize of [1, 2, 3]) {
      expect(labelsOf(await all({ asOf: at, logicalEnvironment: "skewed" }, pageSize))).toEqual(["q1", "q3", "q2"]);
    }
    // Without as_of: newest first by seq, as every other list.
    expect(labelsOf(await all({ logicalEnvironment: "skewed" }, 1))).toEqual(["q3", "q2", "q1"]);
    // Between q3's and q1's (new) time: q1 had not started.
    expect(labelsOf(await all({ asOf: new Date(r.q3!.createdAt.getTime() + 1), logicalEnvironment: "skewed" }, 1))).toEqual(["q3", "q2"]);
  });
});
