// `npm run build:cli` (run by `npm run build` after tsc): bundles the compiled CLI
// (dist/cli/main.js) with esbuild into one file, dist/cli/chainloop.cjs, which
// cli/chainloop.js runs with a V8 code cache. Measured on this project (Node 20), per run of
// `deployment record`: loading ~150 modules from dist/ and node_modules costs more than the
// command itself; one file, the two stand-ins below and the code cache bring a start close to
// 2× `node -e 0`.
//
//  * One classic script (CommonJS format), because Node 20 can keep a compile cache only for
//    those (vm.Script cachedData; module.enableCompileCache for ES modules came in Node 22).
//    Lazy `await import()`s stay lazy inside it: esbuild initialises such modules on first
//    use, so --help still does not initialise Connect or protobuf.
//  * string-width.mjs (alias): yargs' string-width builds an Intl.Segmenter at import time.
//  * headers.mjs (inject): Connect's `Headers` without loading all of undici.
//  * import.meta.url, which a classic script lacks, is replaced by the URL of the original file.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const here = (file) => path.join(root, "cli/bundle", file);
const outfile = path.join(root, "dist/cli/chainloop.cjs");
// Modules that locate files from import.meta.url (yargs finds package.json for --version;
// yargs-parser makes a require()) get their own file's URL, as if they were not bundled.
const importMetaUrl = {
  name: "import-meta-url",
  setup(b) {
    b.onLoad({ filter: /\.m?js$/ }, async (args) => {
      const contents = await fs.promises.readFile(args.path, "utf8");
      if (!contents.includes("import.meta.url")) return undefined;
      const fromOut = path.relative(path.dirname(outfile), args.path).split(path.sep).join("/");
      return { contents: contents.replaceAll("import.meta.url", `__chainloopFileUrl(${JSON.stringify(fromOut)})`), loader: "js" };
    });
  },
};

const result = await build({
  entryPoints: [path.join(root, "dist/cli/main.js")],
  outfile,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  alias: { "string-width": here("string-width.mjs") },
  inject: [here("headers.mjs")],
  plugins: [importMetaUrl],
  // The bundle's directory is taken before any bundled module runs: yargs' ESM shim declares
  // a top-level `__dirname` of its own, which, bundled into the same scope, is reassigned later.
  banner: {
    js: 'var __chainloopDir = __dirname; function __chainloopFileUrl(p) { return require("node:url").pathToFileURL(require("node:path").join(__chainloopDir, p)).href; }',
  },
  logLevel: "warning",
  write: false,
});

// Each file is replaced in one step (written aside, then renamed), so a `chainloop` started
// during a build never reads half a bundle.
for (const file of result.outputFiles) {
  const tmp = `${file.path}.${process.pid}.tmp`;
  await fs.promises.mkdir(path.dirname(file.path), { recursive: true });
  await fs.promises.writeFile(tmp, file.contents);
  await fs.promises.rename(tmp, file.path);
}
