// Traceability: for one artifact digest, the evidence that produced it and every place it
// has run. Composes the evidence store and the deployment records; owns no data.
import { requireDigest, type Deployment, type DeploymentUseCase } from "./deployments.js";
import { NotFound } from "./errors.js";
import type { Evidence, EvidenceUseCase } from "./evidence.js";

/** Evidence and deployment records returned per call; the rest is reachable through the list RPCs. */
export const DESCRIBE_LIMIT = 100;

export interface ArtifactDescription {
  digest: string;
  /** Newest attestation first. */
  evidence: Evidence[];
  moreEvidence: boolean;
  /** Newest first: `deployed` ones run now, the others ran before. */
  deployments: Deployment[];
  moreDeployments: boolean;
}

export class ArtifactUseCase {
  constructor(
    private readonly evidence: EvidenceUseCase,
    private readonly deployments: DeploymentUseCase,
  ) {}

  async describe(orgId: string, digestInput: string): Promise<ArtifactDescription> {
    const digest = requireDigest("digest", digestInput);
    const [evidence, records] = await Promise.all([
      this.evidence.evidenceFor(orgId, digest, DESCRIBE_LIMIT + 1),
      this.deployments.list(orgId, {
        pageSize: DESCRIBE_LIMIT,
        pageToken: "",
        environment: "",
        logicalEnvironment: "",
        name: "",
        kind: undefined,
        digest,
        status: undefined,
        history: true,
      }),
    ]);
    if (evidence.length === 0 && records.items.length === 0) {
      throw new NotFound(
        `nothing is known about ${digest}: no attestation mentions it and it was never recorded; ` +
          `push evidence for it with: chainloop attestation push --subject ${digest} --workflow W --project P`,
      );
    }
    return {
      digest,
      evidence: evidence.slice(0, DESCRIBE_LIMIT),
      moreEvidence: evidence.length > DESCRIBE_LIMIT,
      deployments: records.items,
      moreDeployments: records.nextPageToken !== "",
    };
  }
}
