// The live view: a matrix of deployments (rows: name + kind) × environment / logical
// environment (columns), kept current by WatchDeployments. A cell opens the slot's history
// (ListDeployments with history) and the running artifact's evidence (DescribeArtifact).
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import {
  ArtifactKind,
  DeploymentStatus,
  WatchEventType,
  type Deployment,
} from "../../../gen/proto/chainloop/v1/deployment_pb.js";
import type { DescribeArtifactResponse } from "../../../gen/proto/chainloop/v1/artifact_pb.js";
import { createApi, savedToken, saveToken, type Api } from "./api.js";

// ───────────────────────────── helpers ─────────────────────────────

const KIND_LABEL: Record<number, string> = {
  [ArtifactKind.CONTAINER_IMAGE]: "container image",
  [ArtifactKind.HELM_CHART]: "Helm chart",
};
const STATUS_LABEL: Record<number, string> = {
  [DeploymentStatus.DEPLOYED]: "deployed",
  [DeploymentStatus.SUPERSEDED]: "superseded",
  [DeploymentStatus.DECOMMISSIONED]: "decommissioned",
};
const LIFECYCLE_ORDER = ["development", "staging", "production"];

const ms = (t: Timestamp | undefined) => (t ? timestampDate(t).getTime() : undefined);
export const shortDigest = (d: string) => d.slice(0, d.indexOf(":") + 13);
const versionOf = (d: Deployment) => d.artifactVersion || shortDigest(d.digest);

function ago(t: number | undefined, now: number): string {
  if (t === undefined) return "—";
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 1) return "just now";
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

const absolute = (t: number | undefined) => (t === undefined ? "" : new Date(t).toLocaleString());

/** Stale now: the server said so, or its stale_time has passed since. */
function isStale(d: Deployment, now: number): boolean {
  if (d.status !== DeploymentStatus.DEPLOYED) return false;
  const at = ms(d.staleTime);
  return d.stale || (at !== undefined && now > at);
}

const slotKey = (env: string, lenv: string, name: string, kind: ArtifactKind) => `${env}/${lenv}/${name}/${ArtifactKind[kind]}`;
const keyOf = (d: Deployment) => slotKey(d.environment, d.logicalEnvironment, d.deploymentName, d.kind);
const rowKey = (name: string, kind: ArtifactKind) => `${name}/${ArtifactKind[kind]}`;

function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

function describeError(e: unknown): string {
  const err = ConnectError.from(e);
  if (err.code === Code.Unknown && /fetch|network/i.test(err.rawMessage)) return "cannot reach the server";
  return err.rawMessage;
}

// ───────────────────────────── the live state ─────────────────────────────

type LiveStatus = "connecting" | "live" | "reconnecting" | "rejected" | "failed";

interface LiveState {
  status: LiveStatus;
  message: string;
  /** Active records by slot. */
  slots: Map<string, Deployment>;
  /** Slots that changed recently (for a brief highlight). */
  changed: Map<string, number>;
  loaded: boolean;
}

/** WatchDeployments, re-watched with backoff when the stream ends for a reason a new watch fixes. */
function useLiveDeployments(api: Api | null): LiveState {
  const [state, setState] = useState<LiveState>({ status: "connecting", message: "", slots: new Map(), changed: new Map(), loaded: false });
  useEffect(() => {
    if (!api) return;
    const stop = new AbortController();
    let attempt = 0;
    (async () => {
      while (!stop.signal.aborted) {
        let buffer = new Map<string, Deployment>();
        let inSnapshot = true;
        try {
          for await (const ev of api.deployments.watchDeployments({}, { signal: stop.signal })) {
            const d = ev.deployment;
            if (ev.type === WatchEventType.SNAPSHOT && d) {
              buffer.set(keyOf(d), d);
              continue;
            }
            if (ev.type === WatchEventType.SNAPSHOT_END) {
              inSnapshot = false;
              attempt = 0;
              const snapshot = buffer;
              buffer = new Map();
              setState({ status: "live", message: "", slots: snapshot, changed: new Map(), loaded: true });
              continue;
            }
            if (!d || inSnapshot) continue;
            setState((s) => {
              const slots = new Map(s.slots);
              const key = keyOf(d);
              const current = slots.get(key);
              if (d.status === DeploymentStatus.DEPLOYED) slots.set(key, d);
              else if (current && current.id === d.id) slots.delete(key);
              const changed = new Map(s.changed);
              // Highlighted: what changed the record, not a heartbeat or a new stale time.
              if (ev.type !== WatchEventType.HEARTBEAT && ev.type !== WatchEventType.STALE_TIME_CHANGED) changed.set(key, Date.now());
              return { ...s, slots, changed };
            });
          }
          if (stop.signal.aborted) return;
        } catch (e) {
          if (stop.signal.aborted) return;
          const err = ConnectError.from(e);
          if (err.code === Code.Unauthenticated || err.code === Code.PermissionDenied) {
            setState((s) => ({ ...s, status: "rejected", message: err.rawMessage }));
            return;
          }
          if (err.code === Code.InvalidArgument || err.code === Code.NotFound) {
            setState((s) => ({ ...s, status: "failed", message: err.rawMessage }));
            return;
          }
          setState((s) => ({ ...s, status: s.loaded ? "reconnecting" : "connecting", message: describeError(e) }));
        }
        attempt++;
        const pause = Math.min(500 * 2 ** attempt, 15_000);
        await new Promise((r) => setTimeout(r, pause));
      }
    })();
    return () => stop.abort();
  }, [api]);
  return state;
}

// ───────────────────────────── the page ─────────────────────────────

export function App() {
  const [token, setToken] = useState<string | null>(() => savedToken());
  const api = useMemo(() => (token ? createApi(token) : null), [token]);
  const live = useLiveDeployments(api);
  const signOut = useCallback((reason?: string) => {
    saveToken(null);
    setToken(null);
    setRejected(reason ?? null);
  }, []);
  const [rejected, setRejected] = useState<string | null>(null);

  useEffect(() => {
    if (live.status === "rejected") signOut(live.message);
  }, [live.status, live.message, signOut]);

  if (!token || !api) {
    return (
      <TokenForm
        rejected={rejected}
        onToken={(t) => {
          saveToken(t);
          setRejected(null);
          setToken(t);
        }}
      />
    );
  }
  return <LiveView api={api} live={live} onSignOut={() => signOut()} />;
}

function TokenForm({ rejected, onToken }: { rejected: string | null; onToken: (token: string) => void }) {
  const [value, setValue] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) onToken(value.trim());
  };
  return (
    <main className="token-page">
      <form className="token-form" onSubmit={submit} aria-label="Sign in with an API token">
        <h1>What runs where</h1>
        <p>Paste an API token (read scope is enough). It is kept for this browser tab only.</p>
        {rejected !== null && (
          <p className="error" role="alert">
            Token rejected: {rejected || "the server did not accept it"}. Paste another one.
          </p>
        )}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          aria-label="API token"
          placeholder="clp_…"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          autoFocus
        />
        <button type="submit" aria-label="Connect with this token" disabled={!value.trim()}>
          Connect
        </button>
        <p className="hint">
          Create one with <code>chainloop token create --name viewer --scope read</code>.
        </p>
      </form>
    </main>
  );
}

interface Column {
  env: string;
  lenv: string;
}

function LiveView({ api, live, onSignOut }: { api: Api; live: LiveState; onSignOut: () => void }) {
  const now = useNow();
  const [envFilter, setEnvFilter] = useState("");
  const [lenvFilter, setLenvFilter] = useState("");
  const [nameFilter, setNameFilter] = useState("");
  const [selected, setSelected] = useState<{ key: string; env: string; lenv: string; name: string; kind: ArtifactKind } | null>(null);

  const all = [...live.slots.values()];
  const envs = [...new Set(all.map((d) => d.environment))].sort();
  const lenvs = [...new Set(all.map((d) => d.logicalEnvironment))].sort(lifecycleCompare);
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
  const staleCount = visible.filter((d) => isStale(d, now)).length;
  const envGroups = columns.reduce<Array<{ env: string; span: number }>>((acc, c) => {
    const last = acc[acc.length - 1];
    if (last && last.env === c.env) last.span++;
    else acc.push({ env: c.env, span: 1 });
    return acc;
  }, []);

  return (
    <div className="app">
      <header className="topbar">
        <h1>What runs where</h1>
        <StatusBadge status={live.status} message={live.message} />
        <div className="filters" role="search" aria-label="Filter deployments">
          <label>
            Environment
            <select aria-label="Filter by environment" value={envFilter} onChange={(e) => setEnvFilter(e.target.value)}>
              <option value="">all</option>
              {envs.map((e) => (
                <option key={e}>{e}</option>
              ))}
            </select>
          </label>
          <label>
            Logical environment
            <select aria-label="Filter by logical environment" value={lenvFilter} onChange={(e) => setLenvFilter(e.target.value)}>
              <option value="">all</option>
              {lenvs.map((e) => (
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
        <button className="link" type="button" aria-label="Sign out (forget the API token)" onClick={onSignOut}>
          Sign out
        </button>
      </header>

      <main>
        {!live.loaded && live.status !== "failed" && (
          <p className="state" role="status">
            {live.status === "connecting" && live.message ? `Connecting… (${live.message})` : "Loading deployments…"}
          </p>
        )}
        {live.status === "failed" && (
          <p className="state error" role="alert">
            Cannot show deployments: {live.message}
          </p>
        )}
        {live.loaded && all.length === 0 && (
          <div className="state empty" role="status">
            <p>Nothing is deployed yet.</p>
            <p>
              Record a deployment with{" "}
              <code>chainloop deployment record --env ENV --logical-env production --deployment-name NAME --kind CONTAINER_IMAGE --oci-ref REF</code>
              ; it appears here as soon as it is recorded.
            </p>
          </div>
        )}
        {live.loaded && all.length > 0 && visible.length === 0 && (
          <p className="state empty" role="status">
            No deployment matches these filters.
          </p>
        )}
        {live.loaded && visible.length > 0 && (
          <>
            <p className="summary" aria-live="polite">
              {visible.length} running {visible.length === 1 ? "deployment" : "deployments"} in {columns.length}{" "}
              {columns.length === 1 ? "place" : "places"}
              {staleCount > 0 && <span className="stale-count"> · {staleCount} stale</span>}
            </p>
            <div className="matrix-wrap">
              <table className="matrix" aria-label="Deployments by environment and logical environment">
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
                    {columns.map((c) => (
                      <th key={`${c.env}/${c.lenv}`} scope="col" className="lenv">
                        {c.lenv}
                      </th>
                    ))}
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
                        const d = live.slots.get(key);
                        const open = () => setSelected({ key, env: c.env, lenv: c.lenv, name: r.name, kind: r.kind });
                        return (
                          <Cell
                            key={key}
                            slot={key}
                            where={`${c.env}/${c.lenv}`}
                            name={r.name}
                            kind={r.kind}
                            d={d}
                            now={now}
                            flash={(live.changed.get(key) ?? 0) > now - 3000}
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
          current={live.slots.get(selected.key)}
          now={now}
          onClose={() => setSelected(null)}
        />
      )}
    </div>
  );
}

function lifecycleCompare(a: string, b: string): number {
  const ia = LIFECYCLE_ORDER.indexOf(a);
  const ib = LIFECYCLE_ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
}

function StatusBadge({ status, message }: { status: LiveStatus; message: string }) {
  const text = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", rejected: "Token rejected", failed: "Stopped" }[status];
  return (
    <span className={`live-badge ${status}`} role="status" aria-label={`Live updates: ${text}${message ? ` (${message})` : ""}`} title={message}>
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

function Cell(props: {
  slot: string;
  where: string;
  name: string;
  kind: ArtifactKind;
  d: Deployment | undefined;
  now: number;
  flash: boolean;
  onOpen: () => void;
}) {
  const { d, now } = props;
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
        aria-label={`${props.name} (${KIND_LABEL[props.kind]}) in ${props.where}: nothing running. Open history`}
        onClick={props.onOpen}
        onKeyDown={onKey}
      >
        <span aria-hidden="true">—</span>
      </td>
    );
  }
  const stale = isStale(d, now);
  const version = versionOf(d);
  const deployedAt = ms(d.createTime);
  const seenAt = ms(d.lastSeenTime);
  const label =
    `${props.name} (${KIND_LABEL[props.kind]}) in ${props.where}: ${version}, ${stale ? "stale" : STATUS_LABEL[d.status]}, ` +
    `deployed ${ago(deployedAt, now)}, last seen ${ago(seenAt, now)}. Open history and evidence`;
  return (
    <td
      className={`cell${stale ? " stale" : ""}${props.flash ? " flash" : ""}`}
      tabIndex={0}
      data-slot={props.slot}
      data-version={version}
      data-stale={stale ? "true" : "false"}
      aria-label={label}
      title={`${d.artifactName ? `${d.artifactName}\n` : ""}${d.digest}`}
      onClick={props.onOpen}
      onKeyDown={onKey}
    >
      <div className="version">{version}</div>
      <div className="status">
        <span className={`pill ${stale ? "stale" : "ok"}`}>{stale ? "stale" : STATUS_LABEL[d.status]}</span>
      </div>
      <div className="times">
        <span title={absolute(deployedAt)}>deployed {ago(deployedAt, now)}</span>
        <span title={absolute(seenAt)}>seen {ago(seenAt, now)}</span>
      </div>
    </td>
  );
}

function SlotPanel(props: {
  api: Api;
  slot: { key: string; env: string; lenv: string; name: string; kind: ArtifactKind };
  current: Deployment | undefined;
  now: number;
  onClose: () => void;
}) {
  const { api, slot, current, now } = props;
  const [history, setHistory] = useState<{ items: Deployment[]; more: boolean } | null>(null);
  const [historyError, setHistoryError] = useState<string | null>(null);
  const [trace, setTrace] = useState<DescribeArtifactResponse | null>(null);
  const [traceError, setTraceError] = useState<string | null>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const digest = current?.digest ?? history?.items[0]?.digest;
  // Reload the history when the running record changes (a new version arrives live).
  const currentId = current?.id ?? "";
  const currentSeen = ms(current?.lastSeenTime);

  useEffect(() => {
    closeRef.current?.focus();
  }, []);

  useEffect(() => {
    let cancelled = false;
    api.deployments
      .listDeployments({
        environment: slot.env,
        logicalEnvironment: slot.lenv,
        deploymentName: slot.name,
        kind: slot.kind,
        history: true,
        pageSize: 50,
      })
      .then((res) => !cancelled && (setHistory({ items: res.deployments, more: res.nextPageToken !== "" }), setHistoryError(null)))
      .catch((e) => !cancelled && setHistoryError(describeError(e)));
    return () => {
      cancelled = true;
    };
  }, [api, slot.env, slot.lenv, slot.name, slot.kind, currentId, currentSeen]);

  useEffect(() => {
    if (!digest) return;
    let cancelled = false;
    setTrace(null);
    api.artifacts
      .describeArtifact({ digest })
      .then((res) => !cancelled && (setTrace(res), setTraceError(null)))
      .catch((e) => !cancelled && setTraceError(describeError(e)));
    return () => {
      cancelled = true;
    };
  }, [api, digest]);

  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") props.onClose();
  };
  const title = `${slot.name} (${KIND_LABEL[slot.kind]}) in ${slot.env}/${slot.lenv}`;
  return (
    <aside className="panel" role="dialog" aria-modal="false" aria-label={`History of ${title}`} onKeyDown={onKey}>
      <div className="panel-head">
        <h2>
          {slot.name} <span className="muted">in {slot.env}/{slot.lenv}</span>
        </h2>
        <button ref={closeRef} type="button" className="close" aria-label="Close history" onClick={props.onClose}>
          ×
        </button>
      </div>

      <section aria-label="History">
        <h3>History</h3>
        {historyError && <p className="error" role="alert">Cannot load the history: {historyError}</p>}
        {!history && !historyError && <p className="muted" role="status">Loading history…</p>}
        {history && history.items.length === 0 && <p className="muted">Nothing was ever recorded in this slot.</p>}
        {history && history.items.length > 0 && (
          <ol className="history" aria-label={`History of ${title}, newest first`}>
            {history.items.map((d) => {
              const stale = isStale(d, now);
              return (
                <li key={d.id} className={d.status === DeploymentStatus.DEPLOYED ? "active" : ""} aria-label={`${versionOf(d)}: ${STATUS_LABEL[d.status]}${stale ? ", stale" : ""}`}>
                  <div className="line">
                    <strong>{versionOf(d)}</strong>
                    <span className={`pill ${stale ? "stale" : d.status === DeploymentStatus.DEPLOYED ? "ok" : "old"}`}>
                      {stale ? "stale" : STATUS_LABEL[d.status]}
                    </span>
                  </div>
                  <div className="muted small">
                    deployed {ago(ms(d.createTime), now)} · seen {ago(ms(d.lastSeenTime), now)}
                    {d.supersededTime && <> · superseded {ago(ms(d.supersededTime), now)}</>}
                    {d.decommissionTime && <> · decommissioned {ago(ms(d.decommissionTime), now)}</>}
                    {d.recordedBy?.tokenName && <> · by {d.recordedBy.tokenName}</>}
                  </div>
                  <code className="digest" title={d.digest}>
                    {d.digest}
                  </code>
                </li>
              );
            })}
          </ol>
        )}
        {history?.more && <p className="muted small">Older records: chainloop deployment list --history --env {slot.env} --logical-env {slot.lenv} --deployment-name {slot.name}</p>}
      </section>

      <section aria-label="Evidence">
        <h3>Evidence {digest && <code className="muted small">{shortDigest(digest)}</code>}</h3>
        {!digest && <p className="muted">No artifact to trace.</p>}
        {digest && traceError && <p className="error" role="alert">Cannot load the evidence: {traceError}</p>}
        {digest && !trace && !traceError && <p className="muted" role="status">Loading evidence…</p>}
        {trace && trace.evidence.length === 0 && <p className="muted">No attestation mentions this artifact.</p>}
        {trace && trace.evidence.length > 0 && (
          <ul className="evidence" aria-label="Attestations that mention the artifact">
            {trace.evidence.map((e) => (
              <li key={`${e.attestationId}/${e.role}`}>
                <div className="line">
                  <strong>
                    {e.project}
                    {e.projectVersion && ` ${e.projectVersion}`}
                  </strong>
                  <span className={`pill ${e.verified ? "ok" : "old"}`}>{e.verified ? "verified" : "unverified"}</span>
                </div>
                <div className="muted small">
                  workflow {e.workflow} · {e.role === 1 ? "produced it" : "used it as a material"} · pushed {ago(ms(e.createTime), now)}
                </div>
                <div className="muted small">{e.predicateType}</div>
                <code className="digest" title={e.attestationId}>
                  attestation {e.attestationId}
                </code>
              </li>
            ))}
          </ul>
        )}
        {trace && trace.deployments.length > 0 && (
          <>
            <h4>Where this artifact runs and ran</h4>
            <ul className="runs">
              {trace.deployments.map((d) => (
                <li key={d.id}>
                  {d.deploymentName} in {d.environment}/{d.logicalEnvironment} — {STATUS_LABEL[d.status]}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
    </aside>
  );
}
