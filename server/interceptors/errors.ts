// The one place where errors become Connect/gRPC statuses.
//
// Domain errors map to their code with their message (written for users). ConnectErrors
// raised by the framework pass through. Anything else is a bug or an outage: it is logged
// with its stack and answered as Internal (or Unavailable when the database cannot be
// reached) without leaking internals. Every message is cut to MESSAGE_MAX characters.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { DomainError, FailedPrecondition, type DomainErrorKind } from "../domain/errors.js";
import { PreconditionFailureSchema } from "../../gen/proto/google/rpc/error_details_pb.js";
import type { Logger } from "../log.js";

const CODES: Record<DomainErrorKind, Code> = {
  InvalidArgument: Code.InvalidArgument,
  NotFound: Code.NotFound,
  AlreadyExists: Code.AlreadyExists,
  FailedPrecondition: Code.FailedPrecondition,
  PermissionDenied: Code.PermissionDenied,
  Unauthenticated: Code.Unauthenticated,
  Unavailable: Code.Unavailable,
  ResourceExhausted: Code.ResourceExhausted,
};

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
  "P1001", // Prisma: can't reach database server
  "P1017", // Prisma: server closed the connection
  "P2024", // Prisma: timed out fetching a connection from the pool
]);

/**
 * Prisma driver-adapter error kinds (`meta.driverAdapterError.cause.kind`, set by
 * @prisma/adapter-pg) that mean the same. Prisma reports them under codes such as P2010 (raw
 * query failed) that say nothing about the connection, so the kind is what tells.
 */
const UNAVAILABLE_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);

function isUnavailable(e: unknown, depth = 0): boolean {
  if (!e || typeof e !== "object" || depth > 4) return false;
  const err = e as { code?: unknown; originalCode?: unknown; kind?: unknown; cause?: unknown; message?: unknown; meta?: { driverAdapterError?: unknown } };
  if (typeof err.code === "string" && UNAVAILABLE_CODES.has(err.code)) return true;
  if (typeof err.originalCode === "string" && UNAVAILABLE_CODES.has(err.originalCode)) return true;
  if (typeof err.kind === "string" && UNAVAILABLE_KINDS.has(err.kind)) return true;
  if (
    typeof err.message === "string" &&
    /Connection terminated|connection timeout|Client has encountered a connection error|Can't reach database server|timeout exceeded when trying to connect|Query read timeout/i.test(err.message)
  ) {
    return true;
  }
  return isUnavailable(err.cause, depth + 1) || isUnavailable(err.meta?.driverAdapterError, depth + 1);
}

export function toConnectError(e: unknown, logger: Logger, method: string): ConnectError {
  if (e instanceof DomainError) {
    // A refusal that lists its unmet preconditions carries them as google.rpc.PreconditionFailure,
    // which clients in any language decode with their common protos.
    const details =
      e instanceof FailedPrecondition && e.violations.length > 0
        ? [{ desc: PreconditionFailureSchema, value: create(PreconditionFailureSchema, { violations: e.violations }) }]
        : undefined;
    return new ConnectError(e.message, CODES[e.kind], undefined, details, e);
  }
  if (e instanceof ConnectError) return e;
  if (isUnavailable(e)) {
    logger.warn({ method, err: (e as Error)?.message }, "database unavailable");
    return new ConnectError("the database is unavailable; retry shortly", Code.Unavailable, undefined, undefined, e);
  }
  logger.error({ method, err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) }, "unexpected error");
  return new ConnectError("internal error; the server log has the details", Code.Internal, undefined, undefined, e);
}

/**
 * Longest error message sent (characters). Some quote the request (an unknown health service
 * name, a value a validation refused), and a gRPC status message travels in a trailer: one of a
 * few hundred KB is more than clients accept (the stream, then the connection, failed).
 */
export const MESSAGE_MAX = 1024;

/** `e` with its message cut to MESSAGE_MAX characters; code, metadata, details and cause kept. */
export function bounded(e: ConnectError): ConnectError {
  if (e.rawMessage.length <= MESSAGE_MAX) return e;
  const message = `${e.rawMessage.slice(0, MESSAGE_MAX)}… (${e.rawMessage.length - MESSAGE_MAX} more characters)`;
  const cut = new ConnectError(message, e.code, e.metadata, undefined, e.cause);
  cut.details = e.details;
  return cut;
}

export function errorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const method = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      // A streaming response fails while it is being read: map those errors here too.
      return res.stream ? { ...res, message: mapStreamErrors(res.message, logger, method) } : res;
    } catch (e) {
      throw bounded(toConnectError(e, logger, method));
    }
  };
}

async function* mapStreamErrors<T>(messages: AsyncIterable<T>, logger: Logger, method: string): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (e) {
    throw bounded(toConnectError(e, logger, method));
  }
}
