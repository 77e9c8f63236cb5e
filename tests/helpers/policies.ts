// Promotion-policy fixtures shared by the handler and integration tests of PromotionPolicyService.
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";

export const SLSA = "https://slsa.dev/provenance/v1";
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** A soak of `ms` milliseconds, as the API takes it. */
export const soak = (ms: number) => create(DurationSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });

/** A policy of production using every kind of rule (environments by logical name and by place, the longest soak). */
export const FULL_POLICY = {
  logicalEnvironment: "production",
  requireDeployedIn: [
    { logicalEnvironment: "staging", soak: soak(HOUR) },
    { logicalEnvironment: "qa", environment: "k8s-east" },
    { logicalEnvironment: "staging", environment: "k8s-west", soak: soak(366 * DAY) },
  ],
  requireWorkflows: ["build", "test"],
  requirePredicateTypes: [SLSA, "https://spdx.dev/Document"],
  requireVerified: true,
};
