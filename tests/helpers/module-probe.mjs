// For a server process started with NODE_OPTIONS=--import=<this file> and MODULE_PROBE_FILE set:
// every module specifier the process resolves through ESM (its own imports, import(), and the
// packages they import the same way) is appended to that file, one a line. tracing.test.ts uses
// it to show that no @opentelemetry package is loaded while tracing is off.
import { register } from "node:module";

register(new URL("./module-probe-hooks.mjs", import.meta.url));
