// PromotionPolicyService: proto ⇄ domain mapping only.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  DeployedInRuleSchema,
  PolicyViolationSchema,
  PromotionPolicySchema,
  PromotionPolicyService,
  type PolicyViolation as PolicyViolationPb,
  type PromotionPolicy as PromotionPolicyPb,
} from "../../gen/proto/chainloop/v1/policy_pb.js";
import type { PolicyUseCase, PolicyViolation, PromotionPolicy } from "../domain/policies.js";
import { callerOf } from "../interceptors/caller.js";
import { actorToPb } from "./api-token.js";
import { durationFromMs, durationToMs } from "../shared/proto.js";

export function policyToPb(p: PromotionPolicy): PromotionPolicyPb {
  return create(PromotionPolicySchema, {
    logicalEnvironment: p.logicalEnvironment,
    requireDeployedIn: p.requireDeployedIn.map((r) =>
      create(DeployedInRuleSchema, {
        logicalEnvironment: r.logicalEnvironment,
        environment: r.environment ?? "",
        // Unset means "any time", as the request may say it.
        soak: r.soakMs > 0 ? durationFromMs(r.soakMs) : undefined,
      }),
    ),
    requireWorkflows: p.requireWorkflows,
    requirePredicateTypes: p.requirePredicateTypes,
    requireVerified: p.requireVerified,
    updateTime: timestampFromDate(p.updatedAt),
    updatedBy: actorToPb(p.updatedBy),
    version: p.version,
  });
}

/** A violation as the API reports it (RecordDeployment's response, the refusal's detail text). */
export function violationToPb(v: PolicyViolation): PolicyViolationPb {
  return create(PolicyViolationSchema, { rule: v.rule, subject: v.subject, description: v.description });
}

export function policyHandlers(policies: PolicyUseCase): ServiceImpl<typeof PromotionPolicyService> {
  return {
    async setPromotionPolicy(req, ctx) {
      const caller = callerOf(ctx);
      const p = req.policy;
      const policy = await policies.set(
        caller.organizationId,
        {
          logicalEnvironment: p?.logicalEnvironment ?? "",
          requireDeployedIn: (p?.requireDeployedIn ?? []).map((r) => ({
            logicalEnvironment: r.logicalEnvironment,
            environment: r.environment,
            soakMs: durationToMs(r.soak),
          })),
          requireWorkflows: p?.requireWorkflows ?? [],
          requirePredicateTypes: p?.requirePredicateTypes ?? [],
          requireVerified: p?.requireVerified ?? false,
        },
        caller,
      );
      return { policy: policyToPb(policy) };
    },
    async getPromotionPolicy(req, ctx) {
      return { policy: policyToPb(await policies.get(callerOf(ctx).organizationId, req.logicalEnvironment)) };
    },
    async listPromotionPolicies(_req, ctx) {
      return { policies: (await policies.list(callerOf(ctx).organizationId)).map(policyToPb) };
    },
    async deletePromotionPolicy(req, ctx) {
      const caller = callerOf(ctx);
      await policies.delete(caller.organizationId, req.logicalEnvironment, caller);
      return {};
    },
  };
}
