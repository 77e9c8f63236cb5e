// First start: the `default` organization and its first admin API token — the operator's
// CHAINLOOP_BOOTSTRAP_TOKEN when set, else a generated one, printed once (to stderr, outside
// the JSON log) and written to <data dir>/admin.token with mode 0600.
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "./log.js";
import type { UseCases } from "./wiring.js";

export async function bootstrap(
  useCases: UseCases,
  opts: { bootstrapToken: string | undefined; dataDir: string; logger: Logger },
): Promise<void> {
  const org = await useCases.organizations.ensureDefault();
  const minted = await useCases.tokens.bootstrap(org.id, opts.bootstrapToken);
  if (!minted) return;
  if (!minted.generated) {
    opts.logger.info({ organization: org.name }, "admin API token created from CHAINLOOP_BOOTSTRAP_TOKEN");
    return;
  }
  fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(opts.dataDir, "admin.token");
  fs.writeFileSync(file, `${minted.secret}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  process.stderr.write(
    `\nFirst start: created the admin API token of organization "${org.name}".\n` +
      `It is shown only this once and saved in ${file} (mode 0600):\n\n    ${minted.secret}\n\n` +
      `Use it with: export CHAINLOOP_TOKEN=$(cat ${file})\n\n`,
  );
  opts.logger.info({ organization: org.name, file }, "admin API token generated and written to the data directory");
}
