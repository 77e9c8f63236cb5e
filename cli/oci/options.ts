// The CLI side of --oci-ref: the registry options a command adds, and resolveOciArgs(), which
// turns the parsed arguments into credentials and resolves the reference.
//
// This module is imported when a command module loads (on every CLI start), so it has no
// runtime imports: the resolver (cli/oci/resolve.ts, fetch, child processes) loads lazily,
// only when --oci-ref is used.
import type { Options } from "yargs";
import type { OciArtifactKind, ResolvedArtifact } from "./resolve.js";

export const REGISTRY_GROUP = "Registry options (with --oci-ref):";

/** `--oci-ref`, for commands that record an artifact by reference. */
export const ociRefOption = {
  "oci-ref": {
    type: "string",
    requiresArg: true,
    describe:
      "Image or Helm chart reference, resolved to a digest on this machine: [registry[:port]/]repository[:tag][@digest], " +
      "or Helm's oci://host/repository:tag (no registry means Docker Hub; no tag means :latest)",
  },
} satisfies Record<string, Options>;

/** Credentials and transport for the registry --oci-ref names. Values are never shown in help. */
export const registryOptions = {
  "registry-server": {
    type: "string",
    requiresArg: true,
    describe: "Registry the --registry-username/--registry-password are for; other registries use Docker's config (env CHAINLOOP_REGISTRY_SERVER)",
    defaultDescription: "the --oci-ref's registry",
    group: REGISTRY_GROUP,
  },
  "registry-username": {
    type: "string",
    requiresArg: true,
    describe: "Registry username (env CHAINLOOP_REGISTRY_USERNAME); without it, Docker's config.json, credential helpers, or anonymous",
    group: REGISTRY_GROUP,
  },
  "registry-password": {
    type: "string",
    requiresArg: true,
    describe: "Registry password or token; others on this machine can see it: prefer --registry-password-stdin or env CHAINLOOP_REGISTRY_PASSWORD",
    group: REGISTRY_GROUP,
  },
  "registry-password-stdin": {
    type: "boolean",
    describe: "Read the registry password or token from standard input",
    group: REGISTRY_GROUP,
  },
  "plain-http": {
    alias: "insecure-registry",
    type: "boolean",
    describe: "Talk to the registry over plain http, without TLS (a loopback registry falls back to it by itself)",
    group: REGISTRY_GROUP,
  },
  "registry-timeout": {
    type: "number",
    requiresArg: true,
    default: 30,
    describe: "Seconds to wait for each registry request",
    group: REGISTRY_GROUP,
  },
} satisfies Record<string, Options>;

export interface OciArgs {
  ociRef?: string;
  registryServer?: string;
  registryUsername?: string;
  registryPassword?: string;
  registryPasswordStdin?: boolean;
  plainHttp?: boolean;
  registryTimeout?: number;
}

/** A yargs .check() for the registry options: returns true, or the usage error to show. */
export function checkRegistryArgs(args: OciArgs): true | string {
  if (args.registryPassword !== undefined && args.registryPasswordStdin) {
    return "--registry-password and --registry-password-stdin are mutually exclusive";
  }
  const t = args.registryTimeout;
  if (t !== undefined && !(Number.isFinite(t) && t > 0 && t <= 600)) return "--registry-timeout must be a number of seconds from 0 (exclusive) to 600";
  return true;
}

export interface OciIo {
  stdin?: NodeJS.ReadableStream;
  env?: NodeJS.ProcessEnv;
  /** Where warnings go (default: stderr). */
  warn?: (text: string) => void;
}

/**
 * Resolves args.ociRef for `kind` with the credentials the arguments and environment give.
 * Throws OciError (one-line message, no secrets) on any failure.
 */
export async function resolveOciArgs(args: OciArgs, kind: OciArtifactKind, io: OciIo = {}): Promise<ResolvedArtifact> {
  const env = io.env ?? process.env;
  const warn = io.warn ?? defaultWarn;
  const { resolveOciReference } = await import("./resolve.js");
  const { OciError } = await import("./errors.js");
  if (!args.ociRef) throw new OciError("INVALID_OPTIONS", "--oci-ref is required");
  const checked = checkRegistryArgs(args);
  if (checked !== true) throw new OciError("INVALID_OPTIONS", checked);

  let password: string | undefined;
  let source: string;
  if (args.registryPasswordStdin) {
    // Standard input can be read once: a command resolving several references reuses it.
    const stdin = io.stdin ?? process.stdin;
    let read = stdinPasswords.get(stdin);
    if (!read) stdinPasswords.set(stdin, (read = readAll(stdin)));
    password = (await read).replace(/\r?\n$/, "");
    if (password === "") throw new OciError("INVALID_OPTIONS", "--registry-password-stdin read an empty password from standard input");
    source = "--registry-password-stdin";
  } else if (args.registryPassword !== undefined) {
    password = args.registryPassword;
    source = "--registry-password";
    if (!warned.has(warn)) {
      warned.add(warn);
      warn("chainloop: warning: a password on the command line can be seen by other users and ends up in shell history; prefer --registry-password-stdin or CHAINLOOP_REGISTRY_PASSWORD");
    }
  } else {
    password = env.CHAINLOOP_REGISTRY_PASSWORD || undefined;
    source = "CHAINLOOP_REGISTRY_PASSWORD";
  }
  const username = args.registryUsername ?? (env.CHAINLOOP_REGISTRY_USERNAME || undefined);
  const usernameSource = args.registryUsername !== undefined ? "--registry-username" : "CHAINLOOP_REGISTRY_USERNAME";
  const server = args.registryServer ?? (env.CHAINLOOP_REGISTRY_SERVER || undefined);

  return resolveOciReference(args.ociRef, {
    kind,
    credentials: username !== undefined || password !== undefined ? { server, username, password, source: `${usernameSource} and ${source}` } : undefined,
    plainHttp: args.plainHttp,
    timeoutMs: Math.round((args.registryTimeout ?? 30) * 1000),
    env,
  });
}

const stdinPasswords = new WeakMap<NodeJS.ReadableStream, Promise<string>>();
const warned = new WeakSet<(text: string) => void>();
const defaultWarn = (text: string) => void process.stderr.write(`${text}\n`);

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  stream.setEncoding("utf8");
  for await (const chunk of stream) text += chunk as string;
  return text;
}
