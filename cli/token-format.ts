// How API tokens read in the CLI, shared by the token commands. Never shows a secret: the
// ApiToken message has none (only CreateApiTokenResponse carries it, once).
//
// Loaded only from inside actions (await import()): it imports generated code at runtime.
import type { ApiTokenScope, ApiToken } from "../gen/proto/chainloop/v1/api_token_pb.js";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { TOKEN_SCOPE_PB } from "../server/shared/proto.js";
import { relative, type Column } from "./output.js";

// Re-exported so that commands need not import("@bufbuild/protobuf/wkt") themselves: in the CLI
// bundle, a dynamic import of a whole package makes every module it re-exports load on every run.
export { Code, ConnectError, timestampFromMs };

/** The --scope names (server/shared/names.ts), as the API's enum values. */
export const SCOPE_TO_PB = TOKEN_SCOPE_PB.toPb;

export function scopeName(scope: ApiTokenScope): string {
  return TOKEN_SCOPE_PB.nameOf(scope) ?? `unknown(${scope})`;
}

export const TOKEN_COLUMNS: Column<ApiToken>[] = [
  { header: "NAME", value: (t) => t.name },
  { header: "ID", value: (t) => t.id },
  { header: "SCOPE", value: (t) => scopeName(t.scope) },
  { header: "CREATED", value: (t) => t.createTime },
  { header: "EXPIRES", value: (t) => (t.expireTime ? relative(t.expireTime) : "never") },
  { header: "LAST USED", value: (t) => t.lastUsedTime ?? "never" },
  { header: "REVOKED", value: (t) => t.revokeTime ?? "-" },
  { header: "CREATED BY", value: (t) => t.createdBy?.tokenName || "-" },
];

/** "expires 2025-03-02T12:00:00Z (in 30d)" or "never expires". */
export function expiryText(t: ApiToken): string {
  if (!t.expireTime) return "never expires";
  return `expires ${timestampDate(t.expireTime).toISOString().replace(/\.\d+Z$/, "Z")} (${relative(t.expireTime)})`;
}
