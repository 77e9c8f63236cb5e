// Real OCI registries for tests: Debian's `docker-registry` (the CNCF distribution registry)
// started on a free loopback port with its own storage directory, and content pushed to it with
// plain HTTP requests (blob upload POST + PUT, then the manifest PUT), as `docker push` does.
//
// Authentication modes:
//   none      anonymous pulls and pushes;
//   htpasswd  Basic auth from a bcrypt htpasswd file (`htpasswd -Bbc`, apache2-utils);
//   token     the registry's Bearer token mode, with a token service written here (node:http):
//             it issues RS256 JWTs carrying the signing certificate in `x5c`, and the registry
//             trusts that certificate (rootcertbundle). GET /token with Basic credentials (or
//             none: anonymous, no access) answers {"token"}; POST /token with
//             grant_type=refresh_token (identity tokens) or password answers {"access_token"}.
// `tls: true` serves https with a self-signed certificate for 127.0.0.1 and localhost; its PEM
// is `caFile` (for NODE_EXTRA_CA_CERTS).
//
// Needs the Debian packages docker-registry, apache2-utils and openssl (.ci/run installs them).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes, sign } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";

export const MEDIA = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  helmConfig: "application/vnd.cncf.helm.config.v1+json",
  helmChart: "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
} as const;

export const TOKEN_SERVICE = "chainloop-test-registry";
const TOKEN_ISSUER = "chainloop-test-token-issuer";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

export interface TokenRequest {
  method: "GET" | "POST";
  /** GET: "basic" or "anonymous"; POST: the grant type. */
  via: string;
  user?: string;
  scope: string;
  service: string;
  granted: boolean;
}

export interface StartRegistryOptions {
  auth?: "none" | "htpasswd" | "token";
  /** Users (username → password) for htpasswd and for the token service. */
  users?: Record<string, string>;
  /** token mode: identity tokens (OAuth2 refresh tokens) the token service accepts → username. */
  identityTokens?: Record<string, string>;
  tls?: boolean;
}

export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry part of references. */
  host: string;
  port: number;
  url: string;
  dir: string;
  /** With tls: the registry's self-signed certificate (PEM), to trust it. */
  caFile?: string;
  /** token mode: the token service and what was asked of it. */
  tokenService?: { url: string; requests: TokenRequest[] };
  logs: string[];
  pushBlob(repo: string, data: Buffer, mediaType: string): Promise<Descriptor>;
  /** PUTs a manifest under `reference` (a tag or its digest); returns the digest. */
  pushManifest(repo: string, reference: string, mediaType: string, manifest: object): Promise<string>;
  /** An image with a random layer: an OCI manifest, or a Docker v2 schema 2 one. */
  /** (tag null: pushed by digest only, as the platform manifests of an index are.) */
  pushImage(repo: string, tag: string | null, opts?: { format?: "oci" | "docker"; platform?: { os: string; architecture: string } }): Promise<Descriptor>;
  /** An OCI index (or Docker manifest list) of two platform images (linux/amd64, linux/arm64). */
  pushIndex(repo: string, tag: string, opts?: { format?: "oci" | "docker" }): Promise<Descriptor & { children: Descriptor[] }>;
  /** A Helm chart as `helm push` stores it. */
  pushHelmChart(repo: string, tag: string, opts?: { name?: string; version?: string }): Promise<Descriptor>;
  stop(): Promise<void>;
}

const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const auth = opts.auth ?? "none";
  const users = opts.users ?? {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chainloop-registry-"));
  const logs: string[] = [];
  const pusher = { username: `pusher-${randomBytes(4).toString("hex")}`, password: randomBytes(12).toString("hex") };
  let tokenServer: http.Server | undefined;
  let tokenRequests: TokenRequest[] = [];
  let signingKey = "";
  let signingCertDer = "";
  let child: ChildProcess | undefined;

  try {
    const authConfig: string[] = [];
    if (auth === "htpasswd") {
      const file = path.join(dir, "htpasswd");
      execFileSync("htpasswd", ["-Bbc", file, pusher.username, pusher.password], { stdio: "ignore" });
      for (const [user, password] of Object.entries(users)) execFileSync("htpasswd", ["-Bb", file, user, password], { stdio: "ignore" });
      authConfig.push("auth:", "  htpasswd:", "    realm: chainloop-test", `    path: ${file}`);
    } else if (auth === "token") {
      const { certFile, keyFile } = selfSignedCert(dir, "token-signer", "token-issuer");
      signingKey = fs.readFileSync(keyFile, "utf8");
      signingCertDer = pemToDer(fs.readFileSync(certFile, "utf8"));
      const started = await startTokenService({ users, identityTokens: opts.identityTokens ?? {}, key: signingKey, certDer: signingCertDer });
      tokenServer = started.server;
      tokenRequests = started.requests;
      authConfig.push(
        "auth:",
        "  token:",
        `    realm: ${started.url}/token`,
        `    service: ${TOKEN_SERVICE}`,
        `    issuer: ${TOKEN_ISSUER}`,
        `    rootcertbundle: ${certFile}`,
      );
    }
    let caFile: string | undefined;
    const tlsConfig: string[] = [];
    if (opts.tls) {
      const { certFile, keyFile } = selfSignedCert(dir, "tls", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost");
      caFile = certFile;
      tlsConfig.push("  tls:", `    certificate: ${certFile}`, `    key: ${keyFile}`);
    }
    const config = [
      "version: 0.1",
      "log:",
      "  level: info",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${path.join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      "  addr: 127.0.0.1:0",
      `  secret: ${randomBytes(16).toString("hex")}`,
      ...tlsConfig,
      ...authConfig,
      "",
    ].join("\n");
    const configFile = path.join(dir, "config.yml");
    fs.writeFileSync(configFile, config);

    const proc = spawn("docker-registry", ["serve", configFile], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "" } });
    child = proc;
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`docker-registry did not start within 15 s:\n${logs.join("\n")}`)), 15_000);
      proc.once("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot run docker-registry (${e.message}); install the Debian package docker-registry`));
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`docker-registry exited with code ${code}:\n${logs.join("\n")}`));
      });
      for (const stream of [proc.stdout!, proc.stderr!]) {
        let buf = "";
        stream.setEncoding("utf8").on("data", (chunk: string) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (logs.length < 2000) logs.push(line);
            const m = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
            if (m) {
              clearTimeout(timer);
              resolve(Number(m[1]));
            }
          }
        });
      }
    });
    const host = `127.0.0.1:${port}`;
    const url = `${opts.tls ? "https" : "http"}://${host}`;
    const ca = caFile ? fs.readFileSync(caFile) : undefined;

    const authorization = (repo: string): string | undefined => {
      if (auth === "htpasswd") return `Basic ${Buffer.from(`${pusher.username}:${pusher.password}`).toString("base64")}`;
      if (auth === "token") return `Bearer ${mintToken(signingKey, signingCertDer, pusher.username, [{ type: "repository", name: repo, actions: ["pull", "push"] }])}`;
      return undefined;
    };
    const call = (method: string, target: string, repo: string, headers: Record<string, string> = {}, body?: Buffer) =>
      request(method, new URL(target, url), { ...headers, ...(authorization(repo) ? { Authorization: authorization(repo)! } : {}) }, body, ca);

    const registry: TestRegistry = {
      host,
      port,
      url,
      dir,
      caFile,
      tokenService: tokenServer ? { url: `http://127.0.0.1:${(tokenServer.address() as { port: number }).port}`, requests: tokenRequests } : undefined,
      logs,
      async pushBlob(repo, data, mediaType) {
        const digest = sha256(data);
        const start = await call("POST", `/v2/${repo}/blobs/uploads/`, repo);
        if (start.status !== 202) throw new Error(`blob upload start for ${repo}: ${start.status} ${start.body.toString()}`);
        const location = new URL(start.headers.location as string, url);
        location.searchParams.set("digest", digest);
        const put = await call("PUT", location.toString(), repo, { "Content-Type": "application/octet-stream" }, data);
        if (put.status !== 201) throw new Error(`blob upload for ${repo}: ${put.status} ${put.body.toString()}`);
        return { mediaType, digest, size: data.length };
      },
      async pushManifest(repo, reference, mediaType, manifest) {
        const body = Buffer.from(JSON.stringify(manifest));
        const res = await call("PUT", `/v2/${repo}/manifests/${reference}`, repo, { "Content-Type": mediaType }, body);
        if (res.status !== 201) throw new Error(`manifest PUT ${repo}:${reference}: ${res.status} ${res.body.toString()}`);
        const digest = sha256(body);
        if (res.headers["docker-content-digest"] !== digest) throw new Error(`registry stored ${repo}:${reference} as ${res.headers["docker-content-digest"]}, not ${digest}`);
        return digest;
      },
      async pushImage(repo, tag, o = {}) {
        const docker = o.format === "docker";
        const platform = o.platform ?? { os: "linux", architecture: "amd64" };
        const layer = await this.pushBlob(repo, gzipSync(tar([{ name: "hello.txt", content: randomBytes(32).toString("hex") }])), docker ? MEDIA.dockerLayer : MEDIA.ociLayer);
        const configJson = { architecture: platform.architecture, os: platform.os, rootfs: { type: "layers", diff_ids: [sha256(randomBytes(8))] }, config: {} };
        const config = await this.pushBlob(repo, Buffer.from(JSON.stringify(configJson)), docker ? MEDIA.dockerConfig : MEDIA.ociConfig);
        const mediaType = docker ? MEDIA.dockerManifest : MEDIA.ociManifest;
        const manifest = { schemaVersion: 2, mediaType, config, layers: [layer] };
        const digest = await this.pushManifest(repo, tag ?? sha256(JSON.stringify(manifest)), mediaType, manifest);
        return { mediaType, digest, size: Buffer.byteLength(JSON.stringify(manifest)), platform };
      },
      async pushIndex(repo, tag, o = {}) {
        const docker = o.format === "docker";
        const children: Descriptor[] = [];
        for (const architecture of ["amd64", "arm64"]) {
          const child = await this.pushImage(repo, null, { format: o.format, platform: { os: "linux", architecture } });
          children.push(child);
        }
        const mediaType = docker ? MEDIA.dockerList : MEDIA.ociIndex;
        const index = { schemaVersion: 2, mediaType, manifests: children };
        const digest = await this.pushManifest(repo, tag, mediaType, index);
        return { mediaType, digest, size: Buffer.byteLength(JSON.stringify(index)), children };
      },
      async pushHelmChart(repo, tag, o = {}) {
        const name = o.name ?? repo.split("/").pop()!;
        const version = o.version ?? tag.replaceAll("_", "+");
        const chartYaml = `apiVersion: v2\nname: ${name}\nversion: ${version}\ndescription: test chart ${randomBytes(4).toString("hex")}\n`;
        const layer = await this.pushBlob(repo, gzipSync(tar([{ name: `${name}/Chart.yaml`, content: chartYaml }])), MEDIA.helmChart);
        const config = await this.pushBlob(repo, Buffer.from(JSON.stringify({ apiVersion: "v2", name, version })), MEDIA.helmConfig);
        const manifest = { schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [layer], annotations: { "org.opencontainers.image.title": name } };
        const digest = await this.pushManifest(repo, tag, MEDIA.ociManifest, manifest);
        return { mediaType: MEDIA.ociManifest, digest, size: Buffer.byteLength(JSON.stringify(manifest)) };
      },
      async stop() {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
        await exited;
        await new Promise<void>((resolve) => (tokenServer ? tokenServer.close(() => resolve()) : resolve()));
        tokenServer?.closeAllConnections();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
    return registry;
  } catch (e) {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    tokenServer?.close();
    tokenServer?.closeAllConnections();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(method: string, url: URL, headers: Record<string, string>, body: Buffer | undefined, ca: Buffer | undefined): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === "https:" ? https : http;
    const req = lib.request(url, { method, headers: { ...headers, ...(body ? { "Content-Length": String(body.length) } : {}) }, ca, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** A self-signed certificate (openssl) in `dir`: `<name>.crt` and `<name>.key`. */
export function selfSignedCert(dir: string, name: string, cn: string, extension?: string): { certFile: string; keyFile: string } {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2", "-subj", `/CN=${cn}`, "-keyout", keyFile, "-out", certFile];
  if (extension) args.push("-addext", extension);
  execFileSync("openssl", args, { stdio: "ignore" });
  return { certFile, keyFile };
}

function pemToDer(pem: string): string {
  return pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** A registry token: an RS256 JWT the registry verifies through the certificate in x5c. */
function mintToken(key: string, certDer: string, subject: string, access: Access[]): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "RS256", typ: "JWT", x5c: [certDer] };
  const claims = { iss: TOKEN_ISSUER, sub: subject, aud: TOKEN_SERVICE, exp: now + 300, nbf: now - 30, iat: now, jti: randomBytes(8).toString("hex"), access };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign("sha256", Buffer.from(input), key))}`;
}

/** The token service of `auth: token` registries (see the top of this file). */
async function startTokenService(o: {
  users: Record<string, string>;
  identityTokens: Record<string, string>;
  key: string;
  certDer: string;
}): Promise<{ server: http.Server; url: string; requests: TokenRequest[] }> {
  const requests: TokenRequest[] = [];
  const grant = (scope: string, user: string | undefined): Access[] => {
    // repository:<name>:<actions>; a known user gets pull (never push) on what it asks for.
    const m = /^repository:([^:]+):(.+)$/.exec(scope);
    if (!m || !user) return [];
    return m[2].split(",").includes("pull") ? [{ type: "repository", name: m[1], actions: ["pull"] }] : [];
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://token.local");
    const reply = (status: number, body: object) => {
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
    };
    if (url.pathname !== "/token") return reply(404, { error: "not found" });
    if (req.method === "GET") {
      const service = url.searchParams.get("service") ?? "";
      const scope = url.searchParams.get("scope") ?? "";
      const header = req.headers.authorization ?? "";
      let user: string | undefined;
      if (header.startsWith("Basic ")) {
        const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        const [name, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
        if (colon < 0 || o.users[name] === undefined || o.users[name] !== password) {
          requests.push({ method: "GET", via: "basic", user: name, scope, service, granted: false });
          return reply(401, { errors: [{ code: "UNAUTHORIZED", message: "authentication failed" }] });
        }
        user = name;
      }
      requests.push({ method: "GET", via: user ? "basic" : "anonymous", user, scope, service, granted: true });
      return reply(200, { token: mintToken(o.key, o.certDer, user ?? "", grant(scope, user)), expires_in: 300 });
    }
    if (req.method === "POST") {
      let body = "";
      req.setEncoding("utf8").on("data", (c: string) => (body += c));
      req.on("end", () => {
        const form = new URLSearchParams(body);
        const grantType = form.get("grant_type") ?? "";
        const scope = form.get("scope") ?? "";
        const service = form.get("service") ?? "";
        let user: string | undefined;
        if (grantType === "refresh_token") user = o.identityTokens[form.get("refresh_token") ?? ""];
        else if (grantType === "password") {
          const name = form.get("username") ?? "";
          if (o.users[name] !== undefined && o.users[name] === form.get("password")) user = name;
        } else return reply(400, { error: "unsupported_grant_type" });
        requests.push({ method: "POST", via: grantType, user, scope, service, granted: user !== undefined });
        if (!user) return reply(401, { error: "invalid_grant" });
        return reply(200, { access_token: mintToken(o.key, o.certDer, user, grant(scope, user)), expires_in: 300 });
      });
      return;
    }
    reply(405, { error: "method not allowed" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}`, requests };
}

/** A ustar archive of regular files (enough for a Helm chart's Chart.yaml). */
function tar(files: { name: string; content: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const data = Buffer.from(f.content);
    const header = Buffer.alloc(512);
    const field = (offset: number, length: number, value: string) => header.write(value, offset, length, "ascii");
    field(0, 100, f.name);
    field(100, 8, "0000644\0");
    field(108, 8, "0000000\0");
    field(116, 8, "0000000\0");
    field(124, 12, `${data.length.toString(8).padStart(11, "0")}\0`);
    field(136, 12, `${Math.floor(Date.now() / 1000).toString(8).padStart(11, "0")}\0`);
    field(148, 8, "        ");
    field(156, 1, "0");
    field(257, 6, "ustar\0");
    field(263, 2, "00");
    let sum = 0;
    for (const byte of header) sum += byte;
    field(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
