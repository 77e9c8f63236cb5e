// `chainloop webhook create`: subscribes a URL to deployment events (CreateWebhook); the
// signing secret is printed once.
//
// Usage errors (exit 2, before any network call): a URL that is not http(s), an unknown event.
import { WEBHOOK_EVENT_TYPES as WEBHOOK_EVENT_NAMES, type WebhookEventType as WebhookEventName } from "../../server/shared/names.js";
import { defineCommand } from "../command.js";

/** `deployed,superseded --events stale` → the names, each once; throws the usage error for an unknown one. */
export function parseEvents(values: string[]): WebhookEventName[] {
  const names = values.flatMap((v) => String(v).split(",")).map((n) => n.trim().toLowerCase().replace(/_/g, "-")).filter((n) => n !== "");
  for (const n of names) {
    if (!(WEBHOOK_EVENT_NAMES as readonly string[]).includes(n)) {
      throw new Error(`--events: unknown event ${JSON.stringify(n.slice(0, 40))}; choose from ${WEBHOOK_EVENT_NAMES.join(", ")}`);
    }
  }
  return [...new Set(names as WebhookEventName[])];
}

export const webhookCreate = defineCommand({
  command: "create",
  describe: "Subscribe a URL to deployment events (Standard Webhooks); its signing secret is shown once",
  builder: (y) =>
    y
      .options({
        url: {
          type: "string",
          demandOption: true,
          requiresArg: true,
          describe: "Where events are POSTed: an http or https URL (private and loopback addresses only if the server allows them)",
        },
        events: {
          type: "string",
          array: true,
          requiresArg: true,
          coerce: parseEvents,
          defaultDescription: "all",
          describe: `The events to send, comma-separated or repeated: ${WEBHOOK_EVENT_NAMES.join(", ")}`,
        },
        env: { type: "string", requiresArg: true, defaultDescription: "any", describe: "Only events of this environment" },
        "logical-env": { type: "string", requiresArg: true, defaultDescription: "any", describe: "Only events of this logical environment" },
        description: { type: "string", default: "", defaultDescription: "none", describe: "Free text, at most 1024 characters" },
      })
      .check(({ url }) => {
        const protocol = URL.canParse(url) ? new URL(url).protocol : "";
        return protocol === "http:" || protocol === "https:" || `--url must be an http:// or https:// URL, got ${JSON.stringify(url.slice(0, 80))}`;
      }),
  examples: [
    ["Every event, to a chat bridge", 'chainloop webhook create --url https://hooks.example.com/chainloop --description "#deployments channel"'],
    [
      "Only what happens in production, and refusals",
      "chainloop webhook create --url https://hooks.example.com/prod --logical-env production --events deployed,rolled-back,policy-refused",
    ],
    ["As JSON, the secret in .secret, for a script that stores it", "chainloop webhook create --url https://hooks.example.com/chainloop -o json"],
  ],
  async action(args, { client, out }) {
    const [{ WebhookService, CreateWebhookResponseSchema }, { EVENT_TO_PB, eventsText, filtersText }] = await Promise.all([
      import("../../gen/proto/chainloop/v1/webhook_pb.js"),
      import("../webhook-format.js"),
    ]);
    const res = await client(WebhookService).createWebhook({
      url: args.url,
      events: (args.events ?? []).map((e) => EVENT_TO_PB[e]),
      environment: args.env ?? "",
      logicalEnvironment: args.logicalEnv ?? "",
      description: args.description,
    });
    const w = res.webhook!;
    out.changed(
      CreateWebhookResponseSchema,
      res,
      `webhook ${w.id} created: ${w.url}, events: ${eventsText(w)}, filters: ${filtersText(w)}\n${res.secret}`,
    );
    out.note(
      "chainloop: store this signing secret now (in the receiver's configuration): it is shown only once and cannot be retrieved again. " +
        "Receivers verify each delivery with it as the Standard Webhooks specification says (headers webhook-id, webhook-timestamp, " +
        "webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>), for example with the standardwebhooks libraries",
    );
  },
});
