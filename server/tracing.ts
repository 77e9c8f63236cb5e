// OpenTelemetry traces, opt-in: only when an OTLP endpoint is configured
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; config.ts) is the SDK
// loaded, by a dynamic import() of tracing-otel.ts. Nothing else in the server imports an
// @opentelemetry package, so without an endpoint none is loaded at all (no global context
// manager, no async hooks): tests/integration/tracing.test.ts checks it.
import type { Interceptor } from "@connectrpc/connect";
import type { TracingConfig } from "./config.js";
import type { DbTracer } from "./data/client.js";
import type { Logger } from "./log.js";

export interface Tracing {
  /** One SERVER span per call, continuing the caller's W3C traceparent (outermost interceptor). */
  interceptor: Interceptor;
  /** Statements and transactions as child spans (server/data/client.ts). */
  db: DbTracer;
  /** Exports the spans still buffered, then stops; at most `timeoutMs`. */
  shutdown(timeoutMs: number): Promise<void>;
}

export async function startTracing(config: TracingConfig | undefined, logger: Logger): Promise<Tracing | undefined> {
  if (!config) return undefined;
  const { createTracing } = await import("./tracing-otel.js");
  return createTracing(config, logger);
}

/** The endpoint without credentials or query (safe to log). */
export function redactEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}
