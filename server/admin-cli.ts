// Operator commands, run on the server side against the server's database (same DATABASE_URL
// / CHAINLOOP_DATA_DIR as the server):
//   npm run admin -- org create NAME    creates an organization and prints its first admin token
//   npm run admin -- org list
// With the embedded database, stop the server first (PGlite allows one process at a time).
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { loadConfig } from "./config.js";
import { openDatabase, type Database } from "./data/client.js";
import { migrate } from "./data/migrate.js";
import { DomainError } from "./domain/errors.js";
import { createLogger } from "./log.js";
import { createUseCases } from "./wiring.js";

async function withDatabase<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger("warn");
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  try {
    await migrate(db, logger);
    return await fn(db);
  } finally {
    await db.close();
  }
}

await yargs(hideBin(process.argv))
  .scriptName("npm run admin --")
  .command("org", "manage organizations", (y) =>
    y
      .command(
        "create <name>",
        "create an organization and print its first admin API token (shown once)",
        (a) => a.positional("name", { type: "string", demandOption: true, describe: "DNS label, e.g. acme" }),
        async (argv) => {
          await withDatabase(async (db) => {
            const uc = createUseCases(db);
            const org = await uc.organizations.create(argv.name);
            const minted = await uc.tokens.bootstrap(org.id);
            process.stdout.write(
              `organization "${org.name}" created (${org.id})\n` +
                `its admin API token (shown only now; store it in a secret manager):\n${minted?.secret}\n`,
            );
          });
        },
      )
      .command("list", "list organizations", {}, async () => {
        await withDatabase(async (db) => {
          for (const org of await createUseCases(db).organizations.list()) {
            process.stdout.write(`${org.name}\t${org.id}\t${org.createdAt.toISOString()}\n`);
          }
        });
      })
      .demandCommand(1),
  )
  .demandCommand(1)
  .strict()
  .fail((msg, err) => {
    // Domain errors (a taken name, a bad name) are the operator's to fix: one line, exit 1.
    if (err) {
      process.stderr.write(`admin: ${err instanceof DomainError ? err.message : String(err)}\n`);
      process.exit(1);
    }
    process.stderr.write(`admin: ${msg}\n(see: npm run admin -- --help)\n`);
    process.exit(2);
  })
  .parseAsync()
  .catch((e: unknown) => {
    process.stderr.write(`admin: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
