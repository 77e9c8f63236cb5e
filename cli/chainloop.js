#!/usr/bin/env node
// The `chainloop` CLI. Runs the compiled CLI in dist/ (built by `npm install`, `npm test` and
// `npm run build`); the TypeScript sources are in cli/.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  process.stderr.write("chainloop: the CLI is not built yet; run `npm install` (or `npm run build`) in the repository first\n");
  process.exit(1);
}
await import(compiled.href);
