// `chainloop deployment record | list | describe`: the real CLI process against a real server on
// each database backend (the seed's "Typical Workflow" with --digest, heartbeats, decommissions,
// describe, errors), then what needs no database (usage errors before any network call, the
// request timeout).
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { attest } from "../helpers/evidence.js";
import { startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";
import {
  closedPort,
  expectOneErrorLine,
  expectUsageError,
  parseFields,
  parseTable,
  RECENT,
  UUID,
  UUID_PATTERN,
} from "./parse-output.js";
import { CLI, runCli, runShell, type CliResult } from "./run-cli.js";

const V100 = `sha256:${"a1".repeat(32)}`;
const V110 = `sha256:${"b2".repeat(32)}`;
const OTHER = `sha256:${"c3".repeat(32)}`;
const short = (digest: string) => digest.slice(0, "sha256:".length + 12);
const LIST_HEADERS = ["ENVIRONMENT", "LOGICAL ENV", "DEPLOYMENT", "KIND", "ARTIFACT", "DIGEST", "STATUS", "DEPLOYED", "LAST SEEN", "RECORDED BY"];

interface DeploymentJson {
  id: string;
  environment: string;
  logicalEnvironment: string;
  deploymentName: string;
  kind: string;
  digest: string;
  artifactName: string;
  artifactVersion: string;
  artifactReference: string;
  status: string;
  createTime: string;
  lastSeenTime: string;
  supersededTime?: string;
  supersededById: string;
  decommissionTime?: string;
  recordedBy?: { tokenId: string; tokenName: string };
  decommissionedBy?: { tokenId: string; tokenName: string };
}

interface RecordJson {
  outcome: string;
  deployment: DeploymentJson;
  supersededDeploymentId: string;
}

function json<T>(result: CliResult): T {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(result.stdout) as T;
}

/** What `deployment record` prints in table mode, as a pattern: the outcome, then the record. */
function outcomeLine(text: string): RegExp {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped} \\(record (${UUID_PATTERN})\\)\\n$`);
}

describe.each(backends())("chainloop deployment commands on %s", (backend) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let binDir: string;
  const env = () => ({ CHAINLOOP_SERVER: server.url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN });
  const chainloop = (...args: string[]) => runCli(args, env());
  /** A command line as a user types it, with `chainloop` on PATH. */
  const shell = (line: string) => runShell(line, binDir, env());
  const record = (logicalEnv: string, name: string, digest: string, ...extra: string[]) =>
    chainloop("deployment", "record", "--env", "k8s-east", "--logical-env", logicalEnv, "--deployment-name", name, "--kind", "CONTAINER_IMAGE", "--digest", digest, ...extra);
  const list = async (...args: string[]) => json<DeploymentJson[]>(await chainloop("deployment", "list", "-o", "json", ...args));

  beforeAll(async () => {
    binDir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-bin-"));
    fs.symlinkSync(CLI, path.join(binDir, "chainloop"));
    db = await createTestDatabase(backend);
    server = await startServer(db.env);
    // RecordDeployment refuses digests that no attestation mentions.
    await attest(server.url, [V100, V110, OTHER], { project: "api-server" });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    if (binDir) fs.rmSync(binDir, { recursive: true, force: true });
  });

  it("runs the seed's Typical Workflow with --digest: what runs where, what ran before", async () => {
    // 1. The environment, verbatim.
    expect(await shell('chainloop environment create --name k8s-east --description "Kubernetes US-East"')).toEqual({
      code: 0,
      stdout: 'environment "k8s-east" created\n',
      stderr: "",
    });

    // 2–3. v1.0.0 to staging and to production (the seed's command line, --digest for --oci-ref).
    const staging = await shell(`chainloop deployment record --env k8s-east --logical-env staging --deployment-name api-server --kind CONTAINER_IMAGE --digest ${V100}`);
    expect({ code: staging.code, stderr: staging.stderr }).toEqual({ code: 0, stderr: "" });
    expect(staging.stdout).toMatch(outcomeLine(`created: api-server in k8s-east/staging runs ${short(V100)}`));
    const prod100 = json<RecordJson>(
      await record("production", "api-server", V100, "--artifact-name", "ghcr.io/acme/api-server", "--artifact-version", "v1.0.0", "--artifact-reference", "ghcr.io/acme/api-server:v1.0.0", "-o", "json"),
    );
    expect(prod100).toEqual({
      outcome: "RECORD_OUTCOME_CREATED",
      supersededDeploymentId: "",
      policyViolations: [],
      policyOverridden: false,
      deployment: expect.objectContaining({
        id: expect.stringMatching(UUID),
        environment: "k8s-east",
        logicalEnvironment: "production",
        deploymentName: "api-server",
        kind: "ARTIFACT_KIND_CONTAINER_IMAGE",
        digest: V100,
        artifactName: "ghcr.io/acme/api-server",
        artifactVersion: "v1.0.0",
        artifactReference: "ghcr.io/acme/api-server:v1.0.0",
        status: "DEPLOYMENT_STATUS_DEPLOYED",
        createTime: expect.stringMatching(/Z$/),
        lastSeenTime: expect.stringMatching(/Z$/),
        recordedBy: { tokenId: expect.stringMatching(UUID), tokenName: "bootstrap-admin" },
      }),
    });

    // 4. v1.1.0 to production supersedes v1.0.0 there.
    const prod110 = await record("production", "api-server", V110, "--artifact-name", "ghcr.io/acme/api-server", "--artifact-version", "v1.1.0");
    expect({ code: prod110.code, stderr: prod110.stderr }).toEqual({ code: 0, stderr: "" });
    const superseded = outcomeLine(
      `superseded ${prod100.deployment.id}: api-server in k8s-east/production now runs ${short(V110)} (ghcr.io/acme/api-server:v1.1.0)`,
    ).exec(prod110.stdout);
    expect(superseded).not.toBeNull();
    const prod110Id = superseded![1];
    expect(prod110Id).not.toBe(prod100.deployment.id);

    // 5. Production shows only v1.1.0 now, in the table and in JSON.
    const table = await chainloop("deployment", "list", "--logical-env", "production");
    expect({ code: table.code, stderr: table.stderr }).toEqual({ code: 0, stderr: "" });
    const parsed = parseTable(table.stdout);
    expect(parsed.headers).toEqual(LIST_HEADERS);
    expect(parsed.rows).toEqual([
      {
        ENVIRONMENT: "k8s-east",
        "LOGICAL ENV": "production",
        DEPLOYMENT: "api-server",
        KIND: "CONTAINER_IMAGE",
        ARTIFACT: "ghcr.io/acme/api-server:v1.1.0",
        DIGEST: short(V110),
        STATUS: "deployed",
        DEPLOYED: expect.stringMatching(RECENT),
        "LAST SEEN": expect.stringMatching(RECENT),
        "RECORDED BY": "bootstrap-admin",
      },
    ]);
    expect(table.stdout).not.toContain(short(V100));
    const production = await list("--logical-env", "production");
    expect(production.map((d) => [d.id, d.digest, d.status])).toEqual([[prod110Id, V110, "DEPLOYMENT_STATUS_DEPLOYED"]]);

    // 6. With --history (verbatim): v1.1.0 deployed, v1.0.0 superseded by it, newest first.
    const history = await shell("chainloop deployment list --env k8s-east --logical-env production --history");
    expect({ code: history.code, stderr: history.stderr }).toEqual({ code: 0, stderr: "" });
    expect(parseTable(history.stdout).rows.map((r) => [r.ARTIFACT, r.DIGEST, r.STATUS])).toEqual([
      ["ghcr.io/acme/api-server:v1.1.0", short(V110), "deployed"],
      ["ghcr.io/acme/api-server:v1.0.0", short(V100), "superseded"],
    ]);
    const historyJson = await list("--env", "k8s-east", "--logical-env", "production", "--history");
    expect(historyJson.map((d) => [d.digest, d.status, d.supersededById])).toEqual([
      [V110, "DEPLOYMENT_STATUS_DEPLOYED", ""],
      [V100, "DEPLOYMENT_STATUS_SUPERSEDED", prod110Id],
    ]);

    // Staging still runs v1.0.0 (recorded without artifact details: ARTIFACT is the project of
    // its evidence, which names no version).
    const stagingTable = parseTable((await chainloop("deployment", "list", "--logical-env", "staging")).stdout);
    expect(stagingTable.rows.map((r) => [r.DEPLOYMENT, r.ARTIFACT, r.DIGEST, r.STATUS])).toEqual([["api-server", "api-server", short(V100), "deployed"]]);
    expect((await list("--logical-env", "staging")).map((d) => [d.digest, d.status])).toEqual([[V100, "DEPLOYMENT_STATUS_DEPLOYED"]]);

    // Every active record, across stages; --wide adds the ID first.
    const wide = parseTable((await chainloop("deployment", "list", "--env", "k8s-east", "--wide")).stdout);
    expect(wide.headers).toEqual(["ID", ...LIST_HEADERS]);
    expect(Object.fromEntries(wide.rows.map((r) => [r["LOGICAL ENV"], r.ID]))).toEqual({ production: prod110Id, staging: expect.stringMatching(UUID) });
  });

  it("records a heartbeat, a decommission and its repeat, and shows each in one line", async () => {
    const first = json<RecordJson>(await record("development", "worker", OTHER, "-o", "json"));
    expect(first.outcome).toBe("RECORD_OUTCOME_CREATED");
    await new Promise((resolve) => setTimeout(resolve, 20));

    const again = await record("development", "worker", OTHER);
    expect(again).toMatchObject({ code: 0, stderr: "" });
    expect(again.stdout).toMatch(outcomeLine(`heartbeat: worker in k8s-east/development still runs ${short(OTHER)}, last seen updated`));
    expect(again.stdout).toContain(`(record ${first.deployment.id})`);
    const [beat] = await list("--logical-env", "development", "--deployment-name", "worker");
    expect(beat.id).toBe(first.deployment.id);
    expect(Date.parse(beat.lastSeenTime)).toBeGreaterThan(Date.parse(first.deployment.lastSeenTime));
    expect(beat.createTime).toBe(first.deployment.createTime);

    const gone = await record("development", "worker", OTHER, "--status", "decommissioned");
    expect(gone).toEqual({
      code: 0,
      stdout: `decommissioned: ${short(OTHER)} no longer runs as worker in k8s-east/development (record ${first.deployment.id})\n`,
      stderr: "",
    });
    const repeat = json<RecordJson>(await record("development", "worker", OTHER, "--status", "decommissioned", "-o", "json"));
    expect(repeat).toMatchObject({ outcome: "RECORD_OUTCOME_ALREADY_DECOMMISSIONED", deployment: { id: first.deployment.id, status: "DEPLOYMENT_STATUS_DECOMMISSIONED" } });
    const repeatTable = await record("development", "worker", OTHER, "--status", "decommissioned");
    expect(repeatTable.stdout).toBe(`already decommissioned: ${short(OTHER)} as worker in k8s-east/development, nothing changed (record ${first.deployment.id})\n`);

    // Nothing runs there now; the history and --status still show it.
    const now = await chainloop("deployment", "list", "--logical-env", "development");
    expect(now).toEqual({ code: 0, stdout: `${LIST_HEADERS.join("   ")}\n`, stderr: "" });
    expect((await list("--logical-env", "development", "--status", "decommissioned")).map((d) => [d.id, d.status])).toEqual([
      [first.deployment.id, "DEPLOYMENT_STATUS_DECOMMISSIONED"],
    ]);
    // Filters combine: a digest and a kind that match, and a kind that does not.
    expect((await list("--digest", OTHER, "--history", "--kind", "CONTAINER_IMAGE")).map((d) => d.id)).toEqual([first.deployment.id]);
    expect(await list("--digest", OTHER, "--history", "--kind", "HELM_CHART")).toEqual([]);
  });

  it("describes a record in full: artifact, times, superseded-by, decommissioned-by, recorded-by", async () => {
    // Recorded by a token of its own, so "Recorded by" is not just the admin token.
    const createdRun = await chainloop("token", "create", "--name", "deployer", "--scope", "write", "-o", "json");
    expect(createdRun.code).toBe(0);
    const created = JSON.parse(createdRun.stdout) as { token: { id: string }; secret: string };
    const asDeployer = (...args: string[]) => runCli(args, { CHAINLOOP_SERVER: server.url, CHAINLOOP_TOKEN: created.secret });
    const base = ["deployment", "record", "--env", "k8s-east", "--logical-env", "staging", "--deployment-name", "billing", "--kind", "HELM_CHART", "-o", "json"];
    const old = json<RecordJson>(await asDeployer(...base, "--digest", V100, "--artifact-name", "oci://ghcr.io/acme/charts/billing", "--artifact-version", "1.2.3"));
    const next = json<RecordJson>(await asDeployer(...base, "--digest", V110));
    expect(next).toMatchObject({ outcome: "RECORD_OUTCOME_SUPERSEDED", supersededDeploymentId: old.deployment.id });
    await asDeployer(...base, "--digest", V110, "--status", "decommissioned");

    const [oldDescribed, nextDescribed, byFlag] = await Promise.all([
      chainloop("deployment", "describe", old.deployment.id),
      chainloop("deployment", "describe", next.deployment.id),
      chainloop("deployment", "describe", "--id", old.deployment.id, "-o", "json"),
    ]);
    expect(oldDescribed).toMatchObject({ code: 0, stderr: "" });
    const recordedBy = `deployer (token ${created.token.id})`;
    expect(parseFields(oldDescribed.stdout)).toMatchObject({
      ID: old.deployment.id,
      Environment: "k8s-east",
      "Logical environment": "staging",
      Deployment: "billing",
      Kind: "HELM_CHART",
      Digest: V100,
      "Artifact name": "oci://ghcr.io/acme/charts/billing",
      "Artifact version": "1.2.3",
      "Artifact reference": "-",
      Status: "superseded",
      Deployed: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \((just now|\d+s ago)\)$/),
      "Last seen": expect.stringMatching(/Z \(/),
      "Recorded by": recordedBy,
      Superseded: expect.stringMatching(/Z \(/),
      "Superseded by": next.deployment.id,
    });
    expect(parseFields(oldDescribed.stdout)).not.toHaveProperty("Decommissioned");
    expect(parseFields(nextDescribed.stdout)).toMatchObject({
      ID: next.deployment.id,
      Status: "decommissioned",
      "Recorded by": recordedBy,
      Decommissioned: expect.stringMatching(/Z \(/),
      "Decommissioned by": recordedBy,
    });
    expect(parseFields(nextDescribed.stdout)).not.toHaveProperty("Superseded by");

    const body = json<{ deployment?: DeploymentJson } & DeploymentJson>(byFlag);
    expect(body.deployment ?? body).toMatchObject({
      id: old.deployment.id,
      status: "DEPLOYMENT_STATUS_SUPERSEDED",
      supersededById: next.deployment.id,
      recordedBy: { tokenId: created.token.id, tokenName: "deployer" },
    });

    expectOneErrorLine(await chainloop("deployment", "describe", "00000000-0000-4000-8000-000000000000"), /^chainloop: not_found: deployment 00000000-0000-4000-8000-000000000000 not found\n$/);

    // V100 again: it ran in this slot and was superseded, so this is a rollback (into the slot the
    // decommission emptied), printed as one, and described as one.
    const back = await asDeployer(...base.slice(0, -2), "--digest", V100);
    expect(back).toMatchObject({ code: 0, stderr: "" });
    const backId = /\(record ([0-9a-f-]{36})\)\n$/.exec(back.stdout)?.[1];
    expect(back.stdout).toBe(
      `rolled back to ${short(V100)}: billing in k8s-east/staging runs it again, as it did in record ${old.deployment.id} (record ${backId})\n`,
    );
    expect(parseFields((await chainloop("deployment", "describe", backId!)).stdout)).toMatchObject({
      Status: "deployed",
      "Rollback of": `${old.deployment.id} (the slot ran this digest before)`,
    });
  });

  it("refuses an unknown environment with one NotFound line that says how to create it", async () => {
    const result = await chainloop("deployment", "record", "--env", "nowhere", "--logical-env", "production", "--deployment-name", "api-server", "--kind", "CONTAINER_IMAGE", "--digest", V100);
    expectOneErrorLine(result, /^chainloop: not_found: environment "nowhere" not found; create it with: chainloop environment create --name nowhere\n$/);
    expectOneErrorLine(
      await chainloop("deployment", "record", "--env", "k8s-east", "--logical-env", "qa", "--deployment-name", "api-server", "--kind", "CONTAINER_IMAGE", "--digest", V100),
      /^chainloop: not_found: logical environment "qa"/,
    );
    // A digest no attestation mentions: refused by the server, with what to do.
    expectOneErrorLine(await record("production", "api-server", `sha256:${"d4".repeat(32)}`), /^chainloop: failed_precondition: .*has no evidence.*chainloop attestation push/);
  });

  it("pages through records with --limit and --page-token, or all at once with --all", async () => {
    const all = await list("--history", "--all");
    expect(all.length).toBeGreaterThanOrEqual(3);
    const first = await chainloop("deployment", "list", "--history", "--limit", "1", "-o", "json");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).map((d: DeploymentJson) => d.id)).toEqual([all[0].id]);
    const hint = /^more records exist: add --page-token (\S+) for the next page, or --all for every page\n$/.exec(first.stderr);
    expect(hint).not.toBeNull();
    const second = await chainloop("deployment", "list", "--history", "--limit", "1", "--page-token", hint![1], "-o", "json");
    expect(JSON.parse(second.stdout).map((d: DeploymentJson) => d.id)).toEqual([all[1].id]);
    const everything = await chainloop("deployment", "list", "--history", "--limit", "1", "--all", "-o", "json");
    expect(everything.stderr).toBe("");
    expect(JSON.parse(everything.stdout).map((d: DeploymentJson) => d.id)).toEqual(all.map((d) => d.id));
  });
});

describe("chainloop deployment without a database", () => {
  const RECORD = ["deployment", "record", "--env", "k8s-east", "--logical-env", "production", "--deployment-name", "api-server", "--kind", "CONTAINER_IMAGE"];

  /** A server that counts the requests it gets and answers none of them. */
  async function silentServer(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
    let requests = 0;
    const sockets = new Set<import("node:net").Socket>();
    const server = http.createServer(() => {
      requests++; // never answered
    });
    server.on("connection", (s) => sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      requests: () => requests,
      close: async () => {
        for (const s of sockets) s.destroy();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  it("refuses a malformed --digest as a usage error (exit 2) before any network call", async () => {
    const closed = `http://127.0.0.1:${await closedPort()}`;
    const cases: [string, string][] = [
      ["sha256:abc", 'digest "sha256:abc" has 3 hex digits; sha256 needs 64'],
      [`sha256:${"A".repeat(64)}`, "must use lowercase hex digits"],
      [`md5:${"a".repeat(32)}`, 'uses unsupported algorithm "md5"; expected sha256:<64 lowercase hex digits> or sha512:<128 lowercase hex digits>'],
      ["latest", 'digest "latest" has no algorithm prefix; expected sha256:<64 lowercase hex digits> or sha512:<128 lowercase hex digits>'],
    ];
    const results = await Promise.all(cases.map(([digest]) => runCli([...RECORD, "--digest", digest, "--server", closed], { CHAINLOOP_TOKEN: "t0ken-never-used" })));
    results.forEach((result, i) => {
      expectUsageError(result, cases[i][1]);
      expect(result.stderr.trimEnd().split("\n").pop()).toMatch(/^invalid --digest: digest /);
      expect(result.stderr).not.toContain("cannot reach");
    });

    // And really without a request: a listening server sees none.
    const silent = await silentServer();
    try {
      const result = await runCli([...RECORD, "--digest", "sha256:xyz", "--server", silent.url], { CHAINLOOP_TOKEN: "t0ken-never-used" });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/invalid --digest: digest "sha256:xyz" contains characters that are not hex digits/);
      const listed = await runCli(["deployment", "list", "--digest", "sha256:1", "--server", silent.url]);
      expectUsageError(listed, 'invalid --digest: digest "sha256:1" has 1 hex digits; sha256 needs 64');
      expect(silent.requests()).toBe(0);
    } finally {
      await silent.close();
    }
  });

  it("takes exactly one of --digest and --oci-ref, and --artifact-* only with --digest", async () => {
    const digest = `sha256:${"e5".repeat(32)}`;
    const [both, neither, artifactWithRef, noKind, badKind, badStatus] = await Promise.all([
      runCli([...RECORD, "--digest", digest, "--oci-ref", "ghcr.io/acme/api-server:v1"]),
      runCli(RECORD),
      runCli([...RECORD, "--oci-ref", "ghcr.io/acme/api-server:v1", "--artifact-version", "v1"]),
      runCli(["deployment", "record", "--env", "e", "--logical-env", "l", "--deployment-name", "n", "--digest", digest]),
      runCli([...RECORD.slice(0, -1), "DOCKER", "--digest", digest]),
      runCli([...RECORD, "--digest", digest, "--status", "superseded"]),
    ]);
    expectUsageError(both, "--digest and --oci-ref are mutually exclusive: give the artifact one way");
    expectUsageError(neither, "Missing the artifact: give --digest <sha256:…> or --oci-ref <image or chart reference>");
    expectUsageError(artifactWithRef, "--artifact-name, --artifact-version and --artifact-reference go with --digest; with --oci-ref they come from the reference");
    expectUsageError(noKind, "Missing required argument: kind");
    expectUsageError(badKind, 'Argument: kind, Given: "DOCKER", Choices: "CONTAINER_IMAGE", "HELM_CHART"');
    expectUsageError(badStatus, 'Argument: status, Given: "superseded", Choices: "deployed", "decommissioned"');
  });

  it("gives up on a server that never answers after --timeout (or CHAINLOOP_TIMEOUT), naming it", async () => {
    const silent = await silentServer();
    try {
      const digest = `sha256:${"f6".repeat(32)}`;
      const started = Date.now();
      const viaFlag = await runCli([...RECORD, "--digest", digest, "--timeout", "1s"], { CHAINLOOP_SERVER: silent.url, CHAINLOOP_TOKEN: "t0ken-secret-value" });
      const elapsed = Date.now() - started;
      expectOneErrorLine(
        viaFlag,
        new RegExp(`^chainloop: the server at ${silent.url} did not answer within 1s \\(--timeout\\); check that it is healthy, or allow more time with --timeout or CHAINLOOP_TIMEOUT\\n$`),
      );
      expect(elapsed).toBeGreaterThanOrEqual(1000);
      expect(elapsed).toBeLessThan(15_000);
      const viaEnv = await runCli(["deployment", "list"], { CHAINLOOP_SERVER: silent.url, CHAINLOOP_TIMEOUT: "1500ms" });
      expectOneErrorLine(viaEnv, new RegExp(`^chainloop: the server at ${silent.url} did not answer within 1s500ms`));
      expect(silent.requests()).toBe(2);
      for (const r of [viaFlag, viaEnv]) expect(r.stderr).not.toContain("t0ken-secret-value");
    } finally {
      await silent.close();
    }
    expectUsageError(await runCli(["deployment", "list", "--timeout", "soon"]), '--timeout (or CHAINLOOP_TIMEOUT) must be a duration such as 30s, 90m, 12h, 30d, 2w or 1h30m (a bare number means seconds), got "soon"');
  });

  it("lists record, list and describe in --help, with the seed's flags", async () => {
    const [group, recordHelp] = await Promise.all([runCli(["deployment", "--help"]), runCli(["deployment", "record", "--help"])]);
    expect(group).toMatchObject({ code: 0, stderr: "" });
    for (const verb of ["record", "list", "describe"]) expect(group.stdout).toContain(`chainloop deployment ${verb}`);
    expect(recordHelp).toMatchObject({ code: 0, stderr: "" });
    for (const flag of ["--env", "--logical-env", "--deployment-name", "--kind", "--digest", "--oci-ref", "--status", "--registry-server", "--registry-username", "--registry-password", "--artifact-name", "--timeout"]) {
      expect(recordHelp.stdout).toMatch(new RegExp(`^\\s+${flag}\\b`, "m"));
    }
  });
});
