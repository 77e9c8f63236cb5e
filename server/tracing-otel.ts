// The OpenTelemetry SDK, loaded only by tracing.ts's dynamic import() when an OTLP endpoint is
// configured. The SDK does the work: NodeTracerProvider (with its AsyncLocalStorage context
// manager), a BatchSpanProcessor (OTEL_BSP_* settings), the OTLP/HTTP JSON exporter (it reads
// OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT itself), the W3C trace-context
// propagator, the sampler from OTEL_TRACES_SAMPLER[_ARG] (default: parent-based, always on) and
// OTEL_RESOURCE_ATTRIBUTES. Written here by hand: the RPC span (interceptors/tracing.ts), the
// database spans below and the statement summary (no instrumentation for Connect, for our
// SqlPool or for Prisma's driver adapters is installed).
import { context, diag, DiagLogLevel, SpanKind, SpanStatusCode, trace, type Attributes, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import type { TracingConfig } from "./config.js";
import type { DbTracer } from "./data/client.js";
import { tracingInterceptor } from "./interceptors/tracing.js";
import type { Logger } from "./log.js";
import type { Tracing } from "./tracing.js";

/** Longest db.query.text kept: statements are parameterized, but some are long. */
const MAX_QUERY_TEXT = 2_048;

export function createTracing(config: TracingConfig, logger: Logger): Tracing {
  // The SDK's own troubles (an unreachable collector, a refused export) go to our log, at warn.
  diag.setLogger(
    {
      error: (msg) => logger.warn({ otel: msg }, "tracing: error"),
      warn: (msg) => logger.warn({ otel: msg }, "tracing: warning"),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  // OTEL_SERVICE_NAME (through the env detector) wins over our default, as the spec says.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.endpoint }))],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  const tracer = provider.getTracer("chainloop-server");
  return {
    interceptor: tracingInterceptor(tracer),
    db: dbTracer(tracer),
    async shutdown(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
      const done = provider.shutdown().then(
        () => "done" as const,
        (e: Error) => {
          logger.warn({ err: e.message }, "tracing: flushing spans at shutdown failed");
          return "done" as const;
        },
      );
      if ((await Promise.race([done, timedOut])) === "timeout") logger.warn({ timeoutMs }, "tracing: flushing spans at shutdown timed out");
      clearTimeout(timer);
    },
  };
}

/**
 * Database spans (CLIENT kind), only under an active span: work outside any call (the change
 * feed's polls, pruning, start-up) would otherwise make a root span every 250 ms.
 */
function dbTracer(tracer: Tracer): DbTracer {
  const run = <T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> => {
    const parent = context.active();
    if (!trace.getSpan(parent)) return fn();
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
    return context.with(trace.setSpan(parent, span), fn).then(
      (v) => {
        span.end();
        return v;
      },
      (e: unknown) => {
        // The SQLSTATE or error class only: a database error's message can quote row values.
        const type = errorType(e);
        span.setAttribute("error.type", type);
        span.setStatus({ code: SpanStatusCode.ERROR, message: type });
        span.end();
        throw e;
      },
    );
  };
  return {
    statement(text, name, fn) {
      const s = summarize(text);
      const summary = name ?? s.summary;
      const attributes: Attributes = {
        "db.system": "postgresql",
        "db.system.name": "postgresql",
        "db.operation.name": s.operation,
        "db.query.summary": summary,
        "db.query.text": s.text.length > MAX_QUERY_TEXT ? `${s.text.slice(0, MAX_QUERY_TEXT)}…` : s.text,
      };
      if (s.table) attributes["db.collection.name"] = s.table;
      if (name) attributes["db.statement.name"] = name;
      return run(summary, attributes, fn);
    },
    transaction(fn) {
      return run("TRANSACTION", { "db.system": "postgresql", "db.system.name": "postgresql", "db.operation.name": "TRANSACTION" }, fn);
    },
  };
}

function errorType(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string" && /^[0-9A-Z_]{1,32}$/.test(code)) return code;
  return e instanceof Error ? e.constructor.name : "Error";
}

/**
 * A low-cardinality summary of a statement (OpenTelemetry's db.query.summary: the operation and
 * the first table it names), from its text: `SELECT deployments`, `WITH deployments`, `BEGIN`.
 * Comments are dropped and whitespace collapsed in the returned text; the statements are
 * parameterized ($1…), so the text carries no values.
 */
export function summarize(sql: string): { operation: string; table: string | undefined; summary: string; text: string } {
  const text = sql
    .replace(/--[^\n]*/g, " ")
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/\s+/g, " ")
    .trim();
  const operation = (/^[A-Za-z]+/.exec(text)?.[0] ?? "SQL").toUpperCase();
  // The first table after FROM, INTO, UPDATE or JOIN: a name, maybe schema-qualified, not a
  // function (`FROM unnest(`); no backtracking into a shorter name.
  const table = /\b(?:FROM|INTO|UPDATE|JOIN)\s+((?:"[^"]+"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?)(?![\w$."(])/i
    .exec(text)?.[1]
    ?.replace(/"/g, "");
  return { operation, table, summary: table ? `${operation} ${table}` : operation, text };
}
