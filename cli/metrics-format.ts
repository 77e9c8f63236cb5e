// `chainloop metrics`: what it prints in table mode. A line saying what was measured, then one
// row per bucket and a total row: deployments (and per day), lead time, change failure rate,
// rollbacks and time to restore, durations as people read them (`7h 30m`, `5d 4h`).
//
// Loaded only from inside actions (await import()): it imports generated code at runtime.
import { durationMs, timestampDate, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { DeliveryMetrics, GetDeliveryMetricsResponse } from "../gen/proto/chainloop/v1/delivery_metrics_pb.js";
import { DURATION_UNITS } from "../server/shared/durations.js";
import { METRICS_BUCKET_PB } from "../server/shared/proto.js";
import { table, type Column } from "./output.js";

/** The --bucket names (server/shared/names.ts), as the API's enum values. */
export const BUCKET_TO_PB = METRICS_BUCKET_PB.toPb;

const SPAN_UNITS = (["d", "h", "m", "s"] as const).map((unit) => [unit, DURATION_UNITS[unit]] as const);

/** `5d 4h`, `7h 30m`, `54m`, `12s`, `350ms`: the two largest units, the rest cut off; `-` when unset. */
export function formatSpan(d: Duration | undefined): string {
  if (d === undefined) return "-";
  const ms = durationMs(d);
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of SPAN_UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0 || parts.length > 0) {
      if (n > 0) parts.push(`${n}${unit}`);
      rest -= n * size;
      if (parts.length === 2 || (parts.length === 1 && n === 0)) break;
    }
  }
  return parts.join(" ");
}

/** `2026-11-04` at midnight UTC, else `2026-11-04 12:00` (or with seconds when it has them). */
export function formatInstant(ts: Timestamp | undefined): string {
  if (!ts) return "";
  const iso = timestampDate(ts).toISOString();
  const [date, time] = [iso.slice(0, 10), iso.slice(11, 19)];
  if (time === "00:00:00") return date;
  return `${date} ${time.endsWith(":00") ? time.slice(0, 5) : time}`;
}

const percent = (x: number) => `${(Math.round(x * 1000) / 10).toString()}%`;

interface Row {
  label: string;
  m: DeliveryMetrics;
}

const COLUMNS: Column<Row>[] = [
  { header: "PERIOD", value: (r) => r.label },
  { header: "DEPLOYS", value: (r) => String(r.m.deploymentCount) },
  { header: "PER DAY", value: (r) => r.m.deploymentsPerDay.toFixed(2) },
  { header: "LEAD TIME (MEDIAN / P90)", value: (r) => (r.m.leadTimeCount > 0 ? `${formatSpan(r.m.leadTimeMedian)} / ${formatSpan(r.m.leadTimeP90)}` : "-") },
  { header: "FAILED", value: (r) => `${r.m.failedCount} (${percent(r.m.changeFailureRate)})` },
  { header: "ROLLBACKS", value: (r) => String(r.m.rollbackCount) },
  {
    header: "TIME TO RESTORE (MEDIAN / P90)",
    value: (r) => (r.m.restoredCount > 0 ? `${formatSpan(r.m.timeToRestoreMedian)} / ${formatSpan(r.m.timeToRestoreP90)}` : "-"),
  },
];

/** The table mode's whole output. */
export function metricsText(res: GetDeliveryMetricsResponse, asked: { logicalEnvironment: string; environment?: string; project?: string }): string {
  const total = res.total;
  const where = [
    asked.logicalEnvironment,
    asked.environment ? `environment ${asked.environment}` : "every environment",
    ...(asked.project ? [`project ${asked.project}`] : []),
  ].join(", ");
  const head =
    `${where}: ${formatInstant(total?.startTime)} to ${formatInstant(total?.endTime)} (UTC), ` +
    `${METRICS_BUCKET_PB.nameOf(res.bucket) ?? "week"} buckets, failure window ${formatSpan(res.failureWindow)}\n`;
  const rows: Row[] = res.buckets.map((m) => ({ label: `${formatInstant(m.startTime)} to ${formatInstant(m.endTime)}`, m }));
  if (total) rows.push({ label: "total", m: total });
  return head + table(COLUMNS, rows);
}
