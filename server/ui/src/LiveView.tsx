// The live view: a matrix of deployments (rows: name + kind) × environment / logical
// environment (columns), kept current by WatchDeployments. A cell opens the slot's history and
// evidence (SlotPanel); two column headers picked open the compare view for those columns.
// With a time in the URL (`#/?at=2026-12-04T10:00:00Z`) the matrix shows what was deployed at that
// instant instead (ListDeployments `as_of`, asof.ts), not live, under a banner that says so.
import { useState, type KeyboardEvent } from "react";
import { ArtifactKind, DeploymentStatus, type Deployment } from "../../../gen/proto/chainloop/v1/deployment_pb.js";
import type { Api } from "./api.js";
import { RollbackPill } from "./Artifact.js";
import { absolute, ago, isStale, KIND_LABEL, lifecycleCompare, ms, shortDigest, STATUS_LABEL, versionLabel, versionOf } from "./format.js";
import { asOfQuery, atParam, fromUtcInput, toUtcInput, useAsOfDeployments, utcText } from "./asof.js";
import { useNow, usePlaces, type Route, type ViewName } from "./hooks.js";
import { rowKey, slotKey, type LiveState } from "./live.js";
import { SlotPanel } from "./SlotPanel.js";
import { TopBar } from "./TopBar.js";

interface Column {
  env: string;
  lenv: string;
}

const placeOf = (c: Column) => `${c.env}/${c.lenv}`;

/** The quick picks of the "As of" control. */
const QUICK_PICKS: Array<{ label: string; words: string; ms: number }> = [
  { label: "1h ago", words: "1 hour ago", ms: 3600_000 },
  { label: "1d ago", words: "1 day ago", ms: 86_400_000 },
  { label: "7d ago", words: "7 days ago", ms: 7 * 86_400_000 },
];

export function LiveView(props: {
  api: Api;
  live: LiveState;
  onSignOut: () => void;
  go: (view: ViewName, params?: Record<string, string>, replace?: boolean) => void;
  route?: Route;
}) {
  const { api, live } = props;
  const now = useNow();
  const [envFilter, setEnvFilter] = useState("");
  const [lenvFilter, setLenvFilter] = useState("");
  /** The instant asked about (the URL's `at`), "" when live. */
  const at = props.route?.params.get("at") ?? "";
  const asOf = useAsOfDeployments(api, at, envFilter, lenvFilter);
  const places = usePlaces(api, at !== "");
  const answered = at !== "" && asOf.query === asOfQuery(at, envFilter, lenvFilter);
  /** What the matrix shows: the live records, or those deployed at the instant asked about. */
  const source = at
    ? { slots: answered ? asOf.slots : new Map<string, Deployment>(), loaded: answered && asOf.loaded, failed: answered && asOf.error !== null }
    : { slots: live.slots, loaded: live.loaded, failed: live.status === "failed" };
  const setAt = (t: number | null, replace = false) => {
    setSelected(null);
    setPicked(null);
    props.go("live", t === null ? {} : { at: atParam(t) }, replace);
  };
  const [nameFilter, setNameFilter] = useState("");
  const [selected, setSelected] = useState<{ key: string; env: string; lenv: string; name: string; kind: ArtifactKind } | null>(null);
  /** The first column picked for a comparison. */
  const [picked, setPicked] = useState<Column | null>(null);

  const all = [...source.slots.values()];
  const envs = [...new Set(all.map((d) => d.environment))].sort();
  const lenvs = [...new Set(all.map((d) => d.logicalEnvironment))].sort(lifecycleCompare);
  // As of a time, the server filters by place: every place of the organization can be picked.
  const envOptions = at ? [...new Set([...envs, ...places.environments, ...(envFilter ? [envFilter] : [])])].sort() : envs;
  const lenvOptions = at ? [...new Set([...lenvs, ...places.logicalEnvironments, ...(lenvFilter ? [lenvFilter] : [])])].sort(lifecycleCompare) : lenvs;
  const visible = all.filter(
    (d) =>
      (!envFilter || d.environment === envFilter) &&
      (!lenvFilter || d.logicalEnvironment === lenvFilter) &&
      (!nameFilter || d.deploymentName.includes(nameFilter.trim().toLowerCase())),
  );
  const columns: Column[] = [];
  for (const env of envs) {
    for (const lenv of lenvs) {
      if (visible.some((d) => d.environment === env && d.logicalEnvironment === lenv)) columns.push({ env, lenv });
    }
  }
  const rows = [...new Map(visible.map((d) => [rowKey(d.deploymentName, d.kind), { name: d.deploymentName, kind: d.kind }])).values()].sort(
    (a, b) => a.name.localeCompare(b.name) || a.kind - b.kind,
  );
  const asOfAt = at ? asOf.at : null;
  const staleAt = (d: Deployment) => (asOfAt !== null ? staleThen(d, asOfAt) : isStale(d, now));
  const staleCount = visible.filter(staleAt).length;
  const envGroups = columns.reduce<Array<{ env: string; span: number }>>((acc, c) => {
    const last = acc[acc.length - 1];
    if (last && last.env === c.env) last.span++;
    else acc.push({ env: c.env, span: 1 });
    return acc;
  }, []);

  const pick = (c: Column) => {
    if (!picked) return setPicked(c);
    if (placeOf(picked) === placeOf(c)) return setPicked(null);
    setPicked(null);
    props.go("compare", at ? { from: placeOf(picked), to: placeOf(c), fromAsOf: at, toAsOf: at } : { from: placeOf(picked), to: placeOf(c) });
  };

  return (
    <div className="app">
      <TopBar
        view="live"
        status={live.status}
        message={live.message}
        onSignOut={props.onSignOut}
        {...(at ? { pausedAt: asOfAt !== null ? utcText(asOfAt) : at } : {})}
      >
        <div className="filters" role="search" aria-label="Filter deployments">
          <label>
            Environment
            <select aria-label="Filter by environment" value={envFilter} onChange={(e) => setEnvFilter(e.target.value)}>
              <option value="">all</option>
              {envOptions.map((e) => (
                <option key={e}>{e}</option>
              ))}
            </select>
          </label>
          <label>
            Logical environment
            <select aria-label="Filter by logical environment" value={lenvFilter} onChange={(e) => setLenvFilter(e.target.value)}>
              <option value="">all</option>
              {lenvOptions.map((e) => (
                <option key={e}>{e}</option>
              ))}
            </select>
          </label>
          <label>
            Name
            <input
              type="search"
              aria-label="Filter by deployment name"
              placeholder="api-server"
              value={nameFilter}
              onChange={(e) => setNameFilter(e.target.value)}
            />
          </label>
        </div>
      </TopBar>

      <main>
        <AsOfControl at={asOfAt} asking={at !== ""} onChange={setAt} />
        {at && (
          <div className="asof-banner" role="status" aria-label="Not live" data-as-of={asOfAt === null ? "" : atParam(asOfAt)}>
            <span>
              <strong>As of {asOfAt === null ? at : utcText(asOfAt)} — not live.</strong> The matrix shows what was deployed at that instant; changes since do not
              appear.
            </span>
            <button type="button" className="back-live" onClick={() => setAt(null)}>
              Back to live
            </button>
          </div>
        )}
        {at && !source.loaded && !source.failed && (
          <p className="state" role="status">
            Loading what was deployed as of {asOfAt === null ? at : utcText(asOfAt)}…
          </p>
        )}
        {at && source.failed && (
          <p className="state error" role="alert">
            Cannot show what was deployed as of {asOfAt === null ? at : utcText(asOfAt)}: {asOf.error}
          </p>
        )}
        {at && source.loaded && all.length === 0 && (
          <p className="state empty" role="status">
            Nothing {envFilter || lenvFilter ? "in these places " : ""}was deployed at {asOfAt === null ? at : utcText(asOfAt)}.
          </p>
        )}
        {!at && !live.loaded && live.status !== "failed" && (
          <p className="state" role="status">
            {live.status === "connecting" && live.message ? `Connecting… (${live.message})` : "Loading deployments…"}
          </p>
        )}
        {!at && live.status === "failed" && (
          <p className="state error" role="alert">
            Cannot show deployments: {live.message}
          </p>
        )}
        {!at && live.loaded && all.length === 0 && (
          <div className="state empty" role="status">
            <p>Nothing is deployed yet.</p>
            <p>
              Record a deployment with{" "}
              <code>chainloop deployment record --env ENV --logical-env production --deployment-name NAME --kind CONTAINER_IMAGE --oci-ref REF</code>
              ; it appears here as soon as it is recorded.
            </p>
          </div>
        )}
        {source.loaded && all.length > 0 && visible.length === 0 && (
          <p className="state empty" role="status">
            No deployment matches these filters.
          </p>
        )}
        {source.loaded && visible.length > 0 && (
          <>
            <p className="summary" aria-live="polite">
              {visible.length} {at ? "deployed" : "running"} {visible.length === 1 ? "deployment" : "deployments"} in {columns.length}{" "}
              {columns.length === 1 ? "place" : "places"}
              {asOfAt !== null && ` as of ${utcText(asOfAt)}`}
              {staleCount > 0 && <span className="stale-count"> · {staleCount} stale</span>}
              {picked ? (
                <span className="pick-hint">
                  {" "}
                  · comparing <strong>{placeOf(picked)}</strong>: pick another column{" "}
                  <button type="button" className="link" onClick={() => setPicked(null)}>
                    cancel
                  </button>
                </span>
              ) : (
                columns.length > 1 && <span className="pick-hint muted"> · ⇄ in two column headers compares them</span>
              )}
            </p>
            <div className="matrix-wrap">
              <table
                className={`matrix${at ? " as-of" : ""}`}
                aria-label={asOfAt !== null ? `Deployments by environment and logical environment as of ${utcText(asOfAt)}` : "Deployments by environment and logical environment"}
              >
                <thead>
                  <tr>
                    <th rowSpan={2} scope="col" className="corner">
                      Deployment
                    </th>
                    {envGroups.map((g) => (
                      <th key={g.env} colSpan={g.span} scope="colgroup" className="env">
                        {g.env}
                      </th>
                    ))}
                  </tr>
                  <tr>
                    {columns.map((c) => {
                      const isPicked = picked !== null && placeOf(picked) === placeOf(c);
                      const label = !picked
                        ? `Compare ${placeOf(c)} with another column`
                        : isPicked
                          ? `Cancel comparing ${placeOf(c)}`
                          : `Compare ${placeOf(picked)} with ${placeOf(c)}`;
                      return (
                        <th key={placeOf(c)} scope="col" className={`lenv${isPicked ? " picked" : ""}`}>
                          {c.lenv}
                          <button
                            type="button"
                            className="pick"
                            aria-pressed={isPicked}
                            aria-label={label}
                            title={label}
                            data-compare-pick={placeOf(c)}
                            onClick={() => pick(c)}
                          >
                            ⇄
                          </button>
                        </th>
                      );
                    })}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={rowKey(r.name, r.kind)}>
                      <th scope="row" className="rowhead">
                        <span className="name">{r.name}</span>
                        <span className="kind">{KIND_LABEL[r.kind] ?? "unknown kind"}</span>
                      </th>
                      {columns.map((c) => {
                        const key = slotKey(c.env, c.lenv, r.name, r.kind);
                        const d = source.slots.get(key);
                        const open = () => setSelected({ key, env: c.env, lenv: c.lenv, name: r.name, kind: r.kind });
                        return (
                          <Cell
                            key={key}
                            slot={key}
                            where={placeOf(c)}
                            name={r.name}
                            kind={r.kind}
                            d={d}
                            now={now}
                            asOf={asOfAt}
                            flash={!at && (live.changed.get(key) ?? 0) > now - 3000}
                            onOpen={open}
                          />
                        );
                      })}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </main>

      {selected && (
        <SlotPanel
          api={api}
          slot={selected}
          current={source.slots.get(selected.key)}
          asOf={asOfAt ?? undefined}
          now={now}
          onClose={() => setSelected(null)}
        />
      )}
    </div>
  );
}

function Cell(props: {
  slot: string;
  where: string;
  name: string;
  kind: ArtifactKind;
  d: Deployment | undefined;
  now: number;
  /** The instant the matrix shows (ms), or null when live. */
  asOf?: number | null;
  flash: boolean;
  onOpen: () => void;
}) {
  const { d, now } = props;
  const asOf = props.asOf ?? null;
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      props.onOpen();
    }
  };
  if (!d) {
    return (
      <td
        className="cell empty"
        tabIndex={0}
        data-slot={props.slot}
        aria-label={`${props.name} (${KIND_LABEL[props.kind]}) in ${props.where}: ${asOf !== null ? "nothing deployed then" : "nothing running"}. Open history`}
        onClick={props.onOpen}
        onKeyDown={onKey}
      >
        <span aria-hidden="true">—</span>
      </td>
    );
  }
  const stale = asOf !== null ? staleThen(d, asOf) : isStale(d, now);
  // As of a time the record was deployed then, whatever its status now.
  const status = asOf !== null ? STATUS_LABEL[DeploymentStatus.DEPLOYED] : STATUS_LABEL[d.status];
  const version = versionOf(d);
  const label = versionLabel(d);
  const short = shortDigest(d.digest);
  const rollback = d.rollbackOfId !== "";
  const deployedAt = ms(d.createTime);
  const seenAt = ms(d.lastSeenTime);
  // Recorded with a version the label does not show (evidence names the project only).
  const recordedVersion = d.artifactVersion && !label.includes(d.artifactVersion) ? d.artifactVersion : "";
  const ariaLabel =
    `${props.name} (${KIND_LABEL[props.kind]}) in ${props.where}: ${version}, ${stale ? "stale" : status}${rollback ? ", rolled back" : ""}, ` +
    `deployed ${ago(deployedAt, now)}, last seen ${ago(seenAt, now)}; artifact ${label ? `${label} ` : ""}${short}. Open history and evidence`;
  return (
    <td
      className={`cell${stale ? " stale" : ""}${props.flash ? " flash" : ""}${rollback ? " rollback" : ""}`}
      tabIndex={0}
      data-slot={props.slot}
      data-version={version}
      data-label={label}
      data-digest={d.digest}
      data-stale={stale ? "true" : "false"}
      data-rollback={rollback ? "true" : "false"}
      data-status-now={asOf !== null ? STATUS_LABEL[d.status] : undefined}
      aria-label={ariaLabel}
      title={`${d.artifactName ? `${d.artifactName}${d.artifactVersion ? `:${d.artifactVersion}` : ""}\n` : ""}${d.digest}${asOf !== null ? `\nnow: ${STATUS_LABEL[d.status]}` : ""}`}
      onClick={props.onOpen}
      onKeyDown={onKey}
    >
      <div className="version">{label || short}</div>
      <div className="digest-line">
        {label && <code className="short-digest">{short}</code>}
        {recordedVersion && <span className="muted small"> recorded {recordedVersion}</span>}
      </div>
      <div className="status">
        <span className={`pill ${stale ? "stale" : "ok"}`}>{stale ? "stale" : status}</span> <RollbackPill d={d} />
      </div>
      <div className="times">
        <span title={absolute(deployedAt)}>deployed {ago(deployedAt, now)}</span>
        <span title={absolute(seenAt)}>seen {ago(seenAt, now)}</span>
      </div>
    </td>
  );
}

/** Stale at the instant `at`: its stale time had passed by then. */
function staleThen(d: Deployment, at: number): boolean {
  const t = ms(d.staleTime);
  return t !== undefined && at > t;
}

/**
 * "As of": a UTC datetime input, quick picks (1h / 1d / 7d ago) and "Now (live)". Emptying the
 * input goes back to live too.
 */
function AsOfControl(props: { at: number | null; asking: boolean; onChange: (t: number | null, replace?: boolean) => void }) {
  const [draft, setDraft] = useState<string | null>(null);
  const value = draft ?? toUtcInput(props.at);
  return (
    <div className={`asof-control${props.asking ? " active" : ""}`} role="group" aria-label="As of">
      <label>
        As of (UTC)
        <input
          type="datetime-local"
          step={1}
          aria-label="As of (UTC; empty: live)"
          value={value}
          onChange={(e) => {
            const v = e.target.value;
            const t = fromUtcInput(v);
            if (!v) {
              setDraft(null);
              props.onChange(null);
            } else if (t !== null) {
              setDraft(null);
              // Editing a time already asked about replaces it in the history; leaving live adds one.
              props.onChange(t, props.asking);
            } else setDraft(v);
          }}
        />
      </label>
      {QUICK_PICKS.map((q) => (
        <button key={q.label} type="button" className="quick" aria-label={`As of ${q.words}`} title={`What was deployed ${q.words}`} onClick={() => props.onChange(Date.now() - q.ms)}>
          {q.label}
        </button>
      ))}
      <button type="button" className={`quick now${props.asking ? "" : " current"}`} aria-pressed={!props.asking} onClick={() => props.onChange(null)}>
        Now (live)
      </button>
    </div>
  );
}
