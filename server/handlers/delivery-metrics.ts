// DeliveryMetricsService: proto ⇄ domain mapping only.
import { create } from "@bufbuild/protobuf";
import { DurationSchema, timestampDate, timestampFromDate, type Duration } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  DeliveryMetricsSchema,
  DeliveryMetricsService,
  MetricsBucket as BucketPb,
  type DeliveryMetrics as DeliveryMetricsPb,
} from "../../gen/proto/chainloop/v1/delivery_metrics_pb.js";
import type { DeliveryMetricsUseCase, MetricsBucket, PeriodMetrics } from "../domain/delivery-metrics.js";
import { callerOf } from "../interceptors/caller.js";
import { durationToMs } from "./environment.js";
import { enumFromPb } from "./enums.js";

const BUCKET_TO_PB: Record<MetricsBucket, BucketPb> = {
  day: BucketPb.DAY,
  week: BucketPb.WEEK,
  month: BucketPb.MONTH,
};

/**
 * Milliseconds (fractions down to nanoseconds) as a Duration; undefined stays unset. Not
 * @bufbuild/protobuf/wkt's durationFromMs: it does not round, and the statement's microsecond
 * fractions (123.456 ms) would give a non-integer `nanos` (456000.00000000307) that cannot be
 * serialized.
 */
export function durationFromMs(ms: number | undefined): Duration | undefined {
  if (ms === undefined) return undefined;
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  return create(DurationSchema, { seconds: BigInt(seconds), nanos });
}

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
        bucket: enumFromPb(BUCKET_TO_PB, req.bucket, `bucket ${req.bucket} is not a known metrics bucket (DAY, WEEK, MONTH)`),
        failureWindowMs: durationToMs(req.failureWindow),
      });
      return {
        total: periodToPb(res.total),
        buckets: res.buckets.map(periodToPb),
        bucket: BUCKET_TO_PB[res.bucket],
        failureWindow: durationFromMs(res.failureWindowMs),
      };
    },
  };
}
