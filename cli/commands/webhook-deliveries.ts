// `chainloop webhook deliveries ID`: the delivery log of one subscription, newest first, a page
// at a time: what was sent, how often, what the receiver answered, and when the next retry is.
import { defineCommand } from "../command.js";
import { fetchPages, limitProblem, morePagesNote, PAGING_FLAGS, pagingOptions } from "../paging.js";
import { WEBHOOK_DELIVERY_STATUSES as STATUSES } from "../../server/shared/names.js";

export const webhookDeliveries = defineCommand({
  command: "deliveries [id]",
  describe: "List the deliveries of a webhook subscription, newest first: status, attempts, the last response and the next retry",
  builder: (y) =>
    y
      .positional("id", { type: "string", describe: "The subscription's ID (may also be given as --id); webhook list shows them" })
      .demandOption("id")
      .options({
        status: {
          choices: STATUSES,
          requiresArg: true,
          coerce: (v: string) => String(v).toLowerCase() as (typeof STATUSES)[number],
          defaultDescription: "any",
          describe: "Only deliveries with this status (pending: waiting for an attempt or a retry; failed: given up after 24 h)",
        },
        ...pagingOptions("Deliveries"),
      })
      .group(["status", ...PAGING_FLAGS], "Options:")
      .check(({ limit }) => limitProblem(limit) ?? true),
  examples: [
    ["What was sent to a subscription lately", "chainloop webhook deliveries 0b5c3a52-8f1e-4c0e-9d7a-2f6a1f0e9c11"],
    ["Deliveries that gave up, all of them, as JSON", "chainloop webhook deliveries --id 0b5c3a52-8f1e-4c0e-9d7a-2f6a1f0e9c11 --status failed --all -o json"],
  ],
  async action(args, { client, out }) {
    const [{ WebhookService, WebhookDeliverySchema }, { DELIVERY_COLUMNS, DELIVERY_STATUS_TO_PB }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/webhook_pb.js"),
      import("../webhook-format.js"),
    ]);
    const webhooks = client(WebhookService);
    const { rows, nextPageToken } = await fetchPages(args, async (pageSize, pageToken) => {
      const page = await webhooks.listWebhookDeliveries({
        webhookId: args.id,
        status: args.status ? DELIVERY_STATUS_TO_PB[args.status] : undefined,
        pageSize,
        pageToken,
      });
      return { rows: page.deliveries, nextPageToken: page.nextPageToken };
    });
    out.list(WebhookDeliverySchema, rows, DELIVERY_COLUMNS);
    if (nextPageToken) out.note(morePagesNote("deliveries", nextPageToken));
  },
});
