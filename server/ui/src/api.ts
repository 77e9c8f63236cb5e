// The page's one connection to the server: Connect over fetch (same origin), the generated
// types from gen/proto, and the API token the user pasted (kept in sessionStorage: this tab
// only, gone when it closes).
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { ArtifactService } from "../../../gen/proto/chainloop/v1/artifact_pb.js";
import { DeliveryMetricsService } from "../../../gen/proto/chainloop/v1/delivery_metrics_pb.js";
import { DeploymentService } from "../../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../../gen/proto/chainloop/v1/environment_pb.js";

const TOKEN_KEY = "chainloop.apiToken";

export function savedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    /* storage disabled: the token lives in memory only */
  }
}

export interface Api {
  deployments: Client<typeof DeploymentService>;
  environments: Client<typeof EnvironmentService>;
  artifacts: Client<typeof ArtifactService>;
  metrics: Client<typeof DeliveryMetricsService>;
}

export function createApi(token: string): Api {
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createConnectTransport({ baseUrl: window.location.origin, useBinaryFormat: true, interceptors: [bearer] });
  return {
    deployments: createClient(DeploymentService, transport),
    environments: createClient(EnvironmentService, transport),
    artifacts: createClient(ArtifactService, transport),
    metrics: createClient(DeliveryMetricsService, transport),
  };
}
