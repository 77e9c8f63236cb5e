// Webhooks through a real server, on both database backends, with receivers on 127.0.0.1
// (tests/helpers/webhook-receiver.ts checks every signature with `standardwebhooks` and by hand):
// subscriptions (the secret shown once and stored only encrypted; one refusal of each kind on the
// wire: every validation and scope case is tests/handlers/webhooks.test.ts), every event kind
// delivered signed as the WebhookEvent contract says, the filters, the delivery log, retries
// under one webhook-id, redirects not followed, a subscription failing and recovering.
// The last part stops the server and uses the database in-process: nothing secret in any table,
// policy refusals (WebhookEvents.policyRefused) and their filters, a private target refused
// without CHAINLOOP_WEBHOOK_ALLOW_PRIVATE, and a process with another secrets key.
// Crashes, two processes and hanging receivers are tests/faults/webhooks.test.ts.
import fs from "node:fs";
import path from "node:path";
import { toJsonString } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { ApiTokenScope, ApiTokenService } from "../../gen/proto/chainloop/v1/api_token_pb.js";
import { ArtifactKind, DeploymentService, DeploymentStatus, RecordOutcome } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import {
  GetWebhookResponseSchema,
  ListWebhooksResponseSchema,
  WebhookDeliveryStatus,
  WebhookEventType,
  WebhookService,
  WebhookState,
  type WebhookDelivery,
} from "../../gen/proto/chainloop/v1/webhook_pb.js";
import { PRUNE, RETENTION_MS } from "../../server/data/change-feed.js";
import { openDatabase, type Database } from "../../server/data/client.js";
import { migrate } from "../../server/data/migrate.js";
import { SqlWebhookOutbox } from "../../server/data/webhooks.js";
import { createLogger } from "../../server/log.js";
import { createUseCases } from "../../server/wiring.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { digestOf } from "../helpers/faults.js";
import { startServer, type ServerProcess } from "../helpers/server.js";
import { hang, ok, status, WebhookReceiver, type ReceivedRequest } from "../helpers/webhook-receiver.js";
import { codeOf, connectError, domainFailure, listAll } from "../helpers/facts.js";

const WEBHOOK_ENV = {
  CHAINLOOP_WEBHOOK_ALLOW_PRIVATE: "1",
  CHAINLOOP_WEBHOOK_POLL_MS: "100",
  CHAINLOOP_WEBHOOK_BACKOFF_MIN_MS: "200",
  CHAINLOOP_WEBHOOK_BACKOFF_MAX_MS: "400",
  CHAINLOOP_WEBHOOK_RETRY_WINDOW_MS: "3000",
  CHAINLOOP_WEBHOOK_TIMEOUT_MS: "3000",
};

const A = digestOf("webhooks api 1");
const B = digestOf("webhooks api 2");
const C = digestOf("webhooks api 3");

/** What a request is about: its type and the record (or refused digest, or webhook) it names. */
const keyOf = (r: ReceivedRequest) =>
  `${r.event?.type ?? "?"} ${r.event?.data?.deployment?.id ?? r.event?.data?.policyRefusal?.digest ?? r.event?.data?.webhookId ?? ""}`;

/** Polls `check` until it returns a truthy value; throws after timeoutMs. */
async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(backends())("webhooks on %s", (backend) => {
  let tdb: TestDatabase;
  let server: ServerProcess;
  let webhooks: Client<typeof WebhookService>;
  let deployments: Client<typeof DeploymentService>;
  /** Subscribed to everything, healthy. */
  let all: WebhookReceiver;
  let allId: string;
  const secrets: string[] = [];
  const receivers: WebhookReceiver[] = [];
  const ids: Record<string, string> = {};
  const recv: Record<string, WebhookReceiver> = {};

  const receiver = async (opts: Parameters<typeof WebhookReceiver.start>[0] = {}) => {
    const r = await WebhookReceiver.start(opts);
    receivers.push(r);
    return r;
  };

  const subscribe = async (r: WebhookReceiver, extra: { events?: WebhookEventType[]; environment?: string; logicalEnvironment?: string; description?: string } = {}) => {
    const res = await webhooks.createWebhook({ url: r.url, ...extra });
    secrets.push(res.secret);
    r.setSecret(res.secret);
    return res;
  };

  const record = (deploymentName: string, digest: string, environment = "k8s-east", logicalEnvironment = "production", st?: DeploymentStatus) =>
    deployments.recordDeployment({
      environment,
      logicalEnvironment,
      deploymentName,
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest,
      ...(st ? { status: st } : {}),
    });

  /** The whole delivery log of a subscription. */
  async function logOf(webhookId: string): Promise<WebhookDelivery[]> {
    return listAll(async (pageToken) => {
      const page = await webhooks.listWebhookDeliveries({ webhookId, pageSize: 1000, pageToken });
      return { items: page.deliveries, next: page.nextPageToken };
    });
  }

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    server = await startServer({ ...tdb.env, ...WEBHOOK_ENV });
    webhooks = connectClient(WebhookService, server.url);
    deployments = connectClient(DeploymentService, server.url);
    const envs = connectClient(EnvironmentService, server.url);
    await envs.createEnvironment({ name: "k8s-east" });
    await envs.createEnvironment({ name: "west" });
    await envs.createEnvironment({ name: "edge", heartbeatInterval: durationFromMs(1_000) });
    await attest(server.url, [A, B, C]);
    all = await receiver();
  });

  afterAll(async () => {
    await server?.stop();
    for (const r of receivers) await r.close();
    await tdb?.drop();
  });

  test("subscribes, reads back without the secret, lists oldest first; the secret is shown once", async () => {
    const created = await subscribe(all, { description: "everything" });
    allId = created.webhook!.id;
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(created.secret.slice(6), "base64")).toHaveLength(32);
    expect(created.webhook).toMatchObject({
      url: all.url,
      events: [],
      environment: "",
      logicalEnvironment: "",
      description: "everything",
      state: WebhookState.HEALTHY,
      createdBy: { tokenName: "bootstrap-admin" },
    });
    expect(created.webhook!.failingSinceTime).toBeUndefined();

    const second = await webhooks.createWebhook({ url: `${all.url}/second`, events: [WebhookEventType.STALE, WebhookEventType.DEPLOYED] });
    secrets.push(second.secret);
    expect(second.secret).not.toBe(created.secret);
    expect(second.webhook!.events).toEqual([WebhookEventType.DEPLOYED, WebhookEventType.STALE]);

    const got = await webhooks.getWebhook({ id: allId });
    expect(got.webhook).toEqual(created.webhook);
    const listed = await webhooks.listWebhooks({});
    expect(listed.webhooks.map((w) => w.id)).toEqual([allId, second.webhook!.id]);
    // Never again: not in any answer, nor in the log, nor is the key that encrypts it.
    const answers = toJsonString(GetWebhookResponseSchema, got) + toJsonString(ListWebhooksResponseSchema, listed);
    for (const s of secrets) {
      expect(answers).not.toContain(s.slice(6));
      expect(server.logs.join("\n")).not.toContain(s.slice(6));
    }
    expect(answers).not.toContain("whsec_");
    const keyFile = path.join(tdb.dataDir, "secrets.key");
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(server.logs.join("\n")).not.toContain(fs.readFileSync(keyFile, "utf8").trim());
    expect(server.logs.filter((l) => l.includes("generated the key that encrypts webhook secrets"))).toHaveLength(1);

    await webhooks.deleteWebhook({ id: second.webhook!.id });
    expect((await webhooks.listWebhooks({})).webhooks.map((w) => w.id)).toEqual([allId]);
  });

  // Every validation and scope case is tests/handlers/webhooks.test.ts; through the server, one
  // refusal of each kind, the unknown environment resolved by the database.
  test("refuses a malformed subscription with INVALID_ARGUMENT, an unknown environment with NOT_FOUND and a write token with PERMISSION_DENIED, creating nothing", async () => {
    const creds = await connectError(webhooks.createWebhook({ url: all.url.replace("http://", "http://user:pw@") }));
    expect(creds.code).toBe(Code.InvalidArgument);
    expect(creds.rawMessage).toMatch(/credentials/);
    expect(creds.rawMessage).not.toContain("pw");
    const unknownEnv = await connectError(webhooks.createWebhook({ url: all.url, environment: "nowhere" }));
    expect(unknownEnv.code).toBe(Code.NotFound);
    expect(unknownEnv.rawMessage).toMatch(/environment "nowhere" not found/);

    const tokens = connectClient(ApiTokenService, server.url);
    const { secret } = await tokens.createApiToken({ name: "webhooks-write", scope: ApiTokenScope.WRITE });
    const limited = connectClient(WebhookService, server.url, "1.1", secret);
    expect(await codeOf(limited.testWebhook({ id: allId }))).toBe(Code.PermissionDenied);
    expect((await webhooks.listWebhooks({})).webhooks.map((w) => w.id)).toEqual([allId]);
    expect(all.requests).toHaveLength(0);
  });

  test("delivers every record event, signed, as the WebhookEvent contract says, with the delivery log to match", async () => {
    const a1 = await record("api", A);
    const b1 = await record("api", B);
    const a2 = await record("api", A);
    const beat = await record("api", A);
    const gone = await record("api", A, "k8s-east", "production", DeploymentStatus.DECOMMISSIONED);
    expect([a1.outcome, b1.outcome, a2.outcome, beat.outcome, gone.outcome]).toEqual([
      RecordOutcome.CREATED,
      RecordOutcome.SUPERSEDED,
      RecordOutcome.ROLLED_BACK,
      RecordOutcome.HEARTBEAT,
      RecordOutcome.DECOMMISSIONED,
    ]);
    const [idA1, idB1, idA2] = [a1.deployment!.id, b1.deployment!.id, a2.deployment!.id];
    const expected = [
      `deployment.deployed ${idA1}`,
      `deployment.deployed ${idB1}`,
      `deployment.superseded ${idA1}`,
      `deployment.rolled_back ${idA2}`,
      `deployment.superseded ${idB1}`,
      `deployment.decommissioned ${idA2}`,
    ];
    await all.waitForDelivered(expected.length);
    // No event for the heartbeat, none twice.
    expect(all.requests.map(keyOf).sort()).toEqual([...expected].sort());
    for (const r of all.requests) {
      expect([keyOf(r), r.verification]).toEqual([keyOf(r), { library: true, manual: true, error: "" }]);
      expect(r.parseError).toBeUndefined();
      expect(r.method).toBe("POST");
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["user-agent"]).toMatch(/^chainloop-deployments\/\S+$/);
      expect(Math.abs(Number(r.timestamp) * 1000 - r.receivedAt)).toBeLessThan(5_000);
    }
    const byKey = new Map(all.requests.map((r) => [keyOf(r), r]));
    // The record as DeploymentService returns it, when first sent; the time is the change's.
    expect(byKey.get(`deployment.rolled_back ${idA2}`)!.event!.data!.deployment).toMatchObject({
      id: idA2,
      digest: A,
      environment: "k8s-east",
      logicalEnvironment: "production",
      deploymentName: "api",
      rollbackOfId: idA1,
    });
    expect(byKey.get(`deployment.superseded ${idA1}`)!.event!.data!.deployment).toMatchObject({ status: DeploymentStatus.SUPERSEDED, supersededById: idB1 });
    expect(byKey.get(`deployment.decommissioned ${idA2}`)!.event!.data!.deployment?.status).toBe(DeploymentStatus.DECOMMISSIONED);
    const created = timestampDate(a1.deployment!.createTime!).getTime();
    expect(Math.abs(timestampDate(byKey.get(`deployment.deployed ${idA1}`)!.event!.timestamp!).getTime() - created)).toBeLessThan(1_000);

    // The log: one delivery per event, delivered at the first attempt, under the id the receiver saw.
    const log = await logOf(allId);
    expect(log.map((d) => `${d.eventType} ${d.deploymentId}`).sort()).toEqual([...expected].sort());
    expect(new Set(log.map((d) => d.id))).toEqual(new Set(all.requests.map((r) => r.id)));
    for (const d of log) {
      expect(d).toMatchObject({ webhookId: allId, status: WebhookDeliveryStatus.DELIVERED, attempts: 1, responseStatus: 204, error: "" });
      expect(d.deliveredTime).toBeDefined();
      expect(d.lastAttemptTime).toBeDefined();
      expect(d.nextAttemptTime).toBeUndefined();
    }
    // Newest first.
    const seqOrder = log.map((d) => timestampDate(d.eventTime!).getTime());
    expect([...seqOrder].sort((x, y) => y - x)).toEqual(seqOrder);
  });

  test("sends deployment.stale when a record misses its environment's heartbeat interval", async () => {
    const res = await record("edge-agent", C, "edge");
    const id = res.deployment!.id;
    const stale = await all.waitFor((r) => keyOf(r) === `deployment.stale ${id}`, 10_000, "the stale event");
    expect(stale.verification).toEqual({ library: true, manual: true, error: "" });
    expect(stale.event!.data!.deployment).toMatchObject({ id, stale: true, status: DeploymentStatus.DEPLOYED });
    // The event's time is when it became stale: two intervals after it was last seen.
    const staleTime = timestampDate(stale.event!.data!.deployment!.staleTime!).getTime();
    expect(timestampDate(stale.event!.timestamp!).getTime()).toBe(staleTime);
    expect(staleTime - timestampDate(res.deployment!.lastSeenTime!).getTime()).toBe(2_000);
    // Once: it stays stale, no further event.
    await new Promise((r) => setTimeout(r, 500));
    expect(all.requests.filter((r) => keyOf(r) === `deployment.stale ${id}`)).toHaveLength(1);
  });

  test("sends a test event at once, whatever the filters, and answers with the attempt's result", async () => {
    const filtered = await receiver();
    const sub = await subscribe(filtered, { events: [WebhookEventType.DECOMMISSIONED], environment: "west" });
    ids.filteredTest = sub.webhook!.id;
    const res = await webhooks.testWebhook({ id: sub.webhook!.id });
    expect(res.delivery).toMatchObject({
      webhookId: sub.webhook!.id,
      eventType: "webhook.test",
      deploymentId: "",
      status: WebhookDeliveryStatus.DELIVERED,
      attempts: 1,
      responseStatus: 204,
      error: "",
    });
    expect(filtered.requests).toHaveLength(1);
    const [req] = filtered.requests;
    expect(req.id).toBe(res.delivery!.id);
    expect(req.verification).toEqual({ library: true, manual: true, error: "" });
    expect(req.event).toMatchObject({ type: "webhook.test", data: { webhookId: sub.webhook!.id } });
    await webhooks.deleteWebhook({ id: sub.webhook!.id });
  });

  test("filters by event type, environment and logical environment", async () => {
    const supersededOnly = (recv.supersededOnly = await receiver());
    const west = (recv.west = await receiver());
    const staging = (recv.staging = await receiver());
    ids.supersededOnly = (await subscribe(supersededOnly, { events: [WebhookEventType.SUPERSEDED] })).webhook!.id;
    ids.west = (await subscribe(west, { environment: "west" })).webhook!.id;
    ids.staging = (await subscribe(staging, { logicalEnvironment: "staging" })).webhook!.id;

    const f1a = await record("f1", A);
    const f1b = await record("f1", B);
    const f2 = await record("f2", A, "west", "staging");
    const f3 = await record("f3", A, "k8s-east", "staging");
    const f4 = await record("f4", A, "west", "production");
    const expectAll = [
      `deployment.deployed ${f1a.deployment!.id}`,
      `deployment.deployed ${f1b.deployment!.id}`,
      `deployment.superseded ${f1a.deployment!.id}`,
      `deployment.deployed ${f2.deployment!.id}`,
      `deployment.deployed ${f3.deployment!.id}`,
      `deployment.deployed ${f4.deployment!.id}`,
    ];
    // One fan-out statement writes every subscription's deliveries of a change: once the
    // unfiltered one has them all, the others' logs are complete too.
    await eventually("the unfiltered subscription's deliveries", async () => {
      const keys = (await logOf(allId)).map((d) => `${d.eventType} ${d.deploymentId}`);
      return expectAll.every((k) => keys.includes(k));
    });
    const keysOf = async (id: string) => (await logOf(id)).map((d) => `${d.eventType} ${d.deploymentId}`).sort();
    expect(await keysOf(ids.supersededOnly)).toEqual([`deployment.superseded ${f1a.deployment!.id}`]);
    expect(await keysOf(ids.west)).toEqual([`deployment.deployed ${f2.deployment!.id}`, `deployment.deployed ${f4.deployment!.id}`].sort());
    expect(await keysOf(ids.staging)).toEqual([`deployment.deployed ${f2.deployment!.id}`, `deployment.deployed ${f3.deployment!.id}`].sort());
    // And the receivers got exactly those.
    await supersededOnly.waitForDelivered(1);
    await west.waitForDelivered(2);
    await staging.waitForDelivered(2);
    expect(west.requests.map(keyOf).sort()).toEqual(await keysOf(ids.west));
    expect(staging.requests.map(keyOf).sort()).toEqual(await keysOf(ids.staging));
    expect(supersededOnly.requests.map(keyOf)).toEqual([`deployment.superseded ${f1a.deployment!.id}`]);
  });

  test("retries a failed attempt under the same webhook-id and body until the receiver takes it", async () => {
    const flaky = await receiver({
      // The first request of each id fails; the next succeeds.
      mode: (r) => (flaky.requests.filter((x) => x.id === r.id).length === 1 ? status(500) : ok()),
    });
    const sub = await subscribe(flaky, { events: [WebhookEventType.POLICY_REFUSED] });
    const res = await webhooks.testWebhook({ id: sub.webhook!.id });
    expect(res.delivery).toMatchObject({
      status: WebhookDeliveryStatus.PENDING,
      attempts: 1,
      responseStatus: 500,
      error: "the receiver answered HTTP 500",
    });
    expect(res.delivery!.nextAttemptTime).toBeDefined();
    const [delivered] = await flaky.waitForDelivered(1, 10_000);
    const attempts = flaky.requests.filter((r) => r.id === res.delivery!.id);
    expect(attempts.map((r) => r.answer)).toEqual([500, 204]);
    expect(delivered.id).toBe(res.delivery!.id);
    expect(attempts[1].body).toBe(attempts[0].body);
    for (const r of attempts) expect(r.verification).toEqual({ library: true, manual: true, error: "" });
    const [logged] = await eventually("the delivery stored as delivered", async () => {
      const log = await logOf(sub.webhook!.id);
      return log[0]?.status === WebhookDeliveryStatus.DELIVERED && log;
    });
    expect(logged).toMatchObject({ id: res.delivery!.id, attempts: 2, responseStatus: 204, error: "" });
    await webhooks.deleteWebhook({ id: sub.webhook!.id });
  });

  test("does not follow redirects; a delivery given up marks its subscription failing until one succeeds", async () => {
    const target = await receiver();
    const redirecting = await receiver({ mode: status(302, { location: `${target.url}/moved?token=s3cr3t` }) });
    const sub = await subscribe(redirecting, { events: [WebhookEventType.POLICY_REFUSED] });
    const id = sub.webhook!.id;
    ids.redirecting = id;
    const first = await webhooks.testWebhook({ id });
    const port = new URL(target.url).port;
    expect(first.delivery).toMatchObject({
      status: WebhookDeliveryStatus.PENDING,
      responseStatus: 302,
      error: `redirect (HTTP 302) to http://127.0.0.1:${port} not followed`,
    });
    // Retried (same id, never followed) until the retry window (3 s here) has passed: failed.
    const failed = await eventually(
      "the delivery given up",
      async () => (await logOf(id)).find((d) => d.status === WebhookDeliveryStatus.FAILED),
      15_000,
    );
    expect(failed.id).toBe(first.delivery!.id);
    expect(failed.attempts).toBeGreaterThan(1);
    expect(failed.nextAttemptTime).toBeUndefined();
    expect(new Set(redirecting.requests.map((r) => r.id))).toEqual(new Set([first.delivery!.id]));
    expect(target.requests).toHaveLength(0);
    const failing = (await webhooks.getWebhook({ id })).webhook!;
    expect(failing.state).toBe(WebhookState.FAILING);
    expect(failing.failingSinceTime).toBeDefined();
    const attemptsSoFar = redirecting.requests.length;
    await new Promise((r) => setTimeout(r, 600));
    expect(redirecting.requests).toHaveLength(attemptsSoFar); // no attempt after failing

    // It still gets new events; one delivered makes it healthy again.
    redirecting.setMode(ok());
    const again = await webhooks.testWebhook({ id });
    expect(again.delivery).toMatchObject({ status: WebhookDeliveryStatus.DELIVERED, attempts: 1, responseStatus: 204 });
    const healthy = (await webhooks.getWebhook({ id })).webhook!;
    expect(healthy.state).toBe(WebhookState.HEALTHY);
    expect(healthy.failingSinceTime).toBeUndefined();
  });

  test("pages the delivery log newest first, filters it by status, and drops it with its subscription", async () => {
    const id = ids.redirecting;
    const page1 = await webhooks.listWebhookDeliveries({ webhookId: id, pageSize: 1 });
    expect(page1.deliveries.map((d) => d.status)).toEqual([WebhookDeliveryStatus.DELIVERED]);
    const page2 = await webhooks.listWebhookDeliveries({ webhookId: id, pageSize: 1, pageToken: page1.nextPageToken });
    expect(page2.deliveries.map((d) => d.status)).toEqual([WebhookDeliveryStatus.FAILED]);
    expect(page2.nextPageToken).toBe("");
    const failedOnly = await webhooks.listWebhookDeliveries({ webhookId: id, status: WebhookDeliveryStatus.FAILED });
    expect(failedOnly.deliveries.map((d) => d.id)).toEqual(page2.deliveries.map((d) => d.id));
    expect((await webhooks.listWebhookDeliveries({ webhookId: id, status: WebhookDeliveryStatus.PENDING })).deliveries).toEqual([]);

    await webhooks.deleteWebhook({ id });
    expect(await codeOf(webhooks.getWebhook({ id }))).toBe(Code.NotFound);
    expect(await codeOf(webhooks.listWebhookDeliveries({ webhookId: id }))).toBe(Code.NotFound);
    expect(await codeOf(webhooks.deleteWebhook({ id }))).toBe(Code.NotFound);
  });

  describe("in-process, once the server has stopped", () => {
    let db: Database;
    const logger = createLogger("silent");

    beforeAll(async () => {
      expect(await server.stop()).toBe(0);
      db = await openDatabase({ databaseUrl: tdb.databaseUrl, dataDir: tdb.dataDir, logger });
      await migrate(db, logger);
    });
    afterAll(async () => {
      await db?.close();
    });

    test("no table holds a signing secret; creations and deletions are audited", async () => {
      const tables = await db.sql.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
        [],
      );
      expect(tables.map((t) => t.name)).toContain("webhook_subscriptions");
      for (const needle of ["whsec_", ...secrets.map((s) => s.slice(6))]) {
        for (const { name } of tables) {
          const [row] = await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${name}" t WHERE strpos(t::text, $1) > 0`, [needle]);
          expect([name, row.n]).toEqual([name, 0]);
        }
      }
      const audit = await db.sql.query<{ action: string; resource_name: string }>(
        `SELECT action, resource_name FROM audit_events WHERE resource_type = 'webhook' ORDER BY created_at`,
        [],
      );
      expect(audit.filter((a) => a.action === "webhook.create").map((a) => a.resource_name)).toContain(allId);
      expect(audit.filter((a) => a.action === "webhook.delete").map((a) => a.resource_name)).toContain(ids.redirecting);
    });

    test("policy refusals reach the subscriptions that take them for that place, rendered at once", async () => {
      // Same data directory: the same generated secrets key as the server's.
      const uc = createUseCases(db, { webhooks: { allowPrivate: true, pollMs: 50, dataDir: tdb.dataDir, logger } });
      const org = await uc.organizations.ensureDefault();
      uc.webhookDispatcher.start();
      try {
        const violations = [{ rule: "require_deployed_in" as const, subject: "staging", description: "it never ran in staging; record it there first" }];
        const base = {
          organizationId: org.id,
          name: "api",
          kind: "CONTAINER_IMAGE" as const,
          violations,
          actor: { tokenId: "00000000-0000-4000-8000-000000000001", tokenName: "ci" },
          at: new Date(),
        };
        await uc.webhooks.policyRefused({ ...base, environment: "west", logicalEnvironment: "staging", artifact: { digest: B, artifactName: "api", artifactVersion: "2", artifactReference: "reg/api:2" } });
        await uc.webhooks.policyRefused({ ...base, environment: "k8s-east", logicalEnvironment: "production", artifact: { digest: C, artifactName: "", artifactVersion: "", artifactReference: "" } });
        const refusal = await all.waitFor((r) => keyOf(r) === `deployment.policy_refused ${B}`, 10_000, "the policy refusal");
        await all.waitFor((r) => keyOf(r) === `deployment.policy_refused ${C}`, 10_000, "the second policy refusal");
        expect(refusal.verification).toEqual({ library: true, manual: true, error: "" });
        expect(refusal.event).toMatchObject({
          type: "deployment.policy_refused",
          data: {
            policyRefusal: {
              environment: "west",
              logicalEnvironment: "staging",
              deploymentName: "api",
              kind: ArtifactKind.CONTAINER_IMAGE,
              digest: B,
              artifactName: "api",
              artifactVersion: "2",
              artifactReference: "reg/api:2",
              violations,
              recordedBy: { tokenName: "ci" },
            },
          },
        });
        expect(timestampDate(refusal.event!.timestamp!).getTime()).toBe(base.at.getTime());
        // Filters: west and staging take the first only; superseded-only takes neither.
        const keysOf = async (id: string) =>
          (await uc.webhooks.listDeliveries(org.id, { webhookId: id, status: undefined, pageSize: 100, pageToken: "" })).items
            .filter((d) => d.eventType === "deployment.policy_refused")
            .map((d) => d.id);
        const [west, staging, superseded] = [await keysOf(ids.west), await keysOf(ids.staging), await keysOf(ids.supersededOnly)];
        expect([west.length, staging.length, superseded.length]).toEqual([1, 1, 0]);
        for (const [name, id] of [["west", west[0]], ["staging", staging[0]]]) {
          const got = await recv[name].waitFor((r) => r.id === id, 10_000, `the refusal at the ${name} receiver`);
          expect(keyOf(got)).toBe(`deployment.policy_refused ${B}`);
        }
        expect(recv.supersededOnly.requests.filter((r) => r.event?.type === "deployment.policy_refused")).toEqual([]);
      } finally {
        await uc.webhookDispatcher.stop();
      }
    });

    test("the change log keeps, however old, the changes the outbox has not taken yet", async () => {
      const [{ id: recordId }] = await db.sql.query<{ id: string }>(`SELECT id::text AS id FROM deployments ORDER BY seq LIMIT 1`, []);
      // A change committed a day ago that no fan-out has seen (every server was down since).
      await db.sql.query(
        `INSERT INTO deployment_changes (organization_id, created_at, changes, deployment_ids)
         SELECT organization_id, now() - interval '1 day', 'd', ARRAY[id] FROM deployments WHERE id = $1::uuid`,
        [recordId],
      );
      const old = `SELECT count(*)::int AS n FROM deployment_changes WHERE created_at < now() - interval '12 hours'`;
      await db.sql.query(PRUNE, [RETENTION_MS]);
      expect((await db.sql.query<{ n: number }>(old, []))[0].n).toBe(1);
      // The next fan-out takes it (one delivery per subscription taking decommissions: the
      // unfiltered one), then pruning may drop it.
      const res = await new SqlWebhookOutbox(db.sql).fanOut(2);
      expect(res).toMatchObject({ inserted: 1, hasSubscriptions: true });
      const pending = await db.sql.query<{ subscription_id: string; event_type: string }>(
        `SELECT subscription_id::text AS subscription_id, event_type FROM webhook_deliveries WHERE deployment_id = $1::uuid AND status = 'pending'`,
        [recordId],
      );
      expect(pending).toEqual([{ subscription_id: allId, event_type: "deployment.decommissioned" }]);
      await db.sql.query(PRUNE, [RETENTION_MS]);
      expect((await db.sql.query<{ n: number }>(old, []))[0].n).toBe(0);
      // Taken once: another fan-out adds nothing.
      expect(await new SqlWebhookOutbox(db.sql).fanOut(2)).toMatchObject({ inserted: 0 });
      await db.sql.query(`DELETE FROM webhook_deliveries WHERE deployment_id = $1::uuid AND status = 'pending'`, [recordId]);
    });

    // The private, loopback and link-local targets one by one are tests/handlers/webhooks.test.ts;
    // here, that the server's wiring refuses them without CHAINLOOP_WEBHOOK_ALLOW_PRIVATE.
    test("refuses a private target without CHAINLOOP_WEBHOOK_ALLOW_PRIVATE, writing nothing", async () => {
      const uc = createUseCases(db, { webhooks: { allowPrivate: false, dataDir: tdb.dataDir, logger } });
      const org = await uc.organizations.ensureDefault();
      const before = (await uc.webhooks.list(org.id)).length;
      const refused = await domainFailure(uc.webhooks.create(org.id, { url: all.url, events: [], environment: "", logicalEnvironment: "", description: "" }));
      expect(refused).toEqual({ kind: "InvalidArgument", message: expect.stringMatching(/CHAINLOOP_WEBHOOK_ALLOW_PRIVATE/) });
      expect(await uc.webhooks.list(org.id)).toHaveLength(before);
    });

    test("stopping interrupts a hanging attempt after the grace period and leaves the delivery due at once", async () => {
      const uc = createUseCases(db, { webhooks: { allowPrivate: true, timeoutMs: 30_000, dataDir: tdb.dataDir, logger } });
      const org = await uc.organizations.ensureDefault();
      const hanging = await receiver({ mode: hang() });
      const { webhook } = await uc.webhooks.create(org.id, { url: hanging.url, events: ["policy-refused"], environment: "", logicalEnvironment: "", description: "" });
      uc.webhookDispatcher.start();
      const testing = uc.webhooks.test(org.id, webhook.id);
      await hanging.waitForCount(1);
      const started = Date.now();
      await uc.webhookDispatcher.stop(300);
      expect(Date.now() - started).toBeLessThan(2_000);
      const delivery = await testing;
      expect(delivery).toMatchObject({ status: "pending", attempts: 1, error: "interrupted: the server stopped during the attempt" });
      expect(delivery.nextAttemptAt!.getTime()).toBeLessThanOrEqual(Date.now());
      await uc.webhooks.delete(org.id, webhook.id);
    });

    test("a process with another secrets key says so and keeps the delivery for a process with the right one", async () => {
      const uc = createUseCases(db, { webhooks: { allowPrivate: true, secretsKey: "another-key-another-key-another-key-42", logger } });
      const org = await uc.organizations.ensureDefault();
      const before = all.requests.length;
      const delivery = await uc.webhooks.test(org.id, allId);
      expect(delivery).toMatchObject({ status: "pending", attempts: 1, responseStatus: 0 });
      expect(delivery.error).toMatch(/this server's CHAINLOOP_SECRETS_KEY is not the one the secret was stored with/);
      expect(all.requests).toHaveLength(before);
    });
  });
});
