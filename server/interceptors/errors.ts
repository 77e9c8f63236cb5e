// The one place where errors become Connect/gRPC statuses.
//
// Domain errors map to their code with their message (written for users). ConnectErrors
// raised by the framework pass through. Anything else is a bug: it is logged with its stack and
// answered as Internal without leaking internals. (A database that cannot be reached is the
// domain's Unavailable by then: server/data/errors.ts.) Every message is cut to MESSAGE_MAX
// characters.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { DomainError, FailedPrecondition, Unavailable, type DomainErrorKind } from "../domain/errors.js";
import { PreconditionFailureSchema } from "../../gen/proto/google/rpc/error_details_pb.js";
import { errorText, type Logger } from "../log.js";

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

export function toConnectError(e: unknown, logger: Logger, method: string): ConnectError {
  if (e instanceof DomainError) {
    // What was unreachable is for the log, not the caller.
    if (e instanceof Unavailable && e.cause !== undefined) logger.warn({ method, err: errorText(e) }, "unavailable");
    // A refusal that lists its unmet preconditions carries them as google.rpc.PreconditionFailure,
    // which clients in any language decode with their common protos.
    const details =
      e instanceof FailedPrecondition && e.violations.length > 0
        ? [{ desc: PreconditionFailureSchema, value: create(PreconditionFailureSchema, { violations: e.violations }) }]
        : undefined;
    return new ConnectError(e.message, CODES[e.kind], undefined, details, e);
  }
  if (e instanceof ConnectError) return e;
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
