// `chainloop webhook list`: the organization's webhook subscriptions, oldest first. Never a secret.
import { defineCommand } from "../command.js";

export const webhookList = defineCommand({
  command: "list",
  aliases: ["ls"],
  describe: "List webhook subscriptions (never their secrets): URL, events, filters, and whether deliveries are failing",
  builder: (y) => y,
  examples: [
    ["Every subscription", "chainloop webhook list"],
    ["Every subscription, as a JSON array", "chainloop webhook list -o json"],
  ],
  async action(args, { client, out }) {
    const [{ WebhookService, WebhookSchema }, { WEBHOOK_COLUMNS }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/webhook_pb.js"),
      import("../webhook-format.js"),
    ]);
    const { webhooks } = await client(WebhookService).listWebhooks({});
    out.list(WebhookSchema, webhooks, WEBHOOK_COLUMNS);
  },
});
