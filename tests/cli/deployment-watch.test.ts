// `chainloop deployment watch`: the real CLI process streaming from a real server. JSON mode
// prints one object per event per line; table mode one row per event; Ctrl-C exits 0.
import { spawn } from "node:child_process";
import { ArtifactKind, DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { clientBackends } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { ROOT, TEST_ADMIN_TOKEN } from "../helpers/server.js";
import { CLI, runCli } from "./run-cli.js";
import { digest } from "../helpers/facts.js";


/** A running `chainloop deployment watch …`, its stdout lines as they come. */
function watchCli(server: string, args: string[]) {
  const child = spawn(process.execPath, [CLI, "deployment", "watch", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", CHAINLOOP_SERVER: server, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  let buf = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    buf += c;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    lines,
    stderr: () => stderr,
    async until(pred: (lines: string[]) => boolean, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (!pred(lines)) {
        if (Date.now() > end) throw new Error(`timed out; stdout:\n${lines.join("\n")}\nstderr:\n${stderr}`);
        if (child.exitCode !== null) throw new Error(`watch exited ${child.exitCode}; stderr:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    interrupt() {
      child.kill("SIGINT");
      return exited;
    },
  };
}

describe.each(clientBackends())("chainloop deployment watch on %s", (backend) => {
  const served = serveFor(backend);
  const record = (name: string, d: string, version = "") =>
    connectClient(DeploymentService, served.url).recordDeployment({
      environment: "k8s-east",
      logicalEnvironment: "production",
      deploymentName: name,
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest: d,
      artifactVersion: version,
    });

  beforeAll(async () => {
    await connectClient(EnvironmentService, served.url).createEnvironment({ name: "k8s-east" });
    await attest(served.url, ["api v1", "api v2", "web v1"].map(digest));
    await record("api", digest("api v1"), "v1");
  });

  it("prints one JSON object per event per line, and exits 0 on Ctrl-C", async () => {
    const w = watchCli(served.url, ["-o", "json", "--deployment-name", "api"]);
    await w.until((l) => l.some((x) => x.includes("WATCH_EVENT_TYPE_SNAPSHOT_END")));
    await record("web", digest("web v1")); // filtered out
    await record("api", digest("api v2"), "v2");
    await w.until((l) => l.some((x) => x.includes("WATCH_EVENT_TYPE_CREATED")));
    expect(await w.interrupt()).toBe(0);
    const events = w.lines.map((l) => JSON.parse(l));
    expect(events.map((e) => [e.type, e.deployment?.deploymentName ?? null, e.deployment?.artifactVersion ?? null])).toEqual([
      ["WATCH_EVENT_TYPE_SNAPSHOT", "api", "v1"],
      ["WATCH_EVENT_TYPE_SNAPSHOT_END", null, null],
      ["WATCH_EVENT_TYPE_SUPERSEDED", "api", "v1"],
      ["WATCH_EVENT_TYPE_CREATED", "api", "v2"],
    ]);
    expect(events[3].deployment).toMatchObject({ status: "DEPLOYMENT_STATUS_DEPLOYED", stale: false, environment: "k8s-east" });
    expect(w.stderr()).toBe("");
  });

  it("prints live table rows: time, event, where, deployment, version, short digest, status, stale", async () => {
    const w = watchCli(served.url, []);
    await w.until((l) => l.length >= 3); // header + the two running records
    await record("web", digest("web v1")); // heartbeat: no version given nor in its evidence: "-"
    await w.until((l) => l.some((x) => / heartbeat /.test(x)));
    // A new heartbeat interval for the environment: each running record's stale time moves.
    await connectClient(EnvironmentService, served.url).updateEnvironment({
      environment: { name: "k8s-east", heartbeatInterval: { seconds: 3600n, nanos: 0 } },
      updateMask: { paths: ["heartbeat_interval"] },
    });
    await w.until((l) => l.filter((x) => / stale-time /.test(x)).length === 2);
    // Back to v1, which api ran before: the old record superseded, the new one a rollback.
    await record("api", digest("api v1"), "v1");
    await w.until((l) => l.some((x) => / rolled-back /.test(x)));
    expect(await w.interrupt()).toBe(0);
    expect(w.lines[0].split(/\s{3,}/)).toEqual(["TIME", "EVENT", "ENVIRONMENT", "DEPLOYMENT", "VERSION", "DIGEST", "STATUS", "STALE"]);
    const rows = w.lines.slice(1).map((l) => l.split(/\s{3,}/));
    const [api, web] = [digest("api v2"), digest("web v1")].map((d) => d.slice(0, 19));
    expect(rows).toEqual([
      // the snapshot: newest first
      [expect.stringMatching(/^\d\d:\d\d:\d\d$/), "running", "k8s-east/production", "api", "v2", api, "deployed"],
      [expect.stringMatching(/^\d\d:\d\d:\d\d$/), "running", "k8s-east/production", "web", "-", web, "deployed"],
      [expect.stringMatching(/^\d\d:\d\d:\d\d$/), "heartbeat", "k8s-east/production", "web", "-", web, "deployed"],
      [expect.stringMatching(/^\d\d:\d\d:\d\d$/), "stale-time", "k8s-east/production", "api", "v2", api, "deployed"],
      [expect.stringMatching(/^\d\d:\d\d:\d\d$/), "stale-time", "k8s-east/production", "web", "-", web, "deployed"],
      [expect.stringMatching(/^\d\d:\d\d:\d\d$/), "superseded", "k8s-east/production", "api", "v2", api, "superseded"],
      [expect.stringMatching(/^\d\d:\d\d:\d\d$/), "rolled-back", "k8s-east/production", "api", "v1", digest("api v1").slice(0, 19), "deployed"],
    ]);
    expect(w.stderr()).toContain("2 active records; watching for changes (Ctrl-C to stop)");
  });

  it("--project and --version narrow watch and list to what a project's attestations name", async () => {
    await attest(served.url, [digest("shop v3")], { project: "shop", version: "v3" });
    await attest(served.url, [digest("shop v4")], { project: "shop", version: "v4" });
    await record("shop", digest("shop v3"), "v3");
    const v4 = watchCli(served.url, ["-o", "json", "--project", "shop", "--version", "v4"]);
    await v4.until((l) => l.some((x) => x.includes("WATCH_EVENT_TYPE_SNAPSHOT_END")));
    await record("web", digest("web v1")); // another project's digest
    await record("shop", digest("shop v4"), "v4");
    await v4.until((l) => l.some((x) => x.includes("WATCH_EVENT_TYPE_CREATED")));
    expect(await v4.interrupt()).toBe(0);
    expect(v4.lines.map((l) => JSON.parse(l)).map((e) => [e.type, e.deployment?.artifactVersion ?? null])).toEqual([
      ["WATCH_EVENT_TYPE_SNAPSHOT_END", null],
      ["WATCH_EVENT_TYPE_CREATED", "v4"],
    ]);

    const env = { CHAINLOOP_SERVER: served.url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN };
    const listed = await runCli(["deployment", "list", "--project", "shop", "--history", "-o", "json"], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).map((d: { artifactVersion: string; status: string }) => [d.artifactVersion, d.status])).toEqual([
      ["v4", "DEPLOYMENT_STATUS_DEPLOYED"],
      ["v3", "DEPLOYMENT_STATUS_SUPERSEDED"],
    ]);
    const refused = await runCli(["deployment", "watch", "--version", "v4"], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("project_version needs project");
  });
});
