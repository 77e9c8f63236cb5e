// `chainloop webhook delete ID`: unsubscribes; pending deliveries are dropped, the log deleted.
import { byId, defineDeleteCommand } from "../delete-command.js";

export const webhookDelete = defineDeleteCommand({
  noun: "webhook",
  describe: "Delete a webhook subscription: nothing more is sent to it, and its delivery log is deleted",
  target: byId("The subscription's ID (may also be given as --id); webhook list shows them"),
  examples: [["Unsubscribe", "chainloop webhook delete --id 0b5c3a52-8f1e-4c0e-9d7a-2f6a1f0e9c11"]],
  service: async () => (await import("../../gen/proto/chainloop/v1/webhook_pb.js")).WebhookService,
  remove: (webhooks, id) => webhooks.deleteWebhook({ id }),
});
