// Every service the server exposes, the interceptors each runs behind, and the API-token
// scope each method needs (read < write < admin). A method missing from its table stops the
// server at start-up, so nothing is ever served unguarded by accident.
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, Interceptor, ServiceImpl } from "@connectrpc/connect";
import { ApiTokenService } from "../gen/proto/chainloop/v1/api_token_pb.js";
import { ArtifactService } from "../gen/proto/chainloop/v1/artifact_pb.js";
import { AttestationService } from "../gen/proto/chainloop/v1/attestation_pb.js";
import { DeliveryMetricsService } from "../gen/proto/chainloop/v1/delivery_metrics_pb.js";
import { DeploymentService } from "../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../gen/proto/chainloop/v1/environment_pb.js";
import { KeyService } from "../gen/proto/chainloop/v1/key_pb.js";
import { PromotionPolicyService } from "../gen/proto/chainloop/v1/policy_pb.js";
import { ServerInfoService } from "../gen/proto/chainloop/v1/server_info_pb.js";
import { WebhookService } from "../gen/proto/chainloop/v1/webhook_pb.js";
import { Health } from "../gen/proto/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../gen/proto/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../gen/proto/grpc/reflection/v1alpha/reflection_pb.js";
import type { Scope } from "./domain/caller.js";
import type { TokenUseCase } from "./domain/tokens.js";
import { DescriptorIndex, reflectionV1alphaHandlers, reflectionV1Handlers } from "./handlers/reflection.js";
import { authInterceptor, type ScopeTable } from "./interceptors/caller.js";

export interface Handlers {
  environments: ServiceImpl<typeof EnvironmentService>;
  deployments: ServiceImpl<typeof DeploymentService>;
  deliveryMetrics: ServiceImpl<typeof DeliveryMetricsService>;
  apiTokens: ServiceImpl<typeof ApiTokenService>;
  attestations: ServiceImpl<typeof AttestationService>;
  keys: ServiceImpl<typeof KeyService>;
  artifacts: ServiceImpl<typeof ArtifactService>;
  policies: ServiceImpl<typeof PromotionPolicyService>;
  webhooks: ServiceImpl<typeof WebhookService>;
  health: ServiceImpl<typeof Health>;
  serverInfo: ServiceImpl<typeof ServerInfoService>;
}

const ENVIRONMENT_SCOPES: ScopeTable<typeof EnvironmentService> = {
  createEnvironment: "admin",
  getEnvironment: "read",
  listEnvironments: "read",
  updateEnvironment: "admin",
  deleteEnvironment: "admin",
  listLogicalEnvironments: "read",
  createLogicalEnvironment: "admin",
  deleteLogicalEnvironment: "admin",
};

const DEPLOYMENT_SCOPES: ScopeTable<typeof DeploymentService> = {
  recordDeployment: "write",
  reportSnapshot: "write",
  getDeployment: "read",
  listDeployments: "read",
  watchDeployments: "read",
  diffDeployments: "read",
};

const DELIVERY_METRICS_SCOPES: ScopeTable<typeof DeliveryMetricsService> = {
  getDeliveryMetrics: "read",
};

const API_TOKEN_SCOPES: ScopeTable<typeof ApiTokenService> = {
  createApiToken: "admin",
  listApiTokens: "admin",
  revokeApiToken: "admin",
};

const ATTESTATION_SCOPES: ScopeTable<typeof AttestationService> = {
  pushAttestation: "write",
  getAttestation: "read",
  listAttestations: "read",
};

const KEY_SCOPES: ScopeTable<typeof KeyService> = {
  createKey: "admin",
  listKeys: "read",
  deleteKey: "admin",
};

const ARTIFACT_SCOPES: ScopeTable<typeof ArtifactService> = {
  describeArtifact: "read",
};

const POLICY_SCOPES: ScopeTable<typeof PromotionPolicyService> = {
  setPromotionPolicy: "admin",
  getPromotionPolicy: "read",
  listPromotionPolicies: "read",
  deletePromotionPolicy: "admin",
};

// Every method needs admin: a webhook URL may itself be a credential, and the delivery log says
// what happens where.
const WEBHOOK_SCOPES: ScopeTable<typeof WebhookService> = {
  createWebhook: "admin",
  getWebhook: "admin",
  listWebhooks: "admin",
  deleteWebhook: "admin",
  listWebhookDeliveries: "admin",
  testWebhook: "admin",
};

/** The services that need an API token (all but OPEN_SERVICES), with their scope tables. */
export const PROTECTED: Array<{ service: DescService; scopes: Record<string, Scope> }> = [
  { service: EnvironmentService, scopes: ENVIRONMENT_SCOPES },
  { service: DeploymentService, scopes: DEPLOYMENT_SCOPES },
  { service: DeliveryMetricsService, scopes: DELIVERY_METRICS_SCOPES },
  { service: ApiTokenService, scopes: API_TOKEN_SCOPES },
  { service: AttestationService, scopes: ATTESTATION_SCOPES },
  { service: KeyService, scopes: KEY_SCOPES },
  { service: ArtifactService, scopes: ARTIFACT_SCOPES },
  { service: PromotionPolicyService, scopes: POLICY_SCOPES },
  { service: WebhookService, scopes: WEBHOOK_SCOPES },
];
export const PROTECTED_SERVICES: DescService[] = PROTECTED.map((p) => p.service);

/**
 * Served without a token: health (for load balancers and probes), server reflection (it
 * reveals only the public API of proto/, so that gRPC tooling needs no .proto files), and
 * server info (versions only, so a version check works before a token is set up).
 */
export const OPEN_SERVICES: DescService[] = [Health, ServerInfoService, ReflectionV1, ReflectionV1alpha];

/**
 * @param common interceptors every call runs behind, outermost first (logging, error mapping).
 * @param tokens authenticates the bearer token of every protected call.
 */
export function routes(handlers: Handlers, common: Interceptor[], tokens: TokenUseCase) {
  return (router: ConnectRouter) => {
    // Per-service options replace the adapter's, so each service gets its full chain here.
    const secured = <S extends DescService>(service: S, impl: ServiceImpl<S>, scopes: ScopeTable<S>) =>
      router.service(service, impl, { interceptors: [...common, authInterceptor(tokens, service, scopes)] });
    secured(EnvironmentService, handlers.environments, ENVIRONMENT_SCOPES);
    secured(DeploymentService, handlers.deployments, DEPLOYMENT_SCOPES);
    secured(DeliveryMetricsService, handlers.deliveryMetrics, DELIVERY_METRICS_SCOPES);
    secured(ApiTokenService, handlers.apiTokens, API_TOKEN_SCOPES);
    secured(AttestationService, handlers.attestations, ATTESTATION_SCOPES);
    secured(KeyService, handlers.keys, KEY_SCOPES);
    secured(ArtifactService, handlers.artifacts, ARTIFACT_SCOPES);
    secured(PromotionPolicyService, handlers.policies, POLICY_SCOPES);
    secured(WebhookService, handlers.webhooks, WEBHOOK_SCOPES);
    router.service(Health, handlers.health, { interceptors: common });
    router.service(ServerInfoService, handlers.serverInfo, { interceptors: common });
    const index = new DescriptorIndex([...PROTECTED_SERVICES, ...OPEN_SERVICES]);
    router.service(ReflectionV1, reflectionV1Handlers(index), { interceptors: common });
    router.service(ReflectionV1alpha, reflectionV1alphaHandlers(index), { interceptors: common });
  };
}
