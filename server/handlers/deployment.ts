// DeploymentService: proto ⇄ domain mapping only.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  ArtifactKind as KindPb,
  DeploymentSchema,
  DeploymentService,
  DeploymentStatus as StatusPb,
  RecordOutcome as OutcomePb,
  type Deployment as DeploymentPb,
} from "../../gen/proto/chainloop/v1/deployment_pb.js";
import type {
  ArtifactKind,
  Deployment,
  DeploymentStatus,
  DeploymentUseCase,
  RecordOutcome,
} from "../domain/deployments.js";
import { InvalidArgument } from "../domain/errors.js";
import { callerOf } from "../interceptors/caller.js";

const KIND_TO_PB: Record<ArtifactKind, KindPb> = {
  CONTAINER_IMAGE: KindPb.CONTAINER_IMAGE,
  HELM_CHART: KindPb.HELM_CHART,
};
const STATUS_TO_PB: Record<DeploymentStatus, StatusPb> = {
  deployed: StatusPb.DEPLOYED,
  superseded: StatusPb.SUPERSEDED,
  decommissioned: StatusPb.DECOMMISSIONED,
};
const OUTCOME_TO_PB: Record<RecordOutcome, OutcomePb> = {
  created: OutcomePb.CREATED,
  heartbeat: OutcomePb.HEARTBEAT,
  superseded: OutcomePb.SUPERSEDED,
  decommissioned: OutcomePb.DECOMMISSIONED,
  "already-decommissioned": OutcomePb.ALREADY_DECOMMISSIONED,
};

/** UNSPECIFIED → undefined; an unknown enum number (from a newer client) is InvalidArgument. */
function kindFromPb(kind: KindPb, field = "kind"): ArtifactKind | undefined {
  if (kind === KindPb.UNSPECIFIED) return undefined;
  const found = (Object.keys(KIND_TO_PB) as ArtifactKind[]).find((k) => KIND_TO_PB[k] === kind);
  if (!found) throw new InvalidArgument(`${field} ${kind} is not a known artifact kind (CONTAINER_IMAGE, HELM_CHART)`);
  return found;
}

function statusFromPb(status: StatusPb): DeploymentStatus | undefined {
  if (status === StatusPb.UNSPECIFIED) return undefined;
  const found = (Object.keys(STATUS_TO_PB) as DeploymentStatus[]).find((s) => STATUS_TO_PB[s] === status);
  if (!found) throw new InvalidArgument(`status ${status} is not a known deployment status`);
  return found;
}

export function deploymentToPb(d: Deployment): DeploymentPb {
  return create(DeploymentSchema, {
    id: d.id,
    environment: d.environment,
    logicalEnvironment: d.logicalEnvironment,
    deploymentName: d.name,
    kind: KIND_TO_PB[d.kind],
    digest: d.digest,
    artifactName: d.artifactName,
    artifactVersion: d.artifactVersion,
    artifactReference: d.artifactReference,
    status: STATUS_TO_PB[d.status],
    createTime: timestampFromDate(d.createdAt),
    lastSeenTime: timestampFromDate(d.lastSeenAt),
    supersededTime: d.supersededAt ? timestampFromDate(d.supersededAt) : undefined,
    supersededById: d.supersededById ?? "",
    decommissionTime: d.decommissionedAt ? timestampFromDate(d.decommissionedAt) : undefined,
  });
}

export function deploymentHandlers(deployments: DeploymentUseCase): ServiceImpl<typeof DeploymentService> {
  return {
    async recordDeployment(req, ctx) {
      const status = statusFromPb(req.status);
      if (status === "superseded") {
        throw new InvalidArgument("status SUPERSEDED cannot be recorded: records are superseded by recording a newer digest");
      }
      const res = await deployments.record(callerOf(ctx).organizationId, {
        environment: req.environment,
        logicalEnvironment: req.logicalEnvironment,
        name: req.deploymentName,
        kind: kindFromPb(req.kind),
        digest: req.digest,
        artifactName: req.artifactName,
        artifactVersion: req.artifactVersion,
        artifactReference: req.artifactReference,
        status,
      });
      return {
        deployment: deploymentToPb(res.deployment),
        outcome: OUTCOME_TO_PB[res.outcome],
        supersededDeploymentId: res.supersededId ?? "",
      };
    },
    async getDeployment(req, ctx) {
      return { deployment: deploymentToPb(await deployments.get(callerOf(ctx).organizationId, req.id)) };
    },
    async listDeployments(req, ctx) {
      const page = await deployments.list(callerOf(ctx).organizationId, {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        environment: req.environment,
        logicalEnvironment: req.logicalEnvironment,
        name: req.deploymentName,
        kind: kindFromPb(req.kind),
        digest: req.digest,
        status: statusFromPb(req.status),
        history: req.history,
      });
      return { deployments: page.items.map(deploymentToPb), nextPageToken: page.nextPageToken };
    },
  };
}
