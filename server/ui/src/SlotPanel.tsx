// A slot's history (ListDeployments with history, newest first, rollbacks marked with what they
// rolled back from and to) and the running artifact's evidence (DescribeArtifact).
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import type { DescribeArtifactResponse } from "../../../gen/proto/chainloop/v1/artifact_pb.js";
import { ArtifactKind, DeploymentStatus, type Deployment } from "../../../gen/proto/chainloop/v1/deployment_pb.js";
import type { Api } from "./api.js";
import { ArtifactTag, RollbackPill } from "./Artifact.js";
import { utcText } from "./asof.js";
import { ago, describeError, digestWithVersion, isStale, KIND_LABEL, ms, shortDigest, STATUS_LABEL, versionOf } from "./format.js";

export function SlotPanel(props: {
  api: Api;
  slot: { key: string; env: string; lenv: string; name: string; kind: ArtifactKind };
  current: Deployment | undefined;
  /** The instant the matrix shows (ms) when not live: `current` is the record deployed then. */
  asOf?: number;
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
  const byId = new Map(history?.items.map((d) => [d.id, d]) ?? []);
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
              const replacedBy = d.supersededById ? byId.get(d.supersededById) : undefined;
              const ranThen = props.asOf !== undefined && current?.id === d.id;
              return (
                <li
                  key={d.id}
                  className={`${d.status === DeploymentStatus.DEPLOYED ? "active" : ""}${d.rollbackOfId ? " rollback" : ""}${ranThen ? " ran-then" : ""}`}
                  data-record={d.id}
                  data-ran-then={props.asOf !== undefined ? (ranThen ? "true" : "false") : undefined}
                  data-rollback={d.rollbackOfId ? "true" : "false"}
                  aria-label={`${versionOf(d)}: ${STATUS_LABEL[d.status]}${stale ? ", stale" : ""}${d.rollbackOfId ? ", rolled back" : ""}${ranThen ? ", deployed at the time shown" : ""}`}
                >
                  <div className="line">
                    <ArtifactTag d={d} />
                    <span className="pills">
                      {ranThen && (
                        <span className="pill then" title={`Deployed here at ${utcText(props.asOf!)}, the time the matrix shows`}>
                          ran then
                        </span>
                      )}
                      <RollbackPill d={d} />
                      <span className={`pill ${stale ? "stale" : d.status === DeploymentStatus.DEPLOYED ? "ok" : "old"}`}>
                        {stale ? "stale" : STATUS_LABEL[d.status]}
                      </span>
                    </span>
                  </div>
                  {d.rollbackOfId && <RollbackLine d={d} items={history.items} byId={byId} now={now} />}
                  {replacedBy?.rollbackOfId && (
                    <div className="rollback-note small" data-rolled-back-from="true">
                      rolled back {ago(ms(d.supersededTime), now)}: replaced by {digestWithVersion(replacedBy)}
                    </div>
                  )}
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
                  {d.rollbackOfId && " (rolled back)"}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
    </aside>
  );
}

/**
 * What a rollback record rolled back: from the record it replaced (the one it superseded, when
 * the history shows it) to the earlier record of its digest (`rollback_of_id`).
 */
function RollbackLine({ d, items, byId, now }: { d: Deployment; items: Deployment[]; byId: Map<string, Deployment>; now: number }) {
  const from = items.find((x) => x.supersededById === d.id);
  const to = byId.get(d.rollbackOfId);
  return (
    <div className="rollback-note small" data-rollback-from={from?.digest ?? ""} data-rollback-to={d.digest}>
      rollback{from ? <> from {digestWithVersion(from)}</> : null} to {digestWithVersion(d)}, which ran here before (record{" "}
      {d.rollbackOfId.slice(0, 8)}
      {to ? `, deployed ${ago(ms(to.createTime), now)}` : ""})
    </div>
  );
}
