// Authentication and authorization: every protected call carries `Authorization: Bearer
// <token>`; the token gives the caller's organization and scope. Each service declares the
// scope every method needs (server/routes.ts), and a service without a complete table does
// not start.
import type { DescService } from "@bufbuild/protobuf";
import { createContextKey, type HandlerContext, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { requireScope, type Caller, type Scope } from "../domain/caller.js";
import type { TokenUseCase } from "../domain/tokens.js";

export type { Caller };

/** The scope each method of a service needs; keys are the methods' local names. */
export type ScopeTable<S extends DescService> = Record<keyof ServiceImpl<S>, Scope>;

export const callerKey = createContextKey<Caller | undefined>(undefined, { description: "authenticated caller" });

export function authInterceptor<S extends DescService>(tokens: TokenUseCase, service: S, scopes: ScopeTable<S>): Interceptor {
  for (const m of service.methods) {
    if (!(m.localName in scopes)) throw new Error(`${service.typeName}/${m.name} has no scope in its scope table`);
  }
  const table = scopes as Record<string, Scope>;
  return (next) => async (req) => {
    const caller = await tokens.authenticate(req.header.get("authorization"));
    requireScope(caller, table[req.method.localName], `${req.method.name}`);
    req.contextValues.set(callerKey, caller);
    return next(req);
  };
}

export function callerOf(ctx: HandlerContext): Caller {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw new Error("no caller in context: is the auth interceptor installed?");
  return caller;
}
