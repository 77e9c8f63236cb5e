// `deployment snapshot --from-kubernetes`: pods (as `kubectl get pods -A -o json` prints them) to
// snapshot entries — workloads from ownerReferences, digests from imageIDs, replicas merged,
// rollouts and digest-less containers reported, ambiguous names refused.
import { DEFAULT_NAME_TEMPLATE, KubernetesInputError, snapshotFromPods, type KubernetesSnapshot } from "../../cli/kubernetes.js";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const C = `sha256:${"c".repeat(64)}`;
const S512 = `sha512:${"d".repeat(128)}`;

interface ContainerFixture {
  name: string;
  image: string;
  /** containerStatuses[].imageID; default `<image repo>@A` in containerd's form. */
  imageID?: string;
  /** containerStatuses[].image, when it differs from the spec's. */
  statusImage?: string;
  /** Leave the container out of status.containerStatuses. */
  noStatus?: boolean;
}

interface PodFixture {
  name: string;
  namespace?: string;
  phase?: string;
  owner?: { kind: string; name: string; controller?: boolean };
  owners?: { kind: string; name: string; controller?: boolean }[];
  hash?: string;
  created?: string;
  started?: string;
  containers?: ContainerFixture[];
  initContainers?: ContainerFixture[];
  kind?: string | null;
}

/** A Pod in the Kubernetes API's shape (core/v1), with only the fields the module reads plus some noise. */
function pod(f: PodFixture): Record<string, unknown> {
  const containers = f.containers ?? [{ name: "app", image: "ghcr.io/acme/api:v1" }];
  const owners = f.owners ?? (f.owner ? [{ controller: true, ...f.owner }] : []);
  const status = (c: ContainerFixture) => ({
    name: c.name,
    image: c.statusImage ?? c.image,
    imageID: c.imageID ?? `${c.image.split(/[:@]/)[0]}@${A}`,
    ready: true,
    restartCount: 0,
    started: true,
    state: { running: { startedAt: f.started ?? "2024-05-01T10:00:05Z" } },
    containerID: `containerd://${"0".repeat(64)}`,
  });
  const p: Record<string, unknown> = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: f.name,
      namespace: f.namespace ?? "default",
      uid: "5b1c0f6e-0000-4000-8000-000000000000",
      creationTimestamp: f.created ?? "2024-05-01T10:00:00Z",
      labels: { app: "x", ...(f.hash ? { "pod-template-hash": f.hash } : {}) },
      ...(owners.length ? { ownerReferences: owners.map((o) => ({ apiVersion: "apps/v1", blockOwnerDeletion: true, uid: "u", ...o })) } : {}),
    },
    spec: {
      containers: containers.map((c) => ({ name: c.name, image: c.image, imagePullPolicy: "IfNotPresent" })),
      ...(f.initContainers ? { initContainers: f.initContainers.map((c) => ({ name: c.name, image: c.image })) } : {}),
      nodeName: "node-1",
      restartPolicy: "Always",
    },
    status: {
      phase: f.phase ?? "Running",
      startTime: f.started ?? "2024-05-01T10:00:01Z",
      containerStatuses: containers.filter((c) => !c.noStatus).map(status),
      ...(f.initContainers
        ? { initContainerStatuses: f.initContainers.map((c) => ({ ...status(c), state: { terminated: { exitCode: 0, reason: "Completed" } } })) }
        : {}),
    },
  };
  if (f.kind === null) delete p.kind;
  else if (f.kind !== undefined) p.kind = f.kind;
  return p;
}

function list(...pods: Record<string, unknown>[]): Record<string, unknown> {
  return { apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items: pods };
}

/** deploymentName → digest, the short view most tests need. */
function digests(s: KubernetesSnapshot): Record<string, string> {
  return Object.fromEntries(s.entries.map((e) => [e.deploymentName, e.digest]));
}

function refused(input: unknown, nameTemplate?: string): string {
  try {
    snapshotFromPods(input, nameTemplate === undefined ? undefined : { nameTemplate });
  } catch (e) {
    expect(e).toBeInstanceOf(KubernetesInputError);
    return (e as Error).message;
  }
  throw new Error("expected the input to be refused");
}

const rs = (name: string) => ({ kind: "ReplicaSet", name });

describe("snapshotFromPods: workloads", () => {
  it("names a Deployment's pods after the Deployment (ReplicaSet name minus the pod-template-hash)", () => {
    const s = snapshotFromPods(list(pod({ name: "api-server-7d9f8b6c5d-x2k4p", owner: rs("api-server-7d9f8b6c5d"), hash: "7d9f8b6c5d" })));
    expect(s).toEqual({
      entries: [
        {
          deploymentName: "api-server",
          kind: "CONTAINER_IMAGE",
          digest: A,
          artifactName: "ghcr.io/acme/api",
          artifactVersion: "v1",
          artifactReference: "ghcr.io/acme/api:v1",
        },
      ],
      withoutDigest: [],
      notes: [],
      podsNotRunning: 0,
    });
  });

  it("keeps a bare ReplicaSet's name (no hash label, or a hash that is not its suffix)", () => {
    const s = snapshotFromPods(
      list(
        pod({ name: "legacy-abcde", owner: rs("legacy") }),
        pod({ name: "other-rs-abcde", owner: rs("other-rs"), hash: "5f6d7c" }),
      ),
    );
    expect(Object.keys(digests(s))).toEqual(["legacy", "other-rs"]);
  });

  it("uses a StatefulSet's, DaemonSet's or other controller's name", () => {
    const s = snapshotFromPods(
      list(
        pod({ name: "postgres-0", owner: { kind: "StatefulSet", name: "postgres" } }),
        pod({ name: "fluent-bit-8xk2m", namespace: "logging", owner: { kind: "DaemonSet", name: "fluent-bit" } }),
        pod({ name: "old-rc-q7w8e", owner: { kind: "ReplicationController", name: "old-rc" } }),
        pod({ name: "kafka-0", owner: { kind: "StrimziPodSet", name: "my-cluster-kafka" } }),
      ),
    );
    expect(Object.keys(digests(s))).toEqual(["fluent-bit", "my-cluster-kafka", "old-rc", "postgres"]);
  });

  it("names a CronJob's pods after the CronJob, and a plain Job's after the Job", () => {
    const s = snapshotFromPods(
      list(
        pod({ name: "nightly-report-28571040-abcde", owner: { kind: "Job", name: "nightly-report-28571040" } }),
        pod({ name: "db-migrate-v42-xyz12", owner: { kind: "Job", name: "db-migrate-v42" } }),
        pod({ name: "backup-1234567-q1w2e", owner: { kind: "Job", name: "backup-1234567" } }), // 7 digits: not a CronJob's suffix
      ),
    );
    expect(Object.keys(digests(s))).toEqual(["backup-1234567", "db-migrate-v42", "nightly-report"]);
  });

  it("uses the pod's own name when it has no owner", () => {
    expect(Object.keys(digests(snapshotFromPods(list(pod({ name: "debug-shell" })))))).toEqual(["debug-shell"]);
  });

  it("prefers the controller ownerReference, else the first", () => {
    const controller = pod({
      name: "web-abc-1",
      hash: "abc",
      owners: [
        { kind: "ConfigMap", name: "not-me", controller: false },
        { kind: "ReplicaSet", name: "web-abc", controller: true },
      ],
    });
    const first = pod({ name: "x-1", owners: [{ kind: "StatefulSet", name: "first" }, { kind: "DaemonSet", name: "second" }] });
    expect(Object.keys(digests(snapshotFromPods(list(controller, first))))).toEqual(["first", "web"]);
  });
});

describe("snapshotFromPods: digests", () => {
  it("reads Docker's docker-pullable:// form, containerd/CRI-O's repo@digest form and sha512", () => {
    const s = snapshotFromPods(
      list(
        pod({ name: "docker", containers: [{ name: "app", image: "ghcr.io/acme/api:v1", imageID: `docker-pullable://ghcr.io/acme/api@${B}` }] }),
        pod({ name: "containerd", containers: [{ name: "nginx", image: "nginx:1.27", imageID: `docker.io/library/nginx@${C}` }] }),
        pod({ name: "long", containers: [{ name: "app", image: "registry.example.com:5000/team/app:2", imageID: `registry.example.com:5000/team/app@${S512}` }] }),
      ),
    );
    expect(digests(s)).toEqual({ containerd: C, docker: B, long: S512 });
    expect(s.withoutDigest).toEqual([]);
  });

  it("reports a container without a usable digest as an entry with digest \"\" and in withoutDigest", () => {
    const s = snapshotFromPods(
      list(
        pod({ name: "pulling", containers: [{ name: "app", image: "ghcr.io/acme/api:v2", imageID: "" }] }),
        pod({ name: "local", containers: [{ name: "app", image: "my-app:dev", imageID: `docker://${A}` }] }),
        pod({ name: "bare", containers: [{ name: "app", image: "my-app:dev", imageID: B }] }),
        pod({ name: "garbled", containers: [{ name: "app", image: "my-app:dev", imageID: "docker.io/library/my-app@sha256:XYZ" }] }),
      ),
    );
    expect(digests(s)).toEqual({ bare: "", garbled: "", local: "", pulling: "" });
    expect(s.entries.find((e) => e.deploymentName === "pulling")).toMatchObject({ artifactName: "ghcr.io/acme/api", artifactVersion: "v2" });
    expect(s.withoutDigest.map((w) => [w.pod, w.container])).toEqual([
      ["bare", "app"],
      ["garbled", "app"],
      ["local", "app"],
      ["pulling", "app"],
    ]);
    const reason = Object.fromEntries(s.withoutDigest.map((w) => [w.pod, w.reason]));
    expect(reason.pulling).toMatch(/no imageID/);
    expect(reason.bare).toMatch(/local image ID, not a registry manifest digest/);
    expect(reason.local).toMatch(/local image ID/);
    expect(reason.garbled).toMatch(/hex/);
    expect(s.withoutDigest[0].namespace).toBe("default");
  });

  it("reports a Running pod's container that has no status yet without a digest", () => {
    const s = snapshotFromPods(list(pod({ name: "p", containers: [{ name: "app", image: "ghcr.io/acme/api:v1", noStatus: true }] })), {
      nameTemplate: "{pod}",
    });
    expect(digests(s)).toEqual({ p: "" });
    expect(s.withoutDigest[0].reason).toMatch(/no status/);
  });

  it("counts a container waiting to restart in a Running pod as running what it ran", () => {
    const p = pod({ name: "crashy" });
    const status = (p.status as { containerStatuses: Record<string, unknown>[] }).containerStatuses[0];
    status.state = { waiting: { reason: "CrashLoopBackOff" } };
    status.lastState = { terminated: { exitCode: 1 } };
    expect(digests(snapshotFromPods(list(p)))).toEqual({ crashy: A });
  });
});

describe("snapshotFromPods: references", () => {
  it("splits the spec's image into name and tag, normalized like --oci-ref", () => {
    const s = snapshotFromPods(
      list(
        pod({ name: "tagged", containers: [{ name: "c", image: "nginx:1.27" }] }),
        pod({ name: "untagged", containers: [{ name: "c", image: "redis" }] }),
        pod({ name: "pinned", containers: [{ name: "c", image: `ghcr.io/acme/api@${B}`, imageID: `ghcr.io/acme/api@${B}` }] }),
        pod({ name: "both", containers: [{ name: "c", image: `ghcr.io/acme/api:v3@${B}`, imageID: `ghcr.io/acme/api@${B}` }] }),
        pod({ name: "weird", containers: [{ name: "c", image: "Not A Reference", imageID: `x@${A}` }] }),
      ),
    );
    const view = Object.fromEntries(s.entries.map((e) => [e.deploymentName, [e.artifactName, e.artifactVersion, e.artifactReference]]));
    expect(view).toEqual({
      both: ["ghcr.io/acme/api", "v3", `ghcr.io/acme/api:v3@${B}`],
      pinned: ["ghcr.io/acme/api", "", `ghcr.io/acme/api@${B}`],
      tagged: ["docker.io/library/nginx", "1.27", "nginx:1.27"],
      untagged: ["docker.io/library/redis", "latest", "redis"],
      weird: ["Not A Reference", "", "Not A Reference"],
    });
  });

  it("falls back to the status' image when the spec has none for the container", () => {
    const p = pod({ name: "p", containers: [{ name: "c", image: "ghcr.io/acme/api:v1", statusImage: "ghcr.io/acme/api:v1-resolved" }] });
    (p.spec as { containers: { image?: string }[] }).containers[0].image = undefined;
    expect(snapshotFromPods(list(p)).entries[0]).toMatchObject({ artifactReference: "ghcr.io/acme/api:v1-resolved", artifactVersion: "v1-resolved" });
  });
});

describe("snapshotFromPods: which pods and containers count", () => {
  it("skips pods that are not Running and counts them", () => {
    const s = snapshotFromPods(
      list(
        pod({ name: "pending", phase: "Pending" }),
        pod({ name: "done", phase: "Succeeded" }),
        pod({ name: "failed", phase: "Failed" }),
        pod({ name: "unknown", phase: "Unknown" }),
        pod({ name: "running" }),
      ),
    );
    expect(Object.keys(digests(s))).toEqual(["running"]);
    expect(s.podsNotRunning).toBe(4);
  });

  it("never reports init containers", () => {
    const s = snapshotFromPods(
      list(pod({ name: "web", initContainers: [{ name: "migrate", image: "ghcr.io/acme/migrate:v1", imageID: `ghcr.io/acme/migrate@${C}` }] })),
      { nameTemplate: "{workload}-{container}" },
    );
    expect(digests(s)).toEqual({ "web-app": A });
  });

  it("accepts the API server's PodList (items without kind) and a single Pod", () => {
    const p = pod({ name: "solo", kind: null });
    expect(digests(snapshotFromPods({ apiVersion: "v1", kind: "PodList", metadata: {}, items: [p] }))).toEqual({ solo: A });
    expect(digests(snapshotFromPods(pod({ name: "solo" })))).toEqual({ solo: A });
    expect(snapshotFromPods(list())).toEqual({ entries: [], withoutDigest: [], notes: [], podsNotRunning: 0 });
  });
});

describe("snapshotFromPods: replicas and rollouts", () => {
  it("merges replicas of one workload into one entry", () => {
    const replicas = ["a1", "b2", "c3"].map((id) => pod({ name: `api-server-7d9f-${id}`, owner: rs("api-server-7d9f"), hash: "7d9f" }));
    const s = snapshotFromPods(list(...replicas));
    expect(s.entries).toHaveLength(1);
    expect(s.entries[0]).toMatchObject({ deploymentName: "api-server", digest: A });
    expect(s.notes).toEqual([]);
  });

  it("reports the newest pod's digest during a rollout, with a note", () => {
    const old1 = pod({ name: "api-server-old-1", owner: rs("api-server-old"), hash: "old", created: "2024-05-01T10:00:00Z" });
    const old2 = pod({ name: "api-server-old-2", owner: rs("api-server-old"), hash: "old", created: "2024-05-01T10:00:00Z" });
    const fresh = pod({
      name: "api-server-new-1",
      owner: rs("api-server-new"),
      hash: "new",
      created: "2024-05-02T09:00:00Z",
      containers: [{ name: "app", image: "ghcr.io/acme/api:v2", imageID: `ghcr.io/acme/api@${B}` }],
    });
    for (const items of [list(old1, fresh, old2), list(fresh, old2, old1)]) {
      const s = snapshotFromPods(items);
      expect(s.entries).toEqual([
        { deploymentName: "api-server", kind: "CONTAINER_IMAGE", digest: B, artifactName: "ghcr.io/acme/api", artifactVersion: "v2", artifactReference: "ghcr.io/acme/api:v2" },
      ]);
      expect(s.notes).toEqual([
        `default/api-server (container app): rollout in progress, running sha256:aaaaaaaaaaaa… and sha256:bbbbbbbbbbbb…; reporting the newest pod's sha256:bbbbbbbbbbbb…`,
      ]);
    }
  });

  it("breaks creation-time ties by start time, then pod name", () => {
    const mk = (name: string, digest: string, started: string) =>
      pod({ name, owner: { kind: "StatefulSet", name: "db" }, started, containers: [{ name: "app", image: "pg:16", imageID: `pg@${digest}` }] });
    expect(digests(snapshotFromPods(list(mk("db-0", B, "2024-05-01T10:05:00Z"), mk("db-1", A, "2024-05-01T10:01:00Z"))))).toEqual({ db: B });
    expect(digests(snapshotFromPods(list(mk("db-1", C, "2024-05-01T10:01:00Z"), mk("db-0", A, "2024-05-01T10:01:00Z"))))).toEqual({ db: C });
  });

  it("prefers a replica with a digest over one without, with a note", () => {
    const s = snapshotFromPods(
      list(
        pod({ name: "web-h-1", owner: rs("web-h"), hash: "h", created: "2024-05-01T10:00:00Z" }),
        pod({ name: "web-h-2", owner: rs("web-h"), hash: "h", created: "2024-05-03T10:00:00Z", containers: [{ name: "app", image: "ghcr.io/acme/api:v1", imageID: "" }] }),
      ),
    );
    expect(digests(s)).toEqual({ web: A });
    expect(s.withoutDigest).toEqual([]);
    expect(s.notes).toHaveLength(1);
    expect(s.notes[0]).toMatch(/^default\/web \(container app\): pod web-h-2 reported no digest .*; reporting sha256:aaaaaaaaaaaa… from pod web-h-1$/);
  });

  it("lists every replica when none has a digest, in one entry", () => {
    const s = snapshotFromPods(
      list(
        pod({ name: "web-h-2", owner: rs("web-h"), hash: "h", containers: [{ name: "app", image: "ghcr.io/acme/api:v1", imageID: "" }] }),
        pod({ name: "web-h-1", owner: rs("web-h"), hash: "h", containers: [{ name: "app", image: "ghcr.io/acme/api:v1", imageID: "" }] }),
      ),
    );
    expect(digests(s)).toEqual({ web: "" });
    expect(s.withoutDigest.map((w) => w.pod)).toEqual(["web-h-1", "web-h-2"]);
  });

  it("sorts entries by deployment name", () => {
    const s = snapshotFromPods(list(pod({ name: "zeta" }), pod({ name: "alpha" }), pod({ name: "mid" })));
    expect(s.entries.map((e) => e.deploymentName)).toEqual(["alpha", "mid", "zeta"]);
  });
});

describe("snapshotFromPods: name templates and collisions", () => {
  const twoNamespaces = list(
    pod({ name: "api-h-1", namespace: "staging", owner: rs("api-h"), hash: "h" }),
    pod({ name: "api-h-2", namespace: "prod", owner: rs("api-h"), hash: "h" }),
  );
  const sidecar = pod({
    name: "web-h-1",
    owner: rs("web-h"),
    hash: "h",
    containers: [
      { name: "app", image: "ghcr.io/acme/web:v1" },
      { name: "envoy", image: "envoyproxy/envoy:v1.30", imageID: `docker.io/envoyproxy/envoy@${C}` },
    ],
  });

  it("refuses names that two different workloads or containers share, suggesting templates", () => {
    const message = refused(list(...twoNamespaces.items as Record<string, unknown>[], sidecar));
    expect(message).toContain(`"api" ← prod/api (container app), staging/api (container app)`);
    expect(message).toContain(`"web" ← default/web (container app), default/web (container envoy)`);
    expect(message).toContain(`--name-template '{workload}-{container}' or '{namespace}/{workload}/{container}'`);
  });

  it("lists at most 5 collisions", () => {
    const pods = [];
    for (let i = 0; i < 7; i++) {
      for (const ns of ["a", "b"]) pods.push(pod({ name: `svc${i}`, namespace: ns }));
    }
    const message = refused(list(...pods));
    expect(message.match(/←/g)).toHaveLength(5);
    expect(message).toContain("and 2 more");
  });

  it("resolves collisions with {namespace}/{workload}/{container}", () => {
    const s = snapshotFromPods(list(...(twoNamespaces.items as Record<string, unknown>[]), sidecar), { nameTemplate: "{namespace}/{workload}/{container}" });
    expect(digests(s)).toEqual({ "default/web/app": A, "default/web/envoy": C, "prod/api/app": A, "staging/api/app": A });
  });

  it("renders every placeholder, and the default template is {workload}", () => {
    expect(DEFAULT_NAME_TEMPLATE).toBe("{workload}");
    const p = pod({ name: "api-h-1", namespace: "shop", owner: rs("api-h"), hash: "h" });
    expect(Object.keys(digests(snapshotFromPods(list(p), { nameTemplate: "k8s.{namespace}_{workload}-{container}/{pod}" })))).toEqual([
      "k8s.shop_api-app/api-h-1",
    ]);
  });

  it("gives each pod its own entry under {pod}, without rollout notes", () => {
    const s = snapshotFromPods(
      list(
        pod({ name: "api-h-1", owner: rs("api-h"), hash: "h" }),
        pod({ name: "api-g-1", owner: rs("api-g"), hash: "g", containers: [{ name: "app", image: "ghcr.io/acme/api:v2", imageID: `ghcr.io/acme/api@${B}` }] }),
      ),
      { nameTemplate: "{pod}" },
    );
    expect(digests(s)).toEqual({ "api-g-1": B, "api-h-1": A });
    expect(s.notes).toEqual([]);
  });

  it("refuses unknown placeholders, listing the valid ones", () => {
    const message = refused(list(pod({ name: "x" })), "{cluster}/{workload}/{image}");
    expect(message).toContain("unknown placeholders {cluster}, {image}");
    expect(message).toContain("{namespace}, {workload}, {container}, {pod}");
    expect(refused(list(), "{Workload}")).toContain("unknown placeholder {Workload}");
    expect(refused(list(), "  ")).toMatch(/empty/);
  });

  it("refuses a rendered name that is not a valid deployment name, naming the pod and the value", () => {
    const p = pod({ name: "api-h-1", namespace: "shop", owner: rs("api-h"), hash: "h" });
    for (const [template, rendered] of [
      ["Prod-{workload}", "Prod-api"],
      ["{workload} {container}", "api app"],
      ["{namespace}//{workload}", "shop//api"],
      ["/{workload}", "/api"],
      ["{workload}-", "api-"],
      ["{workload}:{container}", "api:app"],
    ]) {
      const message = refused(list(p), template);
      expect(message).toContain("pod shop/api-h-1");
      expect(message).toContain(JSON.stringify(rendered));
    }
    const long = refused(list(p), `${"x".repeat(125)}-{workload}`);
    expect(long).toMatch(/129 characters long; the limit is 128/);
    expect(Object.keys(digests(snapshotFromPods(list(p), { nameTemplate: `${"x".repeat(124)}-{workload}` })))[0]).toHaveLength(128);
  });
});

describe("snapshotFromPods: input that is not a list of pods", () => {
  it.each([
    ["an empty object", {}, /without kind/],
    ["an array", [pod({ name: "x" })], /got an array/],
    ["null", null, /got null/],
    ["a string", "pods.json", /got a string/],
    ["a number", 42, /got a number/],
    ["a ServiceList", { apiVersion: "v1", kind: "ServiceList", items: [] }, /kind "ServiceList"/],
    ["a Deployment", { apiVersion: "apps/v1", kind: "Deployment" }, /apiVersion "apps\/v1"/],
    ["a List without items", { apiVersion: "v1", kind: "List" }, /without an items array/],
  ])("refuses %s", (_, input, why) => {
    const message = refused(input);
    expect(message).toContain("expected the output of `kubectl get pods -o json` (a v1 List of Pods)");
    expect(message).toMatch(why);
  });

  it("refuses a List of Services, naming the item and its kind", () => {
    const svc = { apiVersion: "v1", kind: "Service", metadata: { name: "api", namespace: "default" }, spec: {} };
    expect(refused(list(pod({ name: "ok" }), svc))).toMatch(/^item 1 is a "Service", not a Pod/);
  });

  it("refuses items that are not objects or have no name", () => {
    expect(refused(list(pod({ name: "ok" }), "oops" as unknown as Record<string, unknown>))).toMatch(/^item 1 is not an object/);
    expect(refused(list({ kind: "Pod", metadata: {}, status: { phase: "Running" } }))).toMatch(/^item 0 has no metadata\.name/);
  });
});
