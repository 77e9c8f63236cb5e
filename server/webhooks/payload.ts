// Delivery bodies: a chainloop.v1.WebhookEvent as protobuf JSON (camelCase names, RFC 3339
// times, enum names), rendered once per delivery and stored, so every attempt sends the same
// bytes under the same signature input. Records are mapped as DeploymentService returns them
// (deploymentToPb), as they read when the body is rendered.
import { create, toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  PolicyRefusalSchema,
  WebhookEventDataSchema,
  WebhookEventSchema,
} from "../../gen/proto/chainloop/v1/webhook_pb.js";
import type { Deployment } from "../domain/deployments.js";
import { EVENT_TYPE_NAMES, TEST_EVENT_TYPE, type PolicyRefusalEvent, type WebhookPayloads } from "../domain/webhooks.js";
import { ARTIFACT_KIND_PB } from "../shared/proto.js";
import { actorToPb } from "../handlers/api-token.js";
import { deploymentToPb } from "../handlers/deployment.js";
import { violationToPb } from "../handlers/policy.js";

function render(type: string, at: Date, data: MessageInitShape<typeof WebhookEventDataSchema>): string {
  return toJsonString(
    WebhookEventSchema,
    create(WebhookEventSchema, {
      type,
      timestamp: timestampFromDate(at),
      data: create(WebhookEventDataSchema, data),
    }),
  );
}

export const protoJsonPayloads: WebhookPayloads = {
  deployment(eventType: string, at: Date, deployment: Deployment | undefined): string {
    return render(eventType, at, deployment ? { deployment: deploymentToPb(deployment) } : {});
  },

  policyRefused(e: PolicyRefusalEvent): string {
    return render(EVENT_TYPE_NAMES["policy-refused"], e.at, {
      policyRefusal: create(PolicyRefusalSchema, {
        environment: e.environment,
        logicalEnvironment: e.logicalEnvironment,
        deploymentName: e.name,
        kind: ARTIFACT_KIND_PB.toPb[e.kind],
        digest: e.artifact.digest,
        artifactName: e.artifact.artifactName,
        artifactVersion: e.artifact.artifactVersion,
        artifactReference: e.artifact.artifactReference,
        violations: e.violations.map(violationToPb),
        recordedBy: actorToPb(e.actor),
      }),
    });
  },

  test(webhookId: string, at: Date): string {
    return render(TEST_EVENT_TYPE, at, { webhookId });
  },
};
