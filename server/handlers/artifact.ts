// ArtifactService: proto ⇄ domain mapping only.
import type { ServiceImpl } from "@connectrpc/connect";
import { ArtifactService } from "../../gen/proto/chainloop/v1/artifact_pb.js";
import type { ArtifactUseCase } from "../domain/artifacts.js";
import { callerOf } from "../interceptors/caller.js";
import { evidenceToPb } from "./attestation.js";
import { deploymentToPb } from "./deployment.js";

export function artifactHandlers(artifacts: ArtifactUseCase): ServiceImpl<typeof ArtifactService> {
  return {
    async describeArtifact(req, ctx) {
      const d = await artifacts.describe(callerOf(ctx).organizationId, req.digest);
      return {
        digest: d.digest,
        evidence: d.evidence.map(evidenceToPb),
        moreEvidence: d.moreEvidence,
        deployments: d.deployments.map(deploymentToPb),
        moreDeployments: d.moreDeployments,
      };
    },
  };
}
