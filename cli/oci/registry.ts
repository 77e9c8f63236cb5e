// A minimal client for the OCI distribution API (GET /v2/<repository>/manifests/<reference>),
// written on Node's fetch: no registry client on npm fit (see cli/oci/README.md).
//
// Transport: https, except with `plainHttp`; a loopback registry (127.0.0.0/8, ::1, localhost)
// is tried over https first and falls back to plain http when the server does not speak TLS,
// as Docker and containerd do. Every request is bounded by `timeoutMs` (headers and body).
//
// Authentication, on the registry's 401 challenge only (credentials are never sent unasked):
//   Basic  → the username/password;
//   Bearer → a token from the challenge's realm for `repository:<repo>:pull`: GET with
//            service and scope (with Basic credentials when there are any, anonymous
//            otherwise), or, for an identity token, the OAuth2 refresh-token POST; the answer's
//            `token` or `access_token` is then sent as `Authorization: Bearer`.
//            A registry token from Docker's config is sent as the bearer token directly.
// Credentials are never sent to a plain-http token realm off loopback unless `plainHttp`.
import type { RegistryCredentials } from "./credentials.js";
import { OciError } from "./errors.js";
import { isLoopbackHost, type OciReference } from "./reference.js";

export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.dockerManifest].join(", ");

/** Manifests larger than this are refused (the OCI distribution spec's recommended limit). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface RegistryClientOptions {
  credentials?: RegistryCredentials;
  /** Explicit credentials were given, but for this other registry (for messages). */
  explicitSkippedFor?: string;
  plainHttp?: boolean;
  timeoutMs: number;
  userAgent?: string;
}

export interface FetchedManifest {
  body: Buffer;
  contentType: string;
  /** The Docker-Content-Digest header, when the registry sent one. */
  headerDigest?: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export class RegistryClient {
  private scheme: "https" | "http";
  private authorization?: string;

  constructor(
    private readonly ref: OciReference,
    private readonly opts: RegistryClientOptions,
  ) {
    this.scheme = opts.plainHttp ? "http" : "https";
  }

  /** What the messages call the thing being resolved. */
  private get what(): string {
    return this.ref.ociScheme ? `oci://${this.ref.normalized}` : this.ref.normalized;
  }

  private get registryName(): string {
    return this.ref.registry === this.ref.apiHost ? this.ref.registry : `${this.ref.registry} (${this.ref.apiHost})`;
  }

  /** GET a manifest by tag or digest, authenticating when the registry asks. */
  async getManifest(reference: string): Promise<FetchedManifest> {
    const path = `/v2/${this.ref.repository}/manifests/${reference}`;
    let res = await this.send(path);
    if (res.status === 401) {
      const challenges = parseChallenges(res.headers.get("www-authenticate") ?? "");
      await res.arrayBuffer().catch(() => undefined);
      await this.authenticate(challenges);
      res = await this.send(path);
      if (res.status === 401) {
        const code = await errorCode(res);
        throw this.unauthorized(code ? `401 ${code}` : "401");
      }
    }
    if (!res.ok) {
      const error = await this.failure(res, reference);
      // The distribution registry answers MANIFEST_UNKNOWN for an unknown repository too: its
      // tag list tells the two apart, and names the tags there are.
      if (error.reason === "MANIFEST_UNKNOWN" && !reference.includes(":")) throw (await this.explainUnknownTag(reference)) ?? error;
      throw error;
    }
    const length = Number(res.headers.get("content-length") ?? "0");
    if (length > MAX_MANIFEST_BYTES) throw this.badResponse(`a manifest of ${length} bytes (more than ${MAX_MANIFEST_BYTES})`);
    const body = await this.read(res);
    if (body.length > MAX_MANIFEST_BYTES) throw this.badResponse(`a manifest of ${body.length} bytes (more than ${MAX_MANIFEST_BYTES})`);
    return {
      body,
      contentType: (res.headers.get("content-type") ?? "").split(";")[0].trim(),
      headerDigest: res.headers.get("docker-content-digest") ?? undefined,
    };
  }

  /** After a 404 for `tag`: NAME_UNKNOWN when the repository does not exist, else the tags it has. */
  private async explainUnknownTag(tag: string): Promise<OciError | undefined> {
    let res: Response;
    try {
      res = await this.send(`/v2/${this.ref.repository}/tags/list?n=100`, "application/json");
    } catch {
      return undefined;
    }
    if (res.status === 404 && (await errorCode(res)) === "NAME_UNKNOWN") {
      return new OciError(
        "NAME_UNKNOWN",
        `repository ${this.ref.repository} not found in registry ${this.registryName} (404 NAME_UNKNOWN) for ${this.what}; check the repository path, or push it first`,
      );
    }
    if (!res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      return undefined;
    }
    let tags: string[] = [];
    try {
      const body = (await res.json()) as { tags?: unknown };
      if (Array.isArray(body.tags)) tags = body.tags.filter((t): t is string => typeof t === "string" && /^[\w][\w.-]{0,127}$/.test(t));
    } catch {
      return undefined;
    }
    const shown = tags.slice(0, 10).join(", ") + (tags.length > 10 ? `, … (${tags.length} in all)` : "");
    return new OciError(
      "MANIFEST_UNKNOWN",
      `tag ${tag} not found in ${this.ref.name} (404 MANIFEST_UNKNOWN); ${tags.length ? `its tags include ${shown}` : "the repository has no tags"}; check the tag, or push it first`,
    );
  }

  private async read(res: Response): Promise<Buffer> {
    try {
      return Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw this.networkError(e, `${this.scheme}://${this.ref.apiHost}`);
    }
  }

  private async send(path: string, accept = MANIFEST_ACCEPT): Promise<Response> {
    const headers: Record<string, string> = { Accept: accept, "User-Agent": this.opts.userAgent ?? "chainloop-cli" };
    if (this.authorization) headers.Authorization = this.authorization;
    const attempt = () =>
      fetch(`${this.scheme}://${this.ref.apiHost}${path}`, {
        method: "GET",
        headers,
        redirect: "follow",
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    try {
      return await attempt();
    } catch (e) {
      if (this.scheme === "https" && isLoopbackHost(this.ref.apiHost) && speaksPlainHttp(e)) {
        this.scheme = "http";
        try {
          return await attempt();
        } catch (e2) {
          throw this.networkError(e2, `http://${this.ref.apiHost}`);
        }
      }
      throw this.networkError(e, `${this.scheme}://${this.ref.apiHost}`);
    }
  }

  private async authenticate(challenges: Challenge[]): Promise<void> {
    const creds = this.opts.credentials;
    const bearer = challenges.find((c) => c.scheme === "bearer");
    const basic = challenges.find((c) => c.scheme === "basic");
    if (bearer) {
      if (creds?.secret.kind === "registry-token") {
        this.authorization = `Bearer ${creds.secret.token}`;
        return;
      }
      this.authorization = `Bearer ${await this.fetchToken(bearer.params)}`;
      return;
    }
    if (basic) {
      if (!creds) throw this.unauthorized(undefined);
      if (creds.secret.kind !== "basic") {
        throw new OciError(
          "CREDENTIALS",
          `registry ${this.registryName} wants a username and password for ${this.what}, but the credentials from ${creds.source} are a token; ` +
            "pass --registry-username with --registry-password-stdin instead",
        );
      }
      this.authorization = `Basic ${basicValue(creds.secret.username, creds.secret.password)}`;
      return;
    }
    throw new OciError(
      "UNAUTHORIZED",
      `registry ${this.registryName} answered 401 for ${this.what} without a Basic or Bearer challenge; it cannot be used without another login method`,
    );
  }

  /** The Bearer token flow. Returns the token; never includes it (or the credentials) in errors. */
  private async fetchToken(params: Record<string, string>): Promise<string> {
    const creds = this.opts.credentials;
    const realmText = params.realm;
    if (!realmText || !URL.canParse(realmText)) {
      throw this.badResponse(`a Bearer challenge without a usable realm (${JSON.stringify((realmText ?? "").slice(0, 100))})`);
    }
    const realm = new URL(realmText);
    if (realm.protocol !== "https:" && realm.protocol !== "http:") throw this.badResponse(`a token realm with the scheme ${realm.protocol}`);
    if (realm.protocol === "http:" && creds && !this.opts.plainHttp && !isLoopbackHost(realm.host)) {
      throw new OciError(
        "TLS",
        `registry ${this.registryName} sends logins to the plain-http token service ${realm.host}; refusing to send credentials without TLS (use --plain-http to allow it)`,
      );
    }
    const scope = `repository:${this.ref.repository}:pull`;
    let res: Response;
    try {
      if (creds?.secret.kind === "identity-token") {
        const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.secret.token, client_id: "chainloop-cli", scope });
        if (params.service) form.set("service", params.service);
        res = await fetch(realm, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded", "User-Agent": this.opts.userAgent ?? "chainloop-cli" },
          body: form.toString(),
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
      } else {
        const url = new URL(realm);
        if (params.service) url.searchParams.set("service", params.service);
        url.searchParams.set("scope", scope);
        const headers: Record<string, string> = { "User-Agent": this.opts.userAgent ?? "chainloop-cli" };
        if (creds?.secret.kind === "basic") headers.Authorization = `Basic ${basicValue(creds.secret.username, creds.secret.password)}`;
        res = await fetch(url, { method: "GET", headers, signal: AbortSignal.timeout(this.opts.timeoutMs) });
      }
    } catch (e) {
      throw this.networkError(e, `${realm.protocol}//${realm.host}`, `the token service of registry ${this.registryName}`);
    }
    if (res.status === 401 || res.status === 403) {
      await res.arrayBuffer().catch(() => undefined);
      throw this.unauthorized(`${res.status} from the token service ${realm.host}`);
    }
    if (!res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      throw new OciError(
        "REGISTRY_ERROR",
        `the token service ${realm.host} of registry ${this.registryName} answered ${res.status} ${res.statusText} for ${this.what}; try again later`,
      );
    }
    let body: { token?: unknown; access_token?: unknown };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw this.badResponse(`a token response from ${realm.host} that is not JSON`);
    }
    const token = typeof body.token === "string" && body.token ? body.token : typeof body.access_token === "string" ? body.access_token : "";
    if (!token) throw this.badResponse(`a token response from ${realm.host} without "token" or "access_token"`);
    return token;
  }

  private credentialHint(): string {
    const skipped = this.opts.explicitSkippedFor;
    return skipped ? ` (the --registry-username/--registry-password given are for ${skipped}, not ${this.ref.registry})` : "";
  }

  private unauthorized(detail: string | undefined): OciError {
    const creds = this.opts.credentials;
    const status = detail ? ` (${detail})` : "";
    if (!creds) {
      return new OciError(
        "UNAUTHORIZED",
        `registry ${this.registryName} requires authentication to pull ${this.what}${status}${this.credentialHint()}; pass --registry-username with ` +
          `--registry-password-stdin (or CHAINLOOP_REGISTRY_PASSWORD), or log in with docker login ${this.ref.registry}`,
      );
    }
    return new OciError(
      "UNAUTHORIZED",
      `registry ${this.registryName} rejected the credentials from ${creds.source} for ${this.what}${status}; ` +
        `check the username and password (or token) and that they may pull ${this.ref.name}`,
    );
  }

  private badResponse(what: string): OciError {
    return new OciError("BAD_RESPONSE", `registry ${this.registryName} sent ${what} for ${this.what}; it may not be an OCI registry`);
  }

  private async failure(res: Response, reference: string): Promise<OciError> {
    const code = await errorCode(res);
    const codeText = code ? ` ${code}` : "";
    const isDigest = reference.includes(":");
    if (res.status === 404 && code === "NAME_UNKNOWN") {
      return new OciError(
        "NAME_UNKNOWN",
        `repository ${this.ref.repository} not found in registry ${this.registryName} (404 NAME_UNKNOWN) for ${this.what}; check the repository path, or push the ${isDigest ? "artifact" : "tag"} first`,
      );
    }
    if (res.status === 404) {
      return new OciError(
        "MANIFEST_UNKNOWN",
        isDigest
          ? `manifest ${reference} not found in ${this.ref.name} (404${codeText}); check the digest, or push the artifact first`
          : `tag ${reference} not found in ${this.ref.name} (404${codeText}); check the tag, or push it first`,
      );
    }
    if (res.status === 403) {
      const who = this.opts.credentials ? `the credentials from ${this.opts.credentials.source}` : "anonymous access";
      return new OciError(
        "DENIED",
        `registry ${this.registryName} denied ${who} to pull ${this.what} (403${codeText}); use credentials that may pull ${this.ref.name}${this.credentialHint()}`,
      );
    }
    if (res.status === 429) {
      return new OciError("REGISTRY_ERROR", `registry ${this.registryName} is rate-limiting pulls (429${codeText}) for ${this.what}; wait, or authenticate to get a higher limit`);
    }
    const advice =
      res.status >= 500
        ? "try again later"
        : res.status === 400 && this.scheme === "http"
          ? "if the registry serves https, leave out --plain-http"
          : "check the reference and the registry";
    return new OciError("REGISTRY_ERROR", `registry ${this.registryName} answered ${res.status} ${res.statusText}${codeText} for ${this.what}; ${advice}`);
  }

  private networkError(e: unknown, url: string, who = `registry ${this.registryName}`): OciError {
    const err = e as Error & { cause?: NodeJS.ErrnoException };
    if (err?.name === "TimeoutError" || err?.name === "AbortError") {
      return new OciError("TIMEOUT", `${who} did not answer within ${formatSeconds(this.opts.timeoutMs)} (${url}) for ${this.what}; check the host, or raise --registry-timeout`);
    }
    const cause = err?.cause;
    const code = cause?.code ?? "";
    const detail = [code, cause?.message ?? err?.message ?? String(e)].filter((t) => t).join(": ");
    if (code === "ECONNREFUSED") {
      return new OciError("UNREACHABLE", `cannot reach ${who} at ${url} (connection refused) for ${this.what}; check the host and port and that the registry is running`);
    }
    if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") {
      return new OciError("UNREACHABLE", `cannot resolve the host of ${who} (${url}, ${code}) for ${this.what}; check the registry name and your DNS or network`);
    }
    if (code.startsWith("UND_ERR_CONNECT_TIMEOUT") || code === "ETIMEDOUT" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
      return new OciError("TIMEOUT", `${who} did not answer in time (${url}, ${code}) for ${this.what}; check the host, or raise --registry-timeout`);
    }
    if (isTlsError(cause)) {
      const hint = speaksPlainHttp(e)
        ? "the server does not speak TLS: if it is a plain-http registry, add --plain-http"
        : "if it uses a private CA, trust it with NODE_EXTRA_CA_CERTS=<ca.pem>; for a registry without TLS, add --plain-http";
      return new OciError("TLS", `TLS failure talking to ${who} at ${url} (${detail.split("\n")[0].slice(0, 120)}) for ${this.what}; ${hint}`);
    }
    if (/bad port/i.test(cause?.message ?? "")) {
      return new OciError("UNREACHABLE", `cannot reach ${who} at ${url}: Node's fetch refuses that port for safety reasons; serve the registry on another port`);
    }
    return new OciError("UNREACHABLE", `cannot reach ${who} at ${url} (${detail.split("\n")[0].slice(0, 120)}) for ${this.what}; check the host and your network`);
  }
}

function basicValue(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, "utf8").toString("base64");
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** The first error code of an OCI error body ({"errors":[{"code":…}]}), if any. */
async function errorCode(res: Response): Promise<string | undefined> {
  try {
    const text = await res.text();
    const parsed = JSON.parse(text) as { errors?: { code?: unknown }[] };
    const code = parsed.errors?.[0]?.code;
    return typeof code === "string" && /^[A-Z_]{1,64}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

function isTlsError(cause: NodeJS.ErrnoException | undefined): boolean {
  if (!cause) return false;
  const code = cause.code ?? "";
  return (
    code.startsWith("ERR_SSL_") ||
    code.startsWith("ERR_TLS_") ||
    code.startsWith("CERT_") ||
    code.startsWith("UNABLE_TO_") ||
    code === "DEPTH_ZERO_SELF_SIGNED_CERT" ||
    code === "SELF_SIGNED_CERT_IN_CHAIN" ||
    code === "HOSTNAME_MISMATCH" ||
    code === "EPROTO" ||
    /SSL routines|certificate|TLS/i.test(cause.message ?? "")
  );
}

/** The TLS handshake failed because the server answered in plain HTTP. */
function speaksPlainHttp(e: unknown): boolean {
  const cause = (e as { cause?: NodeJS.ErrnoException })?.cause;
  const code = cause?.code ?? "";
  return (
    code === "ERR_SSL_WRONG_VERSION_NUMBER" ||
    code === "ERR_SSL_PACKET_LENGTH_TOO_LONG" ||
    code === "ERR_SSL_HTTP_REQUEST" ||
    /wrong version number|packet length too long|http request/i.test(cause?.message ?? "")
  );
}

/** Parses a WWW-Authenticate header (one or more challenges). Scheme names are lowercased. */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
  let s = header;
  const skip = (re: RegExp) => {
    const m = re.exec(s);
    if (m) s = s.slice(m[0].length);
  };
  while (true) {
    skip(/^[\s,]+/);
    const scheme = TOKEN.exec(s);
    if (!scheme) break;
    s = s.slice(scheme[0].length);
    const challenge: Challenge = { scheme: scheme[0].toLowerCase(), params: {} };
    out.push(challenge);
    while (true) {
      skip(/^[\s,]*/);
      // A parameter is `token = value`; anything else starts the next challenge (or is a token68).
      const param = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*/.exec(s);
      if (!param || s.slice(param[0].length).startsWith("=")) {
        skip(/^[A-Za-z0-9._~+/-]+=*(?=\s*(,|$))/); // token68
        break;
      }
      s = s.slice(param[0].length);
      let value = "";
      if (s.startsWith('"')) {
        let i = 1;
        for (; i < s.length && s[i] !== '"'; i++) {
          if (s[i] === "\\" && i + 1 < s.length) i++;
          value += s[i];
        }
        s = s.slice(i + 1);
      } else {
        const m = /^[^\s,]*/.exec(s)!;
        value = m[0];
        s = s.slice(m[0].length);
      }
      challenge.params[param[1].toLowerCase()] = value;
    }
  }
  return out;
}
