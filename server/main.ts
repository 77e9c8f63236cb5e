// The server process: reads config, opens the database, migrates, ensures the default
// organization, listens. SIGTERM/SIGINT drain in-flight calls and close the database.
import module from "node:module";
import v8 from "node:v8";
import { build } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { openDatabase } from "./data/client.js";
import { migrate } from "./data/migrate.js";
import { bootstrap } from "./bootstrap.js";
import { createLogger, serverLogDestination } from "./log.js";
import { createMetrics, listenMetrics, metricsHandler, type MetricsServer } from "./metrics.js";
import { redactEndpoint, startTracing } from "./tracing.js";
import { createUseCases } from "./wiring.js";

/**
 * V8 lets the old generation grow by up to 4x between major collections after a burst of
 * calls: under 32 concurrent records the heap reached ~140 MB of mostly garbage and the process
 * ~230 MB RSS. At most 20 % growth per collection keeps the peak near 150 MB, at no CPU cost
 * the benchmark can tell apart from noise (README: Benchmark). V8 reads this flag at every
 * collection, so setting it here, before any load, is enough; a command-line value wins.
 */
function limitHeapGrowth(): void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  if (!given.some((a) => /^--heap[-_]growing[-_]percent/.test(a))) v8.setFlagsFromString("--heap-growing-percent=20");
}

async function main(): Promise<void> {
  limitHeapGrowth();
  // Node 22.1+ caches compiled modules on disk: this covers what loads from here on (the
  // OpenTelemetry SDK when tracing is on, modules imported lazily); the static import graph
  // above was compiled before this line could run (NODE_COMPILE_CACHE=dir covers it too).
  // Node 20 has no such call.
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`chainloop server: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel, serverLogDestination());
  // Before the database opens: its statements are traced from the start (server/tracing.ts).
  const tracing = await startTracing(config.tracing, logger);
  if (config.tracing) {
    logger.info({ tracing: "otlp", endpoint: redactEndpoint(config.tracing.endpoint), serviceName: config.tracing.serviceName }, "tracing: exporting spans over OTLP/HTTP");
  } else {
    logger.info({ tracing: "off" }, "tracing: off (no OTEL_EXPORTER_OTLP_ENDPOINT); the OpenTelemetry SDK is not loaded");
  }
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger, poolSize: config.dbPoolSize, tracer: tracing?.db });
  logger.info({ database: db.kind, location: db.location }, "database opened");
  const migrated = await migrate(db, logger);
  logger.info(migrated, "migrations up to date");
  const useCases = createUseCases(db, {
    watchQueueLimit: config.watchQueueLimit,
    recordBatches: { maxBatch: config.recordBatchMax, maxInFlight: config.recordBatchesInFlight },
    webhooks: { ...config.webhooks, secretsKey: config.secretsKey, dataDir: config.dataDir, logger },
  });
  await bootstrap(useCases, { bootstrapToken: config.bootstrapToken, dataDir: config.dataDir, logger });

  const metrics = createMetrics({ processMetrics: config.metrics });
  const app = build({
    db,
    logger,
    useCases,
    maxRequestBytes: config.maxRequestBytes,
    headersTimeoutMs: config.headersTimeoutMs,
    metrics,
    metricsEnabled: config.metrics,
    metricsOnApiPort: config.metricsPort === undefined,
    metricsToken: config.metricsToken,
    interceptors: tracing ? [tracing.interceptor] : [],
  });
  let metricsServer: MetricsServer | undefined;
  if (config.metricsPort !== undefined) {
    metricsServer = await listenMetrics(config.metricsPort, config.host, metricsHandler(metrics, config.metricsToken));
    const m = metricsServer.address;
    logger.info({ host: m.address, port: m.port, url: `http://${hostForUrl(m.address)}:${m.port}/metrics`, token: config.metricsToken !== undefined }, "metrics listening");
  }
  const addr = await app.listen(config.port, config.host);
  logger.info({ host: addr.address, port: addr.port, url: `http://${hostForUrl(addr.address)}:${addr.port}` }, "listening");
  // Webhook delivery (server/webhooks/dispatcher.ts): this process fills and drains the outbox
  // too, unless CHAINLOOP_WEBHOOK_DELIVERY=off leaves that to other processes.
  if (config.webhooks.deliver) useCases.webhookDispatcher.start();
  else logger.info({ webhooks: "not delivered here" }, "webhooks: CHAINLOOP_WEBHOOK_DELIVERY=off: other processes on this database deliver");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: draining in-flight calls");
    // Webhook attempts in flight get a second, then are interrupted and due again at once (for
    // another process, or the next start); the calls drain meanwhile.
    const webhooksStopped = useCases.webhookDispatcher.stop(1_000);
    await app.shutdown(config.shutdownTimeoutMs);
    await webhooksStopped;
    await db.close();
    await metricsServer?.close();
    await tracing?.shutdown(5_000); // the spans still buffered go out before the process ends
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

const hostForUrl = (h: string) => (h.includes(":") ? `[${h}]` : h);

main().catch((e) => {
  process.stderr.write(`chainloop server: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
