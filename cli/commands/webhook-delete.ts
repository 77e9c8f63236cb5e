// `chainloop webhook delete ID`: unsubscribes; pending deliveries are dropped, the log deleted.
import { defineCommand } from "../command.js";

export const webhookDelete = defineCommand({
  command: "delete [id]",
  aliases: ["rm"],
  describe: "Delete a webhook subscription: nothing more is sent to it, and its delivery log is deleted",
  builder: (y) =>
    y.positional("id", { type: "string", describe: "The subscription's ID (may also be given as --id); webhook list shows them" }).demandOption("id"),
  examples: [["Unsubscribe", "chainloop webhook delete --id 0b5c3a52-8f1e-4c0e-9d7a-2f6a1f0e9c11"]],
  async action(args, { client, out }) {
    const { WebhookService } = await import("../../gen/proto/chainloop/v1/webhook_pb.js");
    await client(WebhookService).deleteWebhook({ id: args.id });
    out.done(`webhook ${args.id} deleted`);
  },
});
