// The live view's stream (WatchDeployments) and staleness, through real server processes.
//
// Across processes: two servers on one Postgres; a watcher on A sees what is recorded through
// B (fan-out is Postgres LISTEN/NOTIFY, one LISTEN connection per process), filters and
// organizations are respected, and a client that stops reading slows nobody down: its stream
// is ended (RESOURCE_EXHAUSTED) once its bounded queue overflows.
// On each backend: the snapshot, change events, staleness in list/get/watch.
import http2 from "node:http2";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import {
  ArtifactKind,
  DeploymentService,
  DeploymentStatus,
  WatchEventType,
  type WatchDeploymentsResponse,
} from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { createOrganization } from "../helpers/admin.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";
import { Watch } from "../helpers/watch.js";
import { digest } from "../helpers/facts.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tsMs = (t: { seconds: bigint; nanos: number } | undefined) => (t ? Number(t.seconds) * 1000 + t.nanos / 1e6 : undefined);
type Deployments = Client<typeof DeploymentService>;

const is = (type: WatchEventType, name?: string, d?: string) => (e: WatchDeploymentsResponse) =>
  e.type === type && (name === undefined || e.deployment?.deploymentName === name) && (d === undefined || e.deployment?.digest === d);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * A raw HTTP/2 WatchDeployments call (Connect protocol, binary) whose response is never read:
 * a small flow-control window and a paused stream, so the server's writes block once the
 * window is full. `drain()` starts reading and returns what the stream finally says.
 */
function stalledWatcher(port: number, token: string) {
  const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 256 } });
  session.on("error", () => {});
  const stream = session.request({
    ":method": "POST",
    ":path": "/chainloop.v1.DeploymentService/WatchDeployments",
    "content-type": "application/connect+proto",
    "connect-protocol-version": "1",
    authorization: `Bearer ${token}`,
  });
  stream.on("error", () => {});
  stream.end(Buffer.from([0, 0, 0, 0, 0])); // one enveloped, empty WatchDeploymentsRequest
  stream.pause();
  return {
    async drain(timeoutMs = 15_000): Promise<{ messages: number; endJson: string }> {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.resume();
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("the stalled stream did not end after it was read again")), timeoutMs);
        stream.once("end", () => (clearTimeout(t), resolve()));
        stream.once("close", () => (clearTimeout(t), resolve()));
      });
      const body = Buffer.concat(chunks);
      let messages = 0;
      let endJson = "";
      for (let i = 0; i + 5 <= body.length; ) {
        const flags = body[i];
        const len = body.readUInt32BE(i + 1);
        const payload = body.subarray(i + 5, i + 5 + len);
        if (flags & 0x02) endJson = payload.toString("utf8");
        else messages++;
        i += 5 + len;
      }
      return { messages, endJson };
    },
    close() {
      stream.close();
      session.close();
    },
  };
}

const pgOnly = backends().includes("postgres") ? describe : describe.skip;

pgOnly("WatchDeployments across two server processes on one Postgres", () => {
  const QUEUE_LIMIT = 40;
  let db: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  let onA: Deployments;
  let onB: Deployments;
  let otherOrgToken: string;
  const base = { kind: ArtifactKind.CONTAINER_IMAGE };

  beforeAll(async () => {
    db = await createTestDatabase("postgres");
    a = await startServer({ ...db.env, CHAINLOOP_WATCH_QUEUE_LIMIT: String(QUEUE_LIMIT) });
    b = await startServer(db.env);
    onA = connectClient(DeploymentService, a.url, "2");
    onB = connectClient(DeploymentService, b.url);
    const envs = connectClient(EnvironmentService, b.url);
    await envs.createEnvironment({ name: "k8s-east" });
    await envs.createEnvironment({ name: "k8s-west" });
    const digests = ["east v1", "east v2", "west v1", "other org", "mine"].map(digest);
    for (let i = 0; i < 400; i++) digests.push(digest(`load ${i}`));
    await attest(b.url, digests);

    otherOrgToken = await createOrganization(db.env, "other-org");
    await connectClient(EnvironmentService, b.url, "1.1", otherOrgToken).createEnvironment({ name: "k8s-east" });
    await attest(b.url, [digest("other org")], { token: otherOrgToken });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
  });

  it("starts with the active set, then shows a record made through the other server within 2 s", async () => {
    await onB.recordDeployment({ ...base, environment: "k8s-east", logicalEnvironment: "staging", deploymentName: "api", digest: digest("east v1") });
    const watch = new Watch(onA);
    try {
      await watch.ready();
      expect(watch.snapshot.map((e) => [WatchEventType[e.type], e.deployment?.deploymentName, e.deployment?.logicalEnvironment])).toEqual([
        ["SNAPSHOT", "api", "staging"],
      ]);

      const started = performance.now();
      const recorded = await onB.recordDeployment({ ...base, environment: "k8s-east", logicalEnvironment: "staging", deploymentName: "api", digest: digest("east v2") });
      const created = await watch.waitFor(is(WatchEventType.CREATED, "api", digest("east v2")), 2000, "the CREATED event from server B");
      const latency = created.at - started;
      console.log(`record through server B → event on server A's watcher: ${latency.toFixed(1)} ms (including the record call)`);
      expect(latency).toBeLessThan(2000);
      expect(created.event.deployment).toMatchObject({ id: recorded.deployment!.id, status: DeploymentStatus.DEPLOYED, environment: "k8s-east" });
      // The superseded record comes first, carrying its successor.
      const superseded = await watch.waitFor(is(WatchEventType.SUPERSEDED, "api", digest("east v1")), 2000);
      expect(superseded.event.deployment).toMatchObject({ status: DeploymentStatus.SUPERSEDED, supersededById: recorded.deployment!.id });
      expect(watch.events.indexOf(superseded)).toBeLessThan(watch.events.indexOf(created));

      await onB.recordDeployment({ ...base, environment: "k8s-east", logicalEnvironment: "staging", deploymentName: "api", digest: digest("east v2") });
      const beat = await watch.waitFor(is(WatchEventType.HEARTBEAT, "api", digest("east v2")), 2000, "the HEARTBEAT");
      expect(tsMs(beat.event.deployment!.lastSeenTime)!).toBeGreaterThan(tsMs(created.event.deployment!.lastSeenTime)!);

      await onB.recordDeployment({
        ...base,
        environment: "k8s-east",
        logicalEnvironment: "staging",
        deploymentName: "api",
        digest: digest("east v2"),
        status: DeploymentStatus.DECOMMISSIONED,
      });
      const gone = await watch.waitFor(is(WatchEventType.DECOMMISSIONED, "api"), 2000, "the DECOMMISSIONED event");
      expect(gone.event.deployment?.status).toBe(DeploymentStatus.DECOMMISSIONED);
      expect(watch.error).toBeUndefined();
    } finally {
      await watch.close();
    }
  });

  it("sends a filtered watcher only matching events", async () => {
    const westOnly = new Watch(onA, { environment: "k8s-west" });
    const all = new Watch(onA);
    try {
      await Promise.all([westOnly.ready(), all.ready()]);
      expect(westOnly.snapshot).toEqual([]); // the east records do not match
      await onB.recordDeployment({ ...base, environment: "k8s-east", logicalEnvironment: "production", deploymentName: "filtered", digest: digest("east v1") });
      await onB.recordDeployment({ ...base, environment: "k8s-west", logicalEnvironment: "production", deploymentName: "filtered", digest: digest("west v1") });
      await westOnly.waitFor(is(WatchEventType.CREATED, "filtered", digest("west v1")), 2000);
      // Both changes went through one feed in commit order: the east one would have come first.
      await all.waitFor(is(WatchEventType.CREATED, "filtered", digest("west v1")), 2000);
      expect(all.changes.filter((e) => e.deployment?.deploymentName === "filtered").map((e) => e.deployment?.environment)).toEqual(["k8s-east", "k8s-west"]);
      expect(westOnly.changes.map((e) => [WatchEventType[e.type], e.deployment?.environment])).toEqual([["CREATED", "k8s-west"]]);

      const unknownEnv = new Watch(onA, { environment: "nowhere" });
      await unknownEnv.done;
      expect(ConnectError.from(unknownEnv.error).code).toBe(Code.NotFound);
    } finally {
      await Promise.all([westOnly.close(), all.close()]);
    }
  });

  it("never sends one organization's events to another's watchers", async () => {
    const otherOnA = connectClient(DeploymentService, a.url, "2", otherOrgToken);
    const otherWatch = new Watch(otherOnA);
    const mineWatch = new Watch(onA);
    try {
      await Promise.all([otherWatch.ready(), mineWatch.ready()]);
      expect(otherWatch.snapshot).toEqual([]); // the default organization's records are not in it
      await onB.recordDeployment({ ...base, environment: "k8s-east", logicalEnvironment: "production", deploymentName: "secret", digest: digest("mine") });
      const otherOnB = connectClient(DeploymentService, b.url, "1.1", otherOrgToken);
      await otherOnB.recordDeployment({ ...base, environment: "k8s-east", logicalEnvironment: "production", deploymentName: "theirs", digest: digest("other org") });

      await otherWatch.waitFor(is(WatchEventType.CREATED, "theirs"), 2000);
      await mineWatch.waitFor(is(WatchEventType.CREATED, "secret"), 2000);
      await sleep(200);
      expect(otherWatch.changes.map((e) => e.deployment?.deploymentName)).toEqual(["theirs"]);
      expect(mineWatch.changes.map((e) => e.deployment?.deploymentName)).toEqual(["secret"]);
    } finally {
      await Promise.all([otherWatch.close(), mineWatch.close()]);
    }
  });

  it("needs a token: no token is UNAUTHENTICATED", async () => {
    const anonymous = new Watch(connectClient(DeploymentService, a.url, "1.1", null));
    await anonymous.done;
    expect(ConnectError.from(anonymous.error).code).toBe(Code.Unauthenticated);
    expect(anonymous.events).toEqual([]);
  });

  it("does not let a client that stops reading slow recording or other watchers; it is cut off when it falls behind", async () => {
    const record = (i: number) =>
      onA.recordDeployment({ ...base, environment: "k8s-west", logicalEnvironment: "staging", deploymentName: `load-${i}`, digest: digest(`load ${i}`) });
    const timed = async (from: number, n: number) => {
      const out: number[] = [];
      for (let i = from; i < from + n; i++) {
        const t = performance.now();
        await record(i);
        out.push(performance.now() - t);
      }
      return out;
    };
    const N = 100;
    await timed(300, 10); // warm up connections and plans
    const baseline = await timed(0, N);

    const healthy = new Watch(onA);
    await healthy.ready();
    const stalled = stalledWatcher(a.port, TEST_ADMIN_TOKEN);
    await sleep(300); // its snapshot is written (and blocks once the tiny window is full)
    const withStalled = await timed(N, N);
    const last = `load-${2 * N - 1}`;
    await healthy.waitFor(is(WatchEventType.CREATED, last), 2000, "the last record on a healthy watcher next to the stalled one");

    const summary = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(1)} ms, p95 ${percentile(xs, 95).toFixed(1)} ms`;
    console.log(
      `RecordDeployment latency through server A (${N} records each):\n` +
        `  without a stalled watcher: ${summary(baseline)}\n` +
        `  with a stalled watcher:    ${summary(withStalled)}`,
    );
    expect(percentile(withStalled, 50)).toBeLessThan(Math.max(3 * percentile(baseline, 50), percentile(baseline, 50) + 25));
    expect(percentile(withStalled, 95)).toBeLessThan(Math.max(4 * percentile(baseline, 95), percentile(baseline, 95) + 50));

    // Reading again, the stalled client gets what fit in its window and queue, then the error.
    const { messages, endJson } = await stalled.drain();
    stalled.close();
    expect(JSON.parse(endJson)).toEqual({ error: { code: "resource_exhausted", message: expect.stringContaining("watcher fell behind") } });
    expect(endJson).toContain("re-watch");
    expect(messages).toBeLessThan(N + 50); // it was cut off, not sent everything
    expect(healthy.error).toBeUndefined();
    expect(healthy.changes.filter((e) => e.type === WatchEventType.CREATED).length).toBeGreaterThanOrEqual(N);
    await healthy.close();
  });

  it("ends open streams with UNAVAILABLE when the server shuts down, promptly", async () => {
    const c = await startServer(db.env);
    const watch = new Watch(connectClient(DeploymentService, c.url));
    await watch.ready();
    const t = performance.now();
    expect(await c.stop("SIGTERM")).toBe(0);
    const ms = performance.now() - t;
    await watch.done;
    expect(ConnectError.from(watch.error).code).toBe(Code.Unavailable);
    expect(ms).toBeLessThan(5000); // not held for the drain timeout (10 s)
  });
});

describe.each(backends())("staleness and the live stream on %s", (backend) => {
  const served = serveFor(backend);
  let deployments: Deployments;
  let environments: Client<typeof EnvironmentService>;
  const rec = (environment: string, name: string, d: string) =>
    deployments.recordDeployment({ kind: ArtifactKind.CONTAINER_IMAGE, environment, logicalEnvironment: "production", deploymentName: name, digest: d });

  beforeAll(async () => {
    deployments = connectClient(DeploymentService, served.url);
    environments = connectClient(EnvironmentService, served.url);
    await environments.createEnvironment({ name: "edge", heartbeatInterval: { seconds: 1n, nanos: 0 } });
    await environments.createEnvironment({ name: "batch" });
    await attest(served.url, ["edge v1", "batch v1", "edge v2"].map(digest));
  });

  it("stores the heartbeat interval, validates it and clears it through update_mask", async () => {
    const got = (await environments.getEnvironment({ name: "edge" })).environment!;
    expect(got.heartbeatInterval).toMatchObject({ seconds: 1n, nanos: 0 });
    expect((await environments.getEnvironment({ name: "batch" })).environment!.heartbeatInterval).toBeUndefined();
    for (const bad of [{ seconds: 0n, nanos: 500_000_000 }, { seconds: 8n * 86400n, nanos: 0 }, { seconds: 1n, nanos: 1 }]) {
      const err = await environments.createEnvironment({ name: "bad", heartbeatInterval: bad }).then(
        () => undefined,
        (e) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toContain("heartbeat_interval");
    }
    // Only the named paths change: a description update keeps the interval.
    const described = await environments.updateEnvironment({ environment: { name: "batch", description: "nightly jobs" }, updateMask: { paths: ["description"] } });
    expect(described.environment!.heartbeatInterval).toBeUndefined();
    const set = await environments.updateEnvironment({
      environment: { name: "batch", heartbeatInterval: { seconds: 600n, nanos: 0 } },
      updateMask: { paths: ["heartbeat_interval"] },
    });
    expect(set.environment).toMatchObject({ description: "nightly jobs", heartbeatInterval: { seconds: 600n, nanos: 0 } });
    const cleared = await environments.updateEnvironment({ environment: { name: "batch" }, updateMask: { paths: ["heartbeat_interval"] } });
    expect(cleared.environment).toMatchObject({ description: "nightly jobs" });
    expect(cleared.environment!.heartbeatInterval).toBeUndefined();
  });

  it("reports an active record stale in list, get and watch once it misses its heartbeats, and fresh again after one", async () => {
    const edge = await rec("edge", "agent", digest("edge v1"));
    const batch = await rec("batch", "agent", digest("batch v1"));
    const id = edge.deployment!.id;
    const watch = new Watch(deployments, { deploymentName: "agent" });
    try {
      await watch.ready();
      const listed = async () => (await deployments.listDeployments({ deploymentName: "agent" })).deployments;
      let now = await listed();
      const edgeRow = now.find((d) => d.id === id)!;
      expect(edgeRow.stale).toBe(false);
      // stale_time = last seen + interval (1 s) × tolerance (2)
      expect(tsMs(edgeRow.staleTime)! - tsMs(edgeRow.lastSeenTime)!).toBe(2000);
      const batchRow = now.find((d) => d.id === batch.deployment!.id)!;
      expect(batchRow).toMatchObject({ stale: false });
      expect(batchRow.staleTime).toBeUndefined(); // no interval, never stale

      // The watcher is told when the record passes its stale time, without any write.
      const staleEvent = await watch.waitFor(is(WatchEventType.STALE, "agent"), 4000, "the STALE event");
      expect(staleEvent.event.deployment).toMatchObject({ id, stale: true, status: DeploymentStatus.DEPLOYED });
      now = await listed();
      expect(now.find((d) => d.id === id)).toMatchObject({ stale: true, status: DeploymentStatus.DEPLOYED });
      expect(now.find((d) => d.id === batch.deployment!.id)).toMatchObject({ stale: false });
      expect((await deployments.getDeployment({ id })).deployment).toMatchObject({ stale: true, status: DeploymentStatus.DEPLOYED });
      expect(watch.changes.filter((e) => e.type === WatchEventType.STALE).map((e) => e.deployment?.environment)).toEqual(["edge"]);

      // A heartbeat makes it fresh again (and the watcher sees it so).
      await rec("edge", "agent", digest("edge v1"));
      const beat = await watch.waitFor(is(WatchEventType.HEARTBEAT, "agent"), 2000);
      expect(beat.event.deployment).toMatchObject({ id, stale: false });
      expect((await deployments.getDeployment({ id })).deployment!.stale).toBe(false);

      // History is never stale: only the active record can be.
      await sleep(2100);
      await rec("edge", "agent", digest("edge v2"));
      const old = (await deployments.getDeployment({ id })).deployment!;
      expect(old).toMatchObject({ status: DeploymentStatus.SUPERSEDED, stale: false });
      expect(old.staleTime).toBeUndefined();
    } finally {
      await watch.close();
    }
  });

  it("tells watchers when an environment's heartbeat interval changes: the new stale time at once, then STALE when it passes", async () => {
    await environments.createEnvironment({ name: "fleet" });
    await attest(served.url, [digest("fleet v1")]);
    const recorded = (await rec("fleet", "svc", digest("fleet v1"))).deployment!;
    const seen = tsMs(recorded.lastSeenTime)!;
    const watch = new Watch(deployments, { environment: "fleet" });
    const elsewhere = new Watch(deployments, { environment: "edge" });
    const setHeartbeat = (seconds: bigint | undefined) =>
      environments.updateEnvironment({
        environment: { name: "fleet", heartbeatInterval: seconds === undefined ? undefined : { seconds, nanos: 0 } },
        updateMask: { paths: ["heartbeat_interval"] },
      });
    const timeChanges = () => watch.changes.filter(is(WatchEventType.STALE_TIME_CHANGED));
    const nthChange = async (n: number) => {
      await watch.waitFor(() => timeChanges().length >= n, 4000, `STALE_TIME_CHANGED #${n}`);
      return timeChanges()[n - 1].deployment!;
    };
    try {
      await Promise.all([watch.ready(), elsewhere.ready()]);
      expect(watch.snapshot.map((e) => e.deployment?.staleTime)).toEqual([undefined]);

      // No interval → one hour: a stale time two hours after the last heartbeat.
      await setHeartbeat(3600n);
      const hour = await nthChange(1);
      expect(hour).toMatchObject({ id: recorded.id, stale: false, status: DeploymentStatus.DEPLOYED });
      expect(tsMs(hour.staleTime)! - seen).toBe(2 * 3600_000);

      // One hour → 3 s: the new stale time, then STALE once it passes (or already stale, on a slow machine).
      await setHeartbeat(3n);
      const short = await nthChange(2);
      expect(tsMs(short.staleTime)! - seen).toBe(6000);
      if (!short.stale) {
        const stale = await watch.waitFor(is(WatchEventType.STALE, "svc"), 10_000, "the STALE event");
        expect(stale.event.deployment).toMatchObject({ id: recorded.id, stale: true });
      }

      // A description change moves nothing; clearing the interval makes the record never stale.
      await environments.updateEnvironment({ environment: { name: "fleet", description: "edge fleet" }, updateMask: { paths: ["description"] } });
      await setHeartbeat(undefined);
      const cleared = await nthChange(3);
      expect(cleared).toMatchObject({ id: recorded.id, stale: false });
      expect(cleared.staleTime).toBeUndefined();
      await rec("fleet", "svc", digest("fleet v1"));
      await watch.waitFor(is(WatchEventType.HEARTBEAT, "svc"), 4000, "the heartbeat");
      const changed = "STALE_TIME_CHANGED";
      // The record was created just before the watch opened: its CREATED may also come after the
      // snapshot (WatchDeployments: "a change committed while the snapshot was read may be seen
      // twice"). Seen once in a fresh-clone run; it is that record's, the snapshot already had it.
      const afterSnapshot = watch.changes.filter((e) => !(e.type === WatchEventType.CREATED && e.deployment?.id === recorded.id));
      expect(afterSnapshot.map((e) => WatchEventType[e.type])).toEqual(
        short.stale ? [changed, changed, changed, "HEARTBEAT"] : [changed, changed, "STALE", changed, "HEARTBEAT"],
      );
      // A watcher of another environment hears nothing of it.
      expect(elsewhere.changes.filter(is(WatchEventType.STALE_TIME_CHANGED))).toEqual([]);
    } finally {
      await Promise.all([watch.close(), elsewhere.close()]);
    }
  });

  it("filters by project and version, in the snapshot and in changes; a later attestation counts from the next change", async () => {
    await environments.createEnvironment({ name: "proj" });
    const [api1, api2, web1, late] = ["api 1", "api 2", "web 1", "late"].map((s) => digest(`proj ${s}`));
    await attest(served.url, [api1], { project: "api", version: "v1" });
    await attest(served.url, [api2], { project: "api", version: "v2" });
    await attest(served.url, [web1, late], { project: "web", version: "v1" });
    const recIn = (name: string, d: string) =>
      deployments.recordDeployment({ kind: ArtifactKind.CONTAINER_IMAGE, environment: "proj", logicalEnvironment: "production", deploymentName: name, digest: d });
    await recIn("api", api1);
    await recIn("web", web1);

    const all = new Watch(deployments, { environment: "proj" });
    const api = new Watch(deployments, { environment: "proj", project: "api" });
    const apiV2 = new Watch(deployments, { environment: "proj", project: "api", projectVersion: "v2" });
    const seen = (w: Watch) => w.changes.map((e) => [WatchEventType[e.type], e.deployment?.deploymentName, e.deployment?.digest]);
    try {
      await Promise.all([all.ready(), api.ready(), apiV2.ready()]);
      expect(all.snapshot.map((e) => e.deployment?.digest).sort()).toEqual([api1, web1].sort());
      expect(api.snapshot.map((e) => e.deployment?.digest)).toEqual([api1]);
      expect(apiV2.snapshot).toEqual([]);

      await recIn("api", api2); // supersedes api1
      await recIn("late-svc", late); // attested for web only, so far
      // The hub has handled that change once the unfiltered watcher has it: only then attest.
      await all.waitFor(is(WatchEventType.CREATED, "late-svc"));
      await attest(served.url, [late], { project: "api", version: "v2" });
      await recIn("late-svc", late); // a heartbeat, now of an api v2 digest
      await api.waitFor(is(WatchEventType.HEARTBEAT, "late-svc"));
      await apiV2.waitFor(is(WatchEventType.HEARTBEAT, "late-svc"));

      expect(seen(api)).toEqual([
        ["SUPERSEDED", "api", api1],
        ["CREATED", "api", api2],
        ["HEARTBEAT", "late-svc", late],
      ]);
      expect(seen(apiV2)).toEqual([
        ["CREATED", "api", api2],
        ["HEARTBEAT", "late-svc", late],
      ]);
    } finally {
      await Promise.all([all.close(), api.close(), apiV2.close()]);
    }

    // Checked like the list's filters, before anything is streamed.
    for (const [req, text] of [
      [{ projectVersion: "v1" }, "project_version needs project"],
      [{ project: "Not A Name" }, "project"],
    ] as const) {
      const bad = new Watch(deployments, req);
      await bad.done;
      expect(bad.events).toEqual([]);
      expect(ConnectError.from(bad.error)).toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining(text) });
    }
  });

  it("streams the snapshot and changes on this backend too", async () => {
    const watch = new Watch(deployments, { environment: "batch" });
    try {
      await watch.ready();
      expect(watch.snapshot.map((e) => [WatchEventType[e.type], e.deployment?.deploymentName])).toEqual([["SNAPSHOT", "agent"]]);
      const t = performance.now();
      await deployments.recordDeployment({ kind: ArtifactKind.HELM_CHART, environment: "batch", logicalEnvironment: "staging", deploymentName: "chart", digest: digest("batch v1") });
      const got = await watch.waitFor(is(WatchEventType.CREATED, "chart"), 2000);
      expect(got.at - t).toBeLessThan(2000);
      expect(got.event.deployment).toMatchObject({ kind: ArtifactKind.HELM_CHART, logicalEnvironment: "staging" });
    } finally {
      await watch.close();
    }
  });
});
