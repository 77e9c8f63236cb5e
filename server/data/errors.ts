// Recognizing database errors, whichever driver (pg, PGlite) and layer (Prisma, raw) raised them.
// A database that cannot be reached becomes the domain's Unavailable here, at the two doors
// every repository goes through (server/data/client.ts: the pool and Prisma's driver adapter),
// so nothing above the data layer knows a driver's errors.
import { DomainError, Unavailable } from "../domain/errors.js";

/** Node and Postgres error codes that mean "the database is not reachable right now". */
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "08000",
  "08001",
  "08003",
  "08006",
  "53300", // too_many_connections
  "57014", // query_canceled: statement_timeout (server/data/client.ts) or an operator's cancel
]);

/**
 * Prisma driver-adapter error kinds (`cause.kind` of a DriverAdapterError, set by
 * @prisma/adapter-pg) that mean the same.
 */
const UNAVAILABLE_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);

/** pg's own errors for a lost or refused connection and for its client-side timeouts carry no code. */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect|Query read timeout/i;

/** The database could not be reached, or did not answer in time (pg, PGlite, or a driver adapter wrapping either). */
function isConnectionFailure(e: unknown, depth = 0): boolean {
  if (!e || typeof e !== "object" || depth > 4 || e instanceof DomainError) return false;
  const err = e as { code?: unknown; originalCode?: unknown; kind?: unknown; cause?: unknown; message?: unknown };
  if (typeof err.code === "string" && UNAVAILABLE_CODES.has(err.code)) return true;
  if (typeof err.originalCode === "string" && UNAVAILABLE_CODES.has(err.originalCode)) return true;
  if (typeof err.kind === "string" && UNAVAILABLE_KINDS.has(err.kind)) return true;
  if (typeof err.message === "string" && UNAVAILABLE_MESSAGES.test(err.message)) return true;
  return isConnectionFailure(err.cause, depth + 1);
}

/** `run`, with a connection failure thrown as the domain's Unavailable (the driver's error its cause) and any other error as it is. */
export async function unavailableWhenUnreachable<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw isConnectionFailure(e) ? new Unavailable("the database is unavailable; retry shortly", { cause: e }) : e;
  }
}

/** The Postgres SQLSTATE behind an error, digging through Prisma's driver-adapter wrapping. */
export function sqlStateOf(e: unknown): string | undefined {
  const err = e as {
    code?: unknown;
    cause?: { originalCode?: unknown; code?: unknown };
    meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
  } | null;
  if (!err || typeof err !== "object") return undefined;
  const candidates = [err.meta?.driverAdapterError?.cause?.originalCode, err.cause?.originalCode, err.code];
  return candidates.find((c): c is string => typeof c === "string" && /^[0-9A-Z]{5}$/.test(c) && !c.startsWith("P"));
}

function prismaCodeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("P") ? code : undefined;
}

/** A unique constraint or index rejected the write. */
export function isUniqueViolation(e: unknown): boolean {
  return sqlStateOf(e) === "23505" || prismaCodeOf(e) === "P2002";
}

/** A foreign key rejected the write or delete (23001 is RESTRICT on Postgres 17, PGlite's version). */
export function isForeignKeyViolation(e: unknown): boolean {
  const state = sqlStateOf(e);
  return state === "23503" || state === "23001" || prismaCodeOf(e) === "P2003";
}

/** A transaction lost a race and can be retried: unique violation, deadlock, serialization failure. */
export function isRetryableConflict(e: unknown): boolean {
  const state = sqlStateOf(e);
  return isUniqueViolation(e) || state === "40P01" || state === "40001";
}
