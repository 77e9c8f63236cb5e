// Webhook subscriptions (Prisma) and their transactional outbox (raw SQL on the pool).
//
// The outbox is "webhook_deliveries": one row per event per subscription. Rows for record
// changes are made from the change log ("deployment_changes", written by triggers in the
// changing transaction: server/data/change-feed.ts) by a fan-out transaction that one server
// process at a time runs, under a transaction-level advisory lock:
//   1. one statement reads the cursor's snapshot, inserts a delivery for every matching
//      subscription of every change committed since (the rows whose transaction that snapshot
//      did not see, exactly as the change feed reads them), and moves the cursor to its own
//      snapshot — what it read is exactly what the new position covers, whatever order
//      transactions committed in;
//   2. one statement inserts `deployment.stale` deliveries for the active records whose stale
//      time fell since the previous scan, and moves that mark to now().
// Each event thus reaches each subscription once, whatever the number of processes, and a
// change that committed is delivered even if every server stopped right after (the change log
// keeps what the cursor has not passed: change-feed.ts's PRUNE).
//
// Delivering: a claim is one UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) that
// leases the rows (next_attempt_at = now() + lease, attempts + 1), so two processes never
// attempt one delivery at once and a process that dies mid-attempt leaves it to be retried after
// the lease, under the same id. A completion is fenced by the attempt number: it is stored only
// if no later claim took the delivery meanwhile.
import type { Prisma } from "../../gen/prisma/client.js";
import type { Actor } from "../domain/caller.js";
import {
  EVENT_BITS,
  EVENT_TYPE_NAMES,
  TEST_EVENT_TYPE,
  eventsOf,
  type AttemptResult,
  type ClaimedDelivery,
  type NewWebhook,
  type PolicyRefusalEvent,
  type Webhook,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  type WebhookOutbox,
  type WebhookRepository,
} from "../domain/webhooks.js";
import type { SqlPool } from "./client.js";

const WITH_PLACE = { environment: { select: { name: true } }, logicalEnvironment: { select: { name: true } } } as const;
type SubscriptionRow = Prisma.WebhookSubscriptionGetPayload<{ include: typeof WITH_PLACE }>;
type DeliveryRow = Prisma.WebhookDeliveryGetPayload<Record<string, never>>;

function toWebhook(r: SubscriptionRow): Webhook {
  return {
    id: r.id,
    url: r.url,
    events: eventsOf(r.eventMask),
    environment: r.environment?.name ?? "",
    logicalEnvironment: r.logicalEnvironment?.name ?? "",
    description: r.description,
    failingSince: r.failingSince ?? undefined,
    createdAt: r.createdAt,
    createdBy: actorOf(r.createdByTokenId, r.createdByName),
  };
}

function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    id: r.id,
    webhookId: r.subscriptionId,
    eventType: r.eventType,
    deploymentId: r.deploymentId ?? undefined,
    eventTime: r.eventTime,
    status: r.status,
    attempts: r.attempts,
    lastAttemptAt: r.lastAttemptAt ?? undefined,
    nextAttemptAt: r.status === "pending" ? r.nextAttemptAt : undefined,
    responseStatus: r.responseStatus,
    error: r.error,
    deliveredAt: r.deliveredAt ?? undefined,
    seq: r.seq,
  };
}

const actorOf = (tokenId: string | null, name: string): Actor | undefined => (tokenId ? { tokenId, tokenName: name } : undefined);

export class PrismaWebhookRepository implements WebhookRepository {
  /** The client, or a transaction's (server/data/transactions.ts). */
  constructor(private readonly prisma: Prisma.TransactionClient) {}

  async create(w: NewWebhook): Promise<Webhook> {
    const row = await this.prisma.webhookSubscription.create({
      data: {
        id: w.id,
        organizationId: w.organizationId,
        url: w.url,
        eventMask: w.eventMask,
        environmentId: w.environmentId ?? null,
        logicalEnvironmentId: w.logicalEnvironmentId ?? null,
        description: w.description,
        secretCiphertext: w.secretCiphertext,
        secretKeyId: w.secretKeyId,
        createdByTokenId: w.createdBy?.tokenId ?? null,
        createdByName: w.createdBy?.tokenName ?? "",
      },
      include: WITH_PLACE,
    });
    return toWebhook(row);
  }

  async get(orgId: string, id: string): Promise<Webhook | undefined> {
    const row = await this.prisma.webhookSubscription.findFirst({ where: { id, organizationId: orgId }, include: WITH_PLACE });
    return row ? toWebhook(row) : undefined;
  }

  async list(orgId: string): Promise<Webhook[]> {
    const rows = await this.prisma.webhookSubscription.findMany({ where: { organizationId: orgId }, orderBy: { seq: "asc" }, include: WITH_PLACE });
    return rows.map(toWebhook);
  }

  async delete(orgId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.webhookSubscription.deleteMany({ where: { id, organizationId: orgId } });
    return count > 0;
  }

  async listDeliveries(
    orgId: string,
    webhookId: string,
    status: WebhookDeliveryStatus | undefined,
    afterSeq: bigint | undefined,
    limit: number,
  ): Promise<WebhookDelivery[]> {
    const rows = await this.prisma.webhookDelivery.findMany({
      where: {
        subscriptionId: webhookId,
        organizationId: orgId,
        ...(status ? { status } : {}),
        ...(afterSeq !== undefined ? { seq: { lt: afterSeq } } : {}),
      },
      orderBy: { seq: "desc" },
      take: limit,
    });
    return rows.map(toDelivery);
  }

  async getDelivery(orgId: string, id: string): Promise<WebhookDelivery | undefined> {
    const row = await this.prisma.webhookDelivery.findFirst({ where: { id, organizationId: orgId } });
    return row ? toDelivery(row) : undefined;
  }
}

/** The event type a change-log code and an event bit make (1 deployed, 2 superseded, 4 decommissioned, 8 rolled back). */
const TYPE_OF_BIT = `CASE e.bit
    WHEN ${EVENT_BITS.deployed} THEN '${EVENT_TYPE_NAMES.deployed}'
    WHEN ${EVENT_BITS.superseded} THEN '${EVENT_TYPE_NAMES.superseded}'
    WHEN ${EVENT_BITS.decommissioned} THEN '${EVENT_TYPE_NAMES.decommissioned}'
    WHEN ${EVENT_BITS["rolled-back"]} THEN '${EVENT_TYPE_NAMES["rolled-back"]}'
  END`;

/** Whoever takes this (per transaction) runs the fan-out; the others skip it. */
const FAN_OUT_LOCK = `SELECT pg_try_advisory_xact_lock(hashtextextended('chainloop.webhooks.fanout', 0)) AS locked`;

/**
 * Step 1 of the fan-out (see the top of this file). The change rows are those of transactions
 * the cursor's snapshot did not see (as change-feed.ts's READ selects them), unnested into one
 * (code, record) pair each; heartbeats ('h') are never events, and environment rows (no record
 * ids) neither. Organizations without subscriptions are skipped before any record is read.
 * pg_current_snapshot() is the statement's own snapshot: the one its reads ran under.
 */
const FAN_OUT_CHANGES = `
  WITH cur AS (
    SELECT snapshot::pg_snapshot AS snap FROM webhook_outbox_cursor WHERE id = 1
  ), subs AS (
    SELECT id, seq, organization_id, event_mask, environment_id, logical_environment_id FROM webhook_subscriptions
  ), changed AS (
    SELECT c.organization_id, c.created_at, c.xid, c.seq, x.code, x.deployment_id, x.pos
    FROM cur
    JOIN deployment_changes c
      ON c.xid >= (pg_snapshot_xmin(cur.snap))::text::bigint
     AND NOT pg_visible_in_snapshot(c.xid::text::xid8, cur.snap)
    CROSS JOIN LATERAL unnest(string_to_array(c.changes, NULL), c.deployment_ids) WITH ORDINALITY AS x(code, deployment_id, pos)
    WHERE c.deployment_ids IS NOT NULL
      AND c.organization_id IN (SELECT organization_id FROM subs)
      AND x.code IN ('c', 's', 'd')
  ), events AS (
    SELECT ch.*, d.environment_id, d.logical_environment_id,
      CASE ch.code
        WHEN 'c' THEN CASE WHEN d.rollback_of_id IS NULL THEN ${EVENT_BITS.deployed} ELSE ${EVENT_BITS["rolled-back"]} END
        WHEN 's' THEN ${EVENT_BITS.superseded}
        WHEN 'd' THEN ${EVENT_BITS.decommissioned}
      END AS bit
    FROM changed ch
    JOIN deployments d ON d.id = ch.deployment_id AND d.organization_id = ch.organization_id
  ), ins AS (
    INSERT INTO webhook_deliveries (id, subscription_id, organization_id, event_type, deployment_id, event_time, next_attempt_at)
    SELECT gen_random_uuid(), s.id, e.organization_id, ${TYPE_OF_BIT}, e.deployment_id, e.created_at, now()
    FROM events e
    JOIN subs s ON s.organization_id = e.organization_id AND (s.event_mask & e.bit) <> 0
      AND (s.environment_id IS NULL OR s.environment_id = e.environment_id)
      AND (s.logical_environment_id IS NULL OR s.logical_environment_id = e.logical_environment_id)
    ORDER BY e.created_at, e.xid, e.seq, e.pos, s.seq
    RETURNING 1
  ), moved AS (
    UPDATE webhook_outbox_cursor SET snapshot = pg_current_snapshot()::text WHERE id = 1 RETURNING 1
  )
  SELECT (SELECT count(*) FROM ins)::int AS inserted,
         (SELECT count(*) FROM subs)::int AS subscriptions,
         (SELECT count(*) FROM moved)::int AS moved`;

/**
 * Step 2: records that became stale since the previous scan ($1: STALE_TOLERANCE). Only the
 * environments with a heartbeat interval, of organizations with a subscription to stale events,
 * are looked at (through the active-records index). The event time is the stale time.
 */
const FAN_OUT_STALE = `
  WITH prev AS (
    SELECT stale_scanned_at AS since FROM webhook_outbox_cursor WHERE id = 1
  ), subs AS (
    SELECT id, seq, organization_id, environment_id, logical_environment_id FROM webhook_subscriptions
    WHERE (event_mask & ${EVENT_BITS.stale}) <> 0
  ), envs AS (
    SELECT e.id, e.heartbeat_interval_ms FROM environments e
    WHERE e.heartbeat_interval_ms IS NOT NULL AND e.organization_id IN (SELECT organization_id FROM subs)
  ), stale AS (
    SELECT d.id, d.organization_id, d.environment_id, d.logical_environment_id, t.at
    FROM envs
    JOIN deployments d ON d.environment_id = envs.id AND d.status = 'deployed'
    CROSS JOIN LATERAL (SELECT d.last_seen_at + make_interval(secs => envs.heartbeat_interval_ms * $1::double precision / 1000) AS at) t
    CROSS JOIN prev
    WHERE t.at > prev.since AND t.at <= now()
  ), ins AS (
    INSERT INTO webhook_deliveries (id, subscription_id, organization_id, event_type, deployment_id, event_time, next_attempt_at)
    SELECT gen_random_uuid(), s.id, st.organization_id, '${EVENT_TYPE_NAMES.stale}', st.id, st.at, now()
    FROM stale st
    JOIN subs s ON s.organization_id = st.organization_id
      AND (s.environment_id IS NULL OR s.environment_id = st.environment_id)
      AND (s.logical_environment_id IS NULL OR s.logical_environment_id = st.logical_environment_id)
    ORDER BY st.at, s.seq
    RETURNING 1
  ), moved AS (
    UPDATE webhook_outbox_cursor SET stale_scanned_at = now() WHERE id = 1 RETURNING 1
  )
  SELECT (SELECT count(*) FROM ins)::int AS inserted`;

/** What a claim (and a test delivery's insertion) returns: the delivery and its subscription's target. */
const CLAIMED_COLUMNS = (d: string, s: string) => `
  ${d}.id::text AS id, ${d}.subscription_id::text AS subscription_id, ${d}.organization_id::text AS organization_id,
  ${d}.event_type, ${d}.deployment_id::text AS deployment_id, ${d}.event_time, ${d}.payload, ${d}.attempts, ${d}.created_at,
  ${s}.url, ${s}.secret_ciphertext, ${s}.secret_key_id`;

/**
 * $1 how many, $2 the most per subscription, $3/$4 this process's attempts in flight per
 * subscription, $5 the lease in ms. Per subscription, the first due deliveries it may still
 * take (an index probe on (subscription_id, status, next_attempt_at) each, LIMIT what it has
 * left), then the earliest $1 of those: the cost grows with the number of subscriptions, not
 * with a backlog (a receiver that hangs for hours keeps thousands due; a scan of the due rows
 * in time order read them all at every claim: 5 ms at 50,000). Rows locked but not claimed are
 * unlocked when the statement ends.
 */
const CLAIM = `
  UPDATE webhook_deliveries d SET
    next_attempt_at = now() + make_interval(secs => $5::double precision / 1000),
    attempts = d.attempts + 1,
    last_attempt_at = now()
  FROM webhook_subscriptions s
  WHERE s.id = d.subscription_id AND d.id IN (
    SELECT c.id FROM (
      SELECT x.id, x.next_attempt_at, x.seq
      FROM webhook_subscriptions sub
      LEFT JOIN unnest($3::uuid[], $4::int[]) AS b(subscription_id, n) ON b.subscription_id = sub.id
      CROSS JOIN LATERAL (
        SELECT w.id, w.next_attempt_at, w.seq FROM webhook_deliveries w
        WHERE w.subscription_id = sub.id AND w.status = 'pending' AND w.next_attempt_at <= now()
        ORDER BY w.next_attempt_at, w.seq
        LIMIT greatest($2::int - COALESCE(b.n, 0), 0)
        FOR UPDATE OF w SKIP LOCKED
      ) x
    ) c
    ORDER BY c.next_attempt_at, c.seq
    LIMIT $1
  )
  RETURNING ${CLAIMED_COLUMNS("d", "s")}`;

const STORE_PAYLOADS = `
  UPDATE webhook_deliveries d SET payload = COALESCE(d.payload, x.payload)
  FROM unnest($1::uuid[], $2::text[]) AS x(id, payload)
  WHERE d.id = x.id
  RETURNING d.id::text AS id, d.payload`;

/**
 * Attempts' results ($1–$6 per result; $7 the retry window in ms). Fenced: a delivery claimed
 * again since (a later attempt number) or no longer pending is left alone. 2xx delivers;
 * otherwise the delivery waits retry_ms, or fails when its retry window has passed. The
 * subscriptions touched: healthy again on a delivery, failing (since now, if not already) when
 * one failed for good; a row is written only when that changes it.
 */
const COMPLETE = `
  WITH r AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::boolean[], $4::int[], $5::text[], $6::double precision[])
      AS r(id, attempt, ok, response_status, error, retry_ms)
  ), upd AS (
    UPDATE webhook_deliveries d SET
      status = (CASE
        WHEN r.ok THEN 'delivered'
        WHEN d.created_at + make_interval(secs => $7::double precision / 1000) <= now() THEN 'failed'
        ELSE 'pending' END)::webhook_delivery_status,
      delivered_at = CASE WHEN r.ok THEN now() ELSE NULL END,
      next_attempt_at = CASE WHEN r.ok THEN d.next_attempt_at ELSE now() + make_interval(secs => r.retry_ms / 1000) END,
      response_status = r.response_status,
      error = r.error
    FROM r
    WHERE d.id = r.id AND d.attempts = r.attempt AND d.status = 'pending'
    RETURNING d.subscription_id, d.status
  ), verdict AS (
    SELECT subscription_id, bool_or(status = 'delivered') AS delivered
    FROM upd WHERE status IN ('delivered', 'failed')
    GROUP BY subscription_id
  ), health AS (
    UPDATE webhook_subscriptions s SET
      failing_since = CASE WHEN v.delivered THEN NULL ELSE COALESCE(s.failing_since, now()) END
    FROM verdict v
    WHERE s.id = v.subscription_id AND v.delivered = (s.failing_since IS NOT NULL)
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM upd)::int AS stored, (SELECT count(*) FROM health)::int AS changed`;

const INSERT_TEST = `
  WITH ins AS (
    INSERT INTO webhook_deliveries (id, subscription_id, organization_id, event_type, event_time, payload, attempts, last_attempt_at, next_attempt_at)
    SELECT gen_random_uuid(), s.id, s.organization_id, '${TEST_EVENT_TYPE}', $3::timestamptz, $4, 1, now(),
           now() + make_interval(secs => $5::double precision / 1000)
    FROM webhook_subscriptions s WHERE s.id = $2::uuid AND s.organization_id = $1::uuid
    RETURNING *
  )
  SELECT ${CLAIMED_COLUMNS("ins", "s")} FROM ins JOIN webhook_subscriptions s ON s.id = ins.subscription_id`;

/** One delivery per subscription that takes policy refusals of that place (filters by name → id). */
const INSERT_POLICY_REFUSED = `
  INSERT INTO webhook_deliveries (id, subscription_id, organization_id, event_type, event_time, payload, next_attempt_at)
  SELECT gen_random_uuid(), s.id, s.organization_id, '${EVENT_TYPE_NAMES["policy-refused"]}', $4::timestamptz, $5, now()
  FROM webhook_subscriptions s
  WHERE s.organization_id = $1::uuid AND (s.event_mask & ${EVENT_BITS["policy-refused"]}) <> 0
    AND (s.environment_id IS NULL
         OR s.environment_id = (SELECT id FROM environments WHERE organization_id = $1::uuid AND name = $2))
    AND (s.logical_environment_id IS NULL
         OR s.logical_environment_id = (SELECT id FROM logical_environments WHERE organization_id = $1::uuid AND name = $3))
  ORDER BY s.seq`;

interface RawClaimed {
  id: string;
  subscription_id: string;
  organization_id: string;
  event_type: string;
  deployment_id: string | null;
  event_time: Date | string;
  payload: string | null;
  attempts: number;
  created_at: Date | string;
  url: string;
  secret_ciphertext: string;
  secret_key_id: string;
}

const date = (v: Date | string) => (v instanceof Date ? v : new Date(v));

function toClaimed(r: RawClaimed): ClaimedDelivery {
  return {
    id: r.id,
    subscriptionId: r.subscription_id,
    organizationId: r.organization_id,
    eventType: r.event_type,
    deploymentId: r.deployment_id ?? undefined,
    eventTime: date(r.event_time),
    payload: r.payload ?? undefined,
    attempts: Number(r.attempts),
    createdAt: date(r.created_at),
    url: r.url,
    secretCiphertext: r.secret_ciphertext,
    secretKeyId: r.secret_key_id,
  };
}

export class SqlWebhookOutbox implements WebhookOutbox {
  constructor(private readonly sql: SqlPool) {}

  async fanOut(staleTolerance: number): Promise<{ inserted: number; hasSubscriptions: boolean } | undefined> {
    return this.sql.transaction(async (tx) => {
      const [{ locked }] = await tx.query<{ locked: boolean }>(FAN_OUT_LOCK, []);
      if (!locked) return { commit: false, value: undefined };
      const [changes] = await tx.query<{ inserted: number; subscriptions: number; moved: number }>(FAN_OUT_CHANGES, []);
      if (Number(changes.moved) !== 1) throw new Error("webhook_outbox_cursor has no row 1: the webhooks migration did not run completely");
      let inserted = Number(changes.inserted);
      if (Number(changes.subscriptions) > 0) {
        const [stale] = await tx.query<{ inserted: number }>(FAN_OUT_STALE, [staleTolerance]);
        inserted += Number(stale.inserted);
      } else {
        // Nobody to tell: the mark still moves, so a first subscription is not sent the past.
        await tx.query(`UPDATE webhook_outbox_cursor SET stale_scanned_at = now() WHERE id = 1`, []);
      }
      return { commit: true, value: { inserted, hasSubscriptions: Number(changes.subscriptions) > 0 } };
    });
  }

  async claim(limit: number, perSubscription: number, busy: Map<string, number>, leaseMs: number): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    const busyIds = [...busy.keys()];
    const rows = await this.sql.query<RawClaimed>(
      CLAIM,
      [limit, perSubscription, busyIds, busyIds.map((id) => busy.get(id) ?? 0), leaseMs],
      "webhook_claim_v2",
    );
    return rows.map(toClaimed);
  }

  async storePayloads(items: Array<{ id: string; payload: string }>): Promise<Map<string, string>> {
    if (items.length === 0) return new Map();
    const rows = await this.sql.query<{ id: string; payload: string }>(STORE_PAYLOADS, [items.map((i) => i.id), items.map((i) => i.payload)]);
    return new Map(rows.map((r) => [r.id, r.payload]));
  }

  async complete(results: AttemptResult[], retryWindowMs: number): Promise<void> {
    if (results.length === 0) return;
    const col = <T>(f: (r: AttemptResult) => T) => results.map(f);
    await this.sql.query(
      COMPLETE,
      [
        col((r) => r.id),
        col((r) => r.attempt),
        col((r) => r.ok),
        col((r) => r.responseStatus),
        col((r) => r.error.slice(0, 1024)),
        col((r) => Math.max(0, r.retryInMs)),
        retryWindowMs,
      ],
      "webhook_complete_v1",
    );
  }

  async insertClaimedTest(orgId: string, webhookId: string, at: Date, payload: string, leaseMs: number): Promise<ClaimedDelivery | undefined> {
    const rows = await this.sql.query<RawClaimed>(INSERT_TEST, [orgId, webhookId, at.toISOString(), payload, leaseMs]);
    return rows[0] ? toClaimed(rows[0]) : undefined;
  }

  async insertPolicyRefused(e: PolicyRefusalEvent, payload: string): Promise<number> {
    const rows = await this.sql.query(`WITH ins AS (${INSERT_POLICY_REFUSED} RETURNING 1) SELECT count(*)::int AS n FROM ins`, [
      e.organizationId,
      e.environment,
      e.logicalEnvironment,
      e.at.toISOString(),
      payload,
    ]);
    return Number((rows[0] as { n: number } | undefined)?.n ?? 0);
  }
}
