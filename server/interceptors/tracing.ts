// One SERVER span per call (loaded only with tracing on: server/tracing-otel.ts imports it).
// It continues the caller's W3C trace context (`traceparent`/`tracestate` request headers, any
// protocol), is the active span while the handler runs (so database work becomes its
// children), and ends when the answer is complete (a stream: when it ends).
//
// Name: `<package.Service>/<Method>`. Attributes (OpenTelemetry RPC conventions): rpc.system
// (grpc for gRPC and gRPC-Web, connect_rpc for Connect) and rpc.system.name, rpc.service,
// rpc.method (the method's name), rpc.grpc.status_code (the numeric code, any protocol: Connect
// uses gRPC's codes), rpc.status_code (its name, e.g. NOT_FOUND), and chainloop.organization.id
// once the caller's token is known. Never a header value, token, request field or error
// message (they may carry user data): the span status holds only the code's name.
import {
  context as otelContext,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type TextMapGetter,
  type Tracer,
} from "@opentelemetry/api";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { callerKey } from "./caller.js";
import { protocolOf } from "./logging.js";

const headerGetter: TextMapGetter<Headers> = {
  get: (h, key) => h.get(key) ?? undefined,
  keys: (h) => [...h.keys()],
};

/** Codes that are the server's fault (OpenTelemetry's gRPC server convention): span status ERROR. */
const SERVER_ERRORS = new Set<number>([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

/** OK, CANCELED, NOT_FOUND, …: gRPC's spelling of the code names. */
const codeName = (code: number) => (code === 0 ? "OK" : (Code[code] ?? String(code)).replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase());

export function tracingInterceptor(tracer: Tracer): Interceptor {
  return (next) => async (req) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.header, headerGetter);
    const protocol = protocolOf(req.header.get("content-type"));
    const system = protocol === "connect" ? "connect_rpc" : "grpc";
    const span = tracer.startSpan(
      `${req.service.typeName}/${req.method.name}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "rpc.system": system,
          "rpc.system.name": system === "connect_rpc" ? "connectrpc" : "grpc",
          "rpc.service": req.service.typeName,
          "rpc.method": req.method.name,
          "chainloop.rpc.protocol": protocol,
        },
      },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    const end = (code: number) => {
      const organizationId = req.contextValues.get(callerKey)?.organizationId;
      if (organizationId) span.setAttribute("chainloop.organization.id", organizationId);
      span.setAttribute("rpc.grpc.status_code", code);
      span.setAttribute("rpc.status_code", codeName(code));
      if (SERVER_ERRORS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: codeName(code) });
      span.end();
    };
    let res;
    try {
      res = await otelContext.with(ctx, () => next(req));
    } catch (e) {
      end(e instanceof ConnectError ? e.code : Code.Unknown);
      throw e;
    }
    if (!res.stream) {
      end(0);
      return res;
    }
    return { ...res, message: traced(res.message, ctx, end, req.signal) };
  };
}

/** The stream's messages, each produced with the call's span active; the span ends with the stream. */
async function* traced<T>(messages: AsyncIterable<T>, ctx: Context, end: (code: number) => void, signal: AbortSignal): AsyncGenerator<T> {
  const it = messages[Symbol.asyncIterator]();
  let code = 0;
  try {
    for (;;) {
      const r = await otelContext.with(ctx, () => it.next());
      if (r.done) return;
      yield r.value;
    }
  } catch (e) {
    code = e instanceof ConnectError ? e.code : Code.Unknown;
    throw e;
  } finally {
    if (code === 0 && signal.aborted) code = Code.Canceled;
    try {
      await otelContext.with(ctx, async () => it.return?.());
    } finally {
      end(code);
    }
  }
}
