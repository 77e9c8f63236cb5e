// Who is calling: the organization every use case is scoped to. Until API tokens exist every
// caller acts in the default organization; the token interceptor will replace this one and
// set the same context value.
import { createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";

export interface Caller {
  organizationId: string;
}

export const callerKey = createContextKey<Caller | undefined>(undefined, { description: "authenticated caller" });

export function defaultOrganizationInterceptor(organizationId: string): Interceptor {
  return (next) => async (req) => {
    req.contextValues.set(callerKey, { organizationId });
    return next(req);
  };
}

export function callerOf(ctx: HandlerContext): Caller {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw new Error("no caller in context: is the caller interceptor installed?");
  return caller;
}
