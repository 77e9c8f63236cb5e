// WebhookService: proto ⇄ domain mapping only.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  WebhookDeliverySchema,
  WebhookEventType as EventTypePb,
  WebhookSchema,
  WebhookService,
  WebhookState,
  type Webhook as WebhookPb,
  type WebhookDelivery as WebhookDeliveryPb,
} from "../../gen/proto/chainloop/v1/webhook_pb.js";
import { InvalidArgument } from "../domain/errors.js";
import type { Webhook, WebhookDelivery, WebhookEventType, WebhookUseCase } from "../domain/webhooks.js";
import { callerOf } from "../interceptors/caller.js";
import { actorToPb } from "./api-token.js";
import { enumFromPb } from "./enums.js";
import { timestampOrUndefined as ts, WEBHOOK_DELIVERY_STATUS_PB, WEBHOOK_EVENT_TYPE_PB } from "../shared/proto.js";

const EVENT_NAMES = WEBHOOK_EVENT_TYPE_PB.pbNames;

function eventsFromPb(events: EventTypePb[]): WebhookEventType[] {
  return events.map((e, i) => {
    const type = enumFromPb(WEBHOOK_EVENT_TYPE_PB, e, `events[${i}] ${e} is not a known webhook event type (${EVENT_NAMES})`);
    if (type === undefined) {
      throw new InvalidArgument(`events[${i}] is WEBHOOK_EVENT_TYPE_UNSPECIFIED; name an event type (${EVENT_NAMES}) or leave events empty for all of them`);
    }
    return type;
  });
}

export function webhookToPb(w: Webhook): WebhookPb {
  return create(WebhookSchema, {
    id: w.id,
    url: w.url,
    events: w.events.map((e) => WEBHOOK_EVENT_TYPE_PB.toPb[e]),
    environment: w.environment,
    logicalEnvironment: w.logicalEnvironment,
    description: w.description,
    state: w.failingSince ? WebhookState.FAILING : WebhookState.HEALTHY,
    failingSinceTime: ts(w.failingSince),
    createTime: timestampFromDate(w.createdAt),
    createdBy: actorToPb(w.createdBy),
  });
}

export function webhookDeliveryToPb(d: WebhookDelivery): WebhookDeliveryPb {
  return create(WebhookDeliverySchema, {
    id: d.id,
    webhookId: d.webhookId,
    eventType: d.eventType,
    deploymentId: d.deploymentId ?? "",
    eventTime: timestampFromDate(d.eventTime),
    status: WEBHOOK_DELIVERY_STATUS_PB.toPb[d.status],
    attempts: d.attempts,
    lastAttemptTime: ts(d.lastAttemptAt),
    nextAttemptTime: d.status === "pending" ? ts(d.nextAttemptAt) : undefined,
    responseStatus: d.responseStatus,
    error: d.error,
    deliveredTime: ts(d.deliveredAt),
  });
}

export function webhookHandlers(webhooks: WebhookUseCase): ServiceImpl<typeof WebhookService> {
  return {
    async createWebhook(req, ctx) {
      const caller = callerOf(ctx);
      const { webhook, secret } = await webhooks.create(
        caller.organizationId,
        {
          url: req.url,
          events: eventsFromPb(req.events),
          environment: req.environment,
          logicalEnvironment: req.logicalEnvironment,
          description: req.description,
        },
        caller,
      );
      return { webhook: webhookToPb(webhook), secret };
    },
    async getWebhook(req, ctx) {
      return { webhook: webhookToPb(await webhooks.get(callerOf(ctx).organizationId, req.id)) };
    },
    async listWebhooks(_req, ctx) {
      return { webhooks: (await webhooks.list(callerOf(ctx).organizationId)).map(webhookToPb) };
    },
    async deleteWebhook(req, ctx) {
      const caller = callerOf(ctx);
      await webhooks.delete(caller.organizationId, req.id, caller);
      return {};
    },
    async listWebhookDeliveries(req, ctx) {
      const page = await webhooks.listDeliveries(callerOf(ctx).organizationId, {
        webhookId: req.webhookId,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        status: enumFromPb(WEBHOOK_DELIVERY_STATUS_PB, req.status, `status ${req.status} is not a known delivery status (${WEBHOOK_DELIVERY_STATUS_PB.pbNames})`),
      });
      return { deliveries: page.items.map(webhookDeliveryToPb), nextPageToken: page.nextPageToken };
    },
    async testWebhook(req, ctx) {
      return { delivery: webhookDeliveryToPb(await webhooks.test(callerOf(ctx).organizationId, req.id)) };
    },
  };
}
