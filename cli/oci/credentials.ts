// Where registry credentials come from. First match wins:
//
//  1. Explicit credentials (the --registry-username / --registry-password[-stdin] flags, or
//     CHAINLOOP_REGISTRY_USERNAME / CHAINLOOP_REGISTRY_PASSWORD), for the registry named by
//     --registry-server (CHAINLOOP_REGISTRY_SERVER) or, without it, for the --oci-ref's registry.
//  2. Docker's config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json:
//     a. `credHelpers[<registry>]` → `docker-credential-<helper> get`;
//     b. `credsStore` → `docker-credential-<store> get`;
//     c. `auths[<registry>]`: `auth` (base64 user:password), `username`/`password`,
//        `identitytoken` (an OAuth2 refresh token), `registrytoken` (a bearer token).
//     Keys match with or without scheme and path (`https://ghcr.io`, `ghcr.io/v2/`); Docker Hub
//     matches `https://index.docker.io/v1/`, `index.docker.io`, `docker.io` and
//     `registry-1.docker.io`. When a helper has nothing for the registry, the `auths` entry is
//     tried next.
//  3. None: anonymous.
//
// Credential helpers speak Docker's protocol: `docker-credential-<name> get`, the server URL on
// stdin, `{"ServerURL","Username","Secret"}` on stdout; the username `<token>` means the secret
// is an identity token. Secrets are never put in error messages.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { OciError } from "./errors.js";
import { DOCKER_HUB, DOCKER_HUB_CONFIG_KEY, normalizeRegistryHost } from "./reference.js";

export type RegistrySecret =
  | { kind: "basic"; username: string; password: string }
  /** An OAuth2 refresh token, exchanged at the token endpoint (Docker's `identitytoken`). */
  | { kind: "identity-token"; token: string }
  /** A bearer token sent as is (Docker's `registrytoken`). */
  | { kind: "registry-token"; token: string };

export interface RegistryCredentials {
  secret: RegistrySecret;
  /** Where they came from, for messages: "--registry-username", "docker-credential-pass (credHelpers)". Never secret. */
  source: string;
}

export interface ExplicitCredentials {
  /** Registry the credentials are for; any registry form (`https://ghcr.io`, `ghcr.io`). Unset: the reference's registry. */
  server?: string;
  username?: string;
  password?: string;
  /** Where username/password came from, for messages. */
  source?: string;
}

export interface CredentialLookupOptions {
  explicit?: ExplicitCredentials;
  /** Environment to read DOCKER_CONFIG, HOME and PATH from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Skip Docker's config entirely. */
  ignoreDockerConfig?: boolean;
  /** Bound on a credential helper's run. */
  helperTimeoutMs?: number;
}

export interface CredentialLookup {
  credentials?: RegistryCredentials;
  /** Set when explicit credentials were given for another registry (for the error text). */
  explicitSkippedFor?: string;
}

/** Credentials for `registry` (a normalized reference registry such as `ghcr.io` or `docker.io`). */
export async function findCredentials(registry: string, opts: CredentialLookupOptions = {}): Promise<CredentialLookup> {
  const env = opts.env ?? process.env;
  const host = normalizeRegistryHost(registry);
  const explicit = opts.explicit;
  let explicitSkippedFor: string | undefined;
  if (explicit && (explicit.username !== undefined || explicit.password !== undefined)) {
    if (!explicit.username) {
      throw new OciError("INVALID_OPTIONS", "a registry password was given without a username; add --registry-username (or set CHAINLOOP_REGISTRY_USERNAME)");
    }
    if (explicit.password === undefined || explicit.password === "") {
      throw new OciError(
        "INVALID_OPTIONS",
        `--registry-username ${explicit.username} needs a password: --registry-password-stdin, CHAINLOOP_REGISTRY_PASSWORD or --registry-password`,
      );
    }
    const target = explicit.server ? normalizeRegistryHost(explicit.server) : host;
    if (target === host) {
      return {
        credentials: {
          secret: { kind: "basic", username: explicit.username, password: explicit.password },
          source: explicit.source ?? "--registry-username/--registry-password",
        },
      };
    }
    explicitSkippedFor = target;
  }
  if (opts.ignoreDockerConfig) return { explicitSkippedFor };
  const credentials = await fromDockerConfig(host, env, opts.helperTimeoutMs ?? 30_000);
  return { credentials, explicitSkippedFor };
}

interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, DockerAuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), ".docker");
  return path.join(dir, "config.json");
}

async function fromDockerConfig(host: string, env: NodeJS.ProcessEnv, helperTimeoutMs: number): Promise<RegistryCredentials | undefined> {
  const file = dockerConfigPath(env);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw new OciError("CREDENTIALS", `cannot read Docker's config ${file} (${(e as NodeJS.ErrnoException).code ?? "error"}); fix its permissions or set DOCKER_CONFIG`);
  }
  let config: DockerConfig;
  try {
    config = JSON.parse(text) as DockerConfig;
    if (typeof config !== "object" || config === null) throw new Error("not an object");
  } catch {
    throw new OciError("CREDENTIALS", `Docker's config ${file} is not valid JSON; fix it, or point DOCKER_CONFIG at another directory`);
  }
  // The key Docker itself would ask a helper with: the Docker Hub URL, or host[:port].
  const serverUrl = host === DOCKER_HUB ? DOCKER_HUB_CONFIG_KEY : host;

  const helperKey = matchingKey(config.credHelpers, host);
  if (helperKey !== undefined) {
    const helper = config.credHelpers![helperKey];
    if (typeof helper === "string" && helper !== "") {
      const found = await runHelper(helper, serverUrl, env, helperTimeoutMs, `credHelpers in ${file}`);
      if (found) return found;
    }
  } else if (typeof config.credsStore === "string" && config.credsStore !== "") {
    const found = await runHelper(config.credsStore, serverUrl, env, helperTimeoutMs, `credsStore in ${file}`);
    if (found) return found;
  }

  const authKey = matchingKey(config.auths, host);
  if (authKey === undefined) return undefined;
  const entry = config.auths![authKey] ?? {};
  const source = `auths["${authKey}"] in ${file}`;
  if (entry.identitytoken) return { secret: { kind: "identity-token", token: entry.identitytoken }, source };
  if (entry.registrytoken) return { secret: { kind: "registry-token", token: entry.registrytoken }, source };
  if (entry.auth) {
    let decoded: string;
    try {
      decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    } catch {
      decoded = "";
    }
    const colon = decoded.indexOf(":");
    if (colon <= 0) {
      throw new OciError("CREDENTIALS", `${source}: "auth" is not base64 of username:password; log in again (docker login ${host})`);
    }
    return { secret: { kind: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }, source };
  }
  if (entry.username && entry.password) return { secret: { kind: "basic", username: entry.username, password: entry.password }, source };
  return undefined;
}

/** The key of `map` that names `host` (any scheme/path/case; Docker Hub aliases), exact spellings first. */
function matchingKey(map: Record<string, unknown> | undefined, host: string): string | undefined {
  if (!map || typeof map !== "object") return undefined;
  const keys = Object.keys(map);
  const preferred = host === DOCKER_HUB ? [DOCKER_HUB_CONFIG_KEY, DOCKER_HUB] : [host];
  return keys.find((k) => preferred.includes(k)) ?? keys.find((k) => normalizeRegistryHost(k) === host);
}

/** Runs `docker-credential-<name> get`; undefined when the helper has no credentials for the server. */
async function runHelper(
  name: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  configuredIn: string,
): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${name}`;
  const source = `${program} (${configuredIn})`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new OciError("CREDENTIALS", `credential helper name ${JSON.stringify(name)} (${configuredIn}) is not valid`);
  }
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; error?: NodeJS.ErrnoException }>(
    (resolve) => {
      // Our own timer, not spawn's `timeout`: that one is only cleared on "exit", which a
      // helper that cannot be started never emits, and would keep the CLI alive until it fires.
      const child = spawn(program, ["get"], { env, stdio: ["pipe", "pipe", "pipe"] });
      const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      child.once("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve({ code: null, signal: null, stdout, stderr, error });
      });
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
      child.stdin.on("error", () => {}); // a helper that exits without reading stdin
      child.stdin.end(serverUrl);
    },
  );
  if (result.error) {
    if (result.error.code === "ENOENT") {
      throw new OciError("CREDENTIALS", `credential helper ${program} (${configuredIn}) is not on PATH; install it, or remove it from the config`);
    }
    throw new OciError("CREDENTIALS", `credential helper ${program} (${configuredIn}) could not run (${result.error.code ?? "error"})`);
  }
  if (result.signal) {
    const why = result.signal === "SIGTERM" ? `did not finish within ${Math.round(timeoutMs / 1000)}s` : `was killed by ${result.signal}`;
    throw new OciError("CREDENTIALS", `credential helper ${program} (${configuredIn}) ${why}`);
  }
  if (result.code !== 0) {
    const said = `${result.stdout} ${result.stderr}`.trim();
    if (/credentials not found/i.test(said)) return undefined;
    // Helpers report errors in plain words; show the first line, cut short, never the stdout JSON.
    const firstLine = said.startsWith("{") ? "" : said.split(/\r?\n/)[0].slice(0, 200);
    throw new OciError(
      "CREDENTIALS",
      `credential helper ${program} (${configuredIn}) failed for ${serverUrl} with exit code ${result.code}${firstLine ? `: ${firstLine}` : ""}`,
    );
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    throw new OciError("CREDENTIALS", `credential helper ${program} (${configuredIn}) did not print the expected JSON {"Username","Secret"}`);
  }
  const username = typeof parsed.Username === "string" ? parsed.Username : "";
  const secret = typeof parsed.Secret === "string" ? parsed.Secret : "";
  if (secret === "") return undefined;
  if (username === "<token>") return { secret: { kind: "identity-token", token: secret }, source };
  if (username === "") throw new OciError("CREDENTIALS", `credential helper ${program} (${configuredIn}) returned a secret without a username`);
  return { secret: { kind: "basic", username, password: secret }, source };
}
