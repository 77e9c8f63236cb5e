// Webhook deliveries against real receivers on loopback (tests/helpers/webhook-receiver.ts: an
// HTTP server that checks every signature with the `standardwebhooks` library and by hand), on
// both database backends: every event kind arrives signed and as the WebhookEvent the contract
// describes; a receiver that fails (500, a redirect, a dropped connection) and then recovers gets
// every event, each under one `webhook-id` on every attempt, delivered once; a receiver that
// hangs holds up neither records nor another subscription's deliveries; a record acknowledged
// right before `kill -9` is delivered after the restart. On Postgres, two server processes on
// one database deliver every event of a 200-record load once, under one id each, never
// attempting one delivery from both at once.
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { durationFromMs, timestampDate } from "@bufbuild/protobuf/wkt";
import pg from "pg";
import { ArtifactKind, DeploymentService, DeploymentStatus, RecordOutcome } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { PromotionPolicyService } from "../../gen/proto/chainloop/v1/policy_pb.js";
import {
  WebhookDeliveryStatus,
  WebhookService,
  type WebhookDelivery,
} from "../../gen/proto/chainloop/v1/webhook_pb.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { digestOf, sleep, waitFor } from "../helpers/faults.js";
import { serveFor } from "../helpers/served.js";
import { startServer, type ServerProcess } from "../helpers/server.js";
import { dropConnection, hang, ok, status, WebhookReceiver, type ReceivedRequest } from "../helpers/webhook-receiver.js";
import { listAll } from "../helpers/facts.js";

/**
 * Every server of this file: private targets allowed (the receivers are on 127.0.0.1), quick
 * polling and short backoff so retries happen within a test, and a long attempt timeout so that a
 * hanging receiver stays hanging for the whole of the test that checks it is harmless. Delivery
 * concurrency is the default (16 attempts in flight per process).
 */
const WEBHOOK_ENV = {
  CHAINLOOP_WEBHOOK_ALLOW_PRIVATE: "1",
  CHAINLOOP_SECRETS_KEY: "webhook-fault-tests-secrets-key-0123456789",
  CHAINLOOP_WEBHOOK_POLL_MS: "100",
  CHAINLOOP_WEBHOOK_BACKOFF_MIN_MS: "100",
  CHAINLOOP_WEBHOOK_BACKOFF_MAX_MS: "800",
  CHAINLOOP_WEBHOOK_TIMEOUT_MS: "30000",
};

type Webhooks = Client<typeof WebhookService>;
type Deployments = Client<typeof DeploymentService>;

/** What an event is about: its type and record (or, for a policy refusal, the refused digest). */
const eventKey = (r: ReceivedRequest) =>
  `${r.event?.type ?? "?"} ${r.event?.data?.deployment?.id ?? r.event?.data?.policyRefusal?.digest ?? r.event?.data?.webhookId ?? ""}`;

/** The events a RecordDeployment answer implies, keyed as eventKey() keys them. */
function expectedEvents(res: { outcome: RecordOutcome; deployment?: { id: string }; supersededDeploymentId: string }): string[] {
  const id = res.deployment!.id;
  const old = res.supersededDeploymentId ? [`deployment.superseded ${res.supersededDeploymentId}`] : [];
  switch (res.outcome) {
    case RecordOutcome.CREATED:
      return [`deployment.deployed ${id}`];
    case RecordOutcome.SUPERSEDED:
      return [`deployment.deployed ${id}`, ...old];
    case RecordOutcome.ROLLED_BACK:
      return [`deployment.rolled_back ${id}`, ...old];
    case RecordOutcome.DECOMMISSIONED:
      return [`deployment.decommissioned ${id}`];
    default:
      return [];
  }
}

/** The whole delivery log of a subscription, through ListWebhookDeliveries pages. */
async function deliveriesOf(webhooks: Webhooks, webhookId: string): Promise<WebhookDelivery[]> {
  return listAll(async (pageToken) => {
    const res = await webhooks.listWebhookDeliveries({ webhookId, pageSize: 1000, pageToken });
    return { items: res.deliveries, next: res.nextPageToken };
  });
}

/** Subscribes `receiver` (its secret set from the answer); returns the subscription's id. */
async function subscribe(webhooks: Webhooks, receiver: WebhookReceiver, filters: { environment?: string; logicalEnvironment?: string; description?: string } = {}) {
  const res = await webhooks.createWebhook({ url: receiver.url, ...filters });
  expect(res.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/); // base64 of 32 bytes
  receiver.setSecret(res.secret);
  return res.webhook!.id;
}

/** Event keys that got more than one webhook-id, and ids that carried more than one event. */
function idConsistency(requests: ReceivedRequest[]) {
  const idsByEvent = new Map<string, Set<string>>();
  const eventsById = new Map<string, Set<string>>();
  for (const r of requests) {
    const k = eventKey(r);
    idsByEvent.set(k, (idsByEvent.get(k) ?? new Set()).add(r.id));
    eventsById.set(r.id, (eventsById.get(r.id) ?? new Set()).add(k));
  }
  return {
    eventsWithSeveralIds: [...idsByEvent].filter(([, ids]) => ids.size > 1).map(([k, ids]) => `${k}: ${[...ids].join(", ")}`),
    idsWithSeveralEvents: [...eventsById].filter(([, ks]) => ks.size > 1).map(([id, ks]) => `${id}: ${[...ks].join(" | ")}`),
    events: [...idsByEvent.keys()],
  };
}

/** Every request was a POST of JSON, signed (both checks) and a WebhookEvent. */
function expectWellFormed(receiver: WebhookReceiver): void {
  const bad = receiver.invalid().map((r) => `${r.id} ${r.verification?.error ?? "not verified (no secret)"} ${r.parseError ?? ""}`);
  expect(bad).toEqual([]);
  for (const r of receiver.requests) {
    expect(r.method).toBe("POST");
    expect(String(r.headers["content-type"])).toMatch(/^application\/json/);
    expect(r.id).not.toBe("");
    // The attempt's own time, in Unix seconds.
    expect(Math.abs(Number(r.timestamp) - r.receivedAt / 1000)).toBeLessThan(60);
  }
}

describe.each(backends())("webhook deliveries on %s", (backend) => {
  const receivers: WebhookReceiver[] = [];
  // Receivers first (this afterAll is registered before serveFor's): a hanging request would
  // hold up the server's drain.
  afterAll(async () => {
    for (const r of receivers) await r.close();
  });
  const served = serveFor(backend, WEBHOOK_ENV);
  let deployments: Deployments;
  let webhooks: Webhooks;
  const receiver = async (...args: Parameters<typeof WebhookReceiver.start>) => {
    const r = await WebhookReceiver.start(...args);
    receivers.push(r);
    return r;
  };
  const d = (s: string) => digestOf(`webhooks ${backend} ${s}`);
  const attested = ["a", "b", "c", "guarded", "guarded-2", ...Array.from({ length: 40 }, (_, i) => `r${i}`)].map(d);

  beforeAll(async () => {
    deployments = connectClient(DeploymentService, served.url);
    webhooks = connectClient(WebhookService, served.url);
    await attest(served.url, attested);
  });

  const record = (environment: string, deploymentName: string, digest: string, extra: { logicalEnvironment?: string; status?: DeploymentStatus } = {}) =>
    deployments.recordDeployment({
      environment,
      logicalEnvironment: extra.logicalEnvironment ?? "production",
      deploymentName,
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest,
      artifactName: `registry.example/${deploymentName}`,
      ...(extra.status ? { status: extra.status } : {}),
    });

  it("sends every deployment event kind and the test event, signed, as the contract's WebhookEvent", async () => {
    const environment = "wh-kinds";
    // A 1 s heartbeat interval: a record not heard from for 2 s is stale.
    await connectClient(EnvironmentService, served.url).createEnvironment({ name: environment, heartbeatInterval: durationFromMs(1_000) });
    const hooks = await receiver();
    // No filters (this test runs first; the subscription is deleted at its end): everything.
    const webhookId = await subscribe(webhooks, hooks, { description: "every event" });
    const [A, B, C] = attested;
    const started = Date.now();

    const a1 = await record(environment, "api", A); // deployed
    const b1 = await record(environment, "api", B); // deployed b1, superseded a1
    const a2 = await record(environment, "api", A); // rolled_back a2, superseded b1
    const gone = await record(environment, "api", A, { status: DeploymentStatus.DECOMMISSIONED }); // decommissioned a2
    const c1 = await record(environment, "worker", C); // deployed; stale 2 s later
    expect([a1.outcome, b1.outcome, a2.outcome, gone.outcome, c1.outcome]).toEqual([
      RecordOutcome.CREATED,
      RecordOutcome.SUPERSEDED,
      RecordOutcome.ROLLED_BACK,
      RecordOutcome.DECOMMISSIONED,
      RecordOutcome.CREATED,
    ]);
    const expected = [a1, b1, a2, gone, c1].flatMap(expectedEvents);
    expected.push(`deployment.stale ${c1.deployment!.id}`);
    const got = await hooks.until(
      "every deployment event kind delivered",
      () => {
        const keys = new Set(hooks.delivered().map(eventKey));
        return expected.every((k) => keys.has(k)) ? hooks.delivered() : undefined;
      },
      20_000,
    );
    const byKey = new Map(got.map((r) => [eventKey(r), r]));
    const finished = Date.now();

    // The payload is the record as DeploymentService returns it, and says what happened.
    const payload = (key: string) => byKey.get(key)!.event!;
    expect(payload(`deployment.deployed ${a1.deployment!.id}`).data?.deployment).toMatchObject({
      id: a1.deployment!.id,
      environment,
      logicalEnvironment: "production",
      deploymentName: "api",
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest: A,
      artifactName: "registry.example/api",
    });
    expect(payload(`deployment.superseded ${a1.deployment!.id}`).data?.deployment).toMatchObject({
      digest: A,
      status: DeploymentStatus.SUPERSEDED,
      supersededById: b1.deployment!.id,
    });
    expect(payload(`deployment.rolled_back ${a2.deployment!.id}`).data?.deployment).toMatchObject({ digest: A, rollbackOfId: a1.deployment!.id });
    expect(payload(`deployment.superseded ${b1.deployment!.id}`).data?.deployment).toMatchObject({ digest: B, supersededById: a2.deployment!.id });
    expect(payload(`deployment.decommissioned ${a2.deployment!.id}`).data?.deployment).toMatchObject({ status: DeploymentStatus.DECOMMISSIONED });
    expect(payload(`deployment.stale ${c1.deployment!.id}`).data?.deployment).toMatchObject({ digest: C, stale: true, status: DeploymentStatus.DEPLOYED });
    for (const key of expected) {
      const e = payload(key);
      // When the change happened: within the test (a second of clock skew allowed), not later.
      const at = timestampDate(e.timestamp!).getTime();
      expect(at).toBeGreaterThanOrEqual(started - 1_000);
      expect(at).toBeLessThanOrEqual(finished + 1_000);
      expect(e.data?.policyRefusal).toBeUndefined();
    }

    // The test event: sent now, and answered with the attempt's result.
    const test = await webhooks.testWebhook({ id: webhookId });
    expect(test.delivery).toMatchObject({
      webhookId,
      eventType: "webhook.test",
      deploymentId: "",
      status: WebhookDeliveryStatus.DELIVERED,
      attempts: 1,
      responseStatus: 204,
      error: "",
    });
    const testReq = await hooks.waitFor((r) => r.event?.type === "webhook.test");
    expect(testReq.id).toBe(test.delivery!.id);
    expect(testReq.event?.data?.webhookId).toBe(webhookId);
    expect(testReq.event?.data?.deployment).toBeUndefined();

    // One id per event, and the delivery log agrees with what arrived.
    expectWellFormed(hooks);
    const ids = idConsistency(hooks.requests);
    expect(ids.eventsWithSeveralIds).toEqual([]);
    expect(ids.idsWithSeveralEvents).toEqual([]);
    const log = await deliveriesOf(webhooks, webhookId);
    const logById = new Map(log.map((x) => [x.id, x]));
    for (const key of expected) {
      const r = byKey.get(key)!;
      expect(logById.get(r.id)).toMatchObject({
        webhookId,
        eventType: r.event!.type,
        deploymentId: r.event!.data!.deployment!.id,
        status: WebhookDeliveryStatus.DELIVERED,
        responseStatus: 204,
      });
    }
    // Newest first.
    const seqs = log.map((x) => hooks.requests.find((r) => r.id === x.id)?.seq ?? -1).filter((s) => s >= 0);
    expect(seqs[0]).toBe(Math.max(...seqs));

    await webhooks.deleteWebhook({ id: webhookId });
    await expect(webhooks.getWebhook({ id: webhookId })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("sends a policy refusal (deployment.policy_refused) of a record the promotion policy refused", async () => {
    const environment = "wh-policy";
    const envs = connectClient(EnvironmentService, served.url);
    await envs.createEnvironment({ name: environment });
    await envs.createLogicalEnvironment({ name: "wh-guarded" });
    const hooks = await receiver();
    const webhookId = await subscribe(webhooks, hooks, { environment });
    const policies = connectClient(PromotionPolicyService, served.url);
    await policies.setPromotionPolicy({ policy: { logicalEnvironment: "wh-guarded", requireDeployedIn: [{ logicalEnvironment: "staging" }] } });
    const [guarded, validateOnly] = [attested[3], attested[4]];
    const refused = (digest: string, validate: boolean) =>
      deployments
        .recordDeployment({ environment, logicalEnvironment: "wh-guarded", deploymentName: "pay", kind: ArtifactKind.CONTAINER_IMAGE, digest, validateOnly: validate })
        .then(
          () => undefined,
          (e) => ConnectError.from(e),
        );
    // validate_only: the same refusal, and no event.
    const dry = await refused(validateOnly, true);
    expect([dry?.code, dry?.rawMessage]).toEqual([Code.FailedPrecondition, expect.stringContaining("staging")]);
    const real = await refused(guarded, false);
    expect([real?.code, real?.rawMessage]).toEqual([Code.FailedPrecondition, expect.stringContaining("staging")]);

    const [event] = await hooks.waitForDelivered(1, 15_000, (r) => r.event?.type === "deployment.policy_refused");
    expect(event.event?.data?.deployment).toBeUndefined();
    expect(event.event?.data?.policyRefusal).toMatchObject({
      environment,
      logicalEnvironment: "wh-guarded",
      deploymentName: "pay",
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest: guarded,
    });
    expect(event.event?.data?.policyRefusal?.violations.map((v) => [v.rule, v.subject])).toEqual([["require_deployed_in", "staging"]]);
    const log = await deliveriesOf(webhooks, webhookId);
    expect(log.find((x) => x.id === event.id)).toMatchObject({ eventType: "deployment.policy_refused", deploymentId: "", status: WebhookDeliveryStatus.DELIVERED });
    expect(hooks.requests.filter((r) => r.event?.data?.policyRefusal?.digest === validateOnly)).toEqual([]);
    expectWellFormed(hooks);

    await policies.deletePromotionPolicy({ logicalEnvironment: "wh-guarded" });
    await webhooks.deleteWebhook({ id: webhookId });
  });

  it("retries a failing receiver (500, redirect, dropped connection) under one id per event, and delivers each once it recovers", async () => {
    const environment = "wh-recover";
    await connectClient(EnvironmentService, served.url).createEnvironment({ name: environment });
    const hooks = await receiver({ mode: status(500) });
    // Where the redirect points: never followed, so it receives nothing.
    const redirectTarget = await receiver();
    const webhookId = await subscribe(webhooks, hooks, { environment });

    // One record created, then four supersedes: 1 + 4 × 2 events.
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await record(environment, "api", attested[5 + i]));
    const expected = answers.flatMap(expectedEvents);
    expect(expected).toHaveLength(9);
    const keys = new Set(expected);
    const attemptsWith = (answer: ReceivedRequest["answer"]) => () => {
      const hit = new Set(hooks.requests.filter((r) => r.answer === answer).map(eventKey));
      return expected.every((k) => hit.has(k));
    };

    // 500 until every event was attempted at least twice (so retried), then a redirect, then a
    // dropped connection, each until every event met it; the log says why each attempt failed.
    await hooks.until("every event attempted twice, answered 500", () => expected.every((k) => hooks.requests.filter((r) => r.answer === 500 && eventKey(r) === k).length >= 2), 20_000);
    let log = await deliveriesOf(webhooks, webhookId);
    expect(log).toHaveLength(9);
    for (const x of log) {
      expect(x).toMatchObject({ status: WebhookDeliveryStatus.PENDING, responseStatus: 500 });
      expect(x.attempts).toBeGreaterThanOrEqual(2);
      expect(x.error).not.toBe("");
      expect(x.nextAttemptTime).toBeDefined();
      expect(x.deliveredTime).toBeUndefined();
    }
    hooks.setMode(status(302, { location: redirectTarget.url }));
    await hooks.until("every event answered with a redirect", attemptsWith(302), 20_000);
    log = await deliveriesOf(webhooks, webhookId);
    for (const x of log) expect([x.status, x.responseStatus]).toEqual([WebhookDeliveryStatus.PENDING, 302]);
    hooks.setMode(dropConnection());
    await hooks.until("every event's connection dropped", attemptsWith("close"), 20_000);
    log = await deliveriesOf(webhooks, webhookId);
    for (const x of log) {
      expect([x.status, x.responseStatus]).toEqual([WebhookDeliveryStatus.PENDING, 0]);
      expect(x.error).not.toBe("");
    }

    // Recovered: every event delivered, under the id it had from its first attempt.
    hooks.setMode(ok());
    await hooks.waitForDelivered(9, 20_000);
    await waitFor(
      "every delivery marked delivered in the log",
      async () => (await deliveriesOf(webhooks, webhookId)).every((x) => x.status === WebhookDeliveryStatus.DELIVERED),
      10_000,
    );
    log = await deliveriesOf(webhooks, webhookId);
    expect(redirectTarget.requests).toEqual([]);
    expectWellFormed(hooks);
    const ids = idConsistency(hooks.requests);
    expect(new Set(ids.events)).toEqual(keys);
    expect(ids.eventsWithSeveralIds).toEqual([]);
    expect(ids.idsWithSeveralEvents).toEqual([]);
    expect(hooks.distinctIds().sort()).toEqual(log.map((x) => x.id).sort());
    for (const [id, attempts] of hooks.byId()) {
      // Exactly one 2xx per id, on its last attempt, after at least 4 failed ones (500 × 2, 302, drop).
      const okAttempts = attempts.filter((r) => r.answer === 204);
      expect([id, okAttempts.length]).toEqual([id, 1]);
      expect(attempts[attempts.length - 1].answer).toBe(204);
      expect(attempts.length).toBeGreaterThanOrEqual(5);
      // Each attempt signs its own time.
      const times = attempts.map((r) => Number(r.timestamp));
      expect(times).toEqual([...times].sort((x, y) => x - y));
      const entry = log.find((x) => x.id === id)!;
      expect(entry.attempts).toBe(attempts.length);
      expect(entry).toMatchObject({ responseStatus: 204, error: "" });
      expect(entry.deliveredTime).toBeDefined();
    }
    await webhooks.deleteWebhook({ id: webhookId });
  });

  it("keeps recording and delivering to other subscriptions while a receiver hangs", async () => {
    const environment = "wh-hang";
    await connectClient(EnvironmentService, served.url).createEnvironment({ name: environment });
    const hanging = await receiver({ mode: hang() });
    const healthy = await receiver();
    const hangingId = await subscribe(webhooks, hanging, { environment });
    const healthyId = await subscribe(webhooks, healthy, { environment });

    // More events (33) than the server's delivery concurrency (16): a server that let one
    // subscription's attempts take every slot would deliver nothing else until they time out
    // (30 s here).
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await record(environment, `svc-${i % 3}`, attested[10 + i]));
    await hanging.waitForCount(1, 15_000);
    // Records keep answering while attempts hang: heartbeats (no event) and supersedes.
    const current = new Map(answers.map((a) => [a.deployment!.deploymentName, a.deployment!.digest]));
    for (let i = 0; i < 12; i++) {
      const name = `svc-${i % 3}`;
      const again = await record(environment, name, i % 2 === 0 ? current.get(name)! : attested[22 + i]);
      current.set(name, again.deployment!.digest);
      answers.push(again);
    }
    expect(answers.filter((a) => a.outcome === RecordOutcome.HEARTBEAT).length).toBeGreaterThan(0);
    const expected = answers.flatMap(expectedEvents);
    const got = await healthy.until(
      "the healthy subscription's deliveries",
      () => {
        const keys = new Set(healthy.delivered().map(eventKey));
        return expected.every((k) => keys.has(k)) ? healthy.delivered() : undefined;
      },
      20_000,
    );
    // All of that while the hanging receiver's attempts were still open: none had timed out.
    const endedHanging = hanging.requests.filter((r) => r.answeredAt !== undefined);
    expect(endedHanging.map((r) => `${r.id} ended ${r.answer}`)).toEqual([]);
    expect(hanging.hangingCount).toBeGreaterThan(0);
    expect(got.map(eventKey).sort()).toEqual([...new Set(expected)].sort());
    expectWellFormed(healthy);
    expectWellFormed(hanging);

    const hangingLog = await deliveriesOf(webhooks, hangingId);
    expect(hangingLog.every((x) => x.status === WebhookDeliveryStatus.PENDING)).toBe(true);
    expect(hangingLog).toHaveLength(expected.length);
    expect((await deliveriesOf(webhooks, healthyId)).every((x) => x.status === WebhookDeliveryStatus.DELIVERED)).toBe(true);

    // Unsubscribing drops its pending deliveries and its log.
    await webhooks.deleteWebhook({ id: hangingId });
    await hanging.close();
    await expect(webhooks.getWebhook({ id: hangingId })).rejects.toMatchObject({ code: Code.NotFound });
    const after = await webhooks.listWebhookDeliveries({ webhookId: hangingId }).then(
      (res) => res.deliveries.length,
      (e) => Code[ConnectError.from(e).code],
    );
    expect([0, "NotFound"]).toContain(after);
    await webhooks.deleteWebhook({ id: healthyId });
  });
});

describe.each(backends())("webhook deliveries across kill -9 on %s", (backend) => {
  let db: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  let hooks: WebhookReceiver | undefined;
  afterAll(async () => {
    await hooks?.close();
    await server?.stop("SIGKILL");
    await db?.drop();
  });

  it("delivers after a restart, under the same ids, the events of records acknowledged before kill -9", async () => {
    db = await createTestDatabase(backend);
    // The first process polls its outbox only every minute (it still fans out right after its
    // own commits) and its receiver hangs: nothing it starts can be delivered before the kill. A
    // short attempt timeout keeps the claim of an attempt the kill interrupts short (the timeout
    // plus the lease margin, 3 s here) after the restart.
    const env = { ...db.env, ...WEBHOOK_ENV, CHAINLOOP_WEBHOOK_TIMEOUT_MS: "1000", CHAINLOOP_WEBHOOK_LEASE_MARGIN_MS: "3000" };
    server = await startServer({ ...env, CHAINLOOP_WEBHOOK_POLL_MS: "60000" });
    await connectClient(EnvironmentService, server.url).createEnvironment({ name: "wh-crash" });
    const [A, B] = [digestOf(`crash ${backend} a`), digestOf(`crash ${backend} b`)];
    await attest(server.url, [A, B]);
    hooks = await WebhookReceiver.start({ mode: hang() });
    const webhookId = await subscribe(connectClient(WebhookService, server.url), hooks, { environment: "wh-crash" });
    const deployments = connectClient(DeploymentService, server.url);
    const rec = (digest: string) =>
      deployments.recordDeployment({ environment: "wh-crash", logicalEnvironment: "production", deploymentName: "api", kind: ArtifactKind.CONTAINER_IMAGE, digest });
    // A's event is being attempted (the receiver holds it) when the server dies; B's record is
    // acknowledged just before the kill, most likely before its events reach the outbox.
    const first = await rec(A);
    const attemptOfA = await hooks.waitFor((r) => eventKey(r) === `deployment.deployed ${first.deployment!.id}`, 15_000);
    const second = await rec(B);
    server.child.kill("SIGKILL"); // right after the acknowledgement
    await server.stop();
    const delivered = hooks.delivered();
    const attemptedBeforeKill = hooks.requests.length;

    let outboxAtKill = "n/a (PGlite)";
    if (db.databaseUrl) {
      const c = new pg.Client({ connectionString: db.databaseUrl });
      await c.connect();
      try {
        const rows = (await c.query("SELECT event_type, status::text AS status, attempts FROM webhook_deliveries ORDER BY seq")).rows;
        outboxAtKill = JSON.stringify(rows);
      } finally {
        await c.end();
      }
    }

    hooks.setMode(ok());
    const restarted = Date.now();
    server = await startServer(env, { timeoutMs: 60_000 });
    const expected = [first, second].flatMap(expectedEvents);
    // The interrupted attempt's claim lapses 4 s after it was made (1 s timeout + 3 s margin).
    const got = await hooks.waitForDelivered(expected.length, 45_000);
    console.log(
      `[webhooks kill -9/${backend}] outbox at the kill: ${outboxAtKill}; attempts before the kill: ${attemptedBeforeKill}; ` +
        `all delivered ${Date.now() - restarted} ms after the restart began: ${hooks.summary()}`,
    );
    expect(delivered).toEqual([]);
    expect(got.map(eventKey).sort()).toEqual([...expected].sort());
    // The delivery attempted before the kill is the one delivered after it, once its claim lapsed
    // (it was claimed just before the receiver saw it: allow 100 ms for that).
    const againA = got.find((r) => eventKey(r) === eventKey(attemptOfA));
    expect(againA?.id).toBe(attemptOfA.id);
    expect(againA!.receivedAt - attemptOfA.receivedAt).toBeGreaterThanOrEqual(4_000 - 100);
    expectWellFormed(hooks);
    const ids = idConsistency(hooks.requests);
    expect(ids.eventsWithSeveralIds).toEqual([]);
    expect(ids.idsWithSeveralEvents).toEqual([]);
    const webhooks = connectClient(WebhookService, server.url);
    await waitFor(
      "the restarted server's log shows every delivery delivered",
      async () => {
        const log = await deliveriesOf(webhooks, webhookId);
        return log.length === expected.length && log.every((x) => x.status === WebhookDeliveryStatus.DELIVERED);
      },
      10_000,
    );
  }, 120_000);
});

const onPostgres = backends().includes("postgres");
(onPostgres ? describe : describe.skip)("two server processes on one Postgres database", () => {
  let db: TestDatabase | undefined;
  const servers: ServerProcess[] = [];
  let hooks: WebhookReceiver | undefined;
  afterAll(async () => {
    await hooks?.close();
    for (const s of servers) await s.stop();
    await db?.drop();
  });

  it("deliver every event of 200 records once, under one id each, never one id from both at once", async () => {
    db = await createTestDatabase("postgres");
    // Same database and secrets key, separate data directories: two deployments of the server.
    for (const dir of ["p1", "p2"]) {
      servers.push(await startServer({ ...db.env, CHAINLOOP_DATA_DIR: `${db.dataDir}/${dir}`, ...WEBHOOK_ENV }));
    }
    const RECORDS = 200;
    const SLOTS = 40;
    const digests = Array.from({ length: RECORDS }, (_, i) => digestOf(`two processes ${i}`));
    await connectClient(EnvironmentService, servers[0].url).createEnvironment({ name: "wh-two" });
    await attest(servers[0].url, digests);
    // A slow receiver (200 ms an answer) gives a delivery attempted twice at once time to show.
    hooks = await WebhookReceiver.start({ mode: ok(200) });
    const webhookId = await subscribe(connectClient(WebhookService, servers[1].url), hooks, { environment: "wh-two" });

    // 8 callers, alternating between the servers; each record a new digest in one of 40 slots.
    const clients = servers.map((s) => connectClient(DeploymentService, s.url));
    let next = 0;
    const answers: Awaited<ReturnType<Deployments["recordDeployment"]>>[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        while (next < RECORDS) {
          const i = next++;
          answers.push(
            await clients[(w + i) % 2].recordDeployment({
              environment: "wh-two",
              logicalEnvironment: "production",
              deploymentName: `svc-${i % SLOTS}`,
              kind: ArtifactKind.CONTAINER_IMAGE,
              digest: digests[i],
            }),
          );
        }
      }),
    );
    const expected = answers.flatMap(expectedEvents);
    expect(expected).toHaveLength(SLOTS + 2 * (RECORDS - SLOTS));
    const t0 = Date.now();
    await hooks.waitForDelivered(expected.length, 120_000);
    const deliveryMs = Date.now() - t0;

    const c = new pg.Client({ connectionString: db.databaseUrl });
    await c.connect();
    let rows: Array<{ status: string; n: number }>;
    try {
      rows = (await c.query<{ status: string; n: number }>("SELECT status::text AS status, count(*)::int AS n FROM webhook_deliveries GROUP BY 1")).rows;
    } finally {
      await c.end();
    }
    const ids = idConsistency(hooks.requests);
    console.log(
      `[webhooks two processes] ${answers.length} records, ${expected.length} events, delivered in ${deliveryMs} ms: ${hooks.summary()}; ` +
        `most requests in flight at once ${hooks.maxInFlight}; one id received twice at once: ${hooks.overlaps.length}; outbox ${JSON.stringify(rows)}`,
    );
    expectWellFormed(hooks);
    expect(hooks.overlaps.map((r) => r.id)).toEqual([]);
    expect(ids.eventsWithSeveralIds).toEqual([]);
    expect(ids.idsWithSeveralEvents).toEqual([]);
    expect(new Set(hooks.delivered().map(eventKey))).toEqual(new Set(expected));
    expect(hooks.distinctIds()).toHaveLength(expected.length);
    // Nothing failed, so nothing was sent twice.
    expect(hooks.requests).toHaveLength(expected.length);
    await waitFor(
      "every delivery marked delivered",
      async () => {
        const log = await deliveriesOf(connectClient(WebhookService, servers[0].url), webhookId);
        return log.length === expected.length && log.every((x) => x.status === WebhookDeliveryStatus.DELIVERED);
      },
      10_000,
    );
  }, 180_000);

  it("a process with CHAINLOOP_WEBHOOK_DELIVERY=off takes records but leaves delivering to the others", async () => {
    db ??= await createTestDatabase("postgres");
    for (const s of servers.splice(0)) await s.stop(); // the previous test's delivering processes
    const recorder = await startServer({ ...db.env, CHAINLOOP_DATA_DIR: `${db.dataDir}/p3`, ...WEBHOOK_ENV, CHAINLOOP_WEBHOOK_DELIVERY: "off" });
    servers.push(recorder);
    await connectClient(EnvironmentService, recorder.url).createEnvironment({ name: "wh-split" });
    const d = digestOf("delivered elsewhere");
    await attest(recorder.url, [d]);
    const receiver = await WebhookReceiver.start({ mode: ok() });
    try {
      await subscribe(connectClient(WebhookService, recorder.url), receiver, { environment: "wh-split" });
      const res = await connectClient(DeploymentService, recorder.url).recordDeployment({
        environment: "wh-split",
        logicalEnvironment: "production",
        deploymentName: "api",
        kind: ArtifactKind.CONTAINER_IMAGE,
        digest: d,
      });
      // Alone, the recorder fans out and delivers nothing (it polls every 100 ms when it delivers).
      await sleep(1_500);
      expect(receiver.requests).toHaveLength(0);
      // A delivering process on the same database sends it.
      servers.push(await startServer({ ...db.env, CHAINLOOP_DATA_DIR: `${db.dataDir}/p4`, ...WEBHOOK_ENV }));
      const got = await receiver.waitFor((r) => r.event?.type === "deployment.deployed", 20_000, "the deployed event, from the other process");
      expect(got.event?.data?.deployment?.id).toBe(res.deployment!.id);
    } finally {
      await receiver.close();
    }
  }, 120_000);
});
