// The delivering side of webhooks, one per server process (any number of processes may run it on
// one database):
//   - fan-out (server/data/webhooks.ts: change log → outbox, stale records → outbox) every
//     pollMs, and right after this process commits record changes (wake(), coalesced: one
//     fan-out at a time, and only while the last one saw subscriptions, so the record path pays
//     nothing when nobody subscribed);
//   - claims of due deliveries, up to `concurrency` attempts in flight in this process and
//     `perSubscription` per subscription (a receiver that hangs holds only its own slots);
//   - attempts: render the body at the first attempt (stored, so retries send the same bytes),
//     sign it (Standard Webhooks, `standardwebhooks`), POST it (sender.ts), and store the result
//     (batched, fenced by the attempt number). Failures wait min × 2^(attempts-1), capped at max,
//     with jitter (a uniform draw in [d/2, d]); past the retry window the delivery fails and its
//     subscription is marked failing until one of its deliveries succeeds again.
// Errors in the loops (a database outage) are logged, at most once per LOG_EVERY_MS each, and the
// loops go on. Timers are unref'd; stop() ends them and gives attempts in flight a grace period.
import { Webhook as StandardWebhook } from "standardwebhooks";
import type { Deployment } from "../domain/deployments.js";
import { STALE_TOLERANCE } from "../domain/staleness.js";
import {
  originOf,
  type AttemptResult,
  type ClaimedDelivery,
  type WebhookDelivering,
  type WebhookOutbox,
  type WebhookPayloads,
} from "../domain/webhooks.js";
import { errorText, type Logger } from "../log.js";
import { webhooksFrom, type WebhookConfig } from "../config.js";
import { packageVersion } from "../version.js";
import { SecretKeyMismatch, type SecretBox } from "./secrets.js";
import { send } from "./sender.js";

/** The delivery settings (server/config.ts reads them from CHAINLOOP_WEBHOOK_*; `deliver` is main.ts's). */
export type WebhookDeliveryConfig = Omit<WebhookConfig, "deliver">;

/** The settings when no CHAINLOOP_WEBHOOK_* is set (their defaults are server/config.ts's). */
export const DEFAULT_WEBHOOK_DELIVERY: WebhookDeliveryConfig = (({ deliver: _deliver, ...delivery }) => delivery)(webhooksFrom({}));

/** Attempts in flight per subscription, per process: at most 4, and at most half the process's slots. */
export const PER_SUBSCRIPTION = 4;
/**
 * A subscription's share of `concurrency` slots: at most half of them (and PER_SUBSCRIPTION), so
 * one receiver that hangs can never hold every slot (with 4 slots and 4 per subscription, a
 * healthy receiver got 3 of 33 events in 20 s beside a hanging one).
 */
export const perSubscriptionLimit = (concurrency: number) => Math.max(1, Math.min(PER_SUBSCRIPTION, Math.floor(concurrency / 2)));
/**
 * Wake-up fan-outs (after this process's commits) at most this often. Each is a transaction of a
 * few statements beside the record path's: at 25 ms, under 2,000 records/s, fan-outs and their
 * claims were about as many statements as the group-committed record batches, and records/s fell
 * 15 % with a subscription; an event may wait this long more before its first attempt.
 */
const WAKE_SPACING_MS = 200;
const LOG_EVERY_MS = 30_000;
const RESULT_BATCH = 256;

/** A claim's lease: the attempt's timeout, and the margin to render and store its result. */
export const leaseMsFor = (cfg: Pick<WebhookDeliveryConfig, "timeoutMs" | "leaseMarginMs">) => cfg.timeoutMs + cfg.leaseMarginMs;

/** Reads records by id, with their place's names (the repository's getMany, as the list reads them). */
export interface DeploymentReader {
  getMany(orgId: string, ids: string[]): Promise<Deployment[]>;
}

/** The wait before the next attempt after `attempts` failed ones: min × 2^(attempts-1), capped, jittered into [d/2, d]. */
export function backoffMs(attempts: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const d = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40));
  return Math.round(d / 2 + (random() * d) / 2);
}

interface InFlight {
  subscriptionId: string;
  controller: AbortController;
  done: Promise<void>;
}

export class WebhookDispatcher implements WebhookDelivering {
  private readonly leaseMs: number;
  private readonly userAgent = `chainloop-deployments/${packageVersion()}`;
  private started = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** The round under way, if any (stop() waits for it: no database work goes on after stop). */
  private currentRound: Promise<void> | undefined;
  private tickAgain = false;
  private fanOutWanted = true;
  /** Until a fan-out says otherwise: wake-ups cost a fan-out only while someone is subscribed. */
  private hasSubscriptions = true;
  private lastWakeFanOut = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly perSubscription = new Map<string, number>();
  private results: Array<{ result: AttemptResult; stored: () => void }> = [];
  private flushing: Promise<void> | undefined;
  private readonly lastLogged = new Map<string, number>();

  constructor(
    private readonly outbox: WebhookOutbox,
    private readonly deployments: DeploymentReader,
    private readonly payloads: WebhookPayloads,
    private readonly secrets: SecretBox,
    private readonly config: WebhookDeliveryConfig,
    private readonly logger: Logger,
  ) {
    this.leaseMs = leaseMsFor(config);
  }

  /** Starts the loops (main.ts, after the server listens). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.timer = setInterval(() => {
      this.fanOutWanted = true;
      this.tick();
    }, this.config.pollMs);
    this.timer.unref();
    this.tick();
  }

  /** This process committed record changes: fan them out soon (coalesced). */
  wake(): void {
    if (!this.started || this.stopped || !this.hasSubscriptions || this.wakeTimer) return;
    const wait = Math.max(0, this.lastWakeFanOut + WAKE_SPACING_MS - Date.now());
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.lastWakeFanOut = Date.now();
      this.fanOutWanted = true;
      this.tick();
    }, wait);
    this.wakeTimer.unref();
  }

  /** New deliveries or subscriptions were written by this process: claim (and fan out) now. */
  notify(): void {
    this.hasSubscriptions = true;
    if (!this.started || this.stopped) return;
    this.tick();
  }

  /**
   * Attempts a delivery this process has claimed (TestWebhook) now, outside the concurrency
   * limit; resolves once its result is stored.
   */
  async attemptNow(d: ClaimedDelivery): Promise<void> {
    const result: AttemptResult = this.stopped
      ? { id: d.id, attempt: d.attempts, ok: false, responseStatus: 0, error: "not attempted: the server is stopping", retryInMs: 0 }
      : await this.track(d, (signal) => this.run(d, signal));
    // Stored directly, not through the batched writer: a database that does not answer is the caller's error.
    await this.outbox.complete([result], this.config.retryWindowMs);
  }

  /**
   * Ends the loops; attempts in flight get `graceMs` to finish, then are interrupted (their
   * deliveries are due again at once, for another process or the next start). Results are
   * stored before it resolves, if the database answers within the grace period.
   */
  async stop(graceMs = 1_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    const deadline = Date.now() + graceMs;
    // A round under way finishes first (its claims start attempts, which the grace covers).
    if (this.currentRound) await raceTimeout(this.currentRound, graceMs);
    const attempts = [...this.inFlight.values()];
    await raceTimeout(Promise.all(attempts.map((a) => a.done)), Math.max(0, deadline - Date.now()));
    for (const a of this.inFlight.values()) a.controller.abort();
    await raceTimeout(Promise.all(attempts.map((a) => a.done)), Math.max(0, deadline - Date.now()) + 500);
    await raceTimeout(this.flush(), Math.max(0, deadline - Date.now()) + 500);
    // Whatever could not be stored is left to the leases (the deliveries are retried, same ids).
    for (const r of this.results.splice(0)) r.stored();
  }

  /** One round: fan-out when due, then claims for the free slots. Never two at once; a call during one makes one more after it. */
  private tick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = true;
    this.tickAgain = false;
    this.currentRound = this.round()
      .catch((e: unknown) => this.warn("round", e, "webhooks: delivering failed; retrying"))
      .finally(() => {
        this.ticking = false;
        this.currentRound = undefined;
        if (this.tickAgain && !this.stopped) this.tick();
      });
  }

  private async round(): Promise<void> {
    if (this.fanOutWanted) {
      this.fanOutWanted = false;
      try {
        const res = await this.outbox.fanOut(STALE_TOLERANCE);
        if (res) this.hasSubscriptions = res.hasSubscriptions;
        this.recovered("fan-out");
      } catch (e) {
        this.warn("fan-out", e, "webhooks: filling the outbox from the change log failed; retrying");
      }
    }
    await this.claimAndAttempt();
  }

  private async claimAndAttempt(): Promise<void> {
    const free = this.config.concurrency - this.inFlight.size;
    if (free <= 0 || this.stopped) return;
    let claimed: ClaimedDelivery[];
    try {
      claimed = await this.outbox.claim(free, perSubscriptionLimit(this.config.concurrency), this.perSubscription, this.leaseMs);
      this.recovered("claim");
    } catch (e) {
      this.warn("claim", e, "webhooks: claiming due deliveries failed; retrying");
      return;
    }
    if (claimed.length === 0) return;
    try {
      await this.renderPayloads(claimed);
    } catch (e) {
      // Not attempted: their leases run out and they are claimed again (same ids).
      this.warn("render", e, "webhooks: rendering delivery bodies failed; they are retried after their lease");
      return;
    }
    for (const d of claimed) void this.attempt(d);
    // A full claim may have left more due: look again once this one's attempts have started.
    if (claimed.length === free) this.tickAgain = true;
  }

  /** The bodies of first attempts: rendered from the records as they read now, stored before anything is sent. */
  private async renderPayloads(claimed: ClaimedDelivery[]): Promise<void> {
    const missing = claimed.filter((d) => d.payload === undefined);
    if (missing.length === 0) return;
    const byOrg = new Map<string, Set<string>>();
    for (const d of missing) if (d.deploymentId) byOrg.set(d.organizationId, (byOrg.get(d.organizationId) ?? new Set()).add(d.deploymentId));
    const records = new Map<string, Deployment>();
    for (const [org, ids] of byOrg) for (const r of await this.deployments.getMany(org, [...ids])) records.set(r.id, r);
    const rendered = missing.map((d) => ({
      id: d.id,
      payload: this.payloads.deployment(d.eventType, d.eventTime, d.deploymentId ? records.get(d.deploymentId) : undefined),
    }));
    const stored = await this.outbox.storePayloads(rendered);
    for (const d of missing) d.payload = stored.get(d.id);
  }

  /** An attempt of the dispatcher's own: its result goes to the batched writer. */
  private attempt(d: ClaimedDelivery): void {
    void this.track(d, async (signal) => this.store(await this.run(d, signal))).catch((e: unknown) =>
      this.warn("attempt", e, "webhooks: an attempt failed unexpectedly"),
    );
  }

  /** Counts `work` as an attempt in flight (its subscription's slots, stop()'s grace and abort) until it settles. */
  private track<T>(d: ClaimedDelivery, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.perSubscription.set(d.subscriptionId, (this.perSubscription.get(d.subscriptionId) ?? 0) + 1);
    const result = work(controller.signal).finally(() => {
      this.inFlight.delete(d.id);
      const n = (this.perSubscription.get(d.subscriptionId) ?? 1) - 1;
      if (n <= 0) this.perSubscription.delete(d.subscriptionId);
      else this.perSubscription.set(d.subscriptionId, n);
      // A slot is free: claim again.
      if (!this.stopped && this.started) this.tick();
    });
    this.inFlight.set(d.id, { subscriptionId: d.subscriptionId, controller, done: result.then(noop, noop) });
    return result;
  }

  /** One attempt and its result; never rejects. */
  private async run(d: ClaimedDelivery, signal: AbortSignal): Promise<AttemptResult> {
    const base = { id: d.id, attempt: d.attempts };
    try {
      const r = await this.send(d, signal);
      return { ...base, ...r, retryInMs: r.ok ? 0 : this.retryIn(d, r.error) };
    } catch (e) {
      this.warn("attempt", e, "webhooks: an attempt failed unexpectedly");
      return { ...base, ok: false, responseStatus: 0, error: "the attempt failed unexpectedly (see the server log)", retryInMs: this.retryIn(d, "") };
    }
  }

  private async send(d: ClaimedDelivery, signal: AbortSignal): Promise<{ ok: boolean; responseStatus: number; error: string }> {
    if (d.payload === undefined) return { ok: false, responseStatus: 0, error: "the delivery's body could not be rendered" };
    let secret: string;
    try {
      secret = this.secrets.open(d.secretCiphertext, d.secretKeyId, d.subscriptionId);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof SecretKeyMismatch) this.warn(`key:${d.secretKeyId}`, e, "webhooks: a subscription's secret was stored with another key; its deliveries wait");
      return { ok: false, responseStatus: 0, error: `not sent: ${message}` };
    }
    let url: URL;
    try {
      url = new URL(d.url);
    } catch {
      return { ok: false, responseStatus: 0, error: "not sent: the subscription's URL is not valid" };
    }
    const at = new Date();
    const signature = new StandardWebhook(secret).sign(d.id, at, d.payload);
    const res = await send(
      url,
      {
        "content-type": "application/json",
        "user-agent": this.userAgent,
        "webhook-id": d.id,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": signature,
      },
      d.payload,
      { timeoutMs: this.config.timeoutMs, allowPrivate: this.config.allowPrivate, signal },
    );
    if (!res.ok) this.logger.debug({ delivery: d.id, target: originOf(url), status: res.status, error: res.error }, "webhooks: attempt failed");
    return { ok: res.ok, responseStatus: res.status, error: res.error };
  }

  private retryIn(d: ClaimedDelivery, error: string): number {
    // Interrupted by a stop: due again at once, for another process or the next start.
    if (this.stopped && /^interrupted|^not attempted/.test(error)) return 0;
    return backoffMs(d.attempts, this.config.backoffMinMs, this.config.backoffMaxMs);
  }

  /** Queues a result for the writer (one statement for all queued); resolves once it is stored or given up. */
  private store(result: AttemptResult): Promise<void> {
    return new Promise<void>((stored) => {
      this.results.push({ result, stored });
      void this.flush();
    });
  }

  private flush(): Promise<void> {
    this.flushing ??= (async () => {
      try {
        while (this.results.length > 0) {
          const batch = this.results.slice(0, RESULT_BATCH);
          try {
            await this.outbox.complete(
              batch.map((b) => b.result),
              this.config.retryWindowMs,
            );
            this.recovered("complete");
          } catch (e) {
            this.warn("complete", e, "webhooks: storing attempt results failed; retrying");
            if (this.stopped) {
              // Stopping: give up on them; their leases expire and they are attempted again (same ids).
              for (const r of this.results.splice(0)) r.stored();
              return;
            }
            await sleep(Math.min(this.config.pollMs, 1_000));
            continue;
          }
          this.results.splice(0, batch.length);
          for (const b of batch) b.stored();
        }
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  private warn(key: string, e: unknown, message: string): void {
    const now = Date.now();
    const last = this.lastLogged.get(key);
    if (last !== undefined && now - last < LOG_EVERY_MS) return;
    this.lastLogged.set(key, now);
    this.logger.warn({ err: errorText(e) }, message);
  }

  private recovered(key: string): void {
    if (this.lastLogged.delete(key)) this.logger.info({ step: key }, "webhooks: working again");
  }
}

const noop = () => undefined;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

async function raceTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.then(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
