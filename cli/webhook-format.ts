// How webhook subscriptions and their deliveries read in the CLI, shared by the webhook
// commands. Never shows a signing secret: the Webhook message has none (only
// CreateWebhookResponse carries it, once).
//
// Loaded only from inside actions (await import()): it imports generated code at runtime.
import {
  WebhookDeliveryStatus,
  WebhookEventType,
  WebhookState,
  type Webhook,
  type WebhookDelivery,
} from "../gen/proto/chainloop/v1/webhook_pb.js";
import { WEBHOOK_DELIVERY_STATUS_PB, WEBHOOK_EVENT_TYPE_PB } from "../server/shared/proto.js";
import { ago, relative, type Cell, type Column } from "./output.js";

/** The --events names (server/shared/names.ts), as the API's enum values. */
export const EVENT_TO_PB = WEBHOOK_EVENT_TYPE_PB.toPb;

/** The --status values of `webhook deliveries`, as the API's enum values. */
export const DELIVERY_STATUS_TO_PB = WEBHOOK_DELIVERY_STATUS_PB.toPb;

function eventName(e: WebhookEventType): string {
  return WEBHOOK_EVENT_TYPE_PB.nameOf(e) ?? `unknown(${e})`;
}

/** `deployed,superseded`, or `all` (the API's empty list). */
export function eventsText(w: Webhook): string {
  return w.events.length === 0 ? "all" : w.events.map(eventName).join(",");
}

/** `k8s-east/production`, `k8s-east (any logical env)`, `production (any environment)`, or `none`. */
export function filtersText(w: Webhook): string {
  if (w.environment && w.logicalEnvironment) return `${w.environment}/${w.logicalEnvironment}`;
  if (w.environment) return `${w.environment} (any logical env)`;
  if (w.logicalEnvironment) return `${w.logicalEnvironment} (any environment)`;
  return "none";
}

export function stateName(s: WebhookState): string {
  return s === WebhookState.HEALTHY ? "healthy" : s === WebhookState.FAILING ? "failing" : `unknown(${s})`;
}

export function deliveryStatusName(s: WebhookDeliveryStatus): string {
  return WEBHOOK_DELIVERY_STATUS_PB.nameOf(s) ?? `unknown(${s})`;
}

export const WEBHOOK_COLUMNS: Column<Webhook>[] = [
  { header: "ID", value: (w) => w.id },
  { header: "URL", value: (w) => w.url, maxWidth: 60 },
  { header: "EVENTS", value: (w) => eventsText(w) },
  { header: "FILTERS", value: (w) => filtersText(w) },
  { header: "STATE", value: (w) => stateName(w.state) },
  { header: "FAILING SINCE", value: (w) => w.failingSinceTime ?? "-" },
  { header: "DESCRIPTION", value: (w) => w.description || "-", maxWidth: 40 },
];

/** `webhook get`'s `Label: value` lines. */
export function webhookFields(w: Webhook): [label: string, value: Cell][] {
  return [
    ["ID", w.id],
    ["URL", w.url],
    ["Events", eventsText(w)],
    ["Filters", filtersText(w)],
    ["Description", w.description || "-"],
    ["State", stateName(w.state)],
    ...(w.failingSinceTime ? [["Failing since", w.failingSinceTime] as [string, Cell]] : []),
    ["Created", w.createTime],
    ["Created by", w.createdBy?.tokenName || w.createdBy?.tokenId || "-"],
  ];
}

/** `200 (5s ago)`, `no answer (5s ago)`, or `-` before the first attempt. */
function lastResponse(d: WebhookDelivery): string {
  if (d.attempts === 0 || !d.lastAttemptTime) return "-";
  return `${d.responseStatus || "no answer"} (${ago(d.lastAttemptTime)})`;
}

export const DELIVERY_COLUMNS: Column<WebhookDelivery>[] = [
  { header: "ID", value: (d) => d.id },
  { header: "EVENT", value: (d) => d.eventType },
  { header: "DEPLOYMENT", value: (d) => d.deploymentId || "-" },
  { header: "STATUS", value: (d) => deliveryStatusName(d.status) },
  { header: "ATTEMPTS", value: (d) => String(d.attempts) },
  { header: "LAST RESPONSE", value: (d) => lastResponse(d) },
  { header: "ERROR", value: (d) => d.error || "-", maxWidth: 60 },
  {
    header: "NEXT ATTEMPT",
    value: (d) => (d.status === WebhookDeliveryStatus.PENDING && d.nextAttemptTime ? relative(d.nextAttemptTime) : "-"),
  },
];

export function delivered(d: WebhookDelivery): boolean {
  return d.status === WebhookDeliveryStatus.DELIVERED;
}

/** What `webhook test` prints: how the attempt went. */
export function testResultLine(d: WebhookDelivery): string {
  if (delivered(d)) return `delivered: the receiver answered ${d.responseStatus} to ${d.eventType} (delivery ${d.id})`;
  const answer = d.responseStatus ? `answered ${d.responseStatus}` : "gave no answer";
  const retry =
    d.status === WebhookDeliveryStatus.PENDING
      ? `; it is retried${d.nextAttemptTime ? ` (next attempt ${relative(d.nextAttemptTime)})` : ""}`
      : "";
  return `not delivered: the receiver ${answer}${d.error ? `: ${d.error}` : ""} (delivery ${d.id}, ${deliveryStatusName(d.status)}${retry})`;
}
