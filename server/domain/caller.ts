// Who is calling, and what they may do. The auth interceptor derives the caller from the
// API token; the organization always comes from the token, never from the request.
import { PermissionDenied } from "./errors.js";

import { TOKEN_SCOPES as SCOPES, type TokenScope as Scope } from "../shared/names.js";

/** Each scope includes the ones before it. */
export { SCOPES, type Scope };

/** The API token that made a call, as stored with what it did. */
export interface Actor {
  tokenId: string;
  tokenName: string;
}

export interface Caller extends Actor {
  organizationId: string;
  scope: Scope;
}

export function hasScope(granted: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(granted) >= SCOPES.indexOf(needed);
}

export function requireScope(caller: Caller, needed: Scope, what: string): void {
  if (!hasScope(caller.scope, needed)) {
    throw new PermissionDenied(
      `${what} needs a token with the ${needed} scope; token "${caller.tokenName}" has ${caller.scope}`,
    );
  }
}
