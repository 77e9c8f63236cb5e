// WebhookService through the real routes and interceptors, on in-memory repositories
// (tests/helpers/handler-router.ts, tests/helpers/memory/webhooks.ts): subscribe, read back, list,
// delete and page the delivery log; every malformed subscription refused with INVALID_ARGUMENT
// (URLs, private targets, event types, names, descriptions) and every unknown place or id with
// NOT_FOUND, each with its message; page-token and status misuse; the admin scope every method
// needs; and nothing changed by a refusal (neither the subscriptions, their delivery logs nor the
// audit trail). What needs a database, a receiver or the wire (delivery, signing, filters applied
// to events, TestWebhook's attempt, one refusal of each kind through a server) stays in
// tests/integration/webhooks.test.ts.
import { toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import {
  GetWebhookResponseSchema,
  ListWebhooksResponseSchema,
  WebhookDeliveryStatus,
  WebhookEventType,
  WebhookService,
  WebhookState,
  type CreateWebhookRequestSchema,
} from "../../gen/proto/chainloop/v1/webhook_pb.js";
import { SecretBox } from "../../server/webhooks/secrets.js";
import { codeOf, failure } from "../helpers/facts.js";
import { handlerRouter, ORG, OTHER_ORG } from "../helpers/handler-router.js";
import { MEMORY_SECRETS_KEY } from "../helpers/memory/webhooks.js";

/** A public address (no request is ever sent to it: TestWebhook's attempt is not served here). */
const URL_OK = "https://11.22.33.44/hooks/chainloop";
const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

type CreateInit = MessageInitShape<typeof CreateWebhookRequestSchema>;

describe("WebhookService (handlers, in memory)", () => {
  let router: ReturnType<typeof handlerRouter>;
  let webhooks: ReturnType<typeof router.client<typeof WebhookService>>;

  /** The organization's subscriptions as stored, every delivery log, and the webhook entries of the audit trail. */
  const state = async () => {
    const hooks = await router.repos.webhooks.list(ORG);
    const logs = await Promise.all(hooks.map((h) => router.repos.webhooks.listDeliveries(ORG, h.id, undefined, undefined, 1000)));
    const audit = router.audit.entries.filter((e) => e.resourceType === "webhook").map((e) => `${e.action} ${e.resourceName} ${e.actor?.tokenName}`);
    return { hooks, logs, audit, stored: hooks.map((h) => router.repos.webhooks.storedSecret(h.id)) };
  };

  beforeEach(async () => {
    router = handlerRouter();
    const admin = await router.mint("admin", { name: "hooks-admin" });
    webhooks = router.client(WebhookService, admin);
    const environments = router.client(EnvironmentService, admin);
    await environments.createEnvironment({ name: "k8s-east" });
    await environments.createEnvironment({ name: "west" });
  });

  it("subscribes with who and when, reads back and lists oldest first without the secret, and deletes with the delivery log", async () => {
    const before = Date.now();
    const created = await webhooks.createWebhook({
      url: URL_OK,
      events: [WebhookEventType.STALE, WebhookEventType.DEPLOYED],
      environment: "west",
      logicalEnvironment: "staging",
      description: "west staging",
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const hook = created.webhook!;
    expect(hook.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(hook).toMatchObject({
      url: URL_OK,
      events: [WebhookEventType.DEPLOYED, WebhookEventType.STALE],
      environment: "west",
      logicalEnvironment: "staging",
      description: "west staging",
      state: WebhookState.HEALTHY,
      createdBy: { tokenName: "hooks-admin" },
    });
    expect(hook.createdBy?.tokenId).toMatch(/^[0-9a-f-]{36}$/);
    expect(hook.failingSinceTime).toBeUndefined();
    const at = timestampDate(hook.createTime!).getTime();
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    // Stored only encrypted, bound to this subscription, under the box's key.
    const stored = router.repos.webhooks.storedSecret(hook.id)!;
    const box = new SecretBox({ configured: MEMORY_SECRETS_KEY });
    expect(stored.keyId).toBe(box.keyId());
    expect(stored.ciphertext).not.toContain(created.secret.slice(6));
    expect(box.open(stored.ciphertext, stored.keyId, hook.id) === created.secret).toBe(true);

    const all = (await webhooks.createWebhook({ url: `${URL_OK}/all` })).webhook!;
    expect(all).toMatchObject({ events: [], environment: "", logicalEnvironment: "", description: "" });
    const got = await webhooks.getWebhook({ id: hook.id });
    expect(got.webhook).toEqual(hook);
    expect((await webhooks.getWebhook({ id: hook.id.toUpperCase() })).webhook).toEqual(hook);
    const listed = await webhooks.listWebhooks({});
    expect(listed.webhooks).toEqual([hook, all]);
    const answers = toJsonString(GetWebhookResponseSchema, got) + toJsonString(ListWebhooksResponseSchema, listed);
    expect(answers).not.toContain(created.secret.slice(6));
    expect(answers).not.toContain("whsec_");

    // Another organization sees none of them.
    const theirs = router.client(WebhookService, await router.mint("admin", { orgId: OTHER_ORG }));
    expect((await theirs.listWebhooks({})).webhooks).toEqual([]);
    expect(await codeOf(theirs.getWebhook({ id: hook.id }))).toBe(Code.NotFound);
    expect(await codeOf(theirs.deleteWebhook({ id: hook.id }))).toBe(Code.NotFound);
    expect(await codeOf(theirs.listWebhookDeliveries({ webhookId: hook.id }))).toBe(Code.NotFound);

    router.repos.webhooks.addDelivery(hook.id);
    await webhooks.deleteWebhook({ id: hook.id });
    expect((await webhooks.listWebhooks({})).webhooks).toEqual([all]);
    expect(await failure(webhooks.getWebhook({ id: hook.id }))).toEqual({
      code: Code.NotFound,
      message: `webhook ${hook.id} not found; list them with: chainloop webhook list`,
    });
    expect(await router.repos.webhooks.listDeliveries(ORG, hook.id, undefined, undefined, 10)).toEqual([]);
    expect(await codeOf(webhooks.deleteWebhook({ id: hook.id }))).toBe(Code.NotFound);
    expect((await state()).audit).toEqual([`webhook.create ${hook.id} hooks-admin`, `webhook.create ${all.id} hooks-admin`, `webhook.delete ${hook.id} hooks-admin`]);
  });

  it("pages the delivery log newest first, filters it by status, and refuses page tokens and statuses it did not issue", async () => {
    const hook = (await webhooks.createWebhook({ url: URL_OK })).webhook!;
    const other = (await webhooks.createWebhook({ url: `${URL_OK}/other` })).webhook!;
    const failed = router.repos.webhooks.addDelivery(hook.id, { status: "failed", attempts: 5, responseStatus: 500, error: "the receiver answered HTTP 500" });
    router.repos.webhooks.addDelivery(other.id);
    const pending = router.repos.webhooks.addDelivery(hook.id, { eventType: "deployment.superseded" });
    const delivered = router.repos.webhooks.addDelivery(hook.id, { status: "delivered", attempts: 1, responseStatus: 204, deliveredAt: new Date() });

    const page1 = await webhooks.listWebhookDeliveries({ webhookId: hook.id, pageSize: 2 });
    expect(page1.deliveries.map((d) => d.id)).toEqual([delivered.id, pending.id]);
    expect(page1.deliveries.map((d) => d.status)).toEqual([WebhookDeliveryStatus.DELIVERED, WebhookDeliveryStatus.PENDING]);
    expect(page1.deliveries[1]).toMatchObject({ webhookId: hook.id, eventType: "deployment.superseded", deploymentId: pending.deploymentId, attempts: 0 });
    expect(page1.deliveries[1].nextAttemptTime).toBeDefined();
    expect(page1.deliveries[0].nextAttemptTime).toBeUndefined();
    const page2 = await webhooks.listWebhookDeliveries({ webhookId: hook.id, pageSize: 2, pageToken: page1.nextPageToken });
    expect(page2.deliveries.map((d) => [d.id, d.status, d.attempts, d.responseStatus, d.error])).toEqual([
      [failed.id, WebhookDeliveryStatus.FAILED, 5, 500, "the receiver answered HTTP 500"],
    ]);
    expect(page2.nextPageToken).toBe("");
    const failedOnly = await webhooks.listWebhookDeliveries({ webhookId: hook.id, status: WebhookDeliveryStatus.FAILED });
    expect(failedOnly.deliveries.map((d) => d.id)).toEqual([failed.id]);
    expect((await webhooks.listWebhookDeliveries({ webhookId: hook.id, status: WebhookDeliveryStatus.PENDING, pageSize: 1 })).deliveries.map((d) => d.id)).toEqual([pending.id]);

    const stored = await state();
    const refusals: Array<[string, () => Promise<unknown>, RegExp]> = [
      ["a token that is not one", () => webhooks.listWebhookDeliveries({ webhookId: hook.id, pageToken: "nonsense" }), /page_token is not a token this server issued/],
      [
        "a token replayed with another status",
        () => webhooks.listWebhookDeliveries({ webhookId: hook.id, pageSize: 2, status: WebhookDeliveryStatus.FAILED, pageToken: page1.nextPageToken }),
        /page_token was issued for a different query/,
      ],
      ["a token replayed for another webhook", () => webhooks.listWebhookDeliveries({ webhookId: other.id, pageSize: 2, pageToken: page1.nextPageToken }), /different query/],
      ["an unknown status", () => webhooks.listWebhookDeliveries({ webhookId: hook.id, status: 7 as WebhookDeliveryStatus }), /status 7 is not a known delivery status/],
      ["a negative page size", () => webhooks.listWebhookDeliveries({ webhookId: hook.id, pageSize: -1 }), /page_size must be zero or positive/],
    ];
    const outcomes = [];
    for (const [what, call, message] of refusals) {
      const f = await failure(call());
      outcomes.push([what, f.code, message.test(f.message) ? "message ok" : f.message]);
    }
    expect(outcomes).toEqual(refusals.map(([what]) => [what, Code.InvalidArgument, "message ok"]));
    expect(await state()).toEqual(stored);
  });

  it("refuses malformed subscriptions with INVALID_ARGUMENT and unknown places with NOT_FOUND, each with its message, creating nothing", async () => {
    const existing = (await webhooks.createWebhook({ url: URL_OK, environment: "k8s-east" })).webhook!;
    router.repos.webhooks.addDelivery(existing.id);
    const stored = await state();

    const ALLOW = /webhooks to private, loopback or link-local addresses are refused \(the server operator can allow such targets with CHAINLOOP_WEBHOOK_ALLOW_PRIVATE=1\)/;
    const cases: Array<[string, CreateInit, Code, RegExp]> = [
      ["no url", { url: "" }, Code.InvalidArgument, /^url is required/],
      ["not http", { url: "ftp://127.0.0.1/x" }, Code.InvalidArgument, /^url must be an http:\/\/ or https:\/\/ URL, not ftp:\/\/…$/],
      ["relative", { url: "/hooks" }, Code.InvalidArgument, /^url is not a valid absolute URL/],
      ["a space", { url: "https://11.22.33.44/a b" }, Code.InvalidArgument, /^url must not contain spaces or control characters$/],
      ["credentials", { url: URL_OK.replace("https://", "https://user:pw@") }, Code.InvalidArgument, /^url must not carry credentials \(user:password@ in https:\/\/11\.22\.33\.44:443\)/],
      ["fragment", { url: `${URL_OK}#x` }, Code.InvalidArgument, /^url must not have a fragment/],
      ["too long", { url: `${URL_OK}/${"a".repeat(2100)}` }, Code.InvalidArgument, /^url is \d{4} characters long; the limit is 2048$/],
      ["unresolvable host", { url: "http://no-such-host.invalid/hook" }, Code.InvalidArgument, /^url's host no-such-host\.invalid does not resolve \(\w+\); check the name$/],
      ["a loopback address", { url: "http://127.0.0.1:9/hook" }, Code.InvalidArgument, /^url's host 127\.0\.0\.1 is a loopback address/],
      ["a name of a loopback address", { url: "http://localhost:9/hook" }, Code.InvalidArgument, /^url's host localhost resolves to (127\.0\.0\.1|::1), a loopback address/],
      ["a private address", { url: "http://10.0.0.1/hook" }, Code.InvalidArgument, /^url's host 10\.0\.0\.1 is a private address/],
      ["an IPv6 loopback", { url: "http://[::1]:9/hook" }, Code.InvalidArgument, /^url's host ::1 is a loopback address/],
      ["a link-local address (cloud metadata)", { url: "http://169.254.169.254/latest" }, Code.InvalidArgument, /^url's host 169\.254\.169\.254 is a linkLocal address/],
      ["unspecified event", { url: URL_OK, events: [WebhookEventType.UNSPECIFIED] }, Code.InvalidArgument, /^events\[0\] is WEBHOOK_EVENT_TYPE_UNSPECIFIED; name an event type/],
      ["unknown event", { url: URL_OK, events: [WebhookEventType.DEPLOYED, 99 as WebhookEventType] }, Code.InvalidArgument, /^events\[1\] 99 is not a known webhook event type/],
      ["unknown environment", { url: URL_OK, environment: "nowhere" }, Code.NotFound, /^environment "nowhere" not found; create it with: chainloop environment create --name nowhere$/],
      [
        "unknown logical environment",
        { url: URL_OK, logicalEnvironment: "qa" },
        Code.NotFound,
        /^logical environment "qa" not found; valid ones: development, staging, production \(create more with: chainloop logical-environment create --name qa\)$/,
      ],
      ["unknown environment and logical environment", { url: URL_OK, environment: "nowhere", logicalEnvironment: "qa" }, Code.NotFound, /^environment "nowhere" not found/],
      ["an unknown place and a private target", { url: "http://10.0.0.1/hook", environment: "nowhere" }, Code.NotFound, /^environment "nowhere" not found/],
      ["bad environment name", { url: URL_OK, environment: "Not A Name" }, Code.InvalidArgument, /^environment "Not A Name" is not a valid name/],
      ["bad logical environment name", { url: URL_OK, logicalEnvironment: "Q_A" }, Code.InvalidArgument, /^logical_environment "Q_A" is not a valid name/],
      ["long description", { url: URL_OK, description: "d".repeat(1025) }, Code.InvalidArgument, /^description is 1025 characters long; the limit is 1024$/],
    ];
    const outcomes = [];
    for (const [what, req, , message] of cases) {
      const f = await failure(webhooks.createWebhook(req));
      outcomes.push([what, f.code, message.test(f.message) ? "message ok" : f.message]);
      if (what === "credentials") expect(f.message).not.toContain("pw");
      if (what.includes("address")) expect([what, f.message]).toEqual([what, expect.stringMatching(ALLOW)]);
    }
    expect(outcomes).toEqual(cases.map(([what, , code]) => [what, code, "message ok"]));
    expect(await state()).toEqual(stored);

    // The limits themselves are accepted.
    const longest = `${URL_OK}/${"a".repeat(2048 - URL_OK.length - 1)}`;
    const atLimit = (await webhooks.createWebhook({ url: longest, description: "d".repeat(1024) })).webhook!;
    expect([atLimit.url.length, atLimit.description.length]).toEqual([2048, 1024]);
  });

  it("refuses malformed and unknown webhook ids with INVALID_ARGUMENT and NOT_FOUND in every method that takes one, changing nothing", async () => {
    const hook = (await webhooks.createWebhook({ url: URL_OK })).webhook!;
    router.repos.webhooks.addDelivery(hook.id);
    const stored = await state();
    const calls = {
      GetWebhook: (id: string) => webhooks.getWebhook({ id }),
      DeleteWebhook: (id: string) => webhooks.deleteWebhook({ id }),
      TestWebhook: (id: string) => webhooks.testWebhook({ id }),
      ListWebhookDeliveries: (webhookId: string) => webhooks.listWebhookDeliveries({ webhookId }),
    };
    const ids: Array<[string, string, Code, string]> = [
      ["not a uuid", "x", Code.InvalidArgument, 'id "x" is not a webhook id (a UUID)'],
      ["empty", "", Code.InvalidArgument, 'id "" is not a webhook id (a UUID)'],
      ["unknown", UNKNOWN_ID, Code.NotFound, `webhook ${UNKNOWN_ID} not found; list them with: chainloop webhook list`],
    ];
    const outcomes = [];
    for (const [what, id] of ids) {
      for (const [method, call] of Object.entries(calls)) outcomes.push([what, method, await failure(call(id))]);
    }
    expect(outcomes).toEqual(ids.flatMap(([what, , code, message]) => Object.keys(calls).map((method) => [what, method, { code, message }])));
    expect(await state()).toEqual(stored);
  });

  it("needs an admin token for every method: read and write tokens are refused, changing nothing", async () => {
    const hook = (await webhooks.createWebhook({ url: URL_OK })).webhook!;
    router.repos.webhooks.addDelivery(hook.id);
    const stored = await state();
    const outcomes = [];
    for (const scope of ["write", "read"] as const) {
      const limited = router.client(WebhookService, await router.mint(scope, { name: `hooks-${scope}` }));
      const calls = [
        ["CreateWebhook", () => limited.createWebhook({ url: `${URL_OK}/mine` })],
        ["GetWebhook", () => limited.getWebhook({ id: hook.id })],
        ["ListWebhooks", () => limited.listWebhooks({})],
        ["DeleteWebhook", () => limited.deleteWebhook({ id: hook.id })],
        ["ListWebhookDeliveries", () => limited.listWebhookDeliveries({ webhookId: hook.id })],
        ["TestWebhook", () => limited.testWebhook({ id: hook.id })],
      ] as const;
      for (const [method, call] of calls) {
        const f = await failure(call());
        const want = `${method} needs a token with the admin scope; token "hooks-${scope}" has ${scope}`;
        outcomes.push([scope, method, f.code, f.message === want ? "message ok" : f.message]);
      }
    }
    expect(outcomes).toEqual(
      ["write", "read"].flatMap((scope) =>
        ["CreateWebhook", "GetWebhook", "ListWebhooks", "DeleteWebhook", "ListWebhookDeliveries", "TestWebhook"].map((m) => [scope, m, Code.PermissionDenied, "message ok"]),
      ),
    );
    expect(await state()).toEqual(stored);
    expect((await webhooks.getWebhook({ id: hook.id })).webhook).toEqual(hook);
  });
});
