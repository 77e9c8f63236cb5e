// --oci-ref resolution against real registries (Debian's docker-registry on loopback, see
// tests/helpers/registry.ts): manifest formats, the kind check, every credential source, the
// Basic and Bearer flows, and the failures users meet. No mocks: every answer comes from a real
// registry or a real socket.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { OciError, resolveOciReference, type ResolveOptions } from "../../cli/oci/index.js";
import { resolveOciArgs } from "../../cli/oci/options.js";
import { ROOT } from "../helpers/server.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";

const PASSWORD = "pa55-Secret-7f3c";
const WRONG_PASSWORD = "wrong-Secret-91ab";
const IDENTITY_TOKEN = "idtoken-Secret-4d2e";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-oci-test-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
/** An environment with an empty HOME (so the developer's own ~/.docker is never read), plus `extra`. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = path.join(tmp, `home-${++counter}`);
  fs.mkdirSync(home);
  return { PATH: process.env.PATH, HOME: home, ...extra };
}

/** A DOCKER_CONFIG directory holding `config`. */
function dockerConfig(config: object): string {
  const dir = path.join(tmp, `docker-${++counter}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

/**
 * A credential helper `docker-credential-<name>` in its own bin directory: it logs the server
 * URL it was asked for, and answers `answers[serverURL]` ({Username, Secret}) or "not found".
 */
function credentialHelper(name: string, answers: Record<string, { Username: string; Secret: string }>): { bin: string; asked: () => string[] } {
  const bin = path.join(tmp, `bin-${++counter}`);
  fs.mkdirSync(bin);
  const log = path.join(bin, "asked.log");
  const cases = Object.entries(answers)
    .map(([server, a]) => `  '${server}') printf '%s' '${JSON.stringify({ ServerURL: server, ...a })}' ;;`)
    .join("\n");
  fs.writeFileSync(
    path.join(bin, `docker-credential-${name}`),
    [
      "#!/bin/sh",
      '[ "$1" = get ] || { echo "unsupported action $1" >&2; exit 1; }',
      "server=$(cat)",
      `printf '%s\\n' "$server" >> '${log}'`,
      'case "$server" in',
      cases,
      '  *) echo "credentials not found in native keychain"; exit 1 ;;',
      "esac",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return { bin, asked: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []) };
}

async function failure(p: Promise<unknown>, reason: OciError["reason"], ...secrets: string[]): Promise<string> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(OciError);
  const message = (error as OciError).message;
  expect({ reason: (error as OciError).reason, message }).toEqual({ reason, message: expect.any(String) });
  expect(message).not.toMatch(/\n/);
  for (const s of [PASSWORD, WRONG_PASSWORD, IDENTITY_TOKEN, ...secrets]) expect(message).not.toContain(s);
  return message;
}

const image = (o: Partial<ResolveOptions> = {}): ResolveOptions => ({ kind: "CONTAINER_IMAGE", env: env(), ...o });

describe("an anonymous registry", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(() => reg?.stop());

  it("resolves an OCI image manifest, a Docker v2 schema 2 manifest and an OCI index to their digests", async () => {
    const oci = await reg.pushImage("acme/api-server", "v1.0.0");
    const docker = await reg.pushImage("acme/api-server", "v1.0.0-docker", { format: "docker" });
    const index = await reg.pushIndex("acme/api-server", "v1.0.0-multi");
    const list = await reg.pushIndex("acme/api-server", "v1.0.0-list", { format: "docker" });

    const resolved = await resolveOciReference(`${reg.host}/acme/api-server:v1.0.0`, image());
    expect(resolved).toEqual({
      digest: oci.digest,
      artifactName: `${reg.host}/acme/api-server`,
      artifactVersion: "v1.0.0",
      artifactReference: `${reg.host}/acme/api-server:v1.0.0`,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      credentialsSource: "anonymous",
    });
    expect(await resolveOciReference(`${reg.host}/acme/api-server:v1.0.0-docker`, image())).toMatchObject({
      digest: docker.digest,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    });
    // A tag naming an index resolves to the index, not to one of its platform manifests.
    const multi = await resolveOciReference(`${reg.host}/acme/api-server:v1.0.0-multi`, image());
    expect(multi).toMatchObject({ digest: index.digest, mediaType: "application/vnd.oci.image.index.v1+json" });
    expect(index.children.map((c) => c.digest)).not.toContain(multi.digest);
    expect(await resolveOciReference(`${reg.host}/acme/api-server:v1.0.0-list`, image())).toMatchObject({
      digest: list.digest,
      mediaType: "application/vnd.docker.distribution.manifest.list.v2+json",
    });
  });

  it("uses repo@digest as given, after checking the registry has it, and keeps the tag of repo:tag@digest as the version", async () => {
    const a = await reg.pushImage("acme/pinned", "a");
    const b = await reg.pushImage("acme/pinned", "b");
    expect(await resolveOciReference(`${reg.host}/acme/pinned@${a.digest}`, image())).toMatchObject({
      digest: a.digest,
      artifactVersion: "",
      artifactReference: `${reg.host}/acme/pinned@${a.digest}`,
    });
    // The digest wins over the tag (tag "a" points at another manifest).
    expect(await resolveOciReference(`${reg.host}/acme/pinned:a@${b.digest}`, image())).toMatchObject({ digest: b.digest, artifactVersion: "a" });
    const missing = `sha256:${"0".repeat(64)}`;
    const message = await failure(resolveOciReference(`${reg.host}/acme/pinned@${missing}`, image()), "MANIFEST_UNKNOWN");
    expect(message).toContain(`manifest ${missing} not found in ${reg.host}/acme/pinned`);
  });

  it("follows a tag when it is moved to another manifest", async () => {
    const first = await reg.pushImage("acme/retag", "stable");
    expect((await resolveOciReference(`${reg.host}/acme/retag:stable`, image())).digest).toBe(first.digest);
    const second = await reg.pushImage("acme/retag", "stable");
    expect(second.digest).not.toBe(first.digest);
    expect((await resolveOciReference(`${reg.host}/acme/retag:stable`, image())).digest).toBe(second.digest);
  });

  it("checks the kind both ways: Helm charts are not images, images are not charts", async () => {
    const chart = await reg.pushHelmChart("charts/api-server", "1.2.3");
    const img = await reg.pushImage("acme/kind", "v1");
    const index = await reg.pushIndex("acme/kind", "multi");

    expect(await resolveOciReference(`oci://${reg.host}/charts/api-server:1.2.3`, { kind: "HELM_CHART", env: env() })).toMatchObject({
      digest: chart.digest,
      artifactName: `${reg.host}/charts/api-server`,
      artifactVersion: "1.2.3",
      artifactReference: `oci://${reg.host}/charts/api-server:1.2.3`,
    });
    // The plain form works for charts too; the recorded reference is Helm's oci:// form.
    expect(await resolveOciReference(`${reg.host}/charts/api-server:1.2.3`, { kind: "HELM_CHART", env: env() })).toMatchObject({
      digest: chart.digest,
      artifactReference: `oci://${reg.host}/charts/api-server:1.2.3`,
    });

    let message = await failure(resolveOciReference(`oci://${reg.host}/charts/api-server:1.2.3`, image()), "WRONG_KIND");
    expect(message).toBe(
      `oci://${reg.host}/charts/api-server:1.2.3 is a Helm chart (config media type application/vnd.cncf.helm.config.v1+json), not a container image; record it with --kind HELM_CHART`,
    );
    message = await failure(resolveOciReference(`${reg.host}/acme/kind:v1`, { kind: "HELM_CHART", env: env() }), "WRONG_KIND");
    expect(message).toContain("is not a Helm chart (config media type application/vnd.oci.image.config.v1+json); record it with --kind CONTAINER_IMAGE");
    // An index is judged by its platform manifests' config.
    message = await failure(resolveOciReference(`${reg.host}/acme/kind:multi`, { kind: "HELM_CHART", env: env() }), "WRONG_KIND");
    expect(message).toContain(`${reg.host}/acme/kind:multi is not a Helm chart`);
    expect(index.digest).toMatch(/^sha256:/);
  });

  it("accepts Helm's + in chart versions (stored as _ in the tag)", async () => {
    const chart = await reg.pushHelmChart("charts/build", "0.1.0_build.5", { version: "0.1.0+build.5" });
    expect(await resolveOciReference(`oci://${reg.host}/charts/build:0.1.0+build.5`, { kind: "HELM_CHART", env: env() })).toMatchObject({
      digest: chart.digest,
      artifactVersion: "0.1.0+build.5",
    });
  });

  it("tells an unknown tag (listing the tags there are) from an unknown repository", async () => {
    await reg.pushImage("acme/tags", "v1");
    await reg.pushImage("acme/tags", "v2");
    let message = await failure(resolveOciReference(`${reg.host}/acme/tags:v9`, image()), "MANIFEST_UNKNOWN");
    expect(message).toMatch(new RegExp(`^tag v9 not found in ${reg.host}/acme/tags \\(404 MANIFEST_UNKNOWN\\); its tags include (v1, v2|v2, v1); check the tag, or push it first$`));
    message = await failure(resolveOciReference(`${reg.host}/acme/no-such-repo:v1`, image()), "NAME_UNKNOWN");
    expect(message).toBe(
      `repository acme/no-such-repo not found in registry ${reg.host} (404 NAME_UNKNOWN) for ${reg.host}/acme/no-such-repo:v1; check the repository path, or push it first`,
    );
  });

  it("refuses a malformed reference before any network call", async () => {
    // A port nothing listens on: a network call would fail with UNREACHABLE instead.
    const message = await failure(resolveOciReference("127.0.0.1:9/Acme/App:v1", image()), "INVALID_REFERENCE");
    expect(message).toContain("must be lowercase");
  });
});

describe("a registry with Basic auth (htpasswd, bcrypt)", () => {
  let reg: TestRegistry;
  let digest: string;
  beforeAll(async () => {
    reg = await startRegistry({ auth: "htpasswd", users: { alice: PASSWORD, bob: "bobs-Secret-2" } });
    digest = (await reg.pushImage("team/app", "v1")).digest;
  });
  afterAll(() => reg?.stop());

  it("uses --registry-username/--registry-password, scoped by --registry-server", async () => {
    const ref = `${reg.host}/team/app:v1`;
    const warnings: string[] = [];
    expect(
      await resolveOciArgs({ ociRef: ref, registryUsername: "alice", registryPassword: PASSWORD }, "CONTAINER_IMAGE", { env: env(), warn: (w) => warnings.push(w) }),
    ).toMatchObject({ digest, credentialsSource: "--registry-username and --registry-password" });
    expect(warnings.join("\n")).toMatch(/prefer --registry-password-stdin/);
    expect(warnings.join("\n")).not.toContain(PASSWORD);
    expect(
      (await resolveOciArgs({ ociRef: ref, registryServer: `http://${reg.host}/`, registryUsername: "alice", registryPassword: PASSWORD }, "CONTAINER_IMAGE", { env: env(), warn: () => {} })).digest,
    ).toBe(digest);
    // Credentials for another registry are not sent here.
    const message = await failure(
      resolveOciArgs({ ociRef: ref, registryServer: "ghcr.io", registryUsername: "alice", registryPassword: PASSWORD }, "CONTAINER_IMAGE", { env: env(), warn: () => {} }),
      "UNAUTHORIZED",
    );
    expect(message).toContain(`registry ${reg.host} requires authentication to pull ${ref}`);
    expect(message).toContain("the --registry-username/--registry-password given are for ghcr.io");
  });

  it("reads the password from standard input (--registry-password-stdin) or CHAINLOOP_REGISTRY_PASSWORD", async () => {
    const ref = `${reg.host}/team/app:v1`;
    const viaStdin = await resolveOciArgs({ ociRef: ref, registryUsername: "alice", registryPasswordStdin: true }, "CONTAINER_IMAGE", {
      env: env(),
      stdin: Readable.from([`${PASSWORD}\n`]),
    });
    expect(viaStdin).toMatchObject({ digest, credentialsSource: "--registry-username and --registry-password-stdin" });
    // A command resolving several references reads standard input once and reuses the password.
    const stdin = Readable.from([PASSWORD]);
    for (let i = 0; i < 2; i++) {
      const again = await resolveOciArgs({ ociRef: ref, registryUsername: "alice", registryPasswordStdin: true }, "CONTAINER_IMAGE", { env: env(), stdin });
      expect(again.digest).toBe(digest);
    }
    const viaEnv = await resolveOciArgs({ ociRef: ref }, "CONTAINER_IMAGE", {
      env: env({ CHAINLOOP_REGISTRY_USERNAME: "bob", CHAINLOOP_REGISTRY_PASSWORD: "bobs-Secret-2" }),
    });
    expect(viaEnv).toMatchObject({ digest, credentialsSource: "CHAINLOOP_REGISTRY_USERNAME and CHAINLOOP_REGISTRY_PASSWORD" });
    await failure(
      resolveOciArgs({ ociRef: ref, registryUsername: "alice", registryPasswordStdin: true }, "CONTAINER_IMAGE", { env: env(), stdin: Readable.from(["\n"]) }),
      "INVALID_OPTIONS",
    );
    await failure(resolveOciArgs({ ociRef: ref, registryPassword: PASSWORD, registryPasswordStdin: true }, "CONTAINER_IMAGE", { env: env() }), "INVALID_OPTIONS");
    expect(await failure(resolveOciArgs({ ociRef: ref, registryUsername: "alice" }, "CONTAINER_IMAGE", { env: env() }), "INVALID_OPTIONS")).toMatch(
      /needs a password: --registry-password-stdin, CHAINLOOP_REGISTRY_PASSWORD or --registry-password/,
    );
  });

  it("says which credentials were rejected, never what they were", async () => {
    const ref = `${reg.host}/team/app:v1`;
    const message = await failure(
      resolveOciReference(ref, image({ credentials: { username: "alice", password: WRONG_PASSWORD, source: "--registry-username and --registry-password-stdin" } })),
      "UNAUTHORIZED",
    );
    expect(message).toBe(
      `registry ${reg.host} rejected the credentials from --registry-username and --registry-password-stdin for ${ref} (401 UNAUTHORIZED); ` +
        `check the username and password (or token) and that they may pull ${reg.host}/team/app`,
    );
    expect(await failure(resolveOciReference(ref, image()), "UNAUTHORIZED")).toContain(`docker login ${reg.host}`);
  });

  it("reads Docker's config.json auths: base64 auth, username/password, any key spelling, DOCKER_CONFIG or ~/.docker", async () => {
    const ref = `${reg.host}/team/app:v1`;
    const auth = Buffer.from(`alice:${PASSWORD}`).toString("base64");
    const viaAuth = dockerConfig({ auths: { "other.example.com": { auth: "eDp5" }, [`https://${reg.host}/v2/`]: { auth } } });
    expect(await resolveOciReference(ref, image({ env: env({ DOCKER_CONFIG: viaAuth }) }))).toMatchObject({
      digest,
      credentialsSource: `auths["https://${reg.host}/v2/"] in ${viaAuth}/config.json`,
    });
    const viaFields = dockerConfig({ auths: { [reg.host]: { username: "bob", password: "bobs-Secret-2" } } });
    expect((await resolveOciReference(ref, image({ env: env({ DOCKER_CONFIG: viaFields }) }))).digest).toBe(digest);

    const home = env();
    fs.mkdirSync(path.join(home.HOME!, ".docker"));
    fs.writeFileSync(path.join(home.HOME!, ".docker", "config.json"), JSON.stringify({ auths: { [reg.host]: { auth } } }));
    expect((await resolveOciReference(ref, image({ env: home }))).credentialsSource).toBe(`auths["${reg.host}"] in ${home.HOME}/.docker/config.json`);

    // Explicit credentials come first.
    const wrong = dockerConfig({ auths: { [reg.host]: { auth: Buffer.from(`alice:${WRONG_PASSWORD}`).toString("base64") } } });
    expect((await resolveOciReference(ref, image({ env: env({ DOCKER_CONFIG: wrong }), credentials: { username: "alice", password: PASSWORD } }))).digest).toBe(digest);
    const message = await failure(resolveOciReference(ref, image({ env: env({ DOCKER_CONFIG: wrong }) })), "UNAUTHORIZED");
    expect(message).toContain(`rejected the credentials from auths["${reg.host}"] in ${wrong}/config.json`);

    fs.writeFileSync(path.join(wrong, "config.json"), "{ not json");
    expect(await failure(resolveOciReference(ref, image({ env: env({ DOCKER_CONFIG: wrong }) })), "CREDENTIALS")).toContain("is not valid JSON");
  });

  it("asks a credential helper named in credHelpers, or the credsStore, with Docker's protocol", async () => {
    const ref = `${reg.host}/team/app:v1`;
    const helper = credentialHelper("chainloop-test", { [reg.host]: { Username: "alice", Secret: PASSWORD } });
    const viaHelpers = dockerConfig({ credHelpers: { [reg.host]: "chainloop-test" }, credsStore: "nonexistent-store" });
    expect(await resolveOciReference(ref, image({ env: env({ DOCKER_CONFIG: viaHelpers, PATH: `${helper.bin}:${process.env.PATH}` }) }))).toMatchObject({
      digest,
      credentialsSource: `docker-credential-chainloop-test (credHelpers in ${viaHelpers}/config.json)`,
    });
    expect(helper.asked()).toEqual([reg.host]);

    const store = credentialHelper("teststore", { [reg.host]: { Username: "bob", Secret: "bobs-Secret-2" } });
    const viaStore = dockerConfig({ credsStore: "teststore", auths: { [reg.host]: {} } });
    expect(await resolveOciReference(ref, image({ env: env({ DOCKER_CONFIG: viaStore, PATH: `${store.bin}:${process.env.PATH}` }) }))).toMatchObject({
      digest,
      credentialsSource: `docker-credential-teststore (credsStore in ${viaStore}/config.json)`,
    });

    // A store that has nothing for the registry: anonymous, and the registry says so.
    const empty = credentialHelper("emptystore", {});
    const viaEmpty = dockerConfig({ credsStore: "emptystore" });
    expect(await failure(resolveOciReference(ref, image({ env: env({ DOCKER_CONFIG: viaEmpty, PATH: `${empty.bin}:${process.env.PATH}` }) })), "UNAUTHORIZED")).toContain(
      "requires authentication",
    );
    expect(empty.asked()).toEqual([reg.host]);

    // A helper that is not installed.
    const missing = dockerConfig({ credHelpers: { [reg.host]: "not-installed" } });
    expect(await failure(resolveOciReference(ref, image({ env: env({ DOCKER_CONFIG: missing }) })), "CREDENTIALS")).toBe(
      `credential helper docker-credential-not-installed (credHelpers in ${missing}/config.json) is not on PATH; install it, or remove it from the config`,
    );
    // A helper whose secret is wrong: rejected, and named.
    const bad = credentialHelper("badhelper", { [reg.host]: { Username: "alice", Secret: WRONG_PASSWORD } });
    const viaBad = dockerConfig({ credHelpers: { [reg.host]: "badhelper" } });
    expect(await failure(resolveOciReference(ref, image({ env: env({ DOCKER_CONFIG: viaBad, PATH: `${bad.bin}:${process.env.PATH}` }) })), "UNAUTHORIZED")).toContain(
      "rejected the credentials from docker-credential-badhelper",
    );
  });
});

describe("a registry with Bearer token auth (distribution's token mode, a token service in the test)", () => {
  let reg: TestRegistry;
  let digest: string;
  let chart: string;
  beforeAll(async () => {
    reg = await startRegistry({ auth: "token", users: { alice: PASSWORD }, identityTokens: { [IDENTITY_TOKEN]: "alice" } });
    digest = (await reg.pushIndex("team/app", "v1")).digest;
    chart = (await reg.pushHelmChart("team/charts/app", "2.0.0")).digest;
  });
  afterAll(() => reg?.stop());
  const requestsSince = (n: number) => reg.tokenService!.requests.slice(n);

  it("gets a pull token for the repository with Basic credentials, then pulls with it", async () => {
    const before = reg.tokenService!.requests.length;
    expect(await resolveOciReference(`${reg.host}/team/app:v1`, image({ credentials: { username: "alice", password: PASSWORD } }))).toMatchObject({ digest });
    expect(await resolveOciReference(`oci://${reg.host}/team/charts/app:2.0.0`, { kind: "HELM_CHART", env: env(), credentials: { username: "alice", password: PASSWORD } })).toMatchObject({
      digest: chart,
    });
    expect(requestsSince(before)).toEqual([
      { method: "GET", via: "basic", user: "alice", scope: "repository:team/app:pull", service: "chainloop-test-registry", granted: true },
      { method: "GET", via: "basic", user: "alice", scope: "repository:team/charts/app:pull", service: "chainloop-test-registry", granted: true },
    ]);
  });

  it("without credentials gets an anonymous token, which the registry refuses", async () => {
    const before = reg.tokenService!.requests.length;
    const message = await failure(resolveOciReference(`${reg.host}/team/app:v1`, image()), "UNAUTHORIZED");
    expect(message).toContain(`registry ${reg.host} requires authentication to pull ${reg.host}/team/app:v1 (401 UNAUTHORIZED)`);
    expect(requestsSince(before)).toMatchObject([{ method: "GET", via: "anonymous" }]);
  });

  it("refuses wrong credentials at the token service, without printing them", async () => {
    const message = await failure(
      resolveOciReference(`${reg.host}/team/app:v1`, image({ credentials: { username: "alice", password: WRONG_PASSWORD, source: "--registry-password" } })),
      "UNAUTHORIZED",
    );
    expect(message).toMatch(new RegExp(`rejected the credentials from --registry-password for ${reg.host}/team/app:v1 \\(401 from the token service 127\\.0\\.0\\.1:\\d+\\)`));
  });

  it("exchanges an identity token (config.json identitytoken, or a helper's <token> user) with the OAuth2 refresh-token POST", async () => {
    let before = reg.tokenService!.requests.length;
    const viaAuths = dockerConfig({ auths: { [reg.host]: { identitytoken: IDENTITY_TOKEN } } });
    expect((await resolveOciReference(`${reg.host}/team/app:v1`, image({ env: env({ DOCKER_CONFIG: viaAuths }) }))).digest).toBe(digest);
    expect(requestsSince(before)).toEqual([
      { method: "POST", via: "refresh_token", user: "alice", scope: "repository:team/app:pull", service: "chainloop-test-registry", granted: true },
    ]);

    before = reg.tokenService!.requests.length;
    const helper = credentialHelper("tokenhelper", { [reg.host]: { Username: "<token>", Secret: IDENTITY_TOKEN } });
    const viaHelper = dockerConfig({ credHelpers: { [reg.host]: "tokenhelper" } });
    expect((await resolveOciReference(`${reg.host}/team/app:v1`, image({ env: env({ DOCKER_CONFIG: viaHelper, PATH: `${helper.bin}:${process.env.PATH}` }) }))).digest).toBe(digest);
    expect(requestsSince(before)).toMatchObject([{ method: "POST", via: "refresh_token", user: "alice", granted: true }]);

    const stale = dockerConfig({ auths: { [reg.host]: { identitytoken: "expired-Secret-token" } } });
    const message = await failure(resolveOciReference(`${reg.host}/team/app:v1`, image({ env: env({ DOCKER_CONFIG: stale }) })), "UNAUTHORIZED", "expired-Secret-token");
    expect(message).toContain(`rejected the credentials from auths["${reg.host}"] in ${stale}/config.json`);
  });

  it("reports an unknown tag behind token auth", async () => {
    const message = await failure(resolveOciReference(`${reg.host}/team/app:v404`, image({ credentials: { username: "alice", password: PASSWORD } })), "MANIFEST_UNKNOWN");
    expect(message).toMatch(/^tag v404 not found in .*team\/app \(404 MANIFEST_UNKNOWN\); its tags include v1;/);
  });
});

describe("transport failures", () => {
  it("reports a refused connection, naming the registry and what to check", async () => {
    const port = await freePort();
    const message = await failure(resolveOciReference(`127.0.0.1:${port}/acme/app:v1`, image()), "UNREACHABLE");
    expect(message).toBe(
      `cannot reach registry 127.0.0.1:${port} at https://127.0.0.1:${port} (connection refused) for 127.0.0.1:${port}/acme/app:v1; check the host and port and that the registry is running`,
    );
  });

  it("gives up on a registry that does not answer, after the timeout", async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const started = Date.now();
      const message = await failure(resolveOciReference(`127.0.0.1:${port}/acme/app:v1`, image({ timeoutMs: 700 })), "TIMEOUT");
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(message).toBe(`registry 127.0.0.1:${port} did not answer within 0.7s (https://127.0.0.1:${port}) for 127.0.0.1:${port}/acme/app:v1; check the host, or raise --registry-timeout`);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it("reports a host name that does not resolve", async () => {
    const message = await failure(resolveOciReference("registry.chainloop-test.invalid/acme/app:v1", image({ timeoutMs: 10_000 })), "UNREACHABLE");
    expect(message).toMatch(/^cannot resolve the host of registry registry\.chainloop-test\.invalid \(https:\/\/registry\.chainloop-test\.invalid, (ENOTFOUND|EAI_AGAIN)\)/);
  });

  describe("a registry serving TLS with a self-signed certificate", () => {
    let reg: TestRegistry;
    let digest: string;
    beforeAll(async () => {
      reg = await startRegistry({ tls: true, auth: "htpasswd", users: { alice: PASSWORD } });
      digest = (await reg.pushImage("secure/app", "v1")).digest;
    });
    afterAll(() => reg?.stop());

    it("fails with a TLS error (no fallback to plain http) when the certificate is not trusted", async () => {
      const message = await failure(resolveOciReference(`${reg.host}/secure/app:v1`, image({ credentials: { username: "alice", password: PASSWORD } })), "TLS");
      expect(message).toBe(
        `TLS failure talking to registry ${reg.host} at https://${reg.host} (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate) for ${reg.host}/secure/app:v1; ` +
          "if it uses a private CA, trust it with NODE_EXTRA_CA_CERTS=<ca.pem>; for a registry without TLS, add --plain-http",
      );
      // Forcing plain http on a TLS registry: the registry's 400, and the way out.
      expect(await failure(resolveOciReference(`${reg.host}/secure/app:v1`, image({ plainHttp: true })), "REGISTRY_ERROR")).toBe(
        `registry ${reg.host} answered 400 Bad Request for ${reg.host}/secure/app:v1; if the registry serves https, leave out --plain-http`,
      );
    });

    it("resolves over https once the certificate is trusted (NODE_EXTRA_CA_CERTS)", async () => {
      const script = [
        `const { resolveOciReference } = await import(${JSON.stringify(path.join(ROOT, "dist/cli/oci/index.js"))});`,
        `const r = await resolveOciReference(process.argv[1], { kind: "CONTAINER_IMAGE", credentials: { username: "alice", password: process.env.PW } });`,
        "process.stdout.write(JSON.stringify(r));",
      ].join("\n");
      const out = await runNode(["--input-type=module", "-e", script, `${reg.host}/secure/app:v1`], { ...env(), NODE_EXTRA_CA_CERTS: reg.caFile!, PW: PASSWORD });
      expect(out.stderr).toBe("");
      expect(JSON.parse(out.stdout)).toMatchObject({ digest, artifactName: `${reg.host}/secure/app` });
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function runNode(args: string[], childEnv: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
