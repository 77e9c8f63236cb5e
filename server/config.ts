// Every setting the server reads, in one place. README.md's configuration table lists the same.
import path from "node:path";

export interface ServerConfig {
  host: string;
  port: number;
  /** postgres://… → that Postgres; undefined → embedded PGlite in dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Largest request body accepted, in bytes (Connect, gRPC and gRPC-Web alike). */
  maxRequestBytes: number;
  /** How long a client may take to send a request's headers (a new connection's first bytes included). */
  headersTimeoutMs: number;
  /** How long SIGTERM/SIGINT wait for in-flight calls before closing connections. */
  shutdownTimeoutMs: number;
  logLevel: string;
  /** The first admin token of the `default` organization, used when it has no tokens yet. */
  bootstrapToken: string | undefined;
  /** Connections in the Postgres pool (DATABASE_URL only). */
  dbPoolSize: number;
  /** Events a WatchDeployments stream may have pending before it is ended (RESOURCE_EXHAUSTED). */
  watchQueueLimit: number;
  /** Group commit: most records in one statement, and most such statements at once (Postgres). */
  recordBatchMax: number;
  recordBatchesInFlight: number;
  /** CHAINLOOP_METRICS=off: no /metrics and no per-call counting (the benchmark's baseline for their cost). */
  metrics: boolean;
  /** GET /metrics on this port (same host) instead of the API port; 0 picks a free one. */
  metricsPort: number | undefined;
  /** When set, GET /metrics needs `Authorization: Bearer <it>`. A secret: never log it. */
  metricsToken: string | undefined;
  /** OpenTelemetry traces (OTLP/HTTP), on only when an OTLP endpoint is configured (server/tracing.ts). */
  tracing: TracingConfig | undefined;
  /** Webhook delivery (server/webhooks/): CHAINLOOP_WEBHOOK_*. */
  webhooks: WebhookConfig;
  /**
   * CHAINLOOP_SECRETS_KEY: encrypts webhook signing secrets at rest. Unset: a key generated once
   * into <dataDir>/secrets.key. A secret: never log it.
   */
  secretsKey: string | undefined;
}

export interface WebhookConfig {
  /** CHAINLOOP_WEBHOOK_ALLOW_PRIVATE: targets on private, loopback, link-local… addresses are allowed. */
  allowPrivate: boolean;
  /** One attempt, from connecting to the answer. */
  timeoutMs: number;
  /** How long a delivery is retried before it fails and its subscription is marked failing. */
  retryWindowMs: number;
  /** Backoff between attempts: min × 2^(attempts-1), capped at max, with jitter. */
  backoffMinMs: number;
  backoffMaxMs: number;
  /** How often the outbox is filled from the change log and due deliveries are looked for. */
  pollMs: number;
  /** Attempts in flight per server process. */
  concurrency: number;
  /**
   * How long past an attempt's timeout its claim holds: room for rendering and storing the
   * result. A process that dies mid-attempt leaves the delivery to be claimed again (same id)
   * once timeout + margin have passed.
   */
  leaseMarginMs: number;
  /**
   * CHAINLOOP_WEBHOOK_DELIVERY=off: this process neither fills the outbox nor attempts
   * deliveries (TestWebhook still attempts its one delivery here): the processes that take the
   * records leave delivering, which costs CPU per event, to others on the same database.
   */
  deliver: boolean;
}

export interface TracingConfig {
  /** Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  endpoint: string;
  /** OTEL_SERVICE_NAME, default chainloop-server. */
  serviceName: string;
}

export class ConfigError extends Error {}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** A secret from the environment: unset or empty → undefined. The error never repeats the value. */
function secretFrom(env: NodeJS.ProcessEnv, name: string, minLength: number, maxLength: number): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  if (raw.length < minLength || raw.length > maxLength || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError(`${name} must be ${minLength}–${maxLength} printable ASCII characters without spaces (its value is not shown)`);
  }
  return raw;
}

/** An on/off switch: 1/true/on or 0/false/off (any case); unset or empty is `fallback`. */
function switchFrom(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = (env[name] ?? "").trim().toLowerCase();
  if (raw === "") return fallback;
  if (["1", "true", "on"].includes(raw)) return true;
  if (["0", "false", "off"].includes(raw)) return false;
  throw new ConfigError(`${name} must be 1, true or on (or 0, false, off), got ${JSON.stringify(env[name])}`);
}

/** CHAINLOOP_WEBHOOK_* from `env`, with their defaults (the one place they are written). */
export function webhooksFrom(env: NodeJS.ProcessEnv): WebhookConfig {
  const backoffMinMs = intFrom(env, "CHAINLOOP_WEBHOOK_BACKOFF_MIN_MS", 5_000, 1, 24 * 3600_000);
  const backoffMaxMs = intFrom(env, "CHAINLOOP_WEBHOOK_BACKOFF_MAX_MS", 3600_000, 1, 24 * 3600_000);
  if (backoffMaxMs < backoffMinMs) {
    throw new ConfigError(`CHAINLOOP_WEBHOOK_BACKOFF_MAX_MS (${backoffMaxMs}) must be at least CHAINLOOP_WEBHOOK_BACKOFF_MIN_MS (${backoffMinMs})`);
  }
  return {
    allowPrivate: switchFrom(env, "CHAINLOOP_WEBHOOK_ALLOW_PRIVATE", false),
    timeoutMs: intFrom(env, "CHAINLOOP_WEBHOOK_TIMEOUT_MS", 10_000, 100, 5 * 60_000),
    retryWindowMs: intFrom(env, "CHAINLOOP_WEBHOOK_RETRY_WINDOW_MS", 24 * 3600_000, 0, 30 * 24 * 3600_000),
    backoffMinMs,
    backoffMaxMs,
    pollMs: intFrom(env, "CHAINLOOP_WEBHOOK_POLL_MS", 500, 10, 60_000),
    // At least 2: one subscription may hold at most half the slots (server/webhooks/dispatcher.ts).
    concurrency: intFrom(env, "CHAINLOOP_WEBHOOK_CONCURRENCY", 16, 2, 1000),
    leaseMarginMs: intFrom(env, "CHAINLOOP_WEBHOOK_LEASE_MARGIN_MS", 20_000, 1_000, 10 * 60_000),
    deliver: switchFrom(env, "CHAINLOOP_WEBHOOK_DELIVERY", true),
  };
}

/** OTLP/HTTP traces: on when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set (and OTEL_SDK_DISABLED is not true). */
function tracingFrom(env: NodeJS.ProcessEnv): TracingConfig | undefined {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return undefined;
  const check = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    if (!raw) return undefined;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(`${name} must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new ConfigError(`${name} must be an http:// or https:// URL (OTLP over HTTP), got ${JSON.stringify(raw)}`);
    }
    return raw;
  };
  const traces = check("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const base = check("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (traces === undefined && base === undefined) return undefined;
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || "chainloop-server";
  return { endpoint: traces ?? `${base!.replace(/\/+$/, "")}/v1/traces`, serviceName };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const databaseUrl = env.DATABASE_URL && env.DATABASE_URL.trim() !== "" ? env.DATABASE_URL.trim() : undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError("DATABASE_URL must be a postgres:// or postgresql:// URL (unset it to use the embedded database)");
  }
  const port = intFrom(env, "PORT", 8080, 0, 65535);
  const metricsPort = env.CHAINLOOP_METRICS_PORT === undefined || env.CHAINLOOP_METRICS_PORT === "" ? undefined : intFrom(env, "CHAINLOOP_METRICS_PORT", 0, 0, 65535);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) {
    throw new ConfigError("CHAINLOOP_METRICS_PORT must differ from PORT (unset it to serve /metrics on the API port)");
  }
  const metricsSetting = (env.CHAINLOOP_METRICS ?? "").trim().toLowerCase();
  if (!["", "on", "off"].includes(metricsSetting)) throw new ConfigError(`CHAINLOOP_METRICS must be on or off, got "${env.CHAINLOOP_METRICS}"`);
  const metrics = metricsSetting !== "off";
  if (!metrics && (metricsPort !== undefined || (env.CHAINLOOP_METRICS_TOKEN ?? "") !== "")) {
    throw new ConfigError("CHAINLOOP_METRICS=off serves no /metrics: unset CHAINLOOP_METRICS_PORT and CHAINLOOP_METRICS_TOKEN, or turn metrics on");
  }
  return {
    host: env.HOST && env.HOST !== "" ? env.HOST : "127.0.0.1",
    port,
    databaseUrl,
    dataDir: path.resolve(env.CHAINLOOP_DATA_DIR && env.CHAINLOOP_DATA_DIR !== "" ? env.CHAINLOOP_DATA_DIR : ".data"),
    maxRequestBytes: intFrom(env, "CHAINLOOP_MAX_REQUEST_BYTES", 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    headersTimeoutMs: intFrom(env, "CHAINLOOP_HEADERS_TIMEOUT_MS", 60_000, 100, 300_000),
    shutdownTimeoutMs: intFrom(env, "CHAINLOOP_SHUTDOWN_TIMEOUT_MS", 10_000, 0, 10 * 60_000),
    logLevel: env.LOG_LEVEL && env.LOG_LEVEL !== "" ? env.LOG_LEVEL : "info",
    bootstrapToken: env.CHAINLOOP_BOOTSTRAP_TOKEN && env.CHAINLOOP_BOOTSTRAP_TOKEN !== "" ? env.CHAINLOOP_BOOTSTRAP_TOKEN : undefined,
    dbPoolSize: intFrom(env, "CHAINLOOP_DB_POOL_SIZE", 10, 1, 1000),
    watchQueueLimit: intFrom(env, "CHAINLOOP_WATCH_QUEUE_LIMIT", 1000, 1, 1_000_000),
    recordBatchMax: intFrom(env, "CHAINLOOP_RECORD_BATCH_MAX", 256, 1, 10_000),
    recordBatchesInFlight: intFrom(env, "CHAINLOOP_RECORD_BATCHES_IN_FLIGHT", 1, 1, 1000),
    metrics,
    metricsPort,
    metricsToken: secretFrom(env, "CHAINLOOP_METRICS_TOKEN", 16, 4096),
    tracing: tracingFrom(env),
    webhooks: webhooksFrom(env),
    secretsKey: secretFrom(env, "CHAINLOOP_SECRETS_KEY", 32, 4096),
  };
}
