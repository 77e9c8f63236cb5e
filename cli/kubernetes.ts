// `deployment snapshot --from-kubernetes`: what a cluster runs, read from `kubectl get pods -A -o json`
// (a v1 List of Pods, or the PodList the API server returns), turned into snapshot entries.
//
// Pure: no I/O. The caller reads the file or stdin, parses the JSON and sends the entries.
//
// Why pods and not Deployments: only a pod's status says which digest the node actually pulled
// (`containerStatuses[].imageID`); a Deployment's spec says what was asked for, often a moving tag.
// Pods are grouped back into their workload (Deployment, StatefulSet, DaemonSet, CronJob, …) by
// their ownerReferences, so replicas become one entry.
//
// A snapshot decommissions whatever it does not mention, so a partial report must never look like a
// complete one: a running container whose digest cannot be read still becomes an entry, with an
// empty digest, which the server refuses per entry — and a snapshot with a refused entry
// decommissions nothing. Those containers are also listed in `withoutDigest` for the user.
//
// Import lazily: it pulls in the reference parser.
import { requireDeploymentName } from "../server/domain/deployments.js";
import { DigestError, parseDigest, shortDigest } from "../server/shared/digest.js";
import { OciError } from "./oci/errors.js";
import { parseOciReference } from "./oci/reference.js";

export interface SnapshotEntryInput {
  deploymentName: string;
  kind: "CONTAINER_IMAGE";
  /** `sha256:<hex>` / `sha512:<hex>`, or "" when the container has no digest yet. */
  digest: string;
  /** Registry + repository of the reference, e.g. `ghcr.io/acme/api`, `docker.io/library/nginx`. */
  artifactName: string;
  /** The tag, "" if none. */
  artifactVersion: string;
  /** The container's `image` as written in the pod spec (fallback: the status' image). */
  artifactReference: string;
}

export interface SkippedContainer {
  namespace: string;
  pod: string;
  container: string;
  reason: string;
}

export interface KubernetesSnapshot {
  /** Sorted by deploymentName. */
  entries: SnapshotEntryInput[];
  /** containers of Running pods that could not be turned into an entry with a digest (also present in entries with digest "") */
  withoutDigest: SkippedContainer[];
  /** human-readable notes: e.g. a workload mid-rollout running two digests, which one was kept */
  notes: string[];
  /** pods skipped because their phase is not Running, count only */
  podsNotRunning: number;
}

export const DEFAULT_NAME_TEMPLATE = "{workload}";

/** The input is not a list of pods, or the name template does not produce valid deployment names. */
export class KubernetesInputError extends Error {
  override readonly name = "KubernetesInputError";
}

const PLACEHOLDERS = ["namespace", "workload", "container", "pod"] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

const EXPECTED = "expected the output of `kubectl get pods -o json` (a v1 List of Pods)";
const MAX_COLLISIONS_SHOWN = 5;

/** One container of one Running pod. */
interface Candidate {
  namespace: string;
  pod: string;
  workload: string;
  container: string;
  deploymentName: string;
  digest: string;
  /** Why there is no digest (set iff digest is ""). */
  noDigestReason?: string;
  reference: string;
  /** Sort key: newer pods compare greater. */
  age: PodAge;
}

interface PodAge {
  created: number;
  started: number;
  name: string;
}

type Json = Record<string, unknown>;

/** Turns `kubectl get pods -A -o json` output into snapshot entries; see the top of this file. */
export function snapshotFromPods(input: unknown, opts: { nameTemplate?: string } = {}): KubernetesSnapshot {
  const template = opts.nameTemplate ?? DEFAULT_NAME_TEMPLATE;
  checkTemplate(template);

  let podsNotRunning = 0;
  const candidates: Candidate[] = [];
  podItems(input).forEach((item, index) => {
    const pod = asPod(item, index);
    if (str(obj(pod.status).phase) !== "Running") {
      podsNotRunning++;
      return;
    }
    candidates.push(...podCandidates(pod, template));
  });

  return merge(candidates, podsNotRunning);
}

// ---- input shape ----

function podItems(input: unknown): unknown[] {
  if (!isObject(input)) {
    throw new KubernetesInputError(`${EXPECTED}, got ${Array.isArray(input) ? "an array" : input === null ? "null" : `a ${typeof input}`}`);
  }
  const kind = input.kind;
  if (input.apiVersion !== undefined && input.apiVersion !== "v1") {
    throw new KubernetesInputError(`${EXPECTED}, got apiVersion ${JSON.stringify(input.apiVersion)}`);
  }
  if (kind === "Pod") return [input];
  if (kind !== "List" && kind !== "PodList") {
    throw new KubernetesInputError(`${EXPECTED}, got ${kind === undefined ? "an object without kind" : `kind ${JSON.stringify(kind)}`}`);
  }
  if (!Array.isArray(input.items)) throw new KubernetesInputError(`${EXPECTED}, got a ${kind} without an items array`);
  return input.items;
}

function asPod(item: unknown, index: number): Json {
  if (!isObject(item)) throw new KubernetesInputError(`item ${index} is not an object; ${EXPECTED}`);
  // The API server's PodList leaves kind off its items; kubectl's List sets it.
  if (item.kind !== undefined && item.kind !== "Pod") {
    throw new KubernetesInputError(`item ${index} is a ${JSON.stringify(item.kind)}, not a Pod; ${EXPECTED}`);
  }
  if (!str(obj(item.metadata).name)) throw new KubernetesInputError(`item ${index} has no metadata.name; ${EXPECTED}`);
  return item;
}

// ---- one pod ----

function podCandidates(pod: Json, template: string): Candidate[] {
  const metadata = obj(pod.metadata);
  const status = obj(pod.status);
  const name = str(metadata.name);
  // The API server defaults a missing namespace to "default"; a Pod read back always has one.
  const namespace = str(metadata.namespace) || "default";
  const workload = workloadOf(metadata);
  const age: PodAge = {
    created: time(metadata.creationTimestamp),
    started: time(status.startTime),
    name,
  };
  // Only spec.containers / status.containerStatuses: init containers (including native sidecars,
  // which are init containers) and ephemeral debug containers are not what the workload deploys.
  const specImages = new Map<string, string>();
  for (const c of arr(obj(pod.spec).containers)) {
    const container = obj(c);
    if (str(container.name)) specImages.set(str(container.name), str(container.image));
  }

  // Every status of a Running pod is a running container: one waiting to restart (CrashLoopBackOff)
  // still runs, between restarts, the image it ran before, and its imageID still names it.
  const statuses = new Map<string, Json>();
  for (const s of arr(status.containerStatuses)) {
    const cs = obj(s);
    if (str(cs.name)) statuses.set(str(cs.name), cs);
  }
  // A spec container without a status is one we know nothing about: report it without a digest
  // rather than leave it out (which would read as "not running" and decommission it).
  const names = [...new Set([...specImages.keys(), ...statuses.keys()])];

  return names.map((container): Candidate => {
    const cs = statuses.get(container);
    const reference = specImages.get(container) || str(cs?.image);
    if (!reference) {
      throw new KubernetesInputError(`pod ${namespace}/${name}: container ${JSON.stringify(container)} has no image in spec or status`);
    }
    const found = cs ? digestFromImageId(str(cs.imageID)) : { reason: "the pod reports no status for this container" };
    const deploymentName = render(template, { namespace, workload, container, pod: name }, `${namespace}/${name}`);
    return { namespace, pod: name, workload, container, deploymentName, reference, age, digest: found.digest ?? "", noDigestReason: found.reason };
  });
}

/**
 * The workload a pod belongs to, from its controller ownerReference (or the first one):
 * Deployment (through its ReplicaSet), CronJob (through its Job), or the owner itself.
 */
function workloadOf(metadata: Json): string {
  const owners = arr(metadata.ownerReferences).map(obj);
  const owner = owners.find((o) => o.controller === true) ?? owners[0];
  const ownerName = str(owner?.name);
  if (!owner || !ownerName) return str(metadata.name);
  switch (str(owner.kind)) {
    case "ReplicaSet": {
      // A Deployment names its ReplicaSets `<deployment>-<pod-template-hash>`.
      const hash = str(obj(metadata.labels)["pod-template-hash"]);
      const suffix = `-${hash}`;
      return hash && ownerName.endsWith(suffix) && ownerName.length > suffix.length ? ownerName.slice(0, -suffix.length) : ownerName;
    }
    case "Job": {
      // A CronJob names its Jobs `<cronjob>-<scheduled time in minutes since the epoch>`.
      const m = /^(.+)-(\d{8,})$/.exec(ownerName);
      return m ? m[1] : ownerName;
    }
    default:
      // StatefulSet, DaemonSet, ReplicationController, operators' custom resources.
      return ownerName;
  }
}

/**
 * The manifest digest from a container status' imageID: `docker-pullable://repo@sha256:…` (Docker),
 * `repo@sha256:…` (containerd, CRI-O). A bare `sha256:…` (or `docker://sha256:…`) is Docker's local
 * image config ID, which no registry knows, so it is not a digest here.
 */
function digestFromImageId(imageId: string): { digest?: string; reason?: string } {
  if (imageId === "") return { reason: "no imageID in the container status (the image is not pulled yet?)" };
  const shown = JSON.stringify(imageId.length > 120 ? `${imageId.slice(0, 120)}…` : imageId);
  const withoutScheme = imageId.replace(/^[a-z][a-z0-9+.-]*:\/\//, "");
  const at = withoutScheme.lastIndexOf("@");
  if (at < 0) {
    if (/^sha(256|512):/.test(withoutScheme)) {
      return { reason: `imageID ${shown} is a local image ID, not a registry manifest digest (a locally built or loaded image?)` };
    }
    return { reason: `imageID ${shown} names no digest (expected <repository>@sha256:<hex>)` };
  }
  if (at === 0) return { reason: `imageID ${shown} has no repository before "@"` };
  try {
    return { digest: parseDigest(withoutScheme.slice(at + 1)).value };
  } catch (e) {
    if (e instanceof DigestError) return { reason: `imageID ${shown}: ${e.message}` };
    throw e;
  }
}

// ---- names ----

function checkTemplate(template: string): void {
  const valid = PLACEHOLDERS.map((p) => `{${p}}`).join(", ");
  if (template.trim() === "") throw new KubernetesInputError(`the name template is empty; use placeholders ${valid}`);
  const unknown = [...template.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]).filter((p) => !(PLACEHOLDERS as readonly string[]).includes(p));
  if (unknown.length > 0) {
    throw new KubernetesInputError(
      `the name template ${JSON.stringify(template)} uses unknown placeholder${unknown.length > 1 ? "s" : ""} ${unknown.map((p) => `{${p}}`).join(", ")}; the valid ones are ${valid}`,
    );
  }
}

function render(template: string, values: Record<Placeholder, string>, podShown: string): string {
  const name = template.replace(/\{(namespace|workload|container|pod)\}/g, (_, p: Placeholder) => values[p]);
  let problem: string | undefined;
  try {
    requireDeploymentName(name); // the server's rule, server/domain/deployments.ts
  } catch (e) {
    problem = (e as Error).message.replace(/^deployment_name "[^"]*" is not valid: /, "");
  }
  if (problem) {
    throw new KubernetesInputError(`pod ${podShown} (container ${values.container}): the name template gives ${JSON.stringify(name)}, not a valid deployment name: ${problem}`);
  }
  return name;
}

// ---- replicas, rollouts, collisions ----

function merge(candidates: Candidate[], podsNotRunning: number): KubernetesSnapshot {
  const byName = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const list = byName.get(c.deploymentName);
    if (list) list.push(c);
    else byName.set(c.deploymentName, [c]);
  }

  const collisions: string[] = [];
  const entries: SnapshotEntryInput[] = [];
  const withoutDigest: SkippedContainer[] = [];
  const notes: string[] = [];
  for (const name of [...byName.keys()].sort()) {
    const group = byName.get(name)!;
    const identities = [...new Set(group.map(identity))].sort();
    if (identities.length > 1) {
      collisions.push(`${JSON.stringify(name)} ← ${identities.join(", ")}`);
      continue;
    }
    const withDigest = group.filter((c) => c.digest !== "");
    const pool = withDigest.length > 0 ? withDigest : group;
    const winner = pool.reduce((a, b) => (newer(b, a) ? b : a));
    entries.push(entryOf(winner));

    const label = identity(winner);
    if (withDigest.length === 0) {
      for (const c of group) withoutDigest.push({ namespace: c.namespace, pod: c.pod, container: c.container, reason: c.noDigestReason! });
      continue;
    }
    const digests = distinctByAge(withDigest);
    if (digests.length > 1) {
      notes.push(
        `${label}: rollout in progress, running ${listed(digests.map(shortened))}; reporting the newest pod's ${shortened(winner.digest)}`,
      );
    }
    const missing = group.filter((c) => c.digest === "");
    if (missing.length > 0) {
      const pods = missing.map((c) => c.pod).sort();
      notes.push(
        `${label}: ${missing.length === 1 ? "pod" : "pods"} ${pods.join(", ")} reported no digest (${missing[0].noDigestReason}); ` +
          `reporting ${shortened(winner.digest)} from pod ${winner.pod}`,
      );
    }
  }

  if (collisions.length > 0) {
    const more = collisions.length > MAX_COLLISIONS_SHOWN ? `; and ${collisions.length - MAX_COLLISIONS_SHOWN} more` : "";
    throw new KubernetesInputError(
      `different containers get the same deployment name: ${collisions.slice(0, MAX_COLLISIONS_SHOWN).join("; ")}${more}. ` +
        `Use a name template that tells them apart, e.g. --name-template '{workload}-{container}' or '{namespace}/{workload}/{container}'`,
    );
  }

  withoutDigest.sort((a, b) => compare(a.namespace, b.namespace) || compare(a.pod, b.pod) || compare(a.container, b.container));
  return { entries, withoutDigest, notes, podsNotRunning };
}

function entryOf(c: Candidate): SnapshotEntryInput {
  let artifactName = c.reference;
  let artifactVersion = "";
  try {
    const ref = parseOciReference(c.reference);
    artifactName = ref.name;
    artifactVersion = ref.tag ?? "";
  } catch (e) {
    if (!(e instanceof OciError)) throw e;
    // Not a reference we can split (the runtime may accept more than the grammar): keep it whole.
  }
  return { deploymentName: c.deploymentName, kind: "CONTAINER_IMAGE", digest: c.digest, artifactName, artifactVersion, artifactReference: c.reference };
}

/** `default/api-server (container app)`: what a deployment name stands for. */
function identity(c: Candidate): string {
  return `${c.namespace}/${c.workload} (container ${c.container})`;
}

/** Distinct digests, ordered by the newest pod running each (so the newest comes last). */
function distinctByAge(candidates: Candidate[]): string[] {
  const newest = new Map<string, Candidate>();
  for (const c of candidates) {
    const seen = newest.get(c.digest);
    if (!seen || newer(c, seen)) newest.set(c.digest, c);
  }
  return [...newest.values()].sort((a, b) => (newer(a, b) ? 1 : newer(b, a) ? -1 : 0)).map((c) => c.digest);
}

/** Whether a's pod is newer than b's: creation time, then start time, then pod name. */
function newer(a: Candidate, b: Candidate): boolean {
  return (compareNum(a.age.created, b.age.created) || compareNum(a.age.started, b.age.started) || compare(a.age.name, b.age.name)) > 0;
}

function shortened(digest: string): string {
  return `${shortDigest(digest)}…`;
}

function listed(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

// ---- small helpers ----

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Json {
  return isObject(v) ? v : {};
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** Milliseconds of an RFC 3339 timestamp; missing or unparseable sorts oldest. */
function time(v: unknown): number {
  const ms = Date.parse(str(v));
  return Number.isNaN(ms) ? -Infinity : ms;
}

function compareNum(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
