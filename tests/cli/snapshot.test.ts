// `chainloop deployment snapshot`: the real CLI process against a real server (one database
// backend: clientBackends) — a pod list from `kubectl get pods -A -o json` piped in as the README's CronJob does,
// --dry-run changing nothing, a container without a digest stopping every decommission (exit 3),
// an entries file, and the usage errors. How pods become entries is in
// tests/unit/kubernetes.test.ts.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { clientBackends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { attest } from "../helpers/evidence.js";
import { startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";
import { expectOneErrorLine, expectUsageError, parseTable } from "./parse-output.js";
import { CLI, runCli, runShell, type CliResult } from "./run-cli.js";

const API1 = `sha256:${"a1".repeat(32)}`;
const API2 = `sha256:${"a2".repeat(32)}`;
const DB1 = `sha256:${"d1".repeat(32)}`;
const JOB1 = `sha256:${"e1".repeat(32)}`;
const short = (digest: string) => digest.slice(0, "sha256:".length + 12);

/** A Pod as the Kubernetes API returns it (the fields the snapshot reads). */
function pod(opts: { name: string; owner?: [kind: string, name: string]; hash?: string; image: string; imageID: string; phase?: string; namespace?: string }) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: opts.name,
      namespace: opts.namespace ?? "shop",
      creationTimestamp: "2026-12-01T10:00:00Z",
      labels: opts.hash ? { app: "x", "pod-template-hash": opts.hash } : { app: "x" },
      ownerReferences: opts.owner ? [{ apiVersion: "apps/v1", kind: opts.owner[0], name: opts.owner[1], controller: true, uid: "u" }] : undefined,
    },
    spec: { containers: [{ name: "main", image: opts.image }] },
    status: {
      phase: opts.phase ?? "Running",
      startTime: "2026-12-01T10:00:05Z",
      containerStatuses: [{ name: "main", image: opts.image, imageID: opts.imageID, ready: true, restartCount: 0, state: { running: { startedAt: "2026-12-01T10:00:06Z" } } }],
    },
  };
}
const podList = (...items: unknown[]) => JSON.stringify({ apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items });

interface SnapshotJson {
  results: Array<{ index: number; deploymentName: string; outcome: string; refusal: string; message: string; deploymentId: string }>;
  decommissioned: Array<{ id: string; deploymentName: string; status: string; decommissionedBySnapshot: boolean }>;
  applied: boolean;
  decommissionSkippedReason: string;
}

describe.each(clientBackends())("chainloop deployment snapshot on %s", (backend) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let dir: string;
  const env = () => ({ CHAINLOOP_SERVER: server.url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN });
  const chainloop = (...args: string[]) => runCli(args, env());
  const shell = (line: string) => runShell(line, dir, env());
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const running = async (logicalEnv: string) => {
    const res = await chainloop("deployment", "list", "--env", "prod-cluster", "--logical-env", logicalEnv, "-o", "json");
    expect(res.code).toBe(0);
    const rows = JSON.parse(res.stdout) as Array<{ deploymentName: string; digest: string }>;
    return Object.fromEntries(rows.map((d) => [d.deploymentName, d.digest]).sort(([a], [b]) => a!.localeCompare(b!)));
  };
  /** The summary line, then the table of changes. */
  const parse = (res: CliResult) => {
    const [summary, ...rest] = res.stdout.split("\n");
    return { summary, rows: rest.join("\n").trim() ? parseTable(rest.join("\n")).rows : [] };
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-snapshot-"));
    fs.symlinkSync(CLI, path.join(dir, "chainloop"));
    db = await createTestDatabase(backend);
    server = await startServer(db.env);
    await attest(server.url, [API1, API2, DB1, JOB1]);
    expect((await chainloop("environment", "create", "--name", "prod-cluster")).code).toBe(0);
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("reads kubectl's pod list from standard input, as the README's CronJob does", async () => {
    write(
      "pods-1.json",
      podList(
        pod({ name: "api-7d4b9c-x1", owner: ["ReplicaSet", "api-7d4b9c"], hash: "7d4b9c", image: "ghcr.io/acme/api:1.0", imageID: `docker-pullable://ghcr.io/acme/api@${API1}` }),
        pod({ name: "api-7d4b9c-x2", owner: ["ReplicaSet", "api-7d4b9c"], hash: "7d4b9c", image: "ghcr.io/acme/api:1.0", imageID: `ghcr.io/acme/api@${API1}` }),
        pod({ name: "db-0", owner: ["StatefulSet", "db"], image: "postgres:16", imageID: `docker.io/library/postgres@${DB1}` }),
        pod({ name: "api-old-x3", owner: ["ReplicaSet", "api-old"], image: "ghcr.io/acme/api:0.9", imageID: "", phase: "Pending" }),
      ),
    );
    const res = await shell(`cat ${path.join(dir, "pods-1.json")} | chainloop deployment snapshot --env prod-cluster --logical-env production --from-kubernetes -`);
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "chainloop: note: 1 pod(s) not Running were skipped\n" });
    const { summary, rows } = parse(res);
    expect(summary).toBe("snapshot of prod-cluster/production: 2 created, 0 superseded, 0 unchanged (heartbeat), 0 decommissioned, 0 refused");
    expect(rows.map((r) => [r.DEPLOYMENT, r.KIND, r.DIGEST, r.CHANGE])).toEqual([
      ["api", "CONTAINER_IMAGE", short(API1), "created"],
      ["db", "CONTAINER_IMAGE", short(DB1), "created"],
    ]);
    expect(await running("production")).toEqual({ api: API1, db: DB1 });
    const described = await chainloop("deployment", "list", "--env", "prod-cluster", "--deployment-name", "api", "-o", "json");
    expect(JSON.parse(described.stdout)[0]).toMatchObject({ artifactName: "ghcr.io/acme/api", artifactVersion: "1.0", artifactReference: "ghcr.io/acme/api:1.0" });
  });

  it("--dry-run shows what would change and changes nothing; without it, the same happens", async () => {
    write(
      "pods-2.json",
      podList(
        pod({ name: "api-8f-x1", owner: ["ReplicaSet", "api-8f"], hash: "8f", image: "ghcr.io/acme/api:2.0", imageID: `ghcr.io/acme/api@${API2}` }),
        pod({ name: "nightly-29000000-abcde", owner: ["Job", "nightly-29000000"], image: "ghcr.io/acme/job:1", imageID: `ghcr.io/acme/job@${JOB1}` }),
      ),
    );
    const args = ["deployment", "snapshot", "--env", "prod-cluster", "--logical-env", "production", "--from-kubernetes", path.join(dir, "pods-2.json")];
    const dry = await chainloop(...args, "--dry-run");
    expect({ code: dry.code, stderr: dry.stderr }).toEqual({ code: 0, stderr: "" });
    const plan = parse(dry);
    expect(plan.summary).toBe(
      "snapshot of prod-cluster/production (would be): 1 created, 1 superseded, 0 unchanged (heartbeat), 1 decommissioned, 0 refused — dry run: nothing was changed",
    );
    expect(plan.rows.map((r) => [r.DEPLOYMENT, r.DIGEST, r.CHANGE])).toEqual([
      ["api", short(API2), "superseded"],
      ["nightly", short(JOB1), "created"],
      ["db", short(DB1), "decommissioned"],
    ]);
    expect(await running("production")).toEqual({ api: API1, db: DB1 });

    const applied = await chainloop(...args, "-o", "json");
    expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: "" });
    const out = JSON.parse(applied.stdout) as SnapshotJson;
    expect(out.applied).toBe(true);
    expect(out.results.map((r) => [r.deploymentName, r.outcome])).toEqual([
      ["api", "RECORD_OUTCOME_SUPERSEDED"],
      ["nightly", "RECORD_OUTCOME_CREATED"],
    ]);
    expect(out.decommissioned).toMatchObject([{ deploymentName: "db", status: "DEPLOYMENT_STATUS_DECOMMISSIONED", decommissionedBySnapshot: true }]);
    expect(await running("production")).toEqual({ api: API2, nightly: JOB1 });
    const described = await chainloop("deployment", "describe", out.decommissioned[0]!.id);
    expect(described.stdout).toMatch(/^Decommissioned because: +a snapshot of its environment no longer named it$/m);
  });

  it("a container without a digest is refused, the rest recorded, nothing decommissioned: exit 3", async () => {
    write(
      "pods-3.json",
      podList(
        pod({ name: "api-8f-x1", owner: ["ReplicaSet", "api-8f"], hash: "8f", image: "ghcr.io/acme/api:2.0", imageID: `ghcr.io/acme/api@${API2}` }),
        pod({ name: "web-1", image: "web:dev", imageID: "sha256:" + "f".repeat(64) }),
      ),
    );
    const res = await chainloop("deployment", "snapshot", "--env", "prod-cluster", "--logical-env", "production", "--from-kubernetes", path.join(dir, "pods-3.json"));
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/^chainloop: note: shop\/web-1 container main has no digest yet: .*\n/);
    expect(res.stderr).toMatch(/chainloop: nothing was decommissioned: 1 of 2 entries was refused/);
    const { summary, rows } = parse(res);
    expect(summary).toBe("snapshot of prod-cluster/production: 0 created, 0 superseded, 1 unchanged (heartbeat), 0 decommissioned, 1 refused");
    expect(rows.map((r) => [r.DEPLOYMENT, r.DIGEST, r.CHANGE])).toEqual([["web-1", "-", "refused"]]);
    expect(rows[0]!.DETAIL).toMatch(/no image digest yet/);
    // "nightly" is not in this snapshot but still runs: the report was partial.
    expect(await running("production")).toEqual({ api: API2, nightly: JOB1 });
  });

  it("reads an entries file, with the kinds as the CLI spells them", async () => {
    const file = write(
      "running.json",
      JSON.stringify([
        { deploymentName: "api", kind: "CONTAINER_IMAGE", digest: API1, artifactName: "ghcr.io/acme/api", artifactVersion: "1.0" },
        { deployment_name: "chart", kind: "helm-chart", digest: JOB1 },
        { deploymentName: "ghost", kind: "CONTAINER_IMAGE", digest: `sha256:${"99".repeat(32)}` },
      ]),
    );
    const res = await chainloop("deployment", "snapshot", "--env", "prod-cluster", "--logical-env", "staging", "--file", file, "--all-or-nothing", "-o", "json");
    expect(res.code).toBe(3);
    const out = JSON.parse(res.stdout) as SnapshotJson;
    expect(out.applied).toBe(false);
    expect(out.results.map((r) => [r.deploymentName, r.outcome, r.refusal])).toEqual([
      ["api", "RECORD_OUTCOME_UNSPECIFIED", "SNAPSHOT_REFUSAL_UNSPECIFIED"],
      ["chart", "RECORD_OUTCOME_UNSPECIFIED", "SNAPSHOT_REFUSAL_UNSPECIFIED"],
      ["ghost", "RECORD_OUTCOME_UNSPECIFIED", "SNAPSHOT_REFUSAL_NO_EVIDENCE"],
    ]);
    expect(await running("staging")).toEqual({});
    const valid = write("running-ok.json", JSON.stringify((JSON.parse(fs.readFileSync(file, "utf8")) as unknown[]).slice(0, 2)));
    const ok = await shell(`chainloop deployment snapshot --env prod-cluster --logical-env staging --file - < ${valid}`);
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: "" });
    expect(await running("staging")).toEqual({ api: API1, chart: JOB1 });
  });

  it("refuses what it cannot read before calling the server", async () => {
    const base = ["deployment", "snapshot", "--env", "prod-cluster", "--logical-env", "production"];
    expectUsageError(await chainloop(...base), "Missing the entries: give --file <entries.json> or --from-kubernetes <pods.json> (- reads standard input)");
    expectUsageError(await chainloop(...base, "--file", "a", "--from-kubernetes", "b"), "--file and --from-kubernetes are mutually exclusive: give the entries one way");
    expectUsageError(await chainloop(...base, "--file", "a", "--name-template", "{pod}"), "--name-template goes with --from-kubernetes");
    expectOneErrorLine(await chainloop(...base, "--file", write("bad.json", "{nope")), /bad\.json is not JSON/);
    expectOneErrorLine(await chainloop(...base, "--file", write("obj.json", "{}")), /expected a JSON array of entries/);
    expectOneErrorLine(await chainloop(...base, "--file", write("typo.json", '[{"deploymentNmae": "x"}]')), /entry 0: .*deploymentNmae/);
    expectOneErrorLine(await chainloop(...base, "--from-kubernetes", write("svc.json", '{"apiVersion":"v1","kind":"ServiceList","items":[]}')), /expected the output of `kubectl get pods -o json`/);
    const twoContainers = pod({ name: "api-1", image: "a:1", imageID: `a@${API1}` });
    twoContainers.spec.containers.push({ name: "sidecar", image: "b:1" });
    twoContainers.status.containerStatuses.push({ ...twoContainers.status.containerStatuses[0]!, name: "sidecar", image: "b:1", imageID: `b@${API2}` });
    expectOneErrorLine(
      await chainloop(...base, "--from-kubernetes", write("two.json", podList(twoContainers))),
      /--name-template '\{workload\}-\{container\}'/,
    );
    expect(await running("production")).toEqual({ api: API2, nightly: JOB1 });
  });
});
