// The CLI's own configuration: named contexts, kubectl-style. A context is a server and where
// its API token comes from (an environment variable named at use time, or the token itself).
//
//   file       $XDG_CONFIG_HOME/chainloop/config.json (default ~/.config/chainloop/config.json),
//              mode 0600 in a 0700 directory, replaced atomically (written aside, then renamed)
//   server     --server > CHAINLOOP_SERVER > the context's > http://127.0.0.1:8080
//   token      --token > CHAINLOOP_TOKEN > the context's (sent only to the context's own server)
//   context    --context > CHAINLOOP_CONTEXT > the current one (`chainloop config use-context`)
//
// The file is read only when a flag or variable leaves something to find in it (or a context
// is named), so pipelines that set CHAINLOOP_SERVER and CHAINLOOP_TOKEN never depend on it.
// No token is ever part of a message: errors name contexts, variables and files, not values.
//
// Loaded only from inside actions (await import()).
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEFAULT_SERVER, serverUrlProblem } from "./command.js";

/** One context as stored. Exactly one of tokenEnv and token, or neither. */
export interface StoredContext {
  server: string;
  /** The name of the environment variable that holds the token, read at use time. */
  tokenEnv?: string;
  /** The token itself (`--token-stdin`). */
  token?: string;
}

export interface ConfigFile {
  currentContext?: string;
  contexts: Record<string, StoredContext>;
}

/**
 * A wrong value given to the CLI (a context that does not exist, a malformed server URL in a
 * variable or a context, an unreadable config file): exit 2, one line, like a usage error.
 */
export class ConfigError extends Error {}

const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function contextNameProblem(name: string): string | undefined {
  return CONTEXT_NAME.test(name)
    ? undefined
    : `"${name}" is not a valid context name: 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit`;
}

export function envNameProblem(name: string): string | undefined {
  return ENV_NAME.test(name) ? undefined : `"${name}" is not an environment variable name (letters, digits and _, not starting with a digit)`;
}

/** $XDG_CONFIG_HOME/chainloop/config.json; a relative XDG_CONFIG_HOME is ignored, as the XDG spec says. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), ".config");
  return path.join(base, "chainloop", "config.json");
}

/** The config file's contents; an empty configuration when there is no file yet. */
export function readConfig(file: string = configPath()): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { contexts: {} };
    throw new ConfigError(`cannot read the config file ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
  // JSON.parse's messages quote the text around the error, which may hold a token: never shown.
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError(`the config file ${file} is not valid JSON; fix it or delete it`);
  }
  const problem = () => new ConfigError(`the config file ${file} is not a chainloop configuration; fix it or delete it`);
  if (!isObject(raw)) throw problem();
  const { currentContext, contexts = {} } = raw;
  if ((currentContext !== undefined && typeof currentContext !== "string") || !isObject(contexts)) throw problem();
  for (const ctx of Object.values(contexts)) {
    if (!isObject(ctx) || typeof ctx.server !== "string") throw problem();
    if ((ctx.tokenEnv !== undefined && typeof ctx.tokenEnv !== "string") || (ctx.token !== undefined && typeof ctx.token !== "string")) throw problem();
  }
  return { currentContext, contexts: contexts as Record<string, StoredContext> };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Replaces the config file in one step: written to a new file (mode 0600) beside it, flushed,
 * then renamed over it, so a reader never sees half a file and a crash leaves the old one. Its
 * directory is made (and kept) 0700.
 */
export function writeConfig(config: ConfigFile, file: string = configPath()): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const text = `${JSON.stringify({ currentContext: config.currentContext, contexts: config.contexts }, null, 2)}\n`;
  const fd = fs.openSync(tmp, "wx", 0o600);
  try {
    try {
      fs.fchmodSync(fd, 0o600); // whatever the umask
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** What `get-contexts` shows for a context's token: `env:VAR`, `stored` or `-`; never the token. */
export function tokenSource(ctx: StoredContext): string {
  if (ctx.tokenEnv) return `env:${ctx.tokenEnv}`;
  if (ctx.token) return "stored";
  return "-";
}

/** The context `name`, or a ConfigError that says how to list them. */
export function contextNamed(config: ConfigFile, name: string, file: string): StoredContext {
  const ctx = Object.hasOwn(config.contexts, name) ? config.contexts[name] : undefined;
  if (!ctx) throw new ConfigError(`no context named "${name}" in ${file} (chainloop config get-contexts lists them)`);
  return ctx;
}

/** Where a command connects, and, when it has no token, a hint at why (never a token). */
export interface ResolvedConnection {
  server: string;
  token: string | undefined;
  /** The context whose server is used, if any. */
  context?: string;
  /** Said when no token was sent, instead of "pass --token or set CHAINLOOP_TOKEN". */
  missingTokenHint?: string;
}

/**
 * Server and token for one command: each from its flag, else its variable, else the context
 * (--context, else CHAINLOOP_CONTEXT, else the current one), else the default. A context's
 * token is only ever sent to that context's server: with a server from --server or
 * CHAINLOOP_SERVER that differs, it stays unused.
 */
export function resolveConnection(
  flags: { server?: string; token?: string; context?: string },
  env: NodeJS.ProcessEnv = process.env,
): ResolvedConnection {
  let server = flags.server || env.CHAINLOOP_SERVER || undefined;
  if (!flags.server && server) {
    const problem = serverUrlProblem(server, "CHAINLOOP_SERVER");
    if (problem) throw new ConfigError(problem);
  }
  let token = flags.token || env.CHAINLOOP_TOKEN || undefined;
  const named = flags.context || env.CHAINLOOP_CONTEXT || undefined;
  if (server && token && !named) return { server, token };

  const file = configPath(env);
  const config = readConfig(file);
  const name = named ?? config.currentContext;
  if (name === undefined) return { server: server ?? DEFAULT_SERVER, token };
  const ctx = contextNamed(config, name, file);
  const ctxProblem = serverUrlProblem(ctx.server, `the server of context "${name}" (${file})`);
  if (ctxProblem) throw new ConfigError(ctxProblem);

  const fromContext = server === undefined;
  const ownServer = fromContext || sameServer(server!, ctx.server);
  server ??= ctx.server;
  let missingTokenHint: string | undefined;
  if (token === undefined && (ctx.token || ctx.tokenEnv)) {
    if (!ownServer) {
      missingTokenHint = `the token of context "${name}" is sent only to its server (${ctx.server}); pass --token <token> or set CHAINLOOP_TOKEN`;
    } else if (ctx.tokenEnv) {
      token = env[ctx.tokenEnv] || undefined;
      if (token === undefined) missingTokenHint = `context "${name}" takes its token from $${ctx.tokenEnv}, which is not set`;
    } else {
      token = ctx.token;
    }
  }
  return { server, token, context: fromContext ? name : undefined, missingTokenHint };
}

function sameServer(a: string, b: string): boolean {
  return URL.canParse(a) && URL.canParse(b) ? new URL(a).href === new URL(b).href : a === b;
}

/** All of stdin, trimmed (`--token-stdin`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").trim();
}
