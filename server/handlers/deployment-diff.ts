// DeploymentService.DiffDeployments: proto ⇄ domain mapping only (to be built).
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { DiffDeploymentsRequest, DiffDeploymentsResponse } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import type { DiffUseCase } from "../domain/diff.js";

export function diffDeployments(_diff: DiffUseCase, _req: DiffDeploymentsRequest, _ctx: HandlerContext): Promise<DiffDeploymentsResponse> {
  return Promise.reject(new ConnectError("DiffDeployments is not built yet", Code.Unimplemented));
}
