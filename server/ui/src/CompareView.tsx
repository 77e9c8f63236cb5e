// The compare view: two places (an environment and/or a logical environment each, now or as of
// a time) compared slot by slot with DiffDeployments: same digest, different digests, or
// running in one place only. Picked from the matrix's column headers or with the pickers here;
// the choice lives in the URL (#/compare?from=k8s-east/staging&to=k8s-east/production).
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useEffect, useState } from "react";
import { ArtifactKind, DiffState, type Deployment, type DiffDeploymentsResponse } from "../../../gen/proto/chainloop/v1/deployment_pb.js";
import type { Api } from "./api.js";
import { ArtifactTag, RollbackPill } from "./Artifact.js";
import { fromUtcInput, toUtcInput } from "./asof.js";
import { absolute, ago, describeError, KIND_LABEL, ms, plural } from "./format.js";
import { useNow, usePlaces, type Places, type Route, type ViewName } from "./hooks.js";
import type { LiveState } from "./live.js";
import { TopBar } from "./TopBar.js";

interface Place {
  env: string;
  lenv: string;
  /** ISO time, or "" for now. */
  asOf: string;
}

/** `k8s-east/staging`, `k8s-east/` (every logical environment), `/staging` (every environment). */
function parsePlace(raw: string | null, asOf: string | null): Place | null {
  if (raw === null) return null;
  const slash = raw.indexOf("/");
  return slash < 0 ? { env: raw, lenv: "", asOf: asOf ?? "" } : { env: raw.slice(0, slash), lenv: raw.slice(slash + 1), asOf: asOf ?? "" };
}

const placeParam = (p: Place) => `${p.env}/${p.lenv}`;

/** How a place reads: `k8s-east/staging`, `staging (every environment)`, `… as of 12/3/2026, 10:00:00`. */
export function placeName(p: Place): string {
  const where = p.env && p.lenv ? `${p.env}/${p.lenv}` : p.env ? `${p.env} (every logical environment)` : p.lenv ? `${p.lenv} (every environment)` : "nowhere";
  return p.asOf ? `${where} as of ${absolute(Date.parse(p.asOf))}` : where;
}

/** A short name for state badges: `staging`, `k8s-east`, `k8s-east/staging`. */
function shortPlace(p: Place, other: Place): string {
  if (p.env && p.lenv) {
    if (p.env === other.env && p.lenv !== other.lenv) return p.lenv;
    if (p.lenv === other.lenv && p.env !== other.env) return p.env;
    return `${p.env}/${p.lenv}`;
  }
  return p.env || p.lenv;
}

const STATE_NAME: Record<number, string> = {
  [DiffState.SAME]: "same",
  [DiffState.DIFFERENT]: "different",
  [DiffState.ONLY_IN_FROM]: "only-in-from",
  [DiffState.ONLY_IN_TO]: "only-in-to",
};

/** The place's as-of (an ISO time from the URL) for the UTC input; "" when unset or not a time. */
function asOfInput(iso: string): string {
  const t = iso ? Date.parse(iso) : NaN;
  return toUtcInput(Number.isNaN(t) ? null : t);
}

export function CompareView(props: {
  api: Api;
  live: LiveState;
  route: Route;
  go: (view: ViewName, params?: Record<string, string>, replace?: boolean) => void;
  onSignOut: () => void;
}) {
  const { api, live, route } = props;
  const places = usePlaces(api);
  const now = useNow(5000);
  const p = route.params;
  const firstEnv = places.environments[0] ?? [...live.slots.values()][0]?.environment ?? "";
  const from = parsePlace(p.get("from"), p.get("fromAsOf")) ?? { env: firstEnv, lenv: "staging", asOf: "" };
  const to = parsePlace(p.get("to"), p.get("toAsOf")) ?? { env: firstEnv, lenv: "production", asOf: "" };
  const diffOnly = p.get("diff") === "1";
  const ready = (from.env || from.lenv) !== "" && (to.env || to.lenv) !== "";

  const set = (next: { from?: Place; to?: Place; diffOnly?: boolean }) => {
    const f = next.from ?? from;
    const t = next.to ?? to;
    const d = next.diffOnly ?? diffOnly;
    props.go("compare", { from: placeParam(f), to: placeParam(t), fromAsOf: f.asOf, toAsOf: t.asOf, diff: d ? "1" : "" }, true);
  };

  const [result, setResult] = useState<{ res: DiffDeploymentsResponse; from: Place; to: Place; diffOnly: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const key = JSON.stringify([from, to, diffOnly]);
  // Compared again when something changes in the live data (a new version arrives).
  const liveTick = Math.max(0, ...live.changed.values());

  useEffect(() => {
    if (!ready) return;
    let cancelled = false;
    setLoading(true);
    const place = (x: Place) => ({ environment: x.env, logicalEnvironment: x.lenv, asOf: x.asOf ? timestampFromDate(new Date(x.asOf)) : undefined });
    api.deployments
      .diffDeployments({ fromPlace: place(from), toPlace: place(to), differencesOnly: diffOnly })
      .then((res) => {
        if (cancelled) return;
        setResult({ res, from, to, diffOnly });
        setError(null);
      })
      .catch((e) => !cancelled && (setError(describeError(e)), setResult(null)))
      .finally(() => !cancelled && setLoading(false));
    return () => {
      cancelled = true;
    };
    // `key` stands for from, to and diffOnly (objects rebuilt from the URL on every render).
  }, [api, key, ready, liveTick]);

  return (
    <div className="app">
      <TopBar view="compare" status={live.status} message={live.message} onSignOut={props.onSignOut} />
      <main className="compare">
        <form className="compare-form" aria-label="Places to compare" onSubmit={(e) => e.preventDefault()}>
          <PlacePicker side="A" title="A (from)" place={from} places={places} onChange={(f) => set({ from: f })} />
          <button type="button" className="swap" aria-label="Swap A and B" title="Swap A and B" onClick={() => set({ from: to, to: from })}>
            ⇄
          </button>
          <PlacePicker side="B" title="B (to)" place={to} places={places} onChange={(t) => set({ to: t })} />
          <label className="toggle">
            <input type="checkbox" checked={diffOnly} onChange={(e) => set({ diffOnly: e.target.checked })} aria-label="Differences only" />
            Differences only
          </label>
        </form>
        {places.error && (
          <p className="error small" role="alert">
            Cannot list environments: {places.error}
          </p>
        )}
        {!ready && <p className="state">Pick an environment, a logical environment or both on each side.</p>}
        {ready && error && (
          <p className="state error" role="alert">
            Cannot compare: {error}
          </p>
        )}
        {ready && !result && !error && (
          <p className="state" role="status">
            Comparing…
          </p>
        )}
        {ready && result && <DiffResult result={result} loading={loading} now={now} />}
      </main>
    </div>
  );
}

function PlacePicker(props: { side: "A" | "B"; title: string; place: Place; places: Places; onChange: (p: Place) => void }) {
  const { side, place, places } = props;
  const envs = places.environments.includes(place.env) || !place.env ? places.environments : [place.env, ...places.environments];
  const lenvs = places.logicalEnvironments.includes(place.lenv) || !place.lenv ? places.logicalEnvironments : [place.lenv, ...places.logicalEnvironments];
  return (
    <fieldset className="place" data-side={side}>
      <legend>{props.title}</legend>
      <label>
        Environment
        <select aria-label={`${side}: environment`} value={place.env} onChange={(e) => props.onChange({ ...place, env: e.target.value })}>
          <option value="">every environment</option>
          {envs.map((e) => (
            <option key={e}>{e}</option>
          ))}
        </select>
      </label>
      <label>
        Logical environment
        <select aria-label={`${side}: logical environment`} value={place.lenv} onChange={(e) => props.onChange({ ...place, lenv: e.target.value })}>
          <option value="">every logical environment</option>
          {lenvs.map((e) => (
            <option key={e}>{e}</option>
          ))}
        </select>
      </label>
      <label>
        As of (UTC)
        <input
          type="datetime-local"
          step={1}
          aria-label={`${side}: as of (empty: now)`}
          value={asOfInput(place.asOf)}
          onChange={(e) => {
            const t = fromUtcInput(e.target.value);
            props.onChange({ ...place, asOf: t === null ? "" : new Date(t).toISOString() });
          }}
        />
      </label>
      {place.asOf && (
        <button type="button" className="link" aria-label={`${side}: compare what runs now`} onClick={() => props.onChange({ ...place, asOf: "" })}>
          now
        </button>
      )}
    </fieldset>
  );
}

function DiffResult({ result, loading, now }: { result: { res: DiffDeploymentsResponse; from: Place; to: Place; diffOnly: boolean }; loading: boolean; now: number }) {
  const { res, from, to } = result;
  const a = shortPlace(from, to);
  const b = shortPlace(to, from);
  const showEnv = !from.env && !to.env;
  const showLenv = !from.lenv && !to.lenv;
  const stateText: Record<number, string> = {
    [DiffState.SAME]: "same",
    [DiffState.DIFFERENT]: "different",
    [DiffState.ONLY_IN_FROM]: `only in ${a}`,
    [DiffState.ONLY_IN_TO]: `only in ${b}`,
  };
  const total = res.sameCount + res.differentCount + res.onlyInFromCount + res.onlyInToCount;
  return (
    <section className="diff" aria-label={`Comparison of ${placeName(from)} with ${placeName(to)}`} aria-busy={loading}>
      <h2>
        <span className="side-tag">A</span> {placeName(from)} <span className="muted">compared with</span> <span className="side-tag">B</span> {placeName(to)}
      </h2>
      <ul className="diff-summary" aria-label="Summary">
        <li className="state-same" data-summary="same" data-count={res.sameCount}>
          <strong>{res.sameCount}</strong> same
        </li>
        <li className="state-different" data-summary="different" data-count={res.differentCount}>
          <strong>{res.differentCount}</strong> different
        </li>
        <li className="state-only-in-from" data-summary="only-in-from" data-count={res.onlyInFromCount}>
          <strong>{res.onlyInFromCount}</strong> only in {a}
        </li>
        <li className="state-only-in-to" data-summary="only-in-to" data-count={res.onlyInToCount}>
          <strong>{res.onlyInToCount}</strong> only in {b}
        </li>
      </ul>
      {res.identical && (
        <p className="state" role="status" data-identical="true">
          {total === 0 ? "Nothing runs in either place." : `Identical: both places run the same digests (${plural(total, "deployment")}).`}
        </p>
      )}
      {!res.identical && res.entries.length === 0 && <p className="state">Nothing to show.</p>}
      {res.entries.length > 0 && (
        <div className="diff-wrap">
          <table className="diff-table" aria-label={`Deployments in ${a} and ${b}${result.diffOnly ? ", differences only" : ""}`}>
            <thead>
              <tr>
                <th scope="col">Deployment</th>
                {showEnv && <th scope="col">Environment</th>}
                {showLenv && <th scope="col">Logical environment</th>}
                <th scope="col">
                  <span className="side-tag">A</span> {placeName(from)}
                </th>
                <th scope="col">
                  <span className="side-tag">B</span> {placeName(to)}
                </th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {res.entries.map((e) => {
                const state = STATE_NAME[e.state] ?? "unknown";
                return (
                  <tr
                    key={`${e.environment}/${e.logicalEnvironment}/${e.deploymentName}/${e.kind}`}
                    className={`state-${state}`}
                    data-state={state}
                    data-deployment={e.deploymentName}
                    data-kind={ArtifactKind[e.kind]}
                  >
                    <th scope="row">
                      <span className="name">{e.deploymentName}</span>
                      <span className="kind">{KIND_LABEL[e.kind] ?? "unknown kind"}</span>
                    </th>
                    {showEnv && <td>{e.environment}</td>}
                    {showLenv && <td>{e.logicalEnvironment}</td>}
                    <Side d={e.fromDeployment} side="from" now={now} />
                    <Side d={e.toDeployment} side="to" now={now} />
                    <td>
                      <span className={`state-badge ${state}`}>{stateText[e.state] ?? "unknown"}</span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Side({ d, side, now }: { d: Deployment | undefined; side: "from" | "to"; now: number }) {
  if (!d) {
    return (
      <td className="side empty" data-side={side}>
        <span title="not running here">—</span>
      </td>
    );
  }
  return (
    <td className="side" data-side={side}>
      <ArtifactTag d={d} />
      <div className="muted small">
        <span title={absolute(ms(d.createTime))}>deployed {ago(ms(d.createTime), now)}</span> <RollbackPill d={d} />
      </div>
    </td>
  );
}
