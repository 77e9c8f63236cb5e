// DeploymentService: proto ⇄ domain mapping only.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  ArtifactKind as KindPb,
  DeploymentSchema,
  DeploymentService,
  WatchDeploymentsResponseSchema,
  RecordOutcome as OutcomePb,
  SnapshotRefusal as RefusalPb,
  type Deployment as DeploymentPb,
  type WatchDeploymentsResponse,
} from "../../gen/proto/chainloop/v1/deployment_pb.js";
import type { LiveDeployments } from "../domain/live.js";
import { isStale, staleAt } from "../domain/staleness.js";
import type { Deployment, DeploymentUseCase } from "../domain/deployments.js";
import { InvalidArgument } from "../domain/errors.js";
import type { DiffUseCase } from "../domain/diff.js";
import type { SnapshotRefusal, SnapshotUseCase } from "../domain/snapshots.js";
import { diffDeployments } from "./deployment-diff.js";
import { callerOf } from "../interceptors/caller.js";
import { enumFromPb } from "./enums.js";
import {
  ARTIFACT_KIND_PB,
  DEPLOYMENT_STATUS_PB,
  RECORD_OUTCOME_PB,
  timestampOrUndefined,
  WATCH_EVENT_TYPE_PB,
} from "../shared/proto.js";
import { actorToPb } from "./api-token.js";
import { evidenceToPb } from "./attestation.js";
import { violationToPb } from "./policy.js";

const REFUSAL_TO_PB: Record<SnapshotRefusal, RefusalPb> = {
  "invalid-entry": RefusalPb.INVALID_ENTRY,
  "no-evidence": RefusalPb.NO_EVIDENCE,
  policy: RefusalPb.POLICY,
};

const kindFromPb = (kind: KindPb, field = "kind") =>
  enumFromPb(ARTIFACT_KIND_PB, kind, `${field} ${kind} is not a known artifact kind (${ARTIFACT_KIND_PB.pbNames})`);

const statusFromPb = (status: number) =>
  enumFromPb(DEPLOYMENT_STATUS_PB, status, `status ${status} is not a known deployment status`);

export function deploymentToPb(d: Deployment): DeploymentPb {
  return create(DeploymentSchema, {
    id: d.id,
    environment: d.environment,
    logicalEnvironment: d.logicalEnvironment,
    deploymentName: d.name,
    kind: ARTIFACT_KIND_PB.toPb[d.kind],
    digest: d.digest,
    artifactName: d.artifactName,
    artifactVersion: d.artifactVersion,
    artifactReference: d.artifactReference,
    status: DEPLOYMENT_STATUS_PB.toPb[d.status],
    createTime: timestampFromDate(d.createdAt),
    lastSeenTime: timestampFromDate(d.lastSeenAt),
    supersededTime: timestampOrUndefined(d.supersededAt),
    supersededById: d.supersededById ?? "",
    decommissionTime: timestampOrUndefined(d.decommissionedAt),
    recordedBy: actorToPb(d.recordedBy),
    decommissionedBy: actorToPb(d.decommissionedBy),
    stale: isStale(d),
    staleTime: timestampOrUndefined(staleAt(d)),
    decommissionedBySnapshot: d.decommissionedBySnapshot,
    rollbackOfId: d.rollbackOfId ?? "",
    overrideReason: d.overrideReason ?? "",
    project: d.provenance?.project ?? "",
    projectVersion: d.provenance?.projectVersion ?? "",
  });
}

export function deploymentHandlers(
  deployments: DeploymentUseCase,
  snapshots: SnapshotUseCase,
  live: LiveDeployments,
  diff: DiffUseCase,
): ServiceImpl<typeof DeploymentService> {
  return {
    diffDeployments: (req, ctx) => diffDeployments(diff, req, ctx),
    async *watchDeployments(req, ctx): AsyncGenerator<WatchDeploymentsResponse> {
      const events = live.watch(
        callerOf(ctx).organizationId,
        {
          environment: req.environment,
          logicalEnvironment: req.logicalEnvironment,
          name: req.deploymentName,
          kind: kindFromPb(req.kind),
          digest: req.digest,
          project: req.project,
          projectVersion: req.projectVersion,
        },
        ctx.signal,
      );
      for await (const ev of events) {
        yield create(WatchDeploymentsResponseSchema, {
          type: WATCH_EVENT_TYPE_PB.toPb[ev.type],
          deployment: ev.deployment ? deploymentToPb(ev.deployment) : undefined,
          eventTime: timestampFromDate(ev.at),
        });
      }
    },
    async recordDeployment(req, ctx) {
      const status = statusFromPb(req.status);
      if (status === "superseded") {
        throw new InvalidArgument("status SUPERSEDED cannot be recorded: records are superseded by recording a newer digest");
      }
      const caller = callerOf(ctx);
      const res = await deployments.record(caller.organizationId, {
        environment: req.environment,
        logicalEnvironment: req.logicalEnvironment,
        name: req.deploymentName,
        kind: kindFromPb(req.kind),
        digest: req.digest,
        artifactName: req.artifactName,
        artifactVersion: req.artifactVersion,
        artifactReference: req.artifactReference,
        status,
        overrideReason: req.overrideReason,
        validateOnly: req.validateOnly,
      }, caller);
      return {
        deployment: deploymentToPb(res.deployment),
        outcome: RECORD_OUTCOME_PB.toPb[res.outcome],
        supersededDeploymentId: res.supersededId ?? "",
        policyViolations: (res.policyViolations ?? []).map(violationToPb),
        policyOverridden: res.policyOverridden ?? false,
      };
    },
    async reportSnapshot(req, ctx) {
      const caller = callerOf(ctx);
      const res = await snapshots.report(
        caller.organizationId,
        {
          environment: req.environment,
          logicalEnvironment: req.logicalEnvironment,
          entries: req.entries.map((e, index) => {
            const entry = {
              name: e.deploymentName,
              digest: e.digest,
              artifactName: e.artifactName,
              artifactVersion: e.artifactVersion,
              artifactReference: e.artifactReference,
            };
            try {
              return { ...entry, kind: kindFromPb(e.kind) };
            } catch (err) {
              // One entry's unknown kind refuses that entry, not the snapshot.
              if (!(err instanceof InvalidArgument)) throw err;
              return { ...entry, kind: undefined, invalid: `entries[${index}]: ${err.message}` };
            }
          }),
          decommissionMissing: req.decommissionMissing ?? true,
          allOrNothing: req.allOrNothing,
          validateOnly: req.validateOnly,
        },
        caller,
      );
      return {
        results: res.results.map((r) => ({
          index: r.index,
          deploymentName: r.name,
          kind: r.kind ? ARTIFACT_KIND_PB.toPb[r.kind] : KindPb.UNSPECIFIED,
          digest: r.digest,
          outcome: r.outcome ? RECORD_OUTCOME_PB.toPb[r.outcome] : OutcomePb.UNSPECIFIED,
          deploymentId: r.deploymentId ?? "",
          supersededDeploymentId: r.supersededId ?? "",
          refusal: r.refusal ? REFUSAL_TO_PB[r.refusal] : RefusalPb.UNSPECIFIED,
          message: r.message ?? "",
        })),
        decommissioned: res.decommissioned.map(deploymentToPb),
        applied: res.applied,
        decommissionSkippedReason: res.decommissionSkippedReason ?? "",
      };
    },
    async getDeployment(req, ctx) {
      const { deployment, evidence } = await deployments.describe(callerOf(ctx).organizationId, req.id);
      return { deployment: deploymentToPb(deployment), evidence: evidence.map(evidenceToPb) };
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
        project: req.project,
        projectVersion: req.projectVersion,
        ...(req.asOf ? { asOf: timestampDate(req.asOf) } : {}),
        rollbacksOnly: req.rollbacksOnly,
      });
      return { deployments: page.items.map(deploymentToPb), nextPageToken: page.nextPageToken };
    },
  };
}
