// The server process: reads config, opens the database, migrates, ensures the default
// organization, listens. SIGTERM/SIGINT drain in-flight calls and close the database.
import { build } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { openDatabase } from "./data/client.js";
import { migrate } from "./data/migrate.js";
import { bootstrap } from "./bootstrap.js";
import { createLogger } from "./log.js";
import { createUseCases } from "./wiring.js";

async function main(): Promise<void> {
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
  const logger = createLogger(config.logLevel);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger, poolSize: config.dbPoolSize });
  logger.info({ database: db.kind, location: db.location }, "database opened");
  const migrated = await migrate(db, logger);
  logger.info(migrated, "migrations up to date");
  const useCases = createUseCases(db, { watchQueueLimit: config.watchQueueLimit });
  await bootstrap(useCases, { bootstrapToken: config.bootstrapToken, dataDir: config.dataDir, logger });

  const app = build({ db, logger, useCases, maxRequestBytes: config.maxRequestBytes });
  const addr = await app.listen(config.port, config.host);
  logger.info({ host: addr.address, port: addr.port, url: `http://${hostForUrl(addr.address)}:${addr.port}` }, "listening");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: draining in-flight calls");
    await app.shutdown(config.shutdownTimeoutMs);
    await db.close();
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
