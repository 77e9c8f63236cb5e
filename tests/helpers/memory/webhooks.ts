// WebhookRepository (server/domain/webhooks.ts) in memory, and a WebhookUseCase over it, with
// what server/data/webhooks.ts and server/webhooks/setup.ts do that the handlers can observe:
// subscriptions per organization listed oldest first (insertion order, the table's seq), who
// created one and when, their environment / logical environment filters stored as ids and named
// at read time, delete taking the delivery log with it (ON DELETE CASCADE), the log newest first
// (seq) filtered by status and paged by seq. The use case gets the real secrets box (a key given
// as a string: nothing on disk), the real target check without CHAINLOOP_WEBHOOK_ALLOW_PRIVATE
// (the default: private, loopback and link-local targets are refused; names are looked up in
// DNS), and the real DeploymentUseCase.resolvePlace over a stand-in of the one SQL read it makes,
// so an unknown place is refused with the server's own messages.
// Not here: the outbox and the delivering side (fan-out, claims, attempts): nothing writes
// deliveries but addDelivery, and TestWebhook answers INTERNAL once its id is checked (it needs a
// receiver and the dispatcher: tests/integration/webhooks.test.ts). Deleting an environment or
// logical environment a subscription names is not refused (MemoryEnvironmentRepository does not
// ask).
import { randomUUID } from "node:crypto";
import type { DeploymentRepository } from "../../../server/domain/deployments.js";
import { DeploymentUseCase } from "../../../server/domain/deployments.js";
import { EnvironmentUseCase } from "../../../server/domain/environments.js";
import {
  eventsOf,
  WebhookUseCase,
  type NewWebhook,
  type Webhook,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  type WebhookOutbox,
  type WebhookRepository,
} from "../../../server/domain/webhooks.js";
import { DEFAULT_WEBHOOK_DELIVERY, leaseMsFor } from "../../../server/webhooks/dispatcher.js";
import { protoJsonPayloads } from "../../../server/webhooks/payload.js";
import { mintWebhookSecret, SecretBox } from "../../../server/webhooks/secrets.js";
import { AddressCheck } from "../../../server/webhooks/target.js";
import { memoryAudited, type MemoryAudit, type Restorable } from "./audit.js";
import type { MemoryEnvironmentRepository } from "./environments.js";

/** The CHAINLOOP_SECRETS_KEY of the in-memory use case (a test key, not a secret). */
export const MEMORY_SECRETS_KEY = "handler-tests-secrets-key-not-a-secret-0123456789";

interface Row {
  seq: bigint;
  webhook: NewWebhook;
  createdAt: Date;
  failingSince: Date | undefined;
}

interface DeliveryRow extends WebhookDelivery {
  organizationId: string;
}

export class MemoryWebhookRepository implements WebhookRepository, Restorable {
  private rows = new Map<string, Row>();
  private deliveries = new Map<string, DeliveryRow>();
  /** The tables' sequences: subscriptions' and deliveries'. */
  private seq = 0n;
  private deliverySeq = 0n;

  constructor(private readonly environments: MemoryEnvironmentRepository) {}

  save(): () => void {
    const rows = new Map(this.rows);
    const deliveries = new Map(this.deliveries);
    return () => {
      this.rows = rows;
      this.deliveries = deliveries;
    };
  }

  async create(w: NewWebhook): Promise<Webhook> {
    if (this.rows.has(w.id)) throw new Error(`duplicate key: webhook_subscriptions ${w.id}`);
    const createdBy = w.createdBy?.tokenId ? { tokenId: w.createdBy.tokenId, tokenName: w.createdBy.tokenName } : undefined;
    this.rows.set(w.id, { seq: ++this.seq, webhook: { ...w, createdBy }, createdAt: new Date(), failingSince: undefined });
    return (await this.get(w.organizationId, w.id))!;
  }

  async get(orgId: string, id: string): Promise<Webhook | undefined> {
    const row = this.rows.get(id);
    return row && row.webhook.organizationId === orgId ? this.toWebhook(row) : undefined;
  }

  async list(orgId: string): Promise<Webhook[]> {
    const mine = [...this.rows.values()].filter((r) => r.webhook.organizationId === orgId).sort((a, b) => (a.seq < b.seq ? -1 : 1));
    return Promise.all(mine.map((r) => this.toWebhook(r)));
  }

  async delete(orgId: string, id: string): Promise<boolean> {
    if ((await this.get(orgId, id)) === undefined) return false;
    this.rows.delete(id);
    for (const [key, d] of this.deliveries) if (d.webhookId === id) this.deliveries.delete(key);
    return true;
  }

  async listDeliveries(
    orgId: string,
    webhookId: string,
    status: WebhookDeliveryStatus | undefined,
    afterSeq: bigint | undefined,
    limit: number,
  ): Promise<WebhookDelivery[]> {
    return [...this.deliveries.values()]
      .filter((d) => d.organizationId === orgId && d.webhookId === webhookId)
      .filter((d) => (status === undefined || d.status === status) && (afterSeq === undefined || d.seq < afterSeq))
      .sort((a, b) => (a.seq > b.seq ? -1 : 1))
      .slice(0, limit)
      .map(publicDelivery);
  }

  async getDelivery(orgId: string, id: string): Promise<WebhookDelivery | undefined> {
    const d = this.deliveries.get(id);
    return d && d.organizationId === orgId ? publicDelivery(d) : undefined;
  }

  /** What the outbox would insert: one delivery to subscription `webhookId` (pending, no attempt, unless `fields` say otherwise). */
  addDelivery(webhookId: string, fields: Partial<Omit<WebhookDelivery, "id" | "webhookId" | "seq">> = {}): WebhookDelivery {
    const row = this.rows.get(webhookId);
    if (!row) throw new Error(`no subscription ${webhookId}: a delivery needs one (foreign key)`);
    const d: DeliveryRow = {
      eventType: "deployment.deployed",
      deploymentId: randomUUID(),
      eventTime: new Date(),
      status: "pending",
      attempts: 0,
      lastAttemptAt: undefined,
      nextAttemptAt: new Date(),
      responseStatus: 0,
      error: "",
      deliveredAt: undefined,
      ...fields,
      id: randomUUID(),
      webhookId,
      seq: ++this.deliverySeq,
      organizationId: row.webhook.organizationId,
    };
    this.deliveries.set(d.id, d);
    return publicDelivery(d);
  }

  /** The stored signing secret of a subscription: its ciphertext and key id (never the secret). */
  storedSecret(id: string): { ciphertext: string; keyId: string } | undefined {
    const row = this.rows.get(id);
    return row && { ciphertext: row.webhook.secretCiphertext, keyId: row.webhook.secretKeyId };
  }

  /** The names of the subscription's filters, joined at read time as the database does. */
  private async toWebhook(r: Row): Promise<Webhook> {
    const orgId = r.webhook.organizationId;
    const envs = await this.environments.list(orgId, { query: undefined, afterName: undefined, limit: Number.MAX_SAFE_INTEGER });
    const logical = await this.environments.listLogical(orgId);
    const nameOf = (list: Array<{ id: string; name: string }>, id: string | undefined) => (id === undefined ? "" : (list.find((x) => x.id === id)?.name ?? ""));
    return {
      id: r.webhook.id,
      url: r.webhook.url,
      events: eventsOf(r.webhook.eventMask),
      environment: nameOf(envs, r.webhook.environmentId),
      logicalEnvironment: nameOf(logical, r.webhook.logicalEnvironmentId),
      description: r.webhook.description,
      failingSince: r.failingSince,
      createdAt: r.createdAt,
      createdBy: r.webhook.createdBy && { ...r.webhook.createdBy },
    };
  }
}

const publicDelivery = ({ organizationId: _org, ...d }: DeliveryRow): WebhookDelivery => ({ ...d });

/**
 * DeploymentUseCase.resolvePlace itself, over a stand-in of the only repository read it makes
 * (resolveSlotNames: the ids of an environment and a logical environment by name, in the
 * organization), so its NotFound messages are the server's.
 */
export function memoryPlaces(environments: MemoryEnvironmentRepository): Pick<DeploymentUseCase, "resolvePlace"> {
  const slotNames: Pick<DeploymentRepository, "resolveSlotNames"> = {
    async resolveSlotNames(orgId, environment, logicalEnvironment) {
      const env = environment === "" ? undefined : await environments.findByName(orgId, environment);
      const lenv = logicalEnvironment === undefined ? undefined : (await environments.listLogical(orgId)).find((l) => l.name === logicalEnvironment);
      return { environmentId: env?.id, logicalEnvironmentId: lenv?.id };
    },
  };
  const readOnly = async (): Promise<never> => {
    throw new Error("resolvePlace only reads environments");
  };
  const environmentReads = new EnvironmentUseCase(environments, readOnly);
  return new DeploymentUseCase(slotNames as DeploymentRepository, environmentReads, {} as never);
}

/** WebhookUseCase as server/webhooks/setup.ts builds it, on `repo`, with no outbox (see the top of this file). */
export function memoryWebhookUseCase(
  repo: MemoryWebhookRepository,
  audit: MemoryAudit,
  environments: MemoryEnvironmentRepository,
): WebhookUseCase {
  const notInMemory = (what: string) => async (): Promise<never> => {
    throw new Error(`the in-memory webhooks have no outbox (${what}): use the database`);
  };
  const outbox: WebhookOutbox = {
    fanOut: notInMemory("fanOut"),
    claim: notInMemory("claim"),
    storePayloads: notInMemory("storePayloads"),
    complete: notInMemory("complete"),
    insertClaimedTest: notInMemory("insertClaimedTest"),
    insertPolicyRefused: notInMemory("insertPolicyRefused"),
  };
  return new WebhookUseCase({
    repo,
    places: memoryPlaces(environments),
    writes: memoryAudited(repo, audit),
    outbox,
    targets: new AddressCheck(DEFAULT_WEBHOOK_DELIVERY.allowPrivate),
    secrets: new SecretBox({ configured: MEMORY_SECRETS_KEY }),
    payloads: protoJsonPayloads,
    delivering: { attemptNow: notInMemory("attemptNow"), notify: () => undefined },
    leaseMs: leaseMsFor(DEFAULT_WEBHOOK_DELIVERY),
    mintSecret: mintWebhookSecret,
    newId: randomUUID,
  });
}
