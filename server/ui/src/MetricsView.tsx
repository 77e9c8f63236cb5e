// Delivery metrics (DORA) per logical environment: GetDeliveryMetrics over a period (the last
// 30 days by default), by day, week or month: deployments, lead time for changes, change
// failure rate and time to restore, as totals (text) and small bar charts per bucket.
// The choice lives in the URL (#/metrics?days=30&bucket=week&env=k8s-east).
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useEffect, useState } from "react";
import { MetricsBucket, type DeliveryMetrics, type GetDeliveryMetricsResponse } from "../../../gen/proto/chainloop/v1/delivery_metrics_pb.js";
import type { Api } from "./api.js";
import { BarChart, type Bar } from "./Charts.js";
import { describeError, durationSeconds, formatDuration, ms, percent, plural, shortDate } from "./format.js";
import { usePlaces, type Route, type ViewName } from "./hooks.js";
import type { LiveState } from "./live.js";
import { TopBar } from "./TopBar.js";

const BUCKETS: Record<string, MetricsBucket> = { day: MetricsBucket.DAY, week: MetricsBucket.WEEK, month: MetricsBucket.MONTH };
const BUCKET_NAME: Record<number, string> = { [MetricsBucket.DAY]: "day", [MetricsBucket.WEEK]: "week", [MetricsBucket.MONTH]: "month" };
const PERIODS = [7, 30, 90];

function bucketLabel(bucket: string, b: DeliveryMetrics): string {
  const start = ms(b.startTime);
  if (bucket === "month") return start === undefined ? "" : new Date(start).toLocaleDateString("en-GB", { month: "short", year: "numeric", timeZone: "UTC" });
  if (bucket === "week") return `week of ${shortDate(start)}`;
  return shortDate(start);
}

/** The bucket's start on a chart's axis: `4 Nov`, `Nov 2026`. */
function axisTick(bucket: string, b: DeliveryMetrics): string {
  const start = ms(b.startTime);
  if (start === undefined) return "";
  const opts: Intl.DateTimeFormatOptions = bucket === "month" ? { month: "short", year: "numeric" } : { day: "numeric", month: "short" };
  return new Date(start).toLocaleDateString("en-GB", { ...opts, timeZone: "UTC" });
}

export function MetricsView(props: {
  api: Api;
  live: LiveState;
  route: Route;
  go: (view: ViewName, params?: Record<string, string>, replace?: boolean) => void;
  onSignOut: () => void;
}) {
  const { api, live, route } = props;
  const places = usePlaces(api);
  const env = route.params.get("env") ?? "";
  const bucket = BUCKETS[route.params.get("bucket") ?? ""] ? route.params.get("bucket")! : "week";
  const daysParam = Number(route.params.get("days"));
  const days = PERIODS.includes(daysParam) ? daysParam : 30;
  const set = (next: { env?: string; bucket?: string; days?: number }) =>
    props.go("metrics", { env: next.env ?? env, bucket: next.bucket ?? bucket, days: String(next.days ?? days) }, true);
  // Measured again when something changes in the live data (a new deployment arrives).
  const liveTick = Math.max(0, ...live.changed.values());
  const lenvs = places.logicalEnvironments.length ? places.logicalEnvironments : places.loaded ? ["development", "staging", "production"] : [];
  const envs = places.environments.includes(env) || !env ? places.environments : [env, ...places.environments];

  return (
    <div className="app">
      <TopBar view="metrics" status={live.status} message={live.message} onSignOut={props.onSignOut}>
        <div className="filters" aria-label="Metrics period and scope" role="group">
          <label>
            Environment
            <select aria-label="Metrics for environment" value={env} onChange={(e) => set({ env: e.target.value })}>
              <option value="">every environment</option>
              {envs.map((e) => (
                <option key={e}>{e}</option>
              ))}
            </select>
          </label>
          <label>
            Period
            <select aria-label="Metrics period" value={days} onChange={(e) => set({ days: Number(e.target.value) })}>
              {PERIODS.map((d) => (
                <option key={d} value={d}>
                  last {d} days
                </option>
              ))}
            </select>
          </label>
          <label>
            By
            <select aria-label="Metrics bucket" value={bucket} onChange={(e) => set({ bucket: e.target.value })}>
              <option value="day">day</option>
              <option value="week">week</option>
              <option value="month">month</option>
            </select>
          </label>
        </div>
      </TopBar>
      <main className="metrics">
        <p className="summary">
          Deployments, lead time for changes, change failure rate and time to restore, per logical environment
          {env ? ` in ${env}` : ""}, over the last {days} days by {bucket} (UTC).
        </p>
        <p className="legend muted small">
          A deployment is a new record (heartbeats and decommissions are not). Lead time: from the first attestation of a digest to its
          first deployment here. A deployment failed when a rollback replaced it or it was decommissioned within an hour; time to
          restore runs from it to the next record in its slot.
        </p>
        {places.error && (
          <p className="state error" role="alert">
            Cannot list logical environments: {places.error}
          </p>
        )}
        {!places.loaded && (
          <p className="state" role="status">
            Loading…
          </p>
        )}
        <div className="metrics-grid">
          {lenvs.map((lenv) => (
            <MetricsCard key={lenv} api={api} lenv={lenv} env={env} bucket={bucket} days={days} tick={liveTick} />
          ))}
        </div>
      </main>
    </div>
  );
}

function MetricsCard(props: { api: Api; lenv: string; env: string; bucket: string; days: number; tick: number }) {
  const { api, lenv, env, bucket, days, tick } = props;
  const [res, setRes] = useState<GetDeliveryMetricsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    api.metrics
      .getDeliveryMetrics({
        logicalEnvironment: lenv,
        environment: env,
        startTime: timestampFromDate(new Date(Date.now() - days * 86_400_000)),
        bucket: BUCKETS[bucket],
      })
      .then((r) => !cancelled && (setRes(r), setError(null)))
      .catch((e) => !cancelled && (setError(describeError(e)), setRes(null)));
    return () => {
      cancelled = true;
    };
  }, [api, lenv, env, bucket, days, tick]);

  const total = res?.total;
  const buckets = res?.buckets ?? [];
  // Labelled as the answer says (the picker may already name the next request's bucket).
  const unit = BUCKET_NAME[res?.bucket ?? MetricsBucket.WEEK] ?? "week";
  const label = (b: DeliveryMetrics) => bucketLabel(unit, b);
  const bars = (value: (b: DeliveryMetrics) => number | null, text: (b: DeliveryMetrics) => string): Bar[] =>
    buckets.map((b) => ({ label: label(b), value: value(b), text: text(b), tick: axisTick(unit, b) }));
  return (
    <section className="metrics-card" aria-label={`Delivery metrics for ${lenv}`} data-lenv={lenv} data-bucket={res ? unit : ""} aria-busy={!res && !error}>
      <h2>{lenv}</h2>
      {error && (
        <p className="error small" role="alert">
          Cannot load the metrics: {error}
        </p>
      )}
      {!res && !error && (
        <p className="muted small" role="status">
          Loading…
        </p>
      )}
      {total && (
        <>
          <dl className="totals">
            <div data-metric="deployments">
              <dt>Deployments</dt>
              <dd data-value={total.deploymentCount}>
                <strong>{total.deploymentCount}</strong> <span className="muted">({Math.round(total.deploymentsPerDay * 100) / 100}/day)</span>
              </dd>
            </div>
            <div data-metric="lead-time">
              <dt>Lead time</dt>
              <dd data-value={durationSeconds(total.leadTimeMedian) ?? ""}>
                {total.leadTimeCount > 0 ? (
                  <>
                    <strong>{formatDuration(total.leadTimeMedian)}</strong>{" "}
                    <span className="muted">
                      median · p90 {formatDuration(total.leadTimeP90)} · {plural(total.leadTimeCount, "digest")}
                    </span>
                  </>
                ) : (
                  <span className="muted">no new digest</span>
                )}
              </dd>
            </div>
            <div data-metric="change-failure-rate">
              <dt>Change failure rate</dt>
              <dd data-value={total.changeFailureRate} data-failed={total.failedCount} data-rollbacks={total.rollbackCount}>
                <strong>{percent(total.changeFailureRate)}</strong>{" "}
                <span className="muted">
                  {total.failedCount} of {total.deploymentCount} failed · {plural(total.rollbackCount, "rollback")}
                </span>
              </dd>
            </div>
            <div data-metric="time-to-restore">
              <dt>Time to restore</dt>
              <dd data-value={durationSeconds(total.timeToRestoreMedian) ?? ""}>
                {total.restoredCount > 0 ? (
                  <>
                    <strong>{formatDuration(total.timeToRestoreMedian)}</strong>{" "}
                    <span className="muted">
                      median · p90 {formatDuration(total.timeToRestoreP90)} · {total.restoredCount} restored
                    </span>
                  </>
                ) : (
                  <span className="muted">{total.failedCount > 0 ? "not restored yet" : "no failures"}</span>
                )}
              </dd>
            </div>
          </dl>
          <div className="charts">
            <BarChart
              title={`Deployments per ${unit}`}
              metric="deployments"
              bars={bars((b) => b.deploymentCount, (b) => plural(b.deploymentCount, "deployment"))}
            />
            <BarChart
              title="Lead time (median)"
              name={`Lead time for changes, median per ${unit}`}
              metric="lead-time"
              tone="green"
              bars={bars(
                (b) => (b.leadTimeCount > 0 ? (durationSeconds(b.leadTimeMedian) ?? 0) : null),
                (b) => (b.leadTimeCount > 0 ? formatDuration(b.leadTimeMedian) : "no new digest"),
              )}
            />
            <BarChart
              title="Change failure rate"
              name={`Change failure rate per ${unit}`}
              metric="change-failure-rate"
              tone="red"
              max={1}
              bars={bars(
                (b) => (b.deploymentCount > 0 ? b.changeFailureRate : null),
                (b) => (b.deploymentCount > 0 ? `${percent(b.changeFailureRate)} (${b.failedCount} of ${b.deploymentCount})` : "no deployments"),
              )}
            />
            <BarChart
              title="Time to restore"
              name={`Time to restore, median per ${unit}`}
              metric="time-to-restore"
              tone="amber"
              bars={bars(
                (b) => (b.restoredCount > 0 ? (durationSeconds(b.timeToRestoreMedian) ?? 0) : null),
                (b) => (b.restoredCount > 0 ? formatDuration(b.timeToRestoreMedian) : "nothing restored"),
              )}
            />
          </div>
          <details className="numbers">
            <summary>Numbers per {unit}</summary>
            <table aria-label={`Delivery metrics for ${lenv} per ${unit}`}>
              <thead>
                <tr>
                  <th scope="col">{unit[0].toUpperCase() + unit.slice(1)}</th>
                  <th scope="col">Deployments</th>
                  <th scope="col">Lead time</th>
                  <th scope="col">Failure rate</th>
                  <th scope="col">Rollbacks</th>
                  <th scope="col">Time to restore</th>
                </tr>
              </thead>
              <tbody>
                {buckets.map((b) => (
                  <tr key={String(ms(b.startTime))} data-bucket-start={b.startTime ? new Date(ms(b.startTime)!).toISOString() : ""}>
                    <th scope="row">{label(b)}</th>
                    <td data-col="deployments">{b.deploymentCount}</td>
                    <td>{b.leadTimeCount > 0 ? formatDuration(b.leadTimeMedian) : "—"}</td>
                    <td>{b.deploymentCount > 0 ? percent(b.changeFailureRate) : "—"}</td>
                    <td>{b.rollbackCount}</td>
                    <td>{b.restoredCount > 0 ? formatDuration(b.timeToRestoreMedian) : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </section>
  );
}
