// DeliveryMetricsService: proto ⇄ domain mapping only.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  DeliveryMetricsSchema,
  DeliveryMetricsService,
  type DeliveryMetrics as DeliveryMetricsPb,
} from "../../gen/proto/chainloop/v1/delivery_metrics_pb.js";
import type { DeliveryMetricsUseCase, PeriodMetrics } from "../domain/delivery-metrics.js";
import { callerOf } from "../interceptors/caller.js";
import { durationFromMs, durationToMs, METRICS_BUCKET_PB } from "../shared/proto.js";
import { enumFromPb } from "./enums.js";

function periodToPb(p: PeriodMetrics): DeliveryMetricsPb {
  return create(DeliveryMetricsSchema, {
    startTime: timestampFromDate(p.start),
    endTime: timestampFromDate(p.end),
    deploymentCount: p.deploymentCount,
    deploymentsPerDay: p.deploymentsPerDay,
    leadTimeCount: p.leadTimeCount,
    leadTimeMedian: durationFromMs(p.leadTimeMedianMs),
    leadTimeP90: durationFromMs(p.leadTimeP90Ms),
    failedCount: p.failedCount,
    changeFailureRate: p.changeFailureRate,
    rollbackCount: p.rollbackCount,
    restoredCount: p.restoredCount,
    timeToRestoreMedian: durationFromMs(p.timeToRestoreMedianMs),
    timeToRestoreP90: durationFromMs(p.timeToRestoreP90Ms),
  });
}

export function deliveryMetricsHandlers(metrics: DeliveryMetricsUseCase): ServiceImpl<typeof DeliveryMetricsService> {
  return {
    async getDeliveryMetrics(req, ctx) {
      const res = await metrics.get(callerOf(ctx).organizationId, {
        logicalEnvironment: req.logicalEnvironment,
        environment: req.environment,
        project: req.project,
        ...(req.startTime ? { start: timestampDate(req.startTime) } : {}),
        ...(req.endTime ? { end: timestampDate(req.endTime) } : {}),
        bucket: enumFromPb(METRICS_BUCKET_PB, req.bucket, `bucket ${req.bucket} is not a known metrics bucket (${METRICS_BUCKET_PB.pbNames})`),
        failureWindowMs: durationToMs(req.failureWindow),
      });
      return {
        total: periodToPb(res.total),
        buckets: res.buckets.map(periodToPb),
        bucket: METRICS_BUCKET_PB.toPb[res.bucket],
        failureWindow: durationFromMs(res.failureWindowMs),
      };
    },
  };
}
