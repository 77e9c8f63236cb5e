// GetDeliveryMetrics: the four DORA measures of one logical environment over a period, in total
// and per calendar bucket (UTC days, ISO weeks, months). The rules, defaults and validation are
// here; the repository (server/data/delivery-metrics.ts) computes the counts and percentiles in
// one SQL statement. The definitions (the contract: proto/chainloop/v1/delivery_metrics.proto):
//
// * A deployment is a new record in the logical environment (created, superseding or rolling
//   back); it counts in the period and bucket of its create time. Heartbeats and decommissions
//   only update records, so they are not deployments.
// * Deployment frequency: deployments in a period, and per day of it (the period's length in
//   days, fractional for a clipped bucket).
// * Lead time for changes: for each digest whose first deployment in the logical environment
//   (within the environment filter; the project filter is per digest) falls in the period, from
//   the earliest attestation of the organization that mentions the digest (any role) to that
//   first deployment. Median and p90 (percentile_cont: interpolated). Digests no attestation
//   mentions have no lead time.
// * Change failure rate: failed / deployments. A deployment failed when the record that replaced
//   it (superseded_by) is a rollback, or when it was decommissioned at most `failure_window`
//   after its create time (decommissions by snapshots included). As things stand now: a later
//   rollback changes the answer for a past period.
// * Time to restore: for each failed deployment, from its create time to the create time of the
//   next record in its slot: the rollback that replaced it, or after a decommission the record
//   written into the slot next (insertion order, seq: a slot's records are written one at a time
//   under its lock, so that is their real order even where two servers' clocks disagree).
//   Failures with no such record are counted in failed_count only.
// Durations are never negative: a clock that ran behind (another server process) counts as 0.
import type { DeploymentUseCase } from "./deployments.js";
import { InvalidArgument } from "./errors.js";
import { requireName } from "./validation.js";

import type { MetricsBucket } from "../shared/names.js";

export type { MetricsBucket } from "../shared/names.js";

export const DEFAULT_PERIOD_MS = 30 * 86_400_000;
export const DEFAULT_BUCKET: MetricsBucket = "week";
export const DEFAULT_FAILURE_WINDOW_MS = 3_600_000;
/** The most buckets one answer holds (INVALID_ARGUMENT beyond: a longer bucket or a shorter period). */
export const MAX_BUCKETS = 1_000;
/** The longest failure window: a year. */
export const MAX_FAILURE_WINDOW_MS = 366 * 86_400_000;
const DAY_MS = 86_400_000;
/** The range of protobuf Timestamps (years 0001 to 9999). */
const MIN_TIME_MS = Date.parse("0001-01-01T00:00:00Z");
const MAX_TIME_MS = Date.parse("9999-12-31T23:59:59.999Z");

export interface MetricsInput {
  /** Required. */
  logicalEnvironment: string;
  /** Empty: every environment. */
  environment: string;
  /** Empty: any project; else only digests an attestation of this project names as a subject. */
  project: string;
  /** Unset: 30 days before the end. */
  start?: Date;
  /** Unset: now. */
  end?: Date;
  bucket?: MetricsBucket;
  /** Unset: 1 hour. */
  failureWindowMs?: number;
}

/** What the repository computes for one period (the whole one, or a bucket). Durations in milliseconds (fractions: microseconds). */
export interface PeriodCounts {
  start: Date;
  end: Date;
  deploymentCount: number;
  failedCount: number;
  rollbackCount: number;
  leadTimeCount: number;
  leadTimeMedianMs: number | undefined;
  leadTimeP90Ms: number | undefined;
  restoredCount: number;
  timeToRestoreMedianMs: number | undefined;
  timeToRestoreP90Ms: number | undefined;
}

export interface PeriodMetrics extends PeriodCounts {
  deploymentsPerDay: number;
  /** failedCount / deploymentCount; 0 without deployments. */
  changeFailureRate: number;
}

export interface DeliveryMetrics {
  total: PeriodMetrics;
  buckets: PeriodMetrics[];
  bucket: MetricsBucket;
  failureWindowMs: number;
}

/** What the repository is asked: names resolved to ids, defaults applied. */
export interface MetricsQuery {
  organizationId: string;
  logicalEnvironmentId: string;
  environmentId: string | undefined;
  project: string | undefined;
  start: Date;
  end: Date;
  bucket: MetricsBucket;
  failureWindowMs: number;
}

/** Implemented by server/data/delivery-metrics.ts. */
export interface MetricsRepository {
  /** The whole period's counts and every bucket's, in order, empty ones included. */
  periodCounts(q: MetricsQuery): Promise<{ total: PeriodCounts; buckets: PeriodCounts[] }>;
}

export class DeliveryMetricsUseCase {
  constructor(
    private readonly repo: MetricsRepository,
    /** Names to ids, with the NotFound every read taking them gives. */
    private readonly places: Pick<DeploymentUseCase, "resolvePlace">,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(orgId: string, input: MetricsInput): Promise<DeliveryMetrics> {
    const logicalEnvironment = requireName("logical_environment", input.logicalEnvironment);
    const environment = input.environment === "" ? undefined : requireName("environment", input.environment);
    const project = input.project === "" ? undefined : requireName("project", input.project);
    const bucket = input.bucket ?? DEFAULT_BUCKET;
    const failureWindowMs = input.failureWindowMs ?? DEFAULT_FAILURE_WINDOW_MS;
    if (!Number.isFinite(failureWindowMs) || failureWindowMs < 0 || failureWindowMs > MAX_FAILURE_WINDOW_MS) {
      throw new InvalidArgument(`failure_window must be from 0 to 366 days, got ${failureWindowMs} ms`);
    }
    const end = input.end ?? this.now();
    const start = input.start ?? new Date(end.getTime() - DEFAULT_PERIOD_MS);
    requireTime("end_time", end);
    requireTime("start_time", start);
    if (end.getTime() <= start.getTime()) {
      throw new InvalidArgument(
        `end_time ${end.toISOString()} is not after start_time ${start.toISOString()}: the period [start_time, end_time) would be empty` +
          (input.end === undefined ? " (end_time unset means now)" : ""),
      );
    }
    const buckets = bucketCount(start, end, bucket);
    if (buckets > MAX_BUCKETS) {
      throw new InvalidArgument(
        `the period from ${start.toISOString()} to ${end.toISOString()} has ${buckets} ${bucket} buckets; ` +
          `the limit is ${MAX_BUCKETS}: choose a longer bucket or a shorter period`,
      );
    }

    const ids = await this.resolve(orgId, environment, logicalEnvironment);
    const counts = await this.repo.periodCounts({
      organizationId: orgId,
      logicalEnvironmentId: ids.logicalEnvironmentId,
      environmentId: ids.environmentId,
      project,
      start,
      end,
      bucket,
      failureWindowMs,
    });
    return { total: withRates(counts.total), buckets: counts.buckets.map(withRates), bucket, failureWindowMs };
  }

  /** Ids of the names; NotFound, as ListDeployments words it, when one is unknown. */
  private async resolve(orgId: string, environment: string | undefined, logicalEnvironment: string) {
    const ids = await this.places.resolvePlace(orgId, environment, logicalEnvironment);
    return { environmentId: ids.environmentId, logicalEnvironmentId: ids.logicalEnvironmentId! };
  }
}

function withRates(c: PeriodCounts): PeriodMetrics {
  const days = (c.end.getTime() - c.start.getTime()) / DAY_MS;
  return {
    ...c,
    deploymentsPerDay: days > 0 ? c.deploymentCount / days : 0,
    changeFailureRate: c.deploymentCount > 0 ? c.failedCount / c.deploymentCount : 0,
  };
}

function requireTime(field: string, t: Date): void {
  const ms = t.getTime();
  if (!Number.isFinite(ms) || ms < MIN_TIME_MS || ms > MAX_TIME_MS) {
    throw new InvalidArgument(`${field} must be a time from year 1 to 9999`);
  }
}

/** The UTC calendar bucket holding `t`: its start (days; ISO weeks from Monday; months). */
export function bucketStart(t: Date, bucket: MetricsBucket): Date {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), bucket === "month" ? 1 : t.getUTCDate()));
  d.setUTCFullYear(t.getUTCFullYear()); // Date.UTC maps years 0–99 to 1900–1999
  if (bucket === "week") d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d;
}

/** How many buckets [start, end) touches: the statement's generate_series, counted here before it runs. */
export function bucketCount(start: Date, end: Date, bucket: MetricsBucket): number {
  const first = bucketStart(start, bucket);
  if (bucket === "month") {
    const months = (end.getUTCFullYear() - first.getUTCFullYear()) * 12 + (end.getUTCMonth() - first.getUTCMonth());
    return months + (end.getTime() > bucketStart(end, "month").getTime() ? 1 : 0);
  }
  const step = bucket === "day" ? DAY_MS : 7 * DAY_MS;
  return Math.ceil((end.getTime() - first.getTime()) / step);
}
