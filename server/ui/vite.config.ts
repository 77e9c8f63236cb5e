// The live view's build: server/ui → dist/ui (served by server/ui-static.ts from the API's port).
// No React plugin: JSX is compiled by Vite's own transformer (oxc), React's automatic runtime.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: "/",
  logLevel: "warn",
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: path.resolve(here, "../../dist/ui"),
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: true,
    target: "es2022",
    chunkSizeWarningLimit: 1024,
  },
});
