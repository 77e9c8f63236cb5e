// Webhooks (WebhookService): subscriptions of an organization to its deployment events, and the
// transactional outbox that delivers them (Standard Webhooks: signed POSTs, at least once).
//
// The rules live here: what a subscription may name (an http(s) URL without credentials or a
// fragment, whose host resolves to public addresses unless the operator allows private ones;
// event types; an existing environment / logical environment), that its signing secret is shown
// once and kept only encrypted, and which events reach it. Events are written to the outbox
// (webhook_deliveries) by the database in the transaction that makes the change, read from the
// change log by a fan-out step (server/data/webhooks.ts), or here for events that change no record
// (policy refusals, test events). Sending, retrying and the HTTP side are server/webhooks/.
import type { Audited } from "./audit.js";
import type { Actor } from "./caller.js";
import type { ArtifactInput, ArtifactKind, Deployment, DeploymentUseCase } from "./deployments.js";
import { FailedPrecondition, InvalidArgument, NotFound } from "./errors.js";
import { parsePageRequest, toPage, type Page, type PageRequest } from "./pagination.js";
import type { PolicyViolation } from "./policies.js";
import { requireDescription, requireName, requireUuid } from "./validation.js";
import { WEBHOOK_EVENT_TYPES, type WebhookDeliveryStatus, type WebhookEventType } from "../shared/names.js";

export { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES, type WebhookDeliveryStatus, type WebhookEventType } from "../shared/names.js";

/** One bit per event type in a subscription's `event_mask` (schema.prisma documents the same bits). */
export const EVENT_BITS: Record<WebhookEventType, number> = {
  deployed: 1,
  superseded: 2,
  decommissioned: 4,
  "rolled-back": 8,
  stale: 16,
  "policy-refused": 32,
};
export const ALL_EVENTS_MASK = 63;

/** The `type` of a delivery's WebhookEvent body, and its delivery log's event_type. */
export const EVENT_TYPE_NAMES: Record<WebhookEventType, string> = {
  deployed: "deployment.deployed",
  superseded: "deployment.superseded",
  decommissioned: "deployment.decommissioned",
  "rolled-back": "deployment.rolled_back",
  stale: "deployment.stale",
  "policy-refused": "deployment.policy_refused",
};
export const TEST_EVENT_TYPE = "webhook.test";

export const WEBHOOK_URL_MAX = 2048;

export interface Webhook {
  id: string;
  url: string;
  /** The event types sent; empty means all of them. */
  events: WebhookEventType[];
  /** Only events of this environment / logical environment; "" means any. */
  environment: string;
  logicalEnvironment: string;
  description: string;
  /** Set while a delivery to it was given up and none has succeeded since. */
  failingSince: Date | undefined;
  createdAt: Date;
  createdBy: Actor | undefined;
}

export interface NewWebhook {
  id: string;
  organizationId: string;
  url: string;
  eventMask: number;
  environmentId: string | undefined;
  logicalEnvironmentId: string | undefined;
  description: string;
  /** The signing secret, encrypted (WebhookSecrets.seal), and the id of the key it was encrypted with. */
  secretCiphertext: string;
  secretKeyId: string;
  createdBy: Actor | undefined;
}

/** One event to one subscription, and how sending it went (the delivery log). */
export interface WebhookDelivery {
  /** The `webhook-id` header of every attempt. */
  id: string;
  webhookId: string;
  eventType: string;
  deploymentId: string | undefined;
  eventTime: Date;
  status: WebhookDeliveryStatus;
  attempts: number;
  lastAttemptAt: Date | undefined;
  /** Not before this time (pending only; during an attempt, the end of its lease). */
  nextAttemptAt: Date | undefined;
  responseStatus: number;
  error: string;
  deliveredAt: Date | undefined;
  /** Insertion order (newest first, paging keyset). */
  seq: bigint;
}

/**
 * A delivery claimed for one attempt by this process (its lease runs until it is completed or
 * expires), with what sending it needs.
 */
export interface ClaimedDelivery {
  id: string;
  subscriptionId: string;
  organizationId: string;
  eventType: string;
  deploymentId: string | undefined;
  eventTime: Date;
  /** The body, once rendered (at the first attempt, or at insertion for events without a record). */
  payload: string | undefined;
  /** Attempts so far, this one included: also the fencing token of its completion. */
  attempts: number;
  createdAt: Date;
  url: string;
  secretCiphertext: string;
  secretKeyId: string;
}

/** How one attempt went, to be stored if the delivery was not claimed again meanwhile. */
export interface AttemptResult {
  id: string;
  /** The claim's attempt number (ClaimedDelivery.attempts). */
  attempt: number;
  ok: boolean;
  /** The HTTP status; 0 when there was none. */
  responseStatus: number;
  /** Why it failed ("" when it did not): short, without the response body or secrets. */
  error: string;
  /** When it failed: the next attempt in this many ms, unless the retry window has passed. */
  retryInMs: number;
}

/** Implemented by server/data/webhooks.ts on Prisma (the client, or a transaction's). */
export interface WebhookRepository {
  create(w: NewWebhook): Promise<Webhook>;
  get(orgId: string, id: string): Promise<Webhook | undefined>;
  /** Oldest first. */
  list(orgId: string): Promise<Webhook[]>;
  /** Deletes it with its deliveries (cascade); false when there was none. */
  delete(orgId: string, id: string): Promise<boolean>;
  /** Newest first, after `afterSeq` (exclusive) when given. */
  listDeliveries(
    orgId: string,
    webhookId: string,
    status: WebhookDeliveryStatus | undefined,
    afterSeq: bigint | undefined,
    limit: number,
  ): Promise<WebhookDelivery[]>;
  getDelivery(orgId: string, id: string): Promise<WebhookDelivery | undefined>;
}

/** The outbox on raw SQL (server/data/webhooks.ts): what the use case and the dispatcher write and claim. */
export interface WebhookOutbox {
  /**
   * Turns the change log rows committed since the cursor into deliveries, and stale records
   * into `deployment.stale` ones, under the fan-out lock. Undefined when another process holds
   * the lock (it does the work).
   */
  fanOut(staleTolerance: number): Promise<{ inserted: number; hasSubscriptions: boolean } | undefined>;
  /**
   * Claims up to `limit` due deliveries (oldest due first) for one attempt each: at most
   * `perSubscription` per subscription counting `busy` (attempts this process has in flight per
   * subscription), skipping rows another process is claiming.
   */
  claim(limit: number, perSubscription: number, busy: Map<string, number>, leaseMs: number): Promise<ClaimedDelivery[]>;
  /** Keeps each rendered body unless one is stored already; answers the stored bodies by id. */
  storePayloads(items: Array<{ id: string; payload: string }>): Promise<Map<string, string>>;
  /** Stores attempts' results; a delivery past its retry window fails and marks its subscription failing. */
  complete(results: AttemptResult[], retryWindowMs: number): Promise<void>;
  /** One `webhook.test` delivery for the subscription, inserted already claimed (lease). */
  insertClaimedTest(orgId: string, webhookId: string, at: Date, payload: string, leaseMs: number): Promise<ClaimedDelivery | undefined>;
  /** One pending delivery per subscription that takes this refusal; answers how many. */
  insertPolicyRefused(e: PolicyRefusalEvent, payload: string): Promise<number>;
}

/** Encryption of signing secrets at rest (server/webhooks/secrets.ts). */
export interface WebhookSecrets {
  /** The id of the key new secrets are encrypted with; throws FailedPrecondition when no key can be had. */
  keyId(): string;
  /** The secret encrypted for the subscription `subscriptionId` (bound to it). */
  seal(secret: string, subscriptionId: string): string;
}

/** Where a subscription may point (server/webhooks/target.ts). */
export interface WebhookTargets {
  /** Why the URL's host may not be sent to (a private address, no address); undefined when it may. */
  refusal(url: URL): Promise<string | undefined>;
}

/** WebhookEvent bodies for the events rendered when they happen (server/webhooks/payload.ts). */
export interface WebhookPayloads {
  policyRefused(e: PolicyRefusalEvent): string;
  test(webhookId: string, at: Date): string;
  /** A record's event, as it reads at the first attempt (`deployment` undefined: the record is gone). */
  deployment(eventType: string, at: Date, deployment: Deployment | undefined): string;
}

/** The delivering side (server/webhooks/dispatcher.ts). */
export interface WebhookDelivering {
  /** Attempts a delivery claimed by this process now; resolves once its result is stored. */
  attemptNow(d: ClaimedDelivery): Promise<void>;
  /** New deliveries or subscriptions were written: look for work soon. */
  notify(): void;
}

/** A record refused by a promotion policy (there is no record to read later: the payload is rendered at once). */
export interface PolicyRefusalEvent {
  organizationId: string;
  environment: string;
  logicalEnvironment: string;
  name: string;
  kind: ArtifactKind;
  artifact: ArtifactInput;
  violations: PolicyViolation[];
  actor: Actor | undefined;
  at: Date;
}

/** What the record path tells about events that change no record. */
export interface WebhookEvents {
  policyRefused(e: PolicyRefusalEvent): Promise<void>;
}

export interface CreateWebhookInput {
  url: string;
  /** Empty: all event types. */
  events: WebhookEventType[];
  environment: string;
  logicalEnvironment: string;
  description: string;
}

export interface ListDeliveriesInput extends PageRequest {
  webhookId: string;
  status: WebhookDeliveryStatus | undefined;
}

export interface WebhookUseCaseDeps {
  repo: WebhookRepository;
  /** Filters by name to ids, NotFound naming what is missing (DeploymentUseCase.resolvePlace, as every read that takes a place). */
  places: Pick<DeploymentUseCase, "resolvePlace">;
  /** Creation and deletion, each with its audit entry in one transaction. */
  writes: Audited<WebhookRepository>;
  outbox: WebhookOutbox;
  targets: WebhookTargets;
  secrets: WebhookSecrets;
  payloads: WebhookPayloads;
  delivering: WebhookDelivering;
  /** How long a claim holds a delivery (an attempt's timeout and a margin). */
  leaseMs: number;
  /** Mints a secret; `whsec_` + base64 of 32 random bytes (server/webhooks/secrets.ts). */
  mintSecret: () => string;
  newId: () => string;
  now?: () => Date;
}

export class WebhookUseCase implements WebhookEvents {
  private readonly now: () => Date;

  constructor(private readonly deps: WebhookUseCaseDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Subscribes; answers the signing secret, the only time it is available. */
  async create(orgId: string, input: CreateWebhookInput, actor?: Actor): Promise<{ webhook: Webhook; secret: string }> {
    const url = requireWebhookUrl(input.url);
    const description = requireDescription("description", input.description);
    const eventMask = maskOf(input.events);
    const environment = input.environment === "" ? "" : requireName("environment", input.environment);
    const logicalEnvironment = input.logicalEnvironment === "" ? "" : requireName("logical_environment", input.logicalEnvironment);
    const place = await this.deps.places.resolvePlace(orgId, environment || undefined, logicalEnvironment || undefined);
    const refusal = await this.deps.targets.refusal(url);
    if (refusal) throw new InvalidArgument(refusal);

    const id = this.deps.newId();
    const secret = this.deps.mintSecret();
    const secretKeyId = this.deps.secrets.keyId();
    const secretCiphertext = this.deps.secrets.seal(secret, id);
    const webhook = await this.deps.writes(async ({ repo, audit }) => {
      const created = await repo.create({
        id,
        organizationId: orgId,
        url: url.href,
        eventMask,
        environmentId: place.environmentId,
        logicalEnvironmentId: place.logicalEnvironmentId,
        description,
        secretCiphertext,
        secretKeyId,
        createdBy: actor,
      });
      await audit.append(orgId, actor, { action: "webhook.create", resourceType: "webhook", resourceName: id });
      return created;
    });
    this.deps.delivering.notify();
    return { webhook, secret };
  }

  async get(orgId: string, id: string): Promise<Webhook> {
    const hook = await this.deps.repo.get(orgId, requireUuid(id, "a webhook id"));
    if (!hook) throw webhookNotFound(id);
    return hook;
  }

  list(orgId: string): Promise<Webhook[]> {
    return this.deps.repo.list(orgId);
  }

  /** Unsubscribes: its pending deliveries are dropped and its delivery log deleted. */
  async delete(orgId: string, id: string, actor?: Actor): Promise<void> {
    const webhookId = requireUuid(id, "a webhook id");
    await this.deps.writes(async ({ repo, audit }) => {
      if (!(await repo.delete(orgId, webhookId))) throw webhookNotFound(id);
      await audit.append(orgId, actor, { action: "webhook.delete", resourceType: "webhook", resourceName: webhookId });
    });
  }

  async listDeliveries(orgId: string, input: ListDeliveriesInput): Promise<Page<WebhookDelivery>> {
    const hook = await this.get(orgId, input.webhookId);
    const page = parsePageRequest(input, { webhookId: hook.id, status: input.status ?? "" }, ["digits"]);
    const after = page.after ? BigInt(page.after[0] as string) : undefined;
    const rows = await this.deps.repo.listDeliveries(orgId, hook.id, input.status, after, page.limit + 1);
    return toPage(rows, page, (d) => [d.seq.toString()]);
  }

  /**
   * Sends a `webhook.test` event to the subscription now, whatever its filters: the delivery is
   * inserted already claimed by this process, attempted at once, and answered as the log has it
   * after the attempt (pending with the error when it failed: it is retried like any other).
   */
  async test(orgId: string, id: string): Promise<WebhookDelivery> {
    const hook = await this.get(orgId, id);
    const at = this.now();
    const claimed = await this.deps.outbox.insertClaimedTest(orgId, hook.id, at, this.deps.payloads.test(hook.id, at), this.deps.leaseMs);
    if (!claimed) throw webhookNotFound(id); // deleted meanwhile
    await this.deps.delivering.attemptNow(claimed);
    const delivery = await this.deps.repo.getDelivery(orgId, claimed.id);
    if (!delivery) throw webhookNotFound(id);
    return delivery;
  }

  /**
   * A record refused by a promotion policy: one delivery per subscription that takes
   * `deployment.policy_refused` for that place, in one statement, with the body rendered now.
   */
  async policyRefused(e: PolicyRefusalEvent): Promise<void> {
    const inserted = await this.deps.outbox.insertPolicyRefused(e, this.deps.payloads.policyRefused(e));
    if (inserted > 0) this.deps.delivering.notify();
  }
}

/** The event mask of a list of event types; empty means all. */
export function maskOf(events: WebhookEventType[]): number {
  if (events.length === 0) return ALL_EVENTS_MASK;
  let mask = 0;
  for (const e of events) {
    const bit = EVENT_BITS[e];
    if (bit === undefined) throw new InvalidArgument(`event type ${JSON.stringify(e)} is not known; one of ${WEBHOOK_EVENT_TYPES.join(", ")}`);
    mask |= bit;
  }
  return mask;
}

/** The event types of a mask; all of them is said as none (empty means all). */
export function eventsOf(mask: number): WebhookEventType[] {
  if ((mask & ALL_EVENTS_MASK) === ALL_EVENTS_MASK) return [];
  return WEBHOOK_EVENT_TYPES.filter((t) => (mask & EVENT_BITS[t]) !== 0);
}

/**
 * A subscription's URL: http or https, at most WEBHOOK_URL_MAX characters, no credentials, no
 * fragment. Messages never repeat the URL (it may itself carry a secret): only its scheme, host
 * and port, which originOf gives.
 */
export function requireWebhookUrl(raw: string): URL {
  if (raw === "") throw new InvalidArgument("url is required: the http:// or https:// address events are POSTed to");
  if (raw.length > WEBHOOK_URL_MAX) {
    throw new InvalidArgument(`url is ${raw.length} characters long; the limit is ${WEBHOOK_URL_MAX}`);
  }
  if (/[\u0000-\u0020\u007f]/.test(raw)) throw new InvalidArgument("url must not contain spaces or control characters");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidArgument("url is not a valid absolute URL; expected something like https://hooks.example.com/chainloop");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidArgument(`url must be an http:// or https:// URL, not ${url.protocol}//…`);
  }
  if (url.username !== "" || url.password !== "" || /^[a-z]+:\/\/[^/?#]*@/i.test(raw)) {
    throw new InvalidArgument(
      `url must not carry credentials (user:password@ in ${originOf(url)}); receivers authenticate deliveries by their signature`,
    );
  }
  if (raw.includes("#")) throw new InvalidArgument("url must not have a fragment (#…): it is never sent to the receiver");
  if (url.hostname === "") throw new InvalidArgument("url has no host");
  // As stored and sent: WHATWG normalization (percent-encoding) may lengthen it.
  if (url.href.length > WEBHOOK_URL_MAX) {
    throw new InvalidArgument(`url is ${url.href.length} characters long once normalized; the limit is ${WEBHOOK_URL_MAX}`);
  }
  return url;
}

/** scheme://host:port of a URL: what logs and errors may show of it. */
export function originOf(url: URL): string {
  const port = url.port !== "" ? url.port : url.protocol === "https:" ? "443" : "80";
  return `${url.protocol}//${url.hostname}:${port}`;
}

export function webhookNotFound(id: string): NotFound {
  return new NotFound(`webhook ${id} not found; list them with: chainloop webhook list`);
}

/** No key to encrypt or decrypt signing secrets with (server/webhooks/secrets.ts throws it). */
export function secretsKeyUnavailable(why: string): FailedPrecondition {
  return new FailedPrecondition(
    `webhook secrets cannot be encrypted: ${why}; set CHAINLOOP_SECRETS_KEY (32 or more printable characters, the same in every server process)`,
  );
}
