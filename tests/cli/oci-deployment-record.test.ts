// `chainloop deployment record --oci-ref` end to end: the real CLI process resolves references
// against a real registry (Debian's docker-registry on loopback, htpasswd auth) and records
// the digests on a real server. The seed's "Typical Workflow", then retagging, Helm charts, the
// credential sources and the failures users meet (one line, exit 1, no secret printed).
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { clientBackends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { runChainloop, type CliRun } from "../helpers/registry-cli.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { startServer, TEST_ADMIN_TOKEN, type ServerProcess } from "../helpers/server.js";

const PASSWORD = "Registry-pa55-c0ffee";
const WRONG_PASSWORD = "Wrong-pa55-deadbeef";

interface DeploymentJson {
  environment: string;
  logicalEnvironment: string;
  deploymentName: string;
  kind: string;
  digest: string;
  artifactName: string;
  artifactVersion: string;
  artifactReference: string;
  status: string;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-oci-cli-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
function dir(name: string): string {
  const d = path.join(tmp, `${name}-${++counter}`);
  fs.mkdirSync(d);
  return d;
}

function json<T>(run: CliRun): T {
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(run.stdout) as T;
}

/** The record a `deployment record -o json` printed (the record itself, or the response holding it). */
function recorded(run: CliRun): DeploymentJson {
  const body = json<DeploymentJson & { deployment?: DeploymentJson }>(run);
  return body.deployment ?? body;
}

function expectOneLineFailure(run: CliRun, pattern: RegExp, ...secrets: string[]): void {
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: "" });
  expect(run.stderr).toMatch(pattern);
  expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
  for (const s of secrets) {
    expect(run.stdout).not.toContain(s);
    expect(run.stderr).not.toContain(s);
  }
}

// One database backend is enough here: what is under test is the CLI and the registry; the
// server's recording rules run on every backend in tests/integration/deployments.test.ts.
const backend = clientBackends()[0];

describe(`deployment record --oci-ref (server on ${backend})`, () => {
  let db: TestDatabase;
  let server: ServerProcess;
  let reg: TestRegistry;
  let home: string;
  /** The CLI against the test server, with a HOME of its own (no developer's ~/.docker). */
  const chainloop = (args: string[], env: Record<string, string> = {}, input = "") =>
    runChainloop(args, { CHAINLOOP_SERVER: server.url, CHAINLOOP_TOKEN: TEST_ADMIN_TOKEN, HOME: home, ...env }, input);
  const record = (logicalEnv: string, ref: string, extra: string[] = [], env: Record<string, string> = {}, input = "") =>
    chainloop(
      ["deployment", "record", "--env", "k8s-east", "--logical-env", logicalEnv, "--deployment-name", "api-server", "--kind", "CONTAINER_IMAGE", "--oci-ref", ref, "-o", "json", ...extra],
      env,
      input,
    );
  /**
   * Attests what `refs` name in one CLI call (RecordDeployment refuses digests without evidence);
   * the password is read from standard input once for all of them.
   */
  const attest = async (refs: string[], version: string, kind = "CONTAINER_IMAGE") => {
    const run = await chainloop(
      ["attestation", "push", ...refs.flatMap((r) => ["--subject-oci-ref", r]), "--kind", kind, "--workflow", "release", "--project", "api-server", "--version", version, "--registry-username", "alice", "--registry-password-stdin", "-o", "json"],
      {},
      PASSWORD,
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).not.toContain(PASSWORD);
  };
  const listJson = async (...args: string[]) => json<DeploymentJson[]>(await chainloop(["deployment", "list", "-o", "json", ...args]));

  beforeAll(async () => {
    home = dir("home");
    [db, reg] = await Promise.all([createTestDatabase(backend), startRegistry({ auth: "htpasswd", users: { alice: PASSWORD } })]);
    server = await startServer(db.env);
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    await reg?.stop();
  });

  it("runs the Typical Workflow with --oci-ref, then follows a moved tag", async () => {
    const repo = `${reg.host}/acme/api-server`;
    const v100 = await reg.pushIndex("acme/api-server", "v1.0.0");
    const v110 = await reg.pushImage("acme/api-server", "v1.1.0");
    const [created] = await Promise.all([
      chainloop(["environment", "create", "--name", "k8s-east", "--description", "Kubernetes US-East"]),
      attest([`${repo}:v1.0.0`, `${repo}:v1.1.0`], "v1"),
    ]);
    expect(created.code).toBe(0);

    // v1.0.0 to staging (password on stdin) and production (password in the environment).
    const [stagingRun, prodRun] = await Promise.all([
      record("staging", `${repo}:v1.0.0`, ["--registry-username", "alice", "--registry-password-stdin"], {}, `${PASSWORD}\n`),
      record("production", `${repo}:v1.0.0`, [], { CHAINLOOP_REGISTRY_USERNAME: "alice", CHAINLOOP_REGISTRY_PASSWORD: PASSWORD }),
    ]);
    expect(recorded(stagingRun)).toMatchObject({
      environment: "k8s-east",
      logicalEnvironment: "staging",
      deploymentName: "api-server",
      kind: "ARTIFACT_KIND_CONTAINER_IMAGE",
      digest: v100.digest,
      artifactName: repo,
      artifactVersion: "v1.0.0",
      artifactReference: `${repo}:v1.0.0`,
      status: "DEPLOYMENT_STATUS_DEPLOYED",
    });
    expect(recorded(prodRun).digest).toBe(v100.digest);

    // v1.1.0 to production, with the credentials of Docker's config.json.
    const dockerConfig = dir("docker");
    fs.writeFileSync(path.join(dockerConfig, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`alice:${PASSWORD}`).toString("base64") } } }));
    const prod110Run = await record("production", `${repo}:v1.1.0`, [], { DOCKER_CONFIG: dockerConfig });
    const prod110 = recorded(prod110Run);
    expect(JSON.parse(prod110Run.stdout).outcome).toBe("RECORD_OUTCOME_SUPERSEDED");
    expect(prod110).toMatchObject({ digest: v110.digest, artifactVersion: "v1.1.0", status: "DEPLOYMENT_STATUS_DEPLOYED" });

    const [production, history, stagingNow] = await Promise.all([
      listJson("--logical-env", "production"),
      listJson("--logical-env", "production", "--history"),
      listJson("--logical-env", "staging"),
    ]);
    expect(production.map((d) => [d.digest, d.artifactVersion])).toEqual([[v110.digest, "v1.1.0"]]);
    expect(history.map((d) => [d.artifactVersion, d.digest, d.status])).toEqual([
      ["v1.1.0", v110.digest, "DEPLOYMENT_STATUS_DEPLOYED"],
      ["v1.0.0", v100.digest, "DEPLOYMENT_STATUS_SUPERSEDED"],
    ]);
    expect(stagingNow.map((d) => [d.digest, d.artifactVersion])).toEqual([[v100.digest, "v1.0.0"]]);

    // Retagging moves v1.1.0 to a new image: the next record of that tag supersedes the last one.
    const rebuilt = await reg.pushImage("acme/api-server", "v1.1.0");
    expect(rebuilt.digest).not.toBe(v110.digest);
    await attest([`${repo}:v1.1.0`], "v1.1.0");
    const againRun = await record("production", `${repo}:v1.1.0`, [], { DOCKER_CONFIG: dockerConfig });
    expect(JSON.parse(againRun.stdout).outcome).toBe("RECORD_OUTCOME_SUPERSEDED");
    const again = recorded(againRun);
    expect(again).toMatchObject({ digest: rebuilt.digest, artifactVersion: "v1.1.0" });
    const afterRetag = await listJson("--logical-env", "production", "--history");
    expect(afterRetag.map((d) => [d.artifactVersion, d.digest, d.status])).toEqual([
      ["v1.1.0", rebuilt.digest, "DEPLOYMENT_STATUS_DEPLOYED"],
      ["v1.1.0", v110.digest, "DEPLOYMENT_STATUS_SUPERSEDED"],
      ["v1.0.0", v100.digest, "DEPLOYMENT_STATUS_SUPERSEDED"],
    ]);
  });

  it("records a Helm chart by its oci:// reference, and refuses the wrong --kind both ways", async () => {
    const chart = await reg.pushHelmChart("charts/api-server", "1.2.3");
    const image = await reg.pushImage("acme/kind", "v1");
    await attest([`oci://${reg.host}/charts/api-server:1.2.3`], "1.2.3", "HELM_CHART");
    const env = { CHAINLOOP_REGISTRY_USERNAME: "alice", CHAINLOOP_REGISTRY_PASSWORD: PASSWORD };
    const base = ["deployment", "record", "--env", "k8s-east", "--logical-env", "staging", "--deployment-name", "api-chart", "-o", "json"];
    const [helmRun, chartAsImage, imageAsChart] = await Promise.all([
      chainloop([...base, "--kind", "HELM_CHART", "--oci-ref", `oci://${reg.host}/charts/api-server:1.2.3`], env),
      chainloop([...base, "--kind", "CONTAINER_IMAGE", "--oci-ref", `oci://${reg.host}/charts/api-server:1.2.3`], env),
      chainloop([...base, "--kind", "HELM_CHART", "--oci-ref", `${reg.host}/acme/kind:v1`], env),
    ]);
    expect(recorded(helmRun)).toMatchObject({
      kind: "ARTIFACT_KIND_HELM_CHART",
      digest: chart.digest,
      artifactName: `${reg.host}/charts/api-server`,
      artifactVersion: "1.2.3",
      artifactReference: `oci://${reg.host}/charts/api-server:1.2.3`,
    });
    expectOneLineFailure(
      chartAsImage,
      /^chainloop: oci:\/\/.*charts\/api-server:1\.2\.3 is a Helm chart \(config media type application\/vnd\.cncf\.helm\.config\.v1\+json\), not a container image; record it with --kind HELM_CHART\n$/,
      PASSWORD,
    );
    expectOneLineFailure(imageAsChart, /^chainloop: .*acme\/kind:v1 is not a Helm chart .*record it with --kind CONTAINER_IMAGE/, PASSWORD);
    expect(image.digest).toMatch(/^sha256:/);
  });

  it("asks a credential helper (credHelpers and credsStore) found on PATH", async () => {
    const img = await reg.pushImage("acme/helped", "v1");
    await attest([`${reg.host}/acme/helped:v1`], "v1");
    const bin = dir("bin");
    fs.writeFileSync(
      path.join(bin, "docker-credential-citest"),
      `#!/bin/sh\nserver=$(cat)\n[ "$server" = '${reg.host}' ] || { echo "credentials not found in native keychain"; exit 1; }\nprintf '{"ServerURL":"%s","Username":"alice","Secret":"${PASSWORD}"}' "$server"\n`,
      { mode: 0o755 },
    );
    // Two slots at once: one found through credHelpers, one through credsStore.
    const runs = await Promise.all(
      [{ credHelpers: { [reg.host]: "citest" } }, { credsStore: "citest" }].map((config, i) => {
        const dockerConfig = dir("docker");
        fs.writeFileSync(path.join(dockerConfig, "config.json"), JSON.stringify(config));
        return chainloop(
          ["deployment", "record", "--env", "k8s-east", "--logical-env", "development", "--deployment-name", `helped-${i}`, "--kind", "CONTAINER_IMAGE", "--oci-ref", `${reg.host}/acme/helped:v1`, "-o", "json"],
          { DOCKER_CONFIG: dockerConfig, PATH: `${bin}:${process.env.PATH}` },
        );
      }),
    );
    for (const run of runs) {
      expect(recorded(run).digest).toBe(img.digest);
      expect(run.stdout).not.toContain(PASSWORD);
    }
  });

  it("fails on one line, with exit code 1 and no secret printed: wrong credentials, unknown tag, unreachable registry, malformed reference", async () => {
    await reg.pushImage("acme/errors", "v1");
    const ref = `${reg.host}/acme/errors`;
    const closed = await closedPort();
    const auth = { CHAINLOOP_REGISTRY_USERNAME: "alice", CHAINLOOP_REGISTRY_PASSWORD: PASSWORD };
    // (Every other failure is covered in-process by oci-registry.test.ts; these check the CLI's side.)
    const [wrongStdin, onCommandLine, unknownTag, refused, malformed] = await Promise.all([
      record("staging", `${ref}:v1`, ["--registry-username", "alice", "--registry-password-stdin"], {}, WRONG_PASSWORD),
      record("staging", `${ref}:v1`, ["--registry-username", "alice", "--registry-password", WRONG_PASSWORD]),
      record("staging", `${ref}:v9`, [], auth),
      record("staging", `127.0.0.1:${closed}/acme/app:v1`, [], auth),
      record("staging", "ghcr.io/Acme/App:v1", [], auth),
    ]);
    expectOneLineFailure(
      wrongStdin,
      new RegExp(`^chainloop: registry ${reg.host} rejected the credentials from --registry-username and --registry-password-stdin for ${ref}:v1 \\(401 UNAUTHORIZED\\); check the username and password`),
      WRONG_PASSWORD,
    );
    // On the command line: a warning about it, then the error; the password is printed in neither.
    expect({ code: onCommandLine.code, stdout: onCommandLine.stdout }).toEqual({ code: 1, stdout: "" });
    expect(onCommandLine.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(/warning: .*prefer --registry-password-stdin/), expect.stringMatching(/rejected the credentials/)]);
    expect(onCommandLine.stderr).not.toContain(WRONG_PASSWORD);

    expectOneLineFailure(unknownTag, new RegExp(`^chainloop: tag v9 not found in ${ref} \\(404 MANIFEST_UNKNOWN\\); its tags include v1;`), PASSWORD);
    expectOneLineFailure(refused, new RegExp(`^chainloop: cannot reach registry 127\\.0\\.0\\.1:${closed} at https://127\\.0\\.0\\.1:${closed} \\(connection refused\\)`), PASSWORD);
    expectOneLineFailure(malformed, /^chainloop: invalid --oci-ref "ghcr\.io\/Acme\/App:v1": the repository name must be lowercase/);
  });

  it("takes exactly one of --oci-ref and --digest (usage errors, exit 2)", async () => {
    const base = ["deployment", "record", "--env", "k8s-east", "--logical-env", "staging", "--deployment-name", "x", "--kind", "CONTAINER_IMAGE"];
    const [both, neither] = await Promise.all([chainloop([...base, "--oci-ref", `${reg.host}/acme/x:v1`, "--digest", `sha256:${"a".repeat(64)}`]), chainloop(base)]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--oci-ref|--digest/);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/--oci-ref|--digest/);
  });
});

/** A loopback port nothing listens on (and that Node's fetch does not refuse outright). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
