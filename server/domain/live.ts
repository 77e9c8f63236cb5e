// The live view: WatchDeployments streams the active set, then every committed change.
//
// Fan-out: the database is the bus. The record transaction publishes a small notice (the
// organization, what happened, the record ids) with pg_notify, so it is delivered only on
// commit, to every server process sharing the database. Each process holds ONE change feed
// (server/data/change-feed.ts: a dedicated LISTEN connection on Postgres, PGlite's own
// LISTEN on the embedded database) and this hub fans the notices out in memory: per notice it
// reads the records once (only when the organization has watchers here), then hands each
// matching watcher an event. Events of one organization never reach another's watchers.
// A changed heartbeat interval is announced the same way (by the environment's name): each
// watcher is sent its active records there again, with their new stale time.
//
// A slow or vanished client never blocks recording or other watchers: each watcher has a
// bounded queue; a heartbeat replaces a pending heartbeat of the same record (latest wins);
// a watcher whose queue overflows is dropped from the hub at once (its memory released) and
// its stream ends with ResourceExhausted as soon as it is read again (or when the client goes).
import type { Deployment, DeploymentUseCase, ArtifactKind, AttestedFor } from "./deployments.js";
import { ResourceExhausted, Unavailable } from "./errors.js";
import { staleAt } from "./staleness.js";
import type { ChangeKind, WatchEventType } from "../shared/names.js";

export type { ChangeKind, WatchEventType } from "../shared/names.js";

/** One committed change to one record, as published by the record transaction. */
export interface DeploymentChange {
  kind: ChangeKind;
  deploymentId: string;
}

/** What one record transaction published: its changes, in order. */
export interface ChangeNotice {
  organizationId: string;
  changes: DeploymentChange[];
  at: Date;
  /**
   * The name of an environment whose heartbeat interval changed (then `changes` is empty):
   * the stale time of every active record there moved, though no record was written.
   */
  heartbeatIntervalChanged?: string;
}

export interface ChangeSubscriber {
  onNotice(notice: ChangeNotice): void;
  /** The feed lost its connection: notices may have been missed. */
  onInterrupted(reason: string): void;
}

/** Implemented by server/data/change-feed.ts (Postgres LISTEN/NOTIFY; PGlite's listen). */
export interface ChangeFeed {
  /** Resolves once notices are being received (the LISTEN is in place); rejects when the database cannot be reached. */
  subscribe(subscriber: ChangeSubscriber): Promise<() => void>;
  close(): Promise<void>;
}

/** Reads records by id, with their environment's heartbeat interval (server/data/deployments.ts). */
export interface DeploymentReader {
  getMany(orgId: string, ids: string[]): Promise<Deployment[]>;
  /** Which of `digests` pass the project filter (ListDeployments' own). */
  attestedSubjects(orgId: string, digests: string[], attestedFor: AttestedFor): Promise<Set<string>>;
}

export interface WatchEvent {
  type: WatchEventType;
  /** Unset for snapshot-end. */
  deployment?: Deployment;
  at: Date;
}

export interface WatchInput {
  environment: string;
  logicalEnvironment: string;
  name: string;
  kind: ArtifactKind | undefined;
  digest: string;
  /** Only digests an attestation of this project ("" = any) names as a subject; with projectVersion, of that version. */
  project: string;
  projectVersion: string;
}

export interface LiveOptions {
  /** Events a watcher may have pending before it is dropped. */
  queueLimit?: number;
  /** Page size for reading the snapshot. */
  snapshotPageSize?: number;
}

export const DEFAULT_WATCH_QUEUE_LIMIT = 1000;

export class LiveDeployments {
  private readonly byOrg = new Map<string, Set<Watcher>>();
  private unsubscribe: Promise<() => void> | undefined;
  private pending: ChangeNotice[] = [];
  private draining = false;
  private closed = false;
  private readonly queueLimit: number;
  private readonly snapshotPageSize: number;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly reader: DeploymentReader,
    private readonly deployments: DeploymentUseCase,
    opts: LiveOptions = {},
  ) {
    this.queueLimit = opts.queueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT;
    this.snapshotPageSize = opts.snapshotPageSize ?? 1000;
  }

  /** How many watchers this process serves (for tests and logs). */
  get watcherCount(): number {
    let n = 0;
    for (const set of this.byOrg.values()) n += set.size;
    return n;
  }

  /**
   * The active records matching the filters (snapshot events, then snapshot-end), then every
   * change to a matching record. Ends when `signal` aborts; throws ResourceExhausted when the
   * consumer fell behind, Unavailable when the feed was interrupted or the server stops.
   */
  async *watch(orgId: string, input: WatchInput, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    if (this.closed) throw new Unavailable("the server is shutting down; watch again");
    await this.ensureSubscribed();
    const watcher = new Watcher(input, this.queueLimit, () => this.remove(orgId, watcher));
    let set = this.byOrg.get(orgId);
    if (!set) this.byOrg.set(orgId, (set = new Set()));
    set.add(watcher);
    const onAbort = () => watcher.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      // Registered before the snapshot is read: a change committed meanwhile is queued and sent
      // after snapshot-end (perhaps repeating what the snapshot showed; the latest wins).
      // The first page also validates the filters (an unknown environment is NotFound).
      const snapshotAt = new Date();
      let page = await this.deployments.list(orgId, this.listInput(input, ""));
      for (;;) {
        for (const d of page.items) {
          watcher.track(d);
          yield { type: "snapshot", deployment: d, at: snapshotAt };
        }
        if (page.nextPageToken === "" || signal.aborted) break;
        page = await this.deployments.list(orgId, this.listInput(input, page.nextPageToken));
      }
      yield { type: "snapshot-end", at: snapshotAt };
      for (;;) {
        const ev = await watcher.next(signal);
        if (!ev) return;
        yield ev;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      watcher.close();
    }
  }

  /** Ends every watcher (Unavailable) and stops taking new ones: the server is stopping. */
  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Unavailable("the server is shutting down; watch again (another server, or this one when it is back)"));
    const unsub = this.unsubscribe;
    this.unsubscribe = undefined;
    if (unsub) (await unsub.catch(() => () => {}))();
  }

  private listInput(input: WatchInput, pageToken: string) {
    return {
      pageSize: this.snapshotPageSize,
      pageToken,
      environment: input.environment,
      logicalEnvironment: input.logicalEnvironment,
      name: input.name,
      kind: input.kind,
      digest: input.digest,
      status: undefined,
      history: false,
      project: input.project,
      projectVersion: input.projectVersion,
    };
  }

  private async ensureSubscribed(): Promise<void> {
    if (!this.unsubscribe) {
      this.unsubscribe = this.feed.subscribe({
        onNotice: (n) => this.enqueue(n),
        onInterrupted: (reason) => {
          // Notices may have been missed: every watcher must start over from a fresh snapshot.
          this.failAll(new Unavailable(`live updates were interrupted (${reason}); watch again`));
        },
      });
      this.unsubscribe.catch(() => {
        this.unsubscribe = undefined; // the next watcher tries again
      });
    }
    try {
      await this.unsubscribe;
    } catch (e) {
      throw new Unavailable("live updates are unavailable: the database's change feed cannot be reached; retry shortly", { cause: e });
    }
  }

  private remove(orgId: string, watcher: Watcher): void {
    const set = this.byOrg.get(orgId);
    if (!set) return;
    set.delete(watcher);
    if (set.size === 0) this.byOrg.delete(orgId);
  }

  private failAll(err: Error): void {
    for (const set of [...this.byOrg.values()]) for (const w of [...set]) w.fail(err);
  }

  private enqueue(notice: ChangeNotice): void {
    if (!this.byOrg.has(notice.organizationId)) return; // nobody here watches that organization
    this.pending.push(notice);
    if (!this.draining) {
      this.drain().catch((e) => {
        // Not expected (read failures are handled per organization): never leave watchers hanging.
        this.pending = [];
        this.failAll(new Unavailable("live updates were interrupted; watch again", { cause: e }));
      });
    }
  }

  /** One read in flight at a time: notices that arrive meanwhile are read together next. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        const byOrg = new Map<string, ChangeNotice[]>();
        for (const n of batch) {
          if (!byOrg.has(n.organizationId)) byOrg.set(n.organizationId, []);
          byOrg.get(n.organizationId)!.push(n);
        }
        for (const [orgId, notices] of byOrg) {
          if (!this.byOrg.has(orgId)) continue;
          const ids = this.idsToRead(orgId, notices);
          let records: Map<string, Deployment>;
          let attested: Map<string, Set<string>>;
          try {
            records = new Map((await this.reader.getMany(orgId, ids)).map((d) => [d.id, d]));
            attested = await this.attestedForWatchers(orgId, [...records.values()]);
          } catch (e) {
            const err = new Unavailable("live updates were interrupted (the database could not be read); watch again", { cause: e });
            for (const w of [...(this.byOrg.get(orgId) ?? [])]) w.fail(err);
            continue;
          }
          for (const n of notices) {
            if (n.heartbeatIntervalChanged !== undefined) {
              for (const w of [...(this.byOrg.get(orgId) ?? [])]) {
                for (const id of w.activeIn(n.heartbeatIntervalChanged)) {
                  const d = records.get(id);
                  // A record no longer active is left to its own change's notice.
                  if (d?.status === "deployed" && w.matches(d, attested)) w.push({ type: "stale-time-changed", deployment: d, at: n.at });
                }
              }
            }
            for (const c of n.changes) {
              const d = records.get(c.deploymentId);
              if (!d) continue; // gone (its organization was deleted)
              for (const w of [...(this.byOrg.get(orgId) ?? [])]) {
                if (w.matches(d, attested)) w.push({ type: c.kind, deployment: d, at: n.at });
              }
            }
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** The records a batch of notices needs: those changed, and the active records watchers hold where an interval changed. */
  private idsToRead(orgId: string, notices: ChangeNotice[]): string[] {
    const ids = new Set(notices.flatMap((n) => n.changes.map((c) => c.deploymentId)));
    const environments = notices.flatMap((n) => n.heartbeatIntervalChanged ?? []);
    for (const w of this.byOrg.get(orgId) ?? []) for (const env of environments) for (const id of w.activeIn(env)) ids.add(id);
    return [...ids];
  }

  /**
   * For the project filters of this organization's watchers: which of the records' digests
   * each one admits. One query per distinct filter per batch of notices, none without one.
   */
  private async attestedForWatchers(orgId: string, records: Deployment[]): Promise<Map<string, Set<string>>> {
    const result = new Map<string, Set<string>>();
    const digests = [...new Set(records.map((d) => d.digest))];
    if (digests.length === 0) return result;
    for (const w of this.byOrg.get(orgId) ?? []) {
      if (w.attestedFor === undefined || result.has(w.projectKey)) continue;
      result.set(w.projectKey, await this.reader.attestedSubjects(orgId, digests, w.attestedFor));
    }
    return result;
  }
}

/** One WatchDeployments stream: its filters, its bounded queue, and its stale timer. */
class Watcher {
  private queue: WatchEvent[] = [];
  private error: Error | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  /** The matching active records this watcher has seen that can become stale, for stale events. */
  private readonly active = new Map<string, { deployment: Deployment; staleAt: number; reported: boolean }>();
  /** Ids of all the matching active records this watcher has seen, by environment (for a changed heartbeat interval). */
  private readonly activeByEnvironment = new Map<string, Set<string>>();
  private staleTimer: NodeJS.Timeout | undefined;

  /** The project filter, if any, and a key naming it (watchers with the same filter share its answer). */
  readonly attestedFor: AttestedFor | undefined;
  readonly projectKey: string;

  constructor(
    private readonly filters: WatchInput,
    private readonly limit: number,
    private readonly detach: () => void,
  ) {
    this.attestedFor =
      filters.project === "" ? undefined : { project: filters.project, projectVersion: filters.projectVersion === "" ? undefined : filters.projectVersion };
    this.projectKey = `${filters.project}\u0000${filters.projectVersion}`;
  }

  /** `attested`: the digests each project filter admits, by projectKey (LiveDeployments.attestedForWatchers). */
  matches(d: Deployment, attested: Map<string, Set<string>>): boolean {
    const f = this.filters;
    return (
      (this.attestedFor === undefined || attested.get(this.projectKey)?.has(d.digest) === true) &&
      (f.environment === "" || d.environment === f.environment) &&
      (f.logicalEnvironment === "" || d.logicalEnvironment === f.logicalEnvironment) &&
      (f.name === "" || d.name === f.name) &&
      (f.kind === undefined || d.kind === f.kind) &&
      (f.digest === "" || d.digest === f.digest)
    );
  }

  /** Ids of the active records this watcher holds in `environment`. */
  activeIn(environment: string): string[] {
    return [...(this.activeByEnvironment.get(environment) ?? [])];
  }

  push(ev: WatchEvent): void {
    if (this.closed) return;
    const d = ev.deployment!;
    if (ev.type === "heartbeat" || ev.type === "stale-time-changed") {
      // Latest wins: such an event of a record already waiting here replaces it in place.
      const i = this.queue.findIndex((q) => q.type === ev.type && q.deployment?.id === d.id);
      if (i >= 0) {
        this.queue[i] = ev;
        this.track(d);
        return;
      }
    }
    if (this.queue.length >= this.limit) {
      this.fail(new ResourceExhausted(`watcher fell behind (more than ${this.limit} events pending); re-watch`));
      return;
    }
    this.queue.push(ev);
    this.track(d);
    this.wake?.();
  }

  /** Keeps the stale timer in step with what the watcher was sent. */
  track(d: Deployment): void {
    let ids = this.activeByEnvironment.get(d.environment);
    if (d.status === "deployed") {
      if (!ids) this.activeByEnvironment.set(d.environment, (ids = new Set()));
      ids.add(d.id);
    } else if (ids?.delete(d.id) && ids.size === 0) {
      this.activeByEnvironment.delete(d.environment);
    }
    const at = staleAt(d);
    if (d.status !== "deployed" || at === undefined) {
      this.active.delete(d.id);
    } else {
      const prev = this.active.get(d.id);
      const reported = prev !== undefined && prev.staleAt === at.getTime() && prev.reported;
      this.active.set(d.id, { deployment: d, staleAt: at.getTime(), reported: reported || Date.now() > at.getTime() });
    }
    this.armStaleTimer();
  }

  private armStaleTimer(): void {
    if (this.closed) return;
    let earliest = Infinity;
    for (const a of this.active.values()) if (!a.reported && a.staleAt < earliest) earliest = a.staleAt;
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
    if (earliest === Infinity) return;
    this.staleTimer = setTimeout(() => this.emitStale(), Math.max(0, earliest - Date.now() + 1));
    this.staleTimer.unref();
  }

  private emitStale(): void {
    this.staleTimer = undefined;
    const now = Date.now();
    for (const a of this.active.values()) {
      if (a.reported || a.staleAt >= now) continue;
      a.reported = true;
      if (this.queue.length >= this.limit) {
        this.fail(new ResourceExhausted(`watcher fell behind (more than ${this.limit} events pending); re-watch`));
        return;
      }
      this.queue.push({ type: "stale", deployment: a.deployment, at: new Date(a.staleAt) });
    }
    this.wake?.();
    this.armStaleTimer();
  }

  /** The next event; undefined when the watch ended (closed or aborted). Throws the failure, if any. */
  async next(signal: AbortSignal): Promise<WatchEvent | undefined> {
    for (;;) {
      if (this.error) throw this.error;
      if (this.closed || signal.aborted) return undefined;
      const ev = this.queue.shift();
      if (ev) return ev;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Ends the watch with `err`, releasing everything it held. */
  fail(err: Error): void {
    if (this.closed) return;
    this.error = err;
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.active.clear();
    this.activeByEnvironment.clear();
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.detach();
    this.wake?.();
  }
}
