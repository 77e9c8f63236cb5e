// Webhooks' composition (server/wiring.ts calls it): the use case behind WebhookService and the
// record path's policy refusals, and the dispatcher that delivers (main.ts starts and stops it).
import { randomUUID } from "node:crypto";
import type { Database } from "../data/client.js";
import { audited } from "../data/transactions.js";
import { PrismaWebhookRepository, SqlWebhookOutbox } from "../data/webhooks.js";
import { WebhookUseCase, type WebhookUseCaseDeps } from "../domain/webhooks.js";
import { createLogger, type Logger } from "../log.js";
import { DEFAULT_WEBHOOK_DELIVERY, leaseMsFor, WebhookDispatcher, type DeploymentReader, type WebhookDeliveryConfig } from "./dispatcher.js";
import { protoJsonPayloads } from "./payload.js";
import { mintWebhookSecret, SecretBox } from "./secrets.js";
import { AddressCheck } from "./target.js";

export interface WebhookOptions extends Partial<WebhookDeliveryConfig> {
  /** CHAINLOOP_SECRETS_KEY; unset: <dataDir>/secrets.key (generated once). */
  secretsKey?: string;
  /** Without it (and without secretsKey) the process uses a random key of its own: tests only. */
  dataDir?: string;
  logger?: Logger;
}

export interface Webhooks {
  useCase: WebhookUseCase;
  dispatcher: WebhookDispatcher;
}

export function createWebhooks(
  db: Database,
  deployments: DeploymentReader,
  places: WebhookUseCaseDeps["places"],
  opts: WebhookOptions = {},
): Webhooks {
  const { secretsKey, dataDir, logger = createLogger("silent"), ...given } = opts;
  const config: WebhookDeliveryConfig = { ...DEFAULT_WEBHOOK_DELIVERY, ...definedOnly(given) };
  const secrets = new SecretBox({ configured: secretsKey, dataDir, logger });
  const outbox = new SqlWebhookOutbox(db.sql);
  const dispatcher = new WebhookDispatcher(outbox, deployments, protoJsonPayloads, secrets, config, logger);
  const useCase = new WebhookUseCase({
    repo: new PrismaWebhookRepository(db.prisma),
    places,
    writes: audited(db.prisma, (tx) => new PrismaWebhookRepository(tx)),
    outbox,
    targets: new AddressCheck(config.allowPrivate),
    secrets,
    payloads: protoJsonPayloads,
    delivering: dispatcher,
    leaseMs: leaseMsFor(config),
    mintSecret: mintWebhookSecret,
    newId: randomUUID,
  });
  return { useCase, dispatcher };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
