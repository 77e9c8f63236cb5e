// Change notices for the live view (server/domain/live.ts), read from the change log.
//
// Writing: statement-level triggers on deployments and environments (migration
// 20261204000000_change_log) append rows to "deployment_changes" in the writing transaction:
// per organization and statement, the change codes and record ids (or the name of an
// environment whose heartbeat interval changed). The log commits with the change, or not at all,
// whichever code path or server process wrote it; no commit waits for another (a per-row
// pg_notify used to serialize them all).
//
// Reading, one reader per server process, only while it has watchers: a poll returns the rows
// committed since the previous poll, by a commit-safe position: the snapshot the previous poll
// read under. A row is new exactly when its transaction was not yet visible in that snapshot
// (its xid at or past the snapshot's xmin, and not visible in it), whatever order transactions
// took their ids and committed in. The poll returns its own snapshot, the next position. So a
// reader that missed a wake-up loses nothing; it reads the rows at its next poll.
//
// Polls happen:
//   - at once after this process commits record changes (announce()),
//   - when another process says it committed some: writers send a bare NOTIFY on channel
//     "chainloop_changes" after their commits, outside the transaction, at most one per
//     NOTIFY_SPACING_MS per process (Postgres only; PGlite has one process),
//   - every POLL_INTERVAL_MS regardless, for writes that announce nothing (an environment's
//     interval, another version of the server, an operator's SQL).
//
// Rows older than RETENTION_MS are deleted by every server process, every PRUNE_INTERVAL_MS. A
// reader that has not read for half of that, or that lost its connection (Postgres: a dedicated
// LISTEN connection, reconnecting with backoff), tells its subscribers notices may have been
// missed (watchers end with UNAVAILABLE and watch again) and starts from a fresh position.
import pg from "pg";
import type { PGlite } from "@electric-sql/pglite";
import type { ChangeFeed, ChangeKind, ChangeNotice, ChangeSubscriber } from "../domain/live.js";
import type { Logger } from "../log.js";

/** The wake-up channel: a NOTIFY on it means "the change log has new rows". */
export const WAKE_CHANNEL = "chainloop_changes";
export const POLL_INTERVAL_MS = 250;
export const NOTIFY_SPACING_MS = 25;
export const RETENTION_MS = 10 * 60_000;
const PRUNE_INTERVAL_MS = 60_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;

/** The log's change codes. */
const KIND_OF: Record<string, ChangeKind> = { c: "created", h: "heartbeat", s: "superseded", d: "decommissioned" };

/** A change feed that writers wake up after they commit (server/data/deployments.ts). */
export interface ChangeLogFeed extends ChangeFeed {
  /** This process committed changes: read them now, and wake the other processes. */
  announce(): void;
  /**
   * How far behind this process's reader may be, in ms: the time since the read that gave its
   * current position was issued. Every change committed before then has been delivered to this
   * process's watchers. Undefined while it is not reading (no watchers yet, or starting over).
   */
  lagMs(): number | undefined;
}

type Query = (text: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

const POSITION = `SELECT pg_current_snapshot()::text AS snap`;

/**
 * The rows committed after snapshot $1, in commit-safe order: by transaction, and within one
 * transaction the rows of UPDATE statements (supersede, heartbeat, decommission) before those of
 * INSERTs (a supersede's new record), then by position. One row more (all nulls) carries the
 * snapshot the read ran under when nothing is new. pg_current_snapshot() is the statement's own
 * snapshot (GetActiveSnapshot), the one the rows were read under.
 */
const READ = `
  SELECT pg_current_snapshot()::text AS snap, c.organization_id::text AS organization_id, c.created_at,
         c.changes, c.deployment_ids::text[] AS deployment_ids, c.environment_name
  FROM (SELECT 1) AS one
  LEFT JOIN (
    SELECT * FROM deployment_changes
    WHERE xid >= (pg_snapshot_xmin($1::pg_snapshot))::text::bigint
      AND NOT pg_visible_in_snapshot(xid::text::xid8, $1::pg_snapshot)
  ) c ON true
  ORDER BY c.xid, (c.changes <> '' AND ltrim(c.changes, 'c') = ''), c.seq`;

/**
 * Old rows, except those the webhook outbox's cursor has not passed (server/data/webhooks.ts):
 * a change not yet fanned out into deliveries stays, however old, so it is delivered even after
 * every server was stopped for longer than RETENTION_MS. Passed means visible in the cursor's
 * snapshot (the fan-out read it), not merely older than the snapshot's xmin: a transaction running
 * elsewhere in the cluster (another database's) would otherwise hold every newer row back.
 */
export const PRUNE = `
  DELETE FROM deployment_changes d
  WHERE d.created_at < now() - make_interval(secs => $1::double precision / 1000)
    AND NOT EXISTS (
      SELECT 1 FROM webhook_outbox_cursor w
      WHERE NOT pg_visible_in_snapshot(d.xid::text::xid8, w.snapshot::pg_snapshot)
    )`;

/** A log row as a notice; undefined (and a warning) when it is malformed. */
export function noticeOf(row: Record<string, unknown>, logger: Logger): ChangeNotice | undefined {
  const org = row.organization_id;
  const codes = typeof row.changes === "string" ? row.changes : "";
  const ids = Array.isArray(row.deployment_ids) ? (row.deployment_ids as unknown[]) : [];
  const at = row.created_at instanceof Date ? row.created_at : new Date(String(row.created_at));
  if (typeof org !== "string" || codes.length !== ids.length || Number.isNaN(at.getTime())) {
    logger.warn({ organization: org }, "ignored a malformed change log row");
    return undefined;
  }
  const changes = [];
  for (let i = 0; i < codes.length; i++) {
    const kind = KIND_OF[codes[i]];
    const id = ids[i];
    if (!kind || typeof id !== "string") {
      logger.warn({ organization: org, code: codes[i] }, "ignored a malformed change log row");
      return undefined;
    }
    changes.push({ kind, deploymentId: id });
  }
  const env = row.environment_name;
  return { organizationId: org, changes, at, ...(typeof env === "string" ? { heartbeatIntervalChanged: env } : {}) };
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
  notice(n: ChangeNotice): void {
    for (const s of this.set) s.onNotice(n);
  }
  interrupted(reason: string): void {
    for (const s of this.set) s.onInterrupted(reason);
  }
}

/**
 * The reading side, whatever the backend: a position (snapshot), polls that never overlap (a
 * wake-up during a poll makes one more poll after it), the interval timer, and pruning.
 */
abstract class ChangeLogReader implements ChangeLogFeed {
  protected readonly subscribers = new Subscribers();
  private position: string | undefined;
  /** When the read that gave `position` was issued (Date.now()): what it read was committed before then. */
  private positionAt = 0;
  private lastReadAt = 0;
  private polling = false;
  private pollAgain = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly pruneTimer: NodeJS.Timeout;
  protected closed = false;

  constructor(
    protected readonly logger: Logger,
    private readonly prune: Query,
  ) {
    this.pruneTimer = setInterval(() => void this.pruneOld(), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  /** The connection polls run on; undefined while it is down. */
  protected abstract reader(): Query | undefined;
  /** Wakes the other server processes (Postgres). */
  protected abstract wakeOthers(): void;

  announce(): void {
    if (this.position !== undefined) this.poll();
    this.wakeOthers();
  }

  lagMs(): number | undefined {
    return this.position === undefined ? undefined : Math.max(0, Date.now() - this.positionAt);
  }

  /** Takes the first position and starts the timer: from now on every committed change is read. */
  protected async start(query: Query): Promise<void> {
    const issuedAt = Date.now();
    const [row] = await query(POSITION, []);
    this.positionAt = issuedAt;
    this.position = String(row.snap);
    this.lastReadAt = Date.now();
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => this.poll(), POLL_INTERVAL_MS);
      this.pollTimer.unref();
    }
  }

  /** The connection was lost or the position is too old: subscribers may have missed notices. */
  protected reset(reason: string): void {
    this.position = undefined;
    this.subscribers.interrupted(reason);
  }

  protected poll(): void {
    if (this.closed || this.position === undefined) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    const query = this.reader();
    if (!query) return;
    if (Date.now() - this.lastReadAt > RETENTION_MS / 2) {
      this.logger.warn({ sinceLastReadMs: Date.now() - this.lastReadAt }, "change feed: too long since the last read; starting over");
      this.reset("the change feed fell too far behind");
      void this.start(query).catch((e: Error) => this.logger.warn({ err: e.message }, "change feed: could not restart"));
      return;
    }
    this.polling = true;
    this.pollAgain = false;
    const from = this.position;
    const issuedAt = Date.now();
    query(READ, [from])
      .then((rows) => {
        if (this.position !== from) return; // reset meanwhile
        for (const row of rows) {
          if (row.organization_id === null || row.organization_id === undefined) continue;
          const n = noticeOf(row, this.logger);
          if (n) this.subscribers.notice(n);
        }
        this.position = String(rows[0].snap);
        this.positionAt = issuedAt;
        this.lastReadAt = Date.now();
      })
      .catch((e: Error) => {
        // The connection's own loss is handled by its owner; the next poll tries again.
        this.logger.warn({ err: e.message }, "change feed: reading the change log failed");
      })
      .finally(() => {
        this.polling = false;
        if (this.pollAgain) this.poll();
      });
  }

  private async pruneOld(): Promise<void> {
    try {
      await this.prune(PRUNE, [RETENTION_MS]);
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, "change feed: pruning the change log failed");
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pruneTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
  }

  abstract subscribe(subscriber: ChangeSubscriber): Promise<() => void>;
}

/**
 * Postgres: one dedicated connection per process, opened on first subscription, that LISTENs for
 * wake-ups and runs the polls; it reconnects with backoff (100 ms doubling to 5 s, with jitter).
 * Wake-ups to other processes and pruning go through the pool.
 */
export class PgChangeFeed extends ChangeLogReader {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoff = BACKOFF_MIN_MS;
  private notifying = false;
  private notifyAgain = false;

  constructor(
    private readonly connectionString: string,
    private readonly pool: Query,
    logger: Logger,
  ) {
    super(logger, pool);
  }

  /** True while the LISTEN connection is up (for tests and health). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  protected reader(): Query | undefined {
    const client = this.client;
    return client ? async (text, params) => (await client.query(text, params)).rows : undefined;
  }

  /** A bare NOTIFY, outside any record transaction; at most one in flight, spaced NOTIFY_SPACING_MS apart. */
  protected wakeOthers(): void {
    if (this.closed) return;
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = true;
    this.notifyAgain = false;
    this.pool(`SELECT pg_notify('${WAKE_CHANNEL}', '')`, [])
      .catch((e: Error) => this.logger.warn({ err: e.message }, "change feed: wake-up failed"))
      .then(() => new Promise((r) => setTimeout(r, NOTIFY_SPACING_MS).unref()))
      .finally(() => {
        this.notifying = false;
        if (this.notifyAgain) this.wakeOthers();
      });
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
      this.logger.warn({ reason: why, retryInMs: this.backoff }, "change feed: connection lost; reconnecting");
      this.reset("the database connection was lost");
      this.scheduleReconnect();
    };
    client.on("error", (e) => onLost(e.message));
    client.on("end", () => onLost("connection ended"));
    client.on("notification", (n) => {
      if (n.channel === WAKE_CHANNEL) this.poll();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${WAKE_CHANNEL}`);
      await this.start(async (text, params) => (await client.query(text, params)).rows);
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
    this.logger.info({ channel: WAKE_CHANNEL }, "change feed: listening");
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
    await super.close();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await this.connecting?.catch(() => {});
    if (client) await client.end().catch(() => {});
  }
}

/** PGlite: one process owns the embedded database, so its own commits are the only wake-ups needed. */
export class PGliteChangeFeed extends ChangeLogReader {
  private starting: Promise<void> | undefined;
  private readonly query: Query;

  constructor(db: PGlite, logger: Logger) {
    const query: Query = async (text, params) => (await db.query<Record<string, unknown>>(text, params)).rows;
    super(logger, query);
    this.query = query;
  }

  protected reader(): Query {
    return this.query;
  }

  protected wakeOthers(): void {}

  async subscribe(subscriber: ChangeSubscriber): Promise<() => void> {
    if (this.closed) throw new Error("change feed closed");
    this.starting ??= this.start(this.query);
    try {
      await this.starting;
    } catch (e) {
      this.starting = undefined;
      throw e;
    }
    return this.subscribers.add(subscriber);
  }
}
