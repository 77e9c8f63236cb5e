// `chainloop webhook get ID`: one webhook subscription in full. Never its secret.
import { defineCommand } from "../command.js";

export const webhookGet = defineCommand({
  command: "get [id]",
  aliases: ["describe"],
  describe: "Show one webhook subscription (never its secret)",
  builder: (y) =>
    y.positional("id", { type: "string", describe: "The subscription's ID (may also be given as --id); webhook list shows them" }).demandOption("id"),
  examples: [["Show a subscription, as JSON", "chainloop webhook get 0b5c3a52-8f1e-4c0e-9d7a-2f6a1f0e9c11 -o json"]],
  async action(args, { client, out }) {
    const [{ WebhookService, WebhookSchema }, { webhookFields }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/webhook_pb.js"),
      import("../webhook-format.js"),
    ]);
    const { webhook } = await client(WebhookService).getWebhook({ id: args.id });
    out.details(WebhookSchema, webhook!, webhookFields(webhook!));
  },
});
