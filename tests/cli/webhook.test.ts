// `chainloop webhook create | list | get | deliveries | test | delete`: the real CLI process
// against a real server (one database backend: clientBackends) that delivers to a real receiver
// on 127.0.0.1 (tests/helpers/webhook-receiver.ts, which checks every signature with the
// Standard Webhooks library and by hand). The secret is printed once, by `create`, and never
// again. Delivery itself (retries, outbox, filters) is tested in tests/integration/webhooks.test.ts
// and tests/faults/webhooks.test.ts.
import { clientBackends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { attest } from "../helpers/evidence.js";
import { startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";
import { ok, status, WebhookReceiver } from "../helpers/webhook-receiver.js";
import { expectOneErrorLine, expectUsageError, parseFields, parseTable, UUID, UUID_PATTERN } from "./parse-output.js";
import { runCli, type CliResult } from "./run-cli.js";

const V1 = `sha256:${"61".repeat(32)}`;
const V2 = `sha256:${"62".repeat(32)}`;
const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;
const ONCE_NOTE =
  "chainloop: store this signing secret now (in the receiver's configuration): it is shown only once and cannot be retrieved again. " +
  "Receivers verify each delivery with it as the Standard Webhooks specification says (headers webhook-id, webhook-timestamp, " +
  "webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>), for example with the standardwebhooks libraries\n";
const WEBHOOK_HEADERS = ["ID", "URL", "EVENTS", "FILTERS", "STATE", "FAILING SINCE", "DESCRIPTION"];
const DELIVERY_HEADERS = ["ID", "EVENT", "DEPLOYMENT", "STATUS", "ATTEMPTS", "LAST RESPONSE", "ERROR", "NEXT ATTEMPT"];

interface DeliveryJson {
  id: string;
  webhookId: string;
  eventType: string;
  deploymentId: string;
  status: string;
  attempts: number;
  responseStatus: number;
  error: string;
  nextAttemptTime?: string;
}

describe.each(clientBackends())("chainloop webhook commands on %s", (backend) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let receiver: WebhookReceiver;
  let writeToken: string;
  /** The subscription the tests follow, and its secret. */
  let hook: { id: string; secret: string };
  /** Every output but create's, to check that none shows a secret. */
  const outputs: CliResult[] = [];
  const as = async (token: string, ...args: string[]) => {
    const res = await runCli(args, { CHAINLOOP_SERVER: server.url, CHAINLOOP_TOKEN: token });
    if (args[1] !== "create") outputs.push(res);
    return res;
  };
  const chainloop = (...args: string[]) => as(TEST_ADMIN_TOKEN, ...args);
  const okRun = (res: CliResult) => expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });
  const record = async (digest: string) => {
    const res = await chainloop("deployment", "record", "--env", "k8s-east", "--logical-env", "staging", "--deployment-name", "api", "--kind", "CONTAINER_IMAGE", "--digest", digest, "-o", "json");
    okRun(res);
    return (JSON.parse(res.stdout) as { deployment: { id: string } }).deployment.id;
  };
  /** `webhook deliveries -o json` until `done` holds (the server writes an attempt's result after the receiver answered). */
  const deliveriesUntil = async (done: (d: DeliveryJson[]) => boolean, ...args: string[]) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await chainloop("webhook", "deliveries", hook.id, "-o", "json", ...args);
      okRun(res);
      const rows = JSON.parse(res.stdout) as DeliveryJson[];
      if (done(rows)) return rows;
      if (Date.now() > deadline) throw new Error(`deliveries not as expected within 15 s: ${res.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    receiver = await WebhookReceiver.start();
    server = await startServer({
      ...db.env,
      CHAINLOOP_WEBHOOK_ALLOW_PRIVATE: "1",
      CHAINLOOP_WEBHOOK_POLL_MS: "100",
      // A failed attempt is retried only after the file is done: it stays pending.
      CHAINLOOP_WEBHOOK_BACKOFF_MIN_MS: "600000",
      CHAINLOOP_WEBHOOK_BACKOFF_MAX_MS: "600000",
    });
    await attest(server.url, [V1, V2]);
    expect((await chainloop("environment", "create", "--name", "k8s-east")).code).toBe(0);
    const token = await chainloop("token", "create", "--name", "ci", "--scope", "write", "-o", "json");
    expect(token.code).toBe(0);
    writeToken = (JSON.parse(token.stdout) as { secret: string }).secret;
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
    await db?.drop();
  });

  it("create prints the id and the secret once, with how receivers verify; -o json carries the secret", async () => {
    const created = await chainloop(
      "webhook", "create", "--url", receiver.url, "--events", "deployed,superseded", "--events", "rolled-back", "--env", "k8s-east", "--description", "cli test",
    );
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: ONCE_NOTE });
    const [line, secret, ...rest] = created.stdout.split("\n");
    expect(rest).toEqual([""]);
    const [, id] = new RegExp(`^webhook (${UUID_PATTERN}) created: (.*)$`).exec(line!) ?? [];
    expect(line).toBe(`webhook ${id} created: ${receiver.url}, events: deployed,superseded,rolled-back, filters: k8s-east (any logical env)`);
    expect(secret).toMatch(SECRET);
    hook = { id: id!, secret: secret! };
    receiver.setSecret(hook.secret);

    const json = await chainloop("webhook", "create", "--url", `${receiver.url}/prod`, "--logical-env", "production", "--events", "policy-refused", "-o", "json");
    expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 0, stderr: ONCE_NOTE });
    const body = JSON.parse(json.stdout) as { webhook: Record<string, unknown>; secret: string };
    expect(Object.keys(body).sort()).toEqual(["secret", "webhook"]);
    expect(body.secret).toMatch(SECRET);
    expect(body.secret).not.toBe(hook.secret);
    expect(body.webhook).toMatchObject({
      id: expect.stringMatching(UUID),
      url: `${receiver.url}/prod`,
      events: ["WEBHOOK_EVENT_TYPE_POLICY_REFUSED"],
      environment: "",
      logicalEnvironment: "production",
      state: "WEBHOOK_STATE_HEALTHY",
    });
    // Every event when none is named.
    const all = await chainloop("webhook", "create", "--url", `${receiver.url}/all`, "-o", "json");
    expect((JSON.parse(all.stdout) as { webhook: { events: string[] } }).webhook.events).toEqual([]);
  });

  it("list and get show the subscriptions, never a secret", async () => {
    const list = await chainloop("webhook", "list");
    okRun(list);
    const table = parseTable(list.stdout);
    expect(table.headers).toEqual(WEBHOOK_HEADERS);
    expect(table.rows.map((r) => [r.URL, r.EVENTS, r.FILTERS, r.STATE, r["FAILING SINCE"], r.DESCRIPTION])).toEqual([
      [receiver.url, "deployed,superseded,rolled-back", "k8s-east (any logical env)", "healthy", "-", "cli test"],
      [`${receiver.url}/prod`, "policy-refused", "production (any environment)", "healthy", "-", "-"],
      [`${receiver.url}/all`, "all", "none", "healthy", "-", "-"],
    ]);
    expect(table.rows[0]!.ID).toBe(hook.id);

    const json = await chainloop("webhook", "list", "-o", "json");
    okRun(json);
    const hooks = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(hooks.map((h) => h.url)).toEqual([receiver.url, `${receiver.url}/prod`, `${receiver.url}/all`]);
    expect(hooks[0]).toMatchObject({ id: hook.id, events: ["WEBHOOK_EVENT_TYPE_DEPLOYED", "WEBHOOK_EVENT_TYPE_SUPERSEDED", "WEBHOOK_EVENT_TYPE_ROLLED_BACK"] });
    expect(Object.keys(hooks[0]!)).not.toContain("secret");

    const get = await chainloop("webhook", "get", hook.id);
    okRun(get);
    expect(parseFields(get.stdout)).toEqual({
      ID: hook.id,
      URL: receiver.url,
      Events: "deployed,superseded,rolled-back",
      Filters: "k8s-east (any logical env)",
      Description: "cli test",
      State: "healthy",
      Created: expect.stringMatching(/ago\)$|just now\)$/),
      "Created by": "bootstrap-admin",
    });
    // Subscriptions are the admin's: a URL may itself be a credential.
    expectOneErrorLine(await as(writeToken, "webhook", "list"), /^chainloop: permission_denied: /);
  });

  it("deliveries: the log of what was sent, newest first, filtered by status and paged", async () => {
    const first = await record(V1);
    const delivered = await receiver.waitForDelivered(1, 15_000, (r) => r.event?.type === "deployment.deployed" && r.path === new URL(receiver.url).pathname);
    expect(delivered[0]!.verification).toEqual({ library: true, manual: true, error: "" });
    const rows = await deliveriesUntil((d) => d.length === 1 && d[0]!.status === "WEBHOOK_DELIVERY_STATUS_DELIVERED");
    expect(rows[0]).toMatchObject({
      id: delivered[0]!.id,
      webhookId: hook.id,
      eventType: "deployment.deployed",
      deploymentId: first,
      attempts: 1,
      responseStatus: 204,
      error: "",
    });

    const table = await chainloop("webhook", "deliveries", "--id", hook.id);
    okRun(table);
    const parsed = parseTable(table.stdout);
    expect(parsed.headers).toEqual(DELIVERY_HEADERS);
    expect(parsed.rows).toEqual([
      {
        ID: delivered[0]!.id,
        EVENT: "deployment.deployed",
        DEPLOYMENT: first,
        STATUS: "delivered",
        ATTEMPTS: "1",
        "LAST RESPONSE": expect.stringMatching(/^204 \((just now|\d{1,2}s ago)\)$/),
        ERROR: "-",
        "NEXT ATTEMPT": "-",
      },
    ]);
    expect(await chainloop("webhook", "deliveries", hook.id, "--status", "pending")).toEqual({ code: 0, stdout: `${DELIVERY_HEADERS.join("   ")}\n`, stderr: "" });

    // A new digest: the old record superseded, the new one deployed; three deliveries in all.
    const second = await record(V2);
    const all = await deliveriesUntil((d) => d.length === 3 && d.every((x) => x.status === "WEBHOOK_DELIVERY_STATUS_DELIVERED"));
    expect(all.map((d) => [d.eventType, d.deploymentId]).sort()).toEqual(
      [
        ["deployment.deployed", first],
        ["deployment.deployed", second],
        ["deployment.superseded", first],
      ].sort(),
    );
    const page = await chainloop("webhook", "deliveries", hook.id, "--limit", "2");
    expect(page.code).toBe(0);
    expect(parseTable(page.stdout).rows).toHaveLength(2);
    const [, token] = /^more deliveries exist: add --page-token (\S+) for the next page, or --all for every page\n$/.exec(page.stderr) ?? [];
    expect(token).toBeTruthy();
    const next = await chainloop("webhook", "deliveries", hook.id, "--limit", "2", "--page-token", token!, "-o", "json");
    okRun(next);
    const paged = [...parseTable(page.stdout).rows.map((r) => r.ID), ...(JSON.parse(next.stdout) as DeliveryJson[]).map((d) => d.id)];
    expect(paged).toEqual(all.map((d) => d.id));
    const every = await chainloop("webhook", "deliveries", hook.id, "--limit", "1", "--all", "-o", "json");
    okRun(every);
    expect((JSON.parse(every.stdout) as DeliveryJson[]).map((d) => d.id)).toEqual(all.map((d) => d.id));
  });

  it("test sends a webhook.test now and prints the result; exit 1 when the receiver did not take it", async () => {
    const good = await chainloop("webhook", "test", hook.id);
    okRun(good);
    const [, deliveryId] = new RegExp(`^delivered: the receiver answered 204 to webhook.test \\(delivery (${UUID_PATTERN})\\)\\n$`).exec(good.stdout) ?? [];
    expect(deliveryId).toBeTruthy();
    const got = await receiver.waitFor((r) => r.id === deliveryId);
    expect(got.event?.type).toBe("webhook.test");
    expect(got.verification).toEqual({ library: true, manual: true, error: "" });

    receiver.setMode(status(500));
    try {
      const bad = await chainloop("webhook", "test", "--id", hook.id);
      expect(bad.code).toBe(1);
      const [, failedId] = new RegExp(`^not delivered: the receiver answered 500: .*\\(delivery (${UUID_PATTERN}), pending; it is retried \\(next attempt in \\d+m\\)\\)\\n$`).exec(bad.stdout) ?? [];
      expect(failedId).toBeTruthy();
      expect(bad.stderr).toMatch(/^chainloop: the test event was not delivered: .*500.*\n$/);

      const json = await chainloop("webhook", "test", hook.id, "-o", "json");
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ webhookId: hook.id, eventType: "webhook.test", status: "WEBHOOK_DELIVERY_STATUS_PENDING", attempts: 1, responseStatus: 500 });

      const pending = await chainloop("webhook", "deliveries", hook.id, "--status", "pending");
      okRun(pending);
      const rows = parseTable(pending.stdout).rows;
      expect(rows.map((r) => [r.EVENT, r.STATUS, r.ATTEMPTS, r["LAST RESPONSE"].replace(/ \(.*\)$/, ""), r["NEXT ATTEMPT"]])).toEqual([
        ["webhook.test", "pending", "1", "500", expect.stringMatching(/^in \d+m$/)],
        ["webhook.test", "pending", "1", "500", expect.stringMatching(/^in \d+m$/)],
      ]);
      expect(rows.map((r) => r.ID)).toContain(failedId);
      expect(rows.every((r) => r.ERROR !== "-")).toBe(true);
    } finally {
      receiver.setMode(ok());
    }
  });

  it("delete unsubscribes; the id is then unknown", async () => {
    const del = await chainloop("webhook", "delete", "--id", hook.id);
    expect(del).toEqual({ code: 0, stdout: `webhook ${hook.id} deleted\n`, stderr: "" });
    const json = await chainloop("webhook", "list", "-o", "json");
    expect((JSON.parse(json.stdout) as Array<{ id: string }>).map((h) => h.id)).not.toContain(hook.id);
    expectOneErrorLine(await chainloop("webhook", "deliveries", hook.id), /^chainloop: not_found: /);
    expectOneErrorLine(await chainloop("webhook", "delete", hook.id), /^chainloop: not_found: /);
    expectOneErrorLine(await chainloop("webhook", "test", hook.id), /^chainloop: not_found: /);
  });

  it("usage errors exit 2 before any call", async () => {
    const before = await chainloop("webhook", "list", "-o", "json");
    expectUsageError(
      await chainloop("webhook", "create", "--url", receiver.url, "--events", "deployed,deploy"),
      '--events: unknown event "deploy"; choose from deployed, superseded, decommissioned, rolled-back, stale, policy-refused',
    );
    expectUsageError(await chainloop("webhook", "create", "--url", "ftp://example.com/hook"), '--url must be an http:// or https:// URL, got "ftp://example.com/hook"');
    expectUsageError(await chainloop("webhook", "create", "--events", "stale"), "Missing required argument: url");
    expectUsageError(await chainloop("webhook", "deliveries", "x", "--limit", "0"), "--limit must be a whole number from 1 to 1000");
    expectUsageError(await chainloop("webhook", "deliveries", "x", "--status", "lost"), 'Invalid values:\n  Argument: status, Given: "lost", Choices: "pending", "delivered", "failed"');
    expectUsageError(await chainloop("webhook", "delete"), "Missing required argument: id");
    expect((await chainloop("webhook", "list", "-o", "json")).stdout).toBe(before.stdout);
  });

  it("no command but create ever printed a secret", () => {
    expect(outputs.length).toBeGreaterThan(10);
    for (const r of outputs) expect(`${r.stdout}${r.stderr}`).not.toContain("whsec_");
    expect(outputs.map((r) => `${r.stdout}${r.stderr}`).join("")).not.toContain(hook.secret.slice("whsec_".length));
  });
});
