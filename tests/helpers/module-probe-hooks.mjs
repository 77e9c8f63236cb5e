// Module resolution hooks (node:module register) for module-probe.mjs: runs on the hooks thread.
import fs from "node:fs";

export async function resolve(specifier, context, next) {
  const file = process.env.MODULE_PROBE_FILE;
  if (file) fs.appendFileSync(file, `${specifier}\n`);
  return next(specifier, context);
}
