// How contexts read in the CLI (`chainloop config …`): one row per context, for the table and
// for -o json. The token itself never appears: only where it comes from.
//
// Loaded only from inside actions (await import()).
import { tokenSource, type ConfigFile } from "./config.js";
import type { Column } from "./output.js";

export interface ContextRow {
  name: string;
  current: boolean;
  server: string;
  /** `env:VAR`, `stored`, or "" without a token. */
  token: string;
}

export function contextRow(config: ConfigFile, name: string): ContextRow {
  const ctx = config.contexts[name];
  const source = tokenSource(ctx);
  return { name, current: config.currentContext === name, server: ctx.server, token: source === "-" ? "" : source };
}

export const contextColumns: Column<ContextRow>[] = [
  { header: "CURRENT", value: (r) => (r.current ? "*" : "") },
  { header: "NAME", value: (r) => r.name },
  { header: "SERVER", value: (r) => r.server },
  { header: "TOKEN", value: (r) => r.token || "-" },
];
