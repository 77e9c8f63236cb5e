// The page's history views in a real browser (Debian's Chromium, driven by playwright-core),
// against a real server: versions beside digests in the matrix, a rollback marked in its cell
// and history, the compare view (two columns picked in the matrix → DiffDeployments: states,
// counts, differences only, as of a time) and delivery metrics per logical environment
// (GetDeliveryMetrics: totals as text, bars per bucket). Screenshots go to tests/artifacts/.
import type { Page } from "playwright-core";
import { DeliveryMetricsService, MetricsBucket } from "../../gen/proto/chainloop/v1/delivery_metrics_pb.js";
import { ArtifactKind, DeploymentService, RecordOutcome } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { clientBackends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";
import { browserSuite, launchBrowser, screenshot, signIn, skippedNote, waitForAttribute, waitForValue, type Browser } from "./browser-helpers.js";
import { digest } from "../helpers/facts.js";

const short = (d: string) => d.slice(0, "sha256:".length + 12);
const API_A = digest("api-server v1.0.0");
const API_B = digest("api-server v1.1.0");
const WORKER_1 = digest("worker 2.3.0");
const WORKER_2 = digest("worker 2.4.0");
const WEB = digest("web 0.1.0");
const CRON = digest("cron 1.0.0");
const GATEWAY = digest("gateway 3.0.0");
const spaced = (s: string) => s.replace(/\s+/g, " ").trim();
const slot = (lenv: string, name: string) => `[data-slot="k8s-east/${lenv}/${name}/CONTAINER_IMAGE"]`;

/** The compare table's rows as `name: state`. */
const diffRows = (page: Page) =>
  page.locator(".diff-table tbody tr").evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute("data-deployment")}: ${tr.getAttribute("data-state")}`));
/** The compare summary as { same, different, only-in-from, only-in-to }. */
const diffSummary = (page: Page) =>
  page
    .locator(".diff-summary li")
    .evaluateAll((lis) => Object.fromEntries(lis.map((li) => [li.getAttribute("data-summary"), Number(li.getAttribute("data-count"))])));

const suite = browserSuite("tests/browser/history-views.test.ts");

suite(`the history views in Chromium${skippedNote}`, () => {
  let db: TestDatabase;
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  /** A whole second between the worker's 2.4.0 in production and its rollback to 2.3.0. */
  let beforeRollback: Date;

  beforeAll(async () => {
    db = await createTestDatabase(clientBackends()[0]);
    server = await startServer(db.env);
    const environments = connectClient(EnvironmentService, server.url);
    const deployments = connectClient(DeploymentService, server.url);
    await environments.createEnvironment({ name: "k8s-east", description: "Kubernetes US-East" });
    for (const [d, project, version] of [
      [API_A, "api-server", "v1.0.0"],
      [API_B, "api-server", "v1.1.0"],
      [WORKER_1, "worker", "2.3.0"],
      [WORKER_2, "worker", "2.4.0"],
      [WEB, "web", "0.1.0"],
      [CRON, "cron", "1.0.0"],
      [GATEWAY, "gateway", "3.0.0"],
    ]) {
      await attest(server.url, [d], { workflow: "release", project, version });
    }
    const record = (logicalEnvironment: string, deploymentName: string, d: string, artifactVersion = "") =>
      deployments.recordDeployment({ environment: "k8s-east", logicalEnvironment, deploymentName, kind: ArtifactKind.CONTAINER_IMAGE, digest: d, artifactVersion });
    // staging: api-server v1.0.0 then v1.1.0; worker 2.4.0; web and gateway.
    await record("staging", "api-server", API_A, "v1.0.0");
    await record("staging", "api-server", API_B, "v1.1.0");
    await record("staging", "worker", WORKER_2, "2.4.0");
    await record("staging", "web", WEB);
    await record("staging", "gateway", GATEWAY);
    // production: api-server v1.0.0; worker 2.3.0, 2.4.0, and back to 2.3.0 (a rollback); cron and gateway.
    await record("production", "api-server", API_A, "v1.0.0");
    await record("production", "cron", CRON);
    await record("production", "gateway", GATEWAY);
    await record("production", "worker", WORKER_1, "2.3.0");
    await record("production", "worker", WORKER_2, "2.4.0");
    beforeRollback = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
    await new Promise((r) => setTimeout(r, beforeRollback.getTime() - Date.now() + 50));
    const rollback = await record("production", "worker", WORKER_1, "2.3.0");
    expect(rollback.outcome).toBe(RecordOutcome.ROLLED_BACK);

    browser = await launchBrowser({ timezoneId: "UTC" });
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await db?.drop();
  });

  it("shows each cell's version from its evidence beside a short digest, and marks the rollback in its cell and history", async () => {
    await signIn(page, server.url, TEST_ADMIN_TOKEN);
    const stagingApi = page.locator(slot("staging", "api-server"));
    const productionApi = page.locator(slot("production", "api-server"));
    const productionWorker = page.locator(slot("production", "worker"));
    await productionWorker.waitFor({ timeout: 15_000 });
    expect(await stagingApi.getAttribute("data-label")).toBe("api-server v1.1.0");
    expect(await productionApi.getAttribute("data-label")).toBe("api-server v1.0.0");
    expect(await productionApi.locator(".version").innerText()).toBe("api-server v1.0.0");
    expect(await productionApi.locator(".short-digest").innerText()).toBe(short(API_A));
    // Recorded without a version: the evidence still names it.
    expect(await page.locator(slot("production", "cron")).getAttribute("data-label")).toBe("cron 1.0.0");
    expect(await page.locator(slot("production", "cron")).getAttribute("data-version")).toBe(short(CRON));
    // The rollback is marked; nothing else is.
    expect(await productionWorker.getAttribute("data-label")).toBe("worker 2.3.0");
    expect(await productionWorker.getAttribute("data-rollback")).toBe("true");
    expect(await productionWorker.locator(".pill.rollback").innerText()).toMatch(/^rolled back$/i);
    expect(await productionWorker.getAttribute("aria-label")).toMatch(/^worker \(container image\) in k8s-east\/production: 2\.3\.0, deployed, rolled back, deployed .*; artifact worker 2\.3\.0 sha256:[0-9a-f]{12}\./);
    expect(await page.locator('td[data-rollback="true"]').evaluateAll((tds) => tds.map((td) => td.getAttribute("data-slot")))).toEqual([
      "k8s-east/production/worker/CONTAINER_IMAGE",
    ]);
    await screenshot(page, "history-views-matrix.png", "the matrix with versions and a rollback");

    // The worker's history: the rollback says what it rolled back from and to.
    await productionWorker.click();
    const panel = page.getByRole("dialog", { name: "History of worker (container image) in k8s-east/production" });
    const items = panel.getByRole("list", { name: /newest first/ }).getByRole("listitem");
    await items.first().waitFor({ timeout: 5_000 });
    expect(await items.evaluateAll((lis) => lis.map((li) => li.getAttribute("aria-label")))).toEqual([
      "2.3.0: deployed, rolled back",
      "2.4.0: superseded",
      "2.3.0: superseded",
    ]);
    const note = items.first().locator(".rollback-note");
    expect(await note.innerText()).toMatch(
      new RegExp(`^rollback from worker 2\\.4\\.0 \\(${short(WORKER_2)}\\) to worker 2\\.3\\.0 \\(${short(WORKER_1)}\\), which ran here before \\(record [0-9a-f]{8}, deployed .*\\)$`),
    );
    expect(await items.nth(1).locator(".rollback-note").innerText()).toMatch(new RegExp(`^rolled back .*: replaced by worker 2\\.3\\.0 \\(${short(WORKER_1)}\\)$`));
    expect(await items.nth(2).locator(".rollback-note").count()).toBe(0);
    await screenshot(page, "history-views-rollback.png", "a slot's history with a rollback");
    await panel.getByRole("button", { name: "Close history" }).click();
  }, 60_000);

  it("compares two columns picked in the matrix: states, versions, counts, differences only, and as of a time", async () => {
    await page.getByRole("button", { name: "Compare k8s-east/staging with another column" }).click();
    await page.getByRole("button", { name: "Compare k8s-east/staging with k8s-east/production" }).click();
    await page.locator(".diff-table tbody tr").first().waitFor({ timeout: 10_000 });
    expect(new URL(page.url()).hash).toBe("#/compare?from=k8s-east%2Fstaging&to=k8s-east%2Fproduction");
    expect(await page.getByLabel("A: environment").inputValue()).toBe("k8s-east");
    expect(await page.getByLabel("A: logical environment").inputValue()).toBe("staging");
    expect(await page.getByLabel("B: logical environment").inputValue()).toBe("production");
    expect(await diffRows(page)).toEqual(["api-server: different", "cron: only-in-to", "gateway: same", "web: only-in-from", "worker: different"]);
    expect(await diffSummary(page)).toEqual({ same: 1, different: 2, "only-in-from": 1, "only-in-to": 1 });
    expect(await page.locator(".diff-summary").innerText()).toMatch(/1\s+same\s+2\s+different\s+1\s+only in staging\s+1\s+only in production/);
    // Versions beside short digests on both sides; the state in words.
    const api = page.locator('.diff-table tr[data-deployment="api-server"]');
    expect(await api.locator('td[data-side="from"] .artifact').innerText().then(spaced)).toBe(`api-server v1.1.0 ${short(API_B)}`);
    expect(await api.locator('td[data-side="to"] .artifact').innerText().then(spaced)).toBe(`api-server v1.0.0 ${short(API_A)}`);
    expect(await api.locator(".state-badge").innerText()).toMatch(/^different$/i);
    const worker = page.locator('.diff-table tr[data-deployment="worker"]');
    expect(await worker.locator('td[data-side="to"] .pill.rollback').count()).toBe(1);
    expect(await page.locator('.diff-table tr[data-deployment="web"] td[data-side="to"]').innerText()).toBe("—");
    expect(await page.locator('.diff-table tr[data-deployment="cron"] .state-badge').innerText()).toMatch(/^only in production$/i);
    await screenshot(page, "history-views-compare.png", "the compare view");

    // Differences only: the same entry goes, the counts stay.
    await page.getByRole("checkbox", { name: "Differences only" }).check();
    await waitForValue(() => diffRows(page), ["api-server: different", "cron: only-in-to", "web: only-in-from", "worker: different"], 10_000);
    expect(await diffSummary(page)).toEqual({ same: 1, different: 2, "only-in-from": 1, "only-in-to": 1 });
    expect(new URL(page.url()).hash).toContain("diff=1");
    await screenshot(page, "history-views-compare-differences.png", "the compare view, differences only");
    await page.getByRole("checkbox", { name: "Differences only" }).uncheck();

    // Production as of a second before the rollback: the worker ran 2.4.0, as staging does now.
    await page.getByLabel("B: as of (empty: now)").fill(beforeRollback.toISOString().slice(0, 19));
    await waitForValue(() => diffRows(page), ["api-server: different", "cron: only-in-to", "gateway: same", "web: only-in-from", "worker: same"], 10_000);
    expect(await diffSummary(page)).toEqual({ same: 2, different: 1, "only-in-from": 1, "only-in-to": 1 });
    expect(await page.locator('.diff-table tr[data-deployment="worker"] td[data-side="to"] .artifact').innerText().then(spaced)).toBe(`worker 2.4.0 ${short(WORKER_2)}`);
    expect(new URL(page.url()).hash).toContain(`toAsOf=${encodeURIComponent(beforeRollback.toISOString())}`);

    // A place the server refuses (an as-of in the future) says why, in words.
    await page.getByLabel("B: as of (empty: now)").fill("2999-01-01T00:00:00");
    await page.getByRole("alert").filter({ hasText: /^Cannot compare: .*future/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator(".diff-table").count()).toBe(0);
    await page.getByRole("button", { name: "B: compare what runs now" }).click();
    await waitForValue(() => diffSummary(page), { same: 1, different: 2, "only-in-from": 1, "only-in-to": 1 }, 10_000);
    expect(browser.pageErrors).toEqual([]);
  }, 60_000);

  it("shows delivery metrics per logical environment: the numbers as text and bars per bucket", async () => {
    await page.getByRole("link", { name: "Metrics", exact: true }).click();
    const production = page.getByRole("region", { name: "Delivery metrics for production" });
    const staging = page.getByRole("region", { name: "Delivery metrics for staging" });
    const deployments = (card: typeof production) => card.locator('[data-metric="deployments"] dd');
    await waitForAttribute(deployments(production), "data-value", "6", 15_000);
    await waitForAttribute(deployments(staging), "data-value", "5", 5_000);
    await waitForAttribute(deployments(page.getByRole("region", { name: "Delivery metrics for development" })), "data-value", "0", 5_000);

    // What the API says, for the numbers the page must show as they are.
    const metrics = connectClient(DeliveryMetricsService, server.url);
    const api = await metrics.getDeliveryMetrics({ logicalEnvironment: "production", bucket: MetricsBucket.WEEK });
    expect(api.total).toMatchObject({ deploymentCount: 6, failedCount: 1, rollbackCount: 1, restoredCount: 1 });
    const cfr = production.locator('[data-metric="change-failure-rate"] dd');
    expect(await cfr.innerText()).toMatch(/^16\.7%\s+1 of 6 failed · 1 rollback$/);
    expect(await production.locator('[data-metric="time-to-restore"] dd').innerText()).toMatch(/^[0-9.]+s\s+median · p90 [0-9.]+s · 1 restored$/);
    expect(await production.locator('[data-metric="lead-time"] dd').innerText()).toMatch(new RegExp(`^[0-9.]+s\\s+median · p90 [0-9.]+s · ${api.total!.leadTimeCount} digests$`));
    // Weekly bars over the last 30 days: every bucket the API gives, the deployments in the last one.
    const bars = production.locator('[data-metric="deployments"] svg rect');
    const values = await bars.evaluateAll((rs) => rs.map((r) => Number(r.getAttribute("data-value"))));
    expect(values).toEqual(api.buckets.map((b) => b.deploymentCount));
    expect(values.length).toBeGreaterThanOrEqual(5);
    // All six in the last bucket, or the last two when the test ran across a week's boundary (UTC).
    expect(values.reduce((x, y) => x + y, 0)).toBe(6);
    expect(values.slice(0, -2).every((v) => v === 0)).toBe(true);
    const last = values[values.length - 1];
    expect(await production.locator('[data-metric="deployments"] svg').getAttribute("aria-label")).toMatch(
      new RegExp(`^Deployments per week: week of .* 0 deployments; .*week of .* ${last} deployments?$`),
    );
    await screenshot(page, "history-views-metrics.png", "delivery metrics by week");

    // By day: 30 or 31 daily bars, today's holding the six.
    await page.getByLabel("Metrics bucket").selectOption("day");
    await waitForAttribute(production, "data-bucket", "day", 10_000);
    expect(await production.locator('[data-metric="deployments"] figcaption').innerText()).toBe("Deployments per day");
    const daily = await production.locator('[data-metric="deployments"] svg rect').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute("data-value"))));
    expect([30, 31]).toContain(daily.length);
    expect(daily.reduce((a, b) => a + b, 0)).toBe(6);
    expect(daily.slice(0, -2).every((v) => v === 0)).toBe(true); // today's (and at midnight UTC, yesterday's)
    expect(new URL(page.url()).hash).toBe("#/metrics?bucket=day&days=30");
    await screenshot(page, "history-views-metrics-daily.png", "delivery metrics by day");
    expect(browser.pageErrors).toEqual([]);
  }, 60_000);

  it("shows the matrix as of a time (ListDeployments as_of), not live, with the instant in the URL; back to live; a future time refused in words", async () => {
    await page.getByRole("link", { name: "What runs where", exact: true }).click();
    const productionWorker = page.locator(slot("production", "worker"));
    await waitForAttribute(productionWorker, "data-label", "worker 2.3.0", 15_000);
    expect(await page.getByRole("status", { name: "Not live" }).count()).toBe(0);
    const asOfInput = page.getByLabel("As of (UTC; empty: live)");
    expect(await asOfInput.inputValue()).toBe("");
    const rollbackSlots = () => page.locator('td[data-rollback="true"]').evaluateAll((tds) => tds.map((td) => td.getAttribute("data-slot")));
    const allSlots = () => page.locator("td[data-slot]:not(.empty)").evaluateAll((tds) => tds.map((td) => `${td.getAttribute("data-slot")} ${td.getAttribute("data-label")}`).sort());

    // A second before the rollback: production's worker ran 2.4.0, not rolled back.
    const at = beforeRollback.toISOString().replace(/\.000Z$/, "Z");
    const atText = `${at.slice(0, 10)} ${at.slice(11, 19)} UTC`;
    await asOfInput.fill(at.slice(0, 19));
    await waitForAttribute(productionWorker, "data-label", "worker 2.4.0", 10_000);
    expect(new URL(page.url()).hash).toBe(`#/?at=${encodeURIComponent(at)}`);
    const banner = page.getByRole("status", { name: "Not live" });
    expect(spaced(await banner.innerText())).toBe(`As of ${atText} — not live. The matrix shows what was deployed at that instant; changes since do not appear. Back to live`);
    // The top bar's badge says the view is not live either.
    expect(await page.getByRole("status", { name: /^Live updates:/ }).innerText()).toBe(`As of ${atText}`);
    expect(await banner.getAttribute("data-as-of")).toBe(at);
    expect(await productionWorker.getAttribute("data-digest")).toBe(WORKER_2);
    expect(await productionWorker.getAttribute("data-version")).toBe("2.4.0");
    expect(await productionWorker.getAttribute("data-rollback")).toBe("false");
    expect(await productionWorker.getAttribute("data-status-now")).toBe("superseded");
    expect(await productionWorker.locator(".pill.rollback").count()).toBe(0);
    expect(await productionWorker.locator(".version").innerText()).toBe("worker 2.4.0");
    expect(await productionWorker.locator(".short-digest").innerText()).toBe(short(WORKER_2));
    expect(await productionWorker.locator(".status .pill").innerText()).toMatch(/^deployed$/i);
    expect(await productionWorker.getAttribute("aria-label")).toMatch(/^worker \(container image\) in k8s-east\/production: 2\.4\.0, deployed, deployed .*; artifact worker 2\.4\.0 sha256:[0-9a-f]{12}\./);
    expect(await rollbackSlots()).toEqual([]);
    // Every other slot held what it holds now.
    expect(await allSlots()).toEqual([
      "k8s-east/production/api-server/CONTAINER_IMAGE api-server v1.0.0",
      "k8s-east/production/cron/CONTAINER_IMAGE cron 1.0.0",
      "k8s-east/production/gateway/CONTAINER_IMAGE gateway 3.0.0",
      "k8s-east/production/worker/CONTAINER_IMAGE worker 2.4.0",
      "k8s-east/staging/api-server/CONTAINER_IMAGE api-server v1.1.0",
      "k8s-east/staging/gateway/CONTAINER_IMAGE gateway 3.0.0",
      "k8s-east/staging/web/CONTAINER_IMAGE web 0.1.0",
      "k8s-east/staging/worker/CONTAINER_IMAGE worker 2.4.0",
    ]);
    expect(await page.locator(".summary").innerText()).toMatch(new RegExp(`^8 deployed deployments in 2 places as of ${atText}`));
    // A datetime-local value leaves out seconds that are zero (HTML's normalized form).
    expect(await asOfInput.inputValue()).toBe(at.slice(0, 19).replace(/:00$/, ""));

    await screenshot(page, "history-views-as-of.png", "the matrix as of a time");

    // The slot's history still opens, the record that ran then marked.
    await productionWorker.click();
    const panel = page.getByRole("dialog", { name: "History of worker (container image) in k8s-east/production" });
    const items = panel.getByRole("list", { name: /newest first/ }).getByRole("listitem");
    await items.first().waitFor({ timeout: 5_000 });
    expect(await items.evaluateAll((lis) => lis.map((li) => `${li.getAttribute("aria-label")} [${li.getAttribute("data-ran-then")}]`))).toEqual([
      "2.3.0: deployed, rolled back [false]",
      "2.4.0: superseded, deployed at the time shown [true]",
      "2.3.0: superseded [false]",
    ]);
    await panel.getByRole("heading", { name: /^Evidence/ }).locator("code").filter({ hasText: short(WORKER_2) }).waitFor({ timeout: 5_000 });
    await screenshot(page, "history-views-as-of-history.png", "the matrix as of a time, with the slot's history");
    await panel.getByRole("button", { name: "Close history" }).click();

    // The filters ask the server for one place.
    await page.getByLabel("Filter by logical environment").selectOption("staging");
    await waitForValue(() => allSlots(), [
      "k8s-east/staging/api-server/CONTAINER_IMAGE api-server v1.1.0",
      "k8s-east/staging/gateway/CONTAINER_IMAGE gateway 3.0.0",
      "k8s-east/staging/web/CONTAINER_IMAGE web 0.1.0",
      "k8s-east/staging/worker/CONTAINER_IMAGE worker 2.4.0",
    ], 10_000);
    await page.getByLabel("Filter by logical environment").selectOption("");
    await waitForAttribute(productionWorker, "data-label", "worker 2.4.0", 10_000);

    // The back button returns to live, forward to the instant; a link opens it.
    await page.goBack();
    await waitForAttribute(productionWorker, "data-label", "worker 2.3.0", 10_000);
    expect(new URL(page.url()).hash).toBe("#/");
    expect(await banner.count()).toBe(0);
    expect(await rollbackSlots()).toEqual(["k8s-east/production/worker/CONTAINER_IMAGE"]);
    await page.goForward();
    await waitForAttribute(productionWorker, "data-label", "worker 2.4.0", 10_000);
    await page.goto(`${server.url}/#/?at=${encodeURIComponent(at)}`);
    await waitForAttribute(productionWorker, "data-label", "worker 2.4.0", 15_000);
    expect(await banner.getAttribute("data-as-of")).toBe(at);

    // Back to live: the current version, rolled back, and no banner.
    await banner.getByRole("button", { name: "Back to live" }).click();
    await waitForAttribute(productionWorker, "data-label", "worker 2.3.0", 10_000);
    expect(await productionWorker.getAttribute("data-rollback")).toBe("true");
    expect(new URL(page.url()).hash).toBe("#/");
    expect(await banner.count()).toBe(0);
    expect(await page.getByRole("status", { name: /^Live updates:/ }).innerText()).toBe("Live");
    expect(await asOfInput.inputValue()).toBe("");
    expect(await page.getByRole("button", { name: "Now (live)" }).getAttribute("aria-pressed")).toBe("true");

    // An hour ago nothing was deployed yet (the records are minutes old).
    await page.getByRole("button", { name: "As of 1 hour ago" }).click();
    await page.getByRole("status").filter({ hasText: /^Nothing was deployed at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\.$/ }).waitFor({ timeout: 10_000 });
    expect(new URL(page.url()).hash).toMatch(/^#\/\?at=\d{4}-\d{2}-\d{2}T\d{2}%3A\d{2}%3A\d{2}Z$/);
    const hourAgo = Date.parse(decodeURIComponent(new URL(page.url()).hash.slice("#/?at=".length)));
    expect(Math.abs(Date.now() - 3600_000 - hourAgo)).toBeLessThan(60_000);
    expect(await page.locator("table.matrix").count()).toBe(0);

    // A future time: the server's refusal, in words; no matrix.
    await asOfInput.fill("2999-01-01T00:00:00");
    await page.getByRole("alert").filter({ hasText: /^Cannot show what was deployed as of 2999-01-01 00:00:00 UTC: .*future/ }).waitFor({ timeout: 10_000 });
    expect(new URL(page.url()).hash).toBe(`#/?at=${encodeURIComponent("2999-01-01T00:00:00Z")}`);
    expect(await page.locator("table.matrix").count()).toBe(0);
    await screenshot(page, "history-views-as-of-future.png", "the matrix as of a future time, refused");
    // Not a time at all (a hand-made link) says so too.
    await page.goto(`${server.url}/#/?at=yesterday`);
    await page.getByRole("alert").filter({ hasText: /^Cannot show what was deployed as of yesterday: "yesterday" is not a time/ }).waitFor({ timeout: 10_000 });

    await page.getByRole("button", { name: "Now (live)" }).click();
    await waitForAttribute(productionWorker, "data-label", "worker 2.3.0", 10_000);
    expect(new URL(page.url()).hash).toBe("#/");
    expect(browser.pageErrors).toEqual([]);
  }, 90_000);
});
