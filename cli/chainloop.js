#!/usr/bin/env node
// The `chainloop` CLI. Runs the bundled CLI (dist/cli/chainloop.cjs, `npm run build:cli`) with
// a V8 code cache, so a start costs about twice `node -e 0`; falls back to the compiled
// modules (dist/cli/main.js) when the bundle is missing or older than the last tsc build.
// Both are built by `npm install`, `npm test` and `npm run build`; the sources are in cli/.
import fs from "node:fs";
import module, { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const bundle = path("../dist/cli/chainloop.cjs");
const compiled = path("../dist/cli/main.js");

const bundleStat = fs.statSync(bundle, { throwIfNoEntry: false });
// tsc rewrites this file whenever it emits: a newer one means the bundle may be stale.
const tscStat = fs.statSync(path("../dist/.tsbuildinfo.build"), { throwIfNoEntry: false });

if (bundleStat && !(tscStat && tscStat.mtimeMs > bundleStat.mtimeMs)) {
  runBundle(bundleStat);
} else if (fs.existsSync(compiled)) {
  // Node 22.1+ keeps the compiled modules in an on-disk cache (module.enableCompileCache; the
  // bundle above has its own code cache); on Node 20 the call does not exist.
  module.enableCompileCache?.();
  await import(new URL("../dist/cli/main.js", import.meta.url).href);
} else {
  process.stderr.write("chainloop: the CLI is not built yet; run `npm install` (or `npm run build`) in the repository first\n");
  process.exit(1);
}

/**
 * Compiles the bundle with the code cache saved by an earlier run (keyed by Node's version and
 * the bundle's size and time, as V8 itself only checks the source's length), runs it, and saves
 * a cache when there was none or V8 refused it. Saving is best effort: a read-only install runs
 * uncached.
 */
function runBundle(stat) {
  const cacheFile = `${bundle}.cache`;
  const key = Buffer.from(`${process.version} ${process.arch} ${stat.size} ${stat.mtimeMs}\n`);
  let cachedData;
  try {
    const stored = fs.readFileSync(cacheFile);
    if (stored.subarray(0, key.length).equals(key)) cachedData = stored.subarray(key.length);
  } catch {
    // no cache yet
  }
  const source = fs.readFileSync(bundle, "utf8");
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    cachedData,
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once("exit", () => {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, Buffer.concat([key, script.createCachedData()]));
        fs.renameSync(tmp, cacheFile);
      } catch {
        try {
          fs.rmSync(tmp, { force: true });
        } catch {
          // nothing to clean up
        }
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, path("../dist/cli"));
}
