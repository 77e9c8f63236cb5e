// Change notices for the live view (server/domain/live.ts), through Postgres LISTEN/NOTIFY.
//
// Publishing: the trigger "deployments_notify_change" (migration 20261128040000_live_view)
// calls pg_notify on channel "chainloop_deployments" for every inserted or changed record,
// inside the writing transaction, so Postgres delivers it only when (and if) the transaction
// commits, to every session listening on the channel: every server process on the database.
// A trigger rather than a call in the repository, so that no write path can forget it. The
// payload is small and fixed-size — {"v":1,"o":org,"t":ms,"c":[[kind,id]]}, ~150 bytes — far
// below NOTIFY's 8000-byte limit whatever the record holds; listeners read the records
// themselves (once per process, and only when that organization has watchers there), which
// also gives them the environment's heartbeat interval for staleness. A second trigger,
// "environments_notify_heartbeat_interval" (migration 20261128060000_environment_notices),
// announces a changed heartbeat interval on the same channel: {"v":1,…,"c":[],"e":name}.
//
// Listening, one connection per server process:
//   Postgres  a dedicated pg.Client (outside the pool) runs LISTEN; when it drops (the
//             database restarted, the network failed) subscribers are told notices may have
//             been missed (watchers end with UNAVAILABLE and re-watch) and the client
//             reconnects with exponential backoff (100 ms doubling to 5 s, with jitter).
//   PGlite    the embedded database supports LISTEN/NOTIFY within its one process:
//             PGlite.listen() on the same channel, same payloads, same commit semantics.
import pg from "pg";
import type { PGlite } from "@electric-sql/pglite";
import type { ChangeFeed, ChangeKind, ChangeNotice, ChangeSubscriber } from "../domain/live.js";
import type { Logger } from "../log.js";

export const CHANGE_CHANNEL = "chainloop_deployments";

/** The trigger's change codes. */
const KIND_OF: Record<string, ChangeKind> = { c: "created", h: "heartbeat", s: "superseded", d: "decommissioned" };

export function parseNotice(payload: string): ChangeNotice | undefined {
  try {
    const p = JSON.parse(payload) as { v?: unknown; o?: unknown; t?: unknown; c?: unknown; e?: unknown };
    if (p.v !== 1 || typeof p.o !== "string" || typeof p.t !== "number" || !Array.isArray(p.c)) return undefined;
    if (p.e !== undefined && typeof p.e !== "string") return undefined;
    const changes = [];
    for (const c of p.c as unknown[]) {
      if (!Array.isArray(c) || typeof c[1] !== "string" || !KIND_OF[c[0] as string]) return undefined;
      changes.push({ kind: KIND_OF[c[0] as string], deploymentId: c[1] });
    }
    return { organizationId: p.o, changes, at: new Date(p.t), ...(p.e === undefined ? {} : { heartbeatIntervalChanged: p.e }) };
  } catch {
    return undefined;
  }
}

/** Subscribers of one feed; notices are delivered synchronously, in order. */
class Subscribers {
  private readonly set = new Set<ChangeSubscriber>();
  add(s: ChangeSubscriber): () => void {
    this.set.add(s);
    return () => this.set.delete(s);
  }
  get size(): number {
    return this.set.size;
  }
  notice(payload: string, logger: Logger): void {
    const notice = parseNotice(payload);
    if (!notice) {
      logger.warn({ channel: CHANGE_CHANNEL }, "ignored a malformed change notice");
      return;
    }
    for (const s of this.set) s.onNotice(notice);
  }
  interrupted(reason: string): void {
    for (const s of this.set) s.onInterrupted(reason);
  }
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;

/** Postgres: one dedicated LISTEN connection, opened on first subscription, reconnecting with backoff. */
export class PgChangeFeed implements ChangeFeed {
  private readonly subscribers = new Subscribers();
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoff = BACKOFF_MIN_MS;
  private closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly logger: Logger,
  ) {}

  /** True while the LISTEN connection is up (for tests and health). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  async subscribe(subscriber: ChangeSubscriber): Promise<() => void> {
    if (this.closed) throw new Error("change feed closed");
    if (!this.client) await (this.connecting ??= this.connect());
    return this.subscribers.add(subscriber);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, keepAlive: true, connectionTimeoutMillis: 5_000 });
    let lost = false;
    const onLost = (why: string) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      client.removeAllListeners("notification");
      void client.end().catch(() => {});
      if (this.closed) return;
      this.logger.warn({ reason: why, retryInMs: this.backoff }, "change feed: LISTEN connection lost; reconnecting");
      this.subscribers.interrupted("the database connection was lost");
      this.scheduleReconnect();
    };
    client.on("error", (e) => onLost(e.message));
    client.on("end", () => onLost("connection ended"));
    client.on("notification", (n) => {
      if (n.channel === CHANGE_CHANNEL && n.payload !== undefined) this.subscribers.notice(n.payload, this.logger);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (e) {
      lost = true;
      void client.end().catch(() => {});
      this.connecting = undefined;
      throw e;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      throw new Error("change feed closed");
    }
    this.client = client;
    this.connecting = undefined;
    this.backoff = BACKOFF_MIN_MS;
    this.logger.info({ channel: CHANGE_CHANNEL }, "change feed: listening");
  }

  private scheduleReconnect(): void {
    if (this.retryTimer || this.closed) return;
    const delay = this.backoff * (0.5 + Math.random() / 2);
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed || this.client || this.connecting) return;
      this.connecting = this.connect();
      this.connecting.catch((e: Error) => {
        this.logger.warn({ err: e.message, retryInMs: this.backoff }, "change feed: reconnect failed");
        this.scheduleReconnect();
      });
    }, delay);
    this.retryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await this.connecting?.catch(() => {});
    if (client) await client.end().catch(() => {});
  }
}

/** PGlite: its own LISTEN, in the one process that owns the embedded database. */
export class PGliteChangeFeed implements ChangeFeed {
  private readonly subscribers = new Subscribers();
  private listening: Promise<() => Promise<void>> | undefined;

  constructor(
    private readonly db: PGlite,
    private readonly logger: Logger,
  ) {}

  async subscribe(subscriber: ChangeSubscriber): Promise<() => void> {
    this.listening ??= this.db.listen(CHANGE_CHANNEL, (payload) => this.subscribers.notice(payload, this.logger));
    try {
      await this.listening;
    } catch (e) {
      this.listening = undefined;
      throw e;
    }
    return this.subscribers.add(subscriber);
  }

  async close(): Promise<void> {
    const l = this.listening;
    this.listening = undefined;
    if (l) await (await l.catch(() => async () => {}))().catch(() => {});
  }
}
