// What both builds share: the options, the typed clients over one transport, and the token.
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { ApiTokenService } from "./gen/chainloop/v1/api_token_pb.js";
import { ArtifactService } from "./gen/chainloop/v1/artifact_pb.js";
import { AttestationService } from "./gen/chainloop/v1/attestation_pb.js";
import { DeliveryMetricsService } from "./gen/chainloop/v1/delivery_metrics_pb.js";
import { DeploymentService } from "./gen/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "./gen/chainloop/v1/environment_pb.js";
import { KeyService } from "./gen/chainloop/v1/key_pb.js";
import { PromotionPolicyService } from "./gen/chainloop/v1/policy_pb.js";
import { ServerInfoService } from "./gen/chainloop/v1/server_info_pb.js";
import { WebhookService } from "./gen/chainloop/v1/webhook_pb.js";
import { Health } from "./gen/grpc/health/v1/health_pb.js";

/** "connect" (JSON over HTTP, the default), "grpc" (Node only) or "grpc-web". */
export type Protocol = "connect" | "grpc" | "grpc-web";

export interface ChainloopClientOptions {
  /** The server, e.g. "http://127.0.0.1:8080". */
  baseUrl: string;
  /** An API token (`clp_…`), sent as `Authorization: Bearer`; omit it for health checks and server info only. */
  token?: string;
  protocol?: Protocol;
  /** Connect only: call the side-effect-free methods (Get*, List*, DescribeArtifact, DiffDeployments) with HTTP GET. */
  useHttpGet?: boolean;
  /** More interceptors, after the one that sends the token. */
  interceptors?: Interceptor[];
}

/** A typed client for every service, over one transport. */
export interface ChainloopClient {
  environments: Client<typeof EnvironmentService>;
  deployments: Client<typeof DeploymentService>;
  deliveryMetrics: Client<typeof DeliveryMetricsService>;
  attestations: Client<typeof AttestationService>;
  keys: Client<typeof KeyService>;
  artifacts: Client<typeof ArtifactService>;
  apiTokens: Client<typeof ApiTokenService>;
  promotionPolicies: Client<typeof PromotionPolicyService>;
  webhooks: Client<typeof WebhookService>;
  health: Client<typeof Health>;
  /** Needs no token: the server's versions. */
  serverInfo: Client<typeof ServerInfoService>;
}

/** Sends `Authorization: Bearer <token>` with every call. */
export function bearerToken(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

export function interceptorsOf(opts: ChainloopClientOptions): Interceptor[] {
  return [...(opts.token ? [bearerToken(opts.token)] : []), ...(opts.interceptors ?? [])];
}

/** The typed clients over `transport` (any Connect transport: bring your own to configure it further). */
export function clientsOver(transport: Transport): ChainloopClient {
  return {
    environments: createClient(EnvironmentService, transport),
    deployments: createClient(DeploymentService, transport),
    deliveryMetrics: createClient(DeliveryMetricsService, transport),
    attestations: createClient(AttestationService, transport),
    keys: createClient(KeyService, transport),
    artifacts: createClient(ArtifactService, transport),
    apiTokens: createClient(ApiTokenService, transport),
    promotionPolicies: createClient(PromotionPolicyService, transport),
    webhooks: createClient(WebhookService, transport),
    health: createClient(Health, transport),
    serverInfo: createClient(ServerInfoService, transport),
  };
}
