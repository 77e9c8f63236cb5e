// Every service the server exposes, and the interceptors each one runs behind.
import type { ConnectRouter, Interceptor, ServiceImpl } from "@connectrpc/connect";
import { DeploymentService } from "../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../gen/proto/chainloop/v1/environment_pb.js";
import { Health } from "../gen/proto/grpc/health/v1/health_pb.js";

export interface Handlers {
  environments: ServiceImpl<typeof EnvironmentService>;
  deployments: ServiceImpl<typeof DeploymentService>;
  health: ServiceImpl<typeof Health>;
}

/** The services a caller must be identified for (everything but health). */
export const PROTECTED_SERVICES = [EnvironmentService, DeploymentService];

/**
 * @param common interceptors every call runs behind, outermost first (logging, error mapping).
 * @param caller identifies the caller; every service but health runs behind it.
 */
export function routes(handlers: Handlers, common: Interceptor[], caller: Interceptor) {
  return (router: ConnectRouter) => {
    // Per-service options replace the adapter's, so each service gets its full chain here.
    const protectedOpts = { interceptors: [...common, caller] };
    router.service(EnvironmentService, handlers.environments, protectedOpts);
    router.service(DeploymentService, handlers.deployments, protectedOpts);
    router.service(Health, handlers.health, { interceptors: common });
  };
}
