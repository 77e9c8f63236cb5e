// The fast layer beneath the process-level tests (connectrpc/examples-es connect.test.ts): the
// real routes (server/routes.ts) with their real interceptors (error mapping, API-token auth and
// scope tables) and real handlers, over use cases on in-memory repositories
// (tests/helpers/memory/), called through createRouterTransport: no process, no port, no
// database. Built like server/app.ts builds them; services with no in-memory repositories yet
// answer UNIMPLEMENTED once past authentication.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, createRouterTransport, type Client, type Interceptor } from "@connectrpc/connect";
import type { Caller, Scope } from "../../server/domain/caller.js";
import { EnvironmentUseCase } from "../../server/domain/environments.js";
import { PolicyUseCase } from "../../server/domain/policies.js";
import { hashSecret, mintSecret, TokenUseCase } from "../../server/domain/tokens.js";
import { apiTokenHandlers } from "../../server/handlers/api-token.js";
import { environmentHandlers } from "../../server/handlers/environment.js";
import { policyHandlers } from "../../server/handlers/policy.js";
import { webhookHandlers } from "../../server/handlers/webhook.js";
import { errorInterceptor } from "../../server/interceptors/errors.js";
import { createLogger } from "../../server/log.js";
import { routes, type Handlers } from "../../server/routes.js";
import { MemoryAudit, memoryAudited } from "./memory/audit.js";
import { MemoryEnvironmentRepository } from "./memory/environments.js";
import { memoryPolicyFacts, MemoryPolicyRepository } from "./memory/policies.js";
import { MemoryTokenRepository } from "./memory/tokens.js";
import { memoryWebhookUseCase, MemoryWebhookRepository } from "./memory/webhooks.js";

/** How a call authenticates: a bearer token, none (null), or an Authorization header sent verbatim. */
export type Credential = string | null | { header: string };

export const ORG = "00000000-0000-4000-8000-000000000001";
export const OTHER_ORG = "00000000-0000-4000-8000-000000000002";

export function handlerRouter() {
  const audit = new MemoryAudit();
  const environments = new MemoryEnvironmentRepository();
  const repos = {
    environments,
    tokens: new MemoryTokenRepository(),
    policies: new MemoryPolicyRepository(environments),
    webhooks: new MemoryWebhookRepository(environments),
  };
  const useCases = {
    environments: new EnvironmentUseCase(repos.environments, memoryAudited(repos.environments, audit)),
    policies: new PolicyUseCase(repos.policies, memoryAudited(repos.policies, audit), memoryPolicyFacts(repos.policies)),
    tokens: new TokenUseCase(repos.tokens, memoryAudited(repos.tokens, audit)),
    webhooks: memoryWebhookUseCase(repos.webhooks, audit, environments),
  };
  const unserved = {} as never;
  const handlers: Handlers = {
    environments: environmentHandlers(useCases.environments),
    apiTokens: apiTokenHandlers(useCases.tokens),
    deployments: unserved,
    deliveryMetrics: unserved,
    attestations: unserved,
    keys: unserved,
    artifacts: unserved,
    policies: policyHandlers(useCases.policies),
    webhooks: webhookHandlers(useCases.webhooks),
    health: unserved,
    serverInfo: unserved,
  };
  const logger = createLogger("silent");
  const routesFn = routes(handlers, [errorInterceptor(logger)], useCases.tokens);

  /** A token of `scope` in `orgId`, written straight to the repository (an expiry in the past is allowed here); its secret. */
  async function mint(scope: Scope, opts: { name?: string; orgId?: string; expiresAt?: Date; revoked?: boolean } = {}): Promise<string> {
    const secret = mintSecret();
    const orgId = opts.orgId ?? ORG;
    const token = await repos.tokens.create({
      organizationId: orgId,
      name: opts.name ?? `${scope}-${secret.slice(-6).toLowerCase()}`,
      description: "",
      scope,
      expiresAt: opts.expiresAt,
      tokenHash: hashSecret(secret),
      createdBy: undefined,
    });
    if (opts.revoked) await repos.tokens.revoke(orgId, token.id);
    return secret;
  }

  /** A client of `service` calling through the routes, authenticated with `credential`. */
  function client<S extends DescService>(service: S, credential: Credential): Client<S> {
    const header = credential === null ? undefined : typeof credential === "string" ? `Bearer ${credential}` : credential.header;
    const auth: Interceptor = (next) => (req) => {
      if (header !== undefined) req.header.set("authorization", header);
      return next(req);
    };
    return createClient(service, createRouterTransport(routesFn, { transport: { interceptors: [auth] } }));
  }

  const caller = (scope: Scope, orgId = ORG): Caller => ({ organizationId: orgId, tokenId: "", tokenName: "test", scope });

  return { audit, repos, useCases, mint, client, caller };
}
