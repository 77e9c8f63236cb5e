// `chainloop webhook test ID`: sends a `webhook.test` event to the subscription now and prints
// how the attempt went. Exit 1 when it was not delivered (the delivery stays in the log and is
// retried like any other).
import { defineCommand } from "../command.js";

const EXIT_FAILURE = 1;

export const webhookTest = defineCommand({
  command: "test [id]",
  describe: "Send a test event to a webhook subscription now and show the receiver's answer (exit 1 when it was not delivered)",
  builder: (y) =>
    y.positional("id", { type: "string", describe: "The subscription's ID (may also be given as --id); webhook list shows them" }).demandOption("id"),
  examples: [
    ["Check that a receiver gets events and verifies their signature", "chainloop webhook test 0b5c3a52-8f1e-4c0e-9d7a-2f6a1f0e9c11"],
    ["The attempt's delivery record, as JSON", "chainloop webhook test --id 0b5c3a52-8f1e-4c0e-9d7a-2f6a1f0e9c11 -o json"],
  ],
  exitCodes: ["  (1 also when the test event was sent but not delivered: the receiver did not answer 2xx)"],
  async action(args, { client, out }) {
    const [{ WebhookService, WebhookDeliverySchema }, { delivered, testResultLine }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/webhook_pb.js"),
      import("../webhook-format.js"),
    ]);
    const { delivery } = await client(WebhookService).testWebhook({ id: args.id });
    const d = delivery!;
    out.changed(WebhookDeliverySchema, d, testResultLine(d));
    if (!delivered(d)) {
      out.note(`chainloop: the test event was not delivered${d.error ? `: ${d.error.replace(/[\u0000-\u001f\u007f]+/g, " ")}` : ""}`);
      process.exitCode = EXIT_FAILURE;
    }
  },
});
