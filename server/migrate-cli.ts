// `npm run migrate`: applies pending migrations and exits, without serving.
import { loadConfig } from "./config.js";
import { openDatabase } from "./data/client.js";
import { migrate } from "./data/migrate.js";
import { createLogger } from "./log.js";

const config = loadConfig();
const logger = createLogger(config.logLevel);
try {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  try {
    const res = await migrate(db, logger);
    process.stdout.write(
      `${db.location}: ${res.applied.length} migration(s) applied, ${res.alreadyApplied} already applied\n`,
    );
  } finally {
    await db.close();
  }
} catch (e) {
  process.stderr.write(`migrate: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
