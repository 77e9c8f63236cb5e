// The web page at `/`, in a real browser (Debian's Chromium, driven by playwright-core): the
// token prompt (a wrong token is rejected), the seed's workflow in the matrix, a new version
// recorded from the CLI appearing without a reload, a stale deployment highlighted, and a
// slot's history with the artifact's evidence. Screenshots go to tests/artifacts/.
// Skips (with a message) only when /usr/bin/chromium is absent; CI installs it (.ci/run).
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { Page } from "playwright-core";
import { ArtifactKind, DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { runCli } from "../cli/run-cli.js";
import { clientBackends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";
import { ARTIFACTS, browserSuite, launchBrowser, skippedNote, waitForAttribute, type Browser } from "./browser-helpers.js";
import { digest } from "../helpers/facts.js";

const V100 = digest("api-server v1.0.0");
const V110 = digest("api-server v1.1.0");
const slot = (env: string, lenv: string, name: string) => `[data-slot="${env}/${lenv}/${name}/CONTAINER_IMAGE"]`;

function rawGet(port: number, pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: pathname, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const suite = browserSuite("tests/browser/live-view.test.ts");

suite(`the live view in Chromium${skippedNote}`, () => {
  let db: TestDatabase;
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    db = await createTestDatabase(clientBackends()[0]);
    server = await startServer(db.env);
    const environments = connectClient(EnvironmentService, server.url);
    const deployments = connectClient(DeploymentService, server.url);
    // The seed's workflow: k8s-east; api-server v1.0.0 in staging and production, then v1.1.0 in production.
    await environments.createEnvironment({ name: "k8s-east", description: "Kubernetes US-East" });
    await attest(server.url, [V100], { workflow: "release", project: "api-server", version: "v1.0.0" });
    await attest(server.url, [V110], { workflow: "release", project: "api-server", version: "v1.1.0" });
    await attest(server.url, [digest("worker 2.3.1"), digest("edge-agent 0.9.0")], { workflow: "release", project: "platform" });
    const api = { environment: "k8s-east", deploymentName: "api-server", kind: ArtifactKind.CONTAINER_IMAGE, artifactName: "ghcr.io/acme/api-server" };
    await deployments.recordDeployment({ ...api, logicalEnvironment: "staging", digest: V100, artifactVersion: "v1.0.0" });
    await deployments.recordDeployment({ ...api, logicalEnvironment: "production", digest: V100, artifactVersion: "v1.0.0" });
    await deployments.recordDeployment({ ...api, logicalEnvironment: "production", digest: V110, artifactVersion: "v1.1.0" });
    // More to look at: a worker, and an edge environment expecting heartbeats every second,
    // whose agent stops reporting (stale).
    await deployments.recordDeployment({ ...api, deploymentName: "worker", logicalEnvironment: "production", digest: digest("worker 2.3.1"), artifactVersion: "2.3.1" });
    await environments.createEnvironment({ name: "edge-eu", heartbeatInterval: { seconds: 1n, nanos: 0 } });
    await deployments.recordDeployment({
      ...api,
      environment: "edge-eu",
      deploymentName: "edge-agent",
      logicalEnvironment: "production",
      digest: digest("edge-agent 0.9.0"),
      artifactVersion: "",
    });

    browser = await launchBrowser();
    ({ page, pageErrors } = browser);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await db?.drop();
  });

  it("serves the page and its hashed assets with the right types and caching, and nothing outside them", async () => {
    const index = await fetch(`${server.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${server.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toContain("immutable");
    // Read to the end: an unread body left this worker holding the connection after the server
    // exited (its FIN stuck behind the unread bytes), and jest had to force the worker out.
    expect((await js.text()).length).toBeGreaterThan(1000);
    // Sent as written (no client-side normalization of dot segments).
    for (const bad of ["/assets/..%2F..%2Fpackage.json", "/assets/%2e%2e/%2e%2e/package.json", "/assets/../../package.json", "/assets/.hidden", "/package.json"]) {
      const res = await rawGet(server.port, bad);
      expect([404, 405, 415].includes(res.status) ? "refused" : `${res.status} for ${bad}`).toBe("refused");
      expect(res.body).not.toContain("chainloop-deployments");
    }
  });

  it("asks for a token and says when it is rejected", async () => {
    await page.goto(server.url);
    const input = page.getByRole("textbox", { name: "API token" });
    await input.fill("clp_not-a-real-token-000000000000000000000");
    await page.getByRole("button", { name: "Connect with this token" }).click();
    await page.getByText(/Token rejected/).waitFor({ timeout: 10_000 });
    expect(await page.evaluate("sessionStorage.getItem('chainloop.apiToken')")).toBeNull();
  }, 60_000);

  it("shows the seed's workflow, updates a cell live when the CLI records a new version, and opens a slot's history", async () => {
    await page.getByRole("textbox", { name: "API token" }).fill(TEST_ADMIN_TOKEN);
    await page.getByRole("button", { name: "Connect with this token" }).click();
    const staging = page.locator(slot("k8s-east", "staging", "api-server"));
    const production = page.locator(slot("k8s-east", "production", "api-server"));
    await production.waitFor({ timeout: 15_000 });
    expect(await production.getAttribute("data-version")).toBe("v1.1.0");
    expect(await staging.getAttribute("data-version")).toBe("v1.0.0");
    expect(await production.getAttribute("aria-label")).toMatch(/^api-server \(container image\) in k8s-east\/production: v1\.1\.0, deployed, deployed .* ago|just now/);
    expect(await page.getByRole("status", { name: /Live updates: Live/ }).count()).toBe(1);
    // The token stays in this tab's sessionStorage only.
    expect(await page.evaluate("[sessionStorage.getItem('chainloop.apiToken'), localStorage.length]")).toEqual([TEST_ADMIN_TOKEN, 0]);

    // The edge agent misses its heartbeats (interval 1 s, tolerance 2): highlighted as stale.
    const edge = page.locator(slot("edge-eu", "production", "edge-agent"));
    await waitForAttribute(edge, "data-stale", "true", 10_000);
    expect(await edge.getAttribute("aria-label")).toContain(": sha256:");
    expect(await edge.getAttribute("aria-label")).toContain(", stale,");
    expect(await production.getAttribute("data-stale")).toBe("false");

    // A new version from the CLI shows up without a reload.
    await page.evaluate("window.marker = 'same document'");
    const cli = await runCli(
      ["deployment", "record", "--env", "k8s-east", "--logical-env", "staging", "--deployment-name", "api-server", "--kind", "CONTAINER_IMAGE", "--digest", V110, "--artifact-version", "v1.1.0"],
      { CHAINLOOP_SERVER: server.url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN },
    );
    expect(cli).toMatchObject({ code: 0, stderr: "" });
    await waitForAttribute(page.locator(slot("k8s-east", "staging", "api-server")), "data-version", "v1.1.0", 5_000);
    expect(await page.evaluate("window.marker")).toBe("same document");

    // Filters: by environment.
    await page.getByLabel("Filter by environment").selectOption("edge-eu");
    expect(await page.locator("[data-slot]").count()).toBe(1);
    await page.getByLabel("Filter by environment").selectOption("");
    await page.getByLabel("Filter by deployment name").fill("work");
    expect(await page.locator("td[data-version]").evaluateAll((tds) => tds.map((t) => t.getAttribute("data-version")))).toEqual(["2.3.1"]);
    await page.getByLabel("Filter by deployment name").fill("");

    const shot = path.join(ARTIFACTS, "live-view.png");
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot of the matrix: ${shot}`);
    expect(fs.statSync(shot).size).toBeGreaterThan(10_000);

    // The production slot's history, opened from the keyboard, and its artifact's evidence.
    await production.focus();
    await page.keyboard.press("Enter");
    const panel = page.getByRole("dialog", { name: "History of api-server (container image) in k8s-east/production" });
    await panel.waitFor({ timeout: 5_000 });
    const history = panel.getByRole("list", { name: /newest first/ }).getByRole("listitem");
    await history.first().waitFor({ timeout: 5_000 });
    expect(await history.evaluateAll((lis) => lis.map((li) => li.getAttribute("aria-label")))).toEqual(["v1.1.0: deployed", "v1.0.0: superseded"]);
    const evidence = panel.getByRole("list", { name: "Attestations that mention the artifact" });
    await evidence.waitFor({ timeout: 5_000 });
    expect(await evidence.innerText()).toContain("api-server v1.1.0");
    expect(await evidence.innerText()).toContain("workflow release");
    await page.screenshot({ path: path.join(ARTIFACTS, "live-view-history.png"), fullPage: true });
    console.log(`screenshot of a slot's history: ${path.join(ARTIFACTS, "live-view-history.png")}`);
    await panel.getByRole("button", { name: "Close history" }).click();
    expect(await panel.count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 90_000);
});

