// DeploymentService.DiffDeployments: proto ⇄ domain mapping only (the rules are in domain/diff.ts).
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";
import {
  DiffDeploymentsResponseSchema,
  DiffEntrySchema,
  DiffState as StatePb,
  type DeploymentPlace,
  type DiffDeploymentsRequest,
  type DiffDeploymentsResponse,
} from "../../gen/proto/chainloop/v1/deployment_pb.js";
import type { DiffState, DiffUseCase, PlaceInput } from "../domain/diff.js";
import { callerOf } from "../interceptors/caller.js";
import { deploymentToPb } from "./deployment.js";

const STATE_TO_PB: Record<DiffState, StatePb> = {
  same: StatePb.SAME,
  different: StatePb.DIFFERENT,
  "only-in-from": StatePb.ONLY_IN_FROM,
  "only-in-to": StatePb.ONLY_IN_TO,
};

const placeFromPb = (p: DeploymentPlace | undefined): PlaceInput => ({
  environment: p?.environment ?? "",
  logicalEnvironment: p?.logicalEnvironment ?? "",
  ...(p?.asOf ? { asOf: timestampDate(p.asOf) } : {}),
});

export async function diffDeployments(diff: DiffUseCase, req: DiffDeploymentsRequest, ctx: HandlerContext): Promise<DiffDeploymentsResponse> {
  const res = await diff.diff(callerOf(ctx).organizationId, {
    from: placeFromPb(req.fromPlace),
    to: placeFromPb(req.toPlace),
    differencesOnly: req.differencesOnly,
  });
  return create(DiffDeploymentsResponseSchema, {
    entries: res.entries.map((e) => {
      const from = e.from && deploymentToPb(e.from);
      const to = e.to && deploymentToPb(e.to);
      return create(DiffEntrySchema, {
        environment: e.environment,
        logicalEnvironment: e.logicalEnvironment,
        deploymentName: e.name,
        // The records' own kind, as the record mapping gives it (both records have the entry's kind).
        kind: (from ?? to)!.kind,
        state: STATE_TO_PB[e.state],
        fromDeployment: from,
        toDeployment: to,
      });
    }),
    sameCount: res.counts.same,
    differentCount: res.counts.different,
    onlyInFromCount: res.counts["only-in-from"],
    onlyInToCount: res.counts["only-in-to"],
    identical: res.identical,
  });
}
