// The live state behind the matrix: WatchDeployments' snapshot, then every change, re-watched
// with backoff when the stream ends for a reason a new watch fixes.
import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useState } from "react";
import { ArtifactKind, DeploymentStatus, WatchEventType, type Deployment } from "../../../gen/proto/chainloop/v1/deployment_pb.js";
import type { Api } from "./api.js";
import { describeError } from "./format.js";

export type LiveStatus = "connecting" | "live" | "reconnecting" | "rejected" | "failed";

export interface LiveState {
  status: LiveStatus;
  message: string;
  /** Active records by slot. */
  slots: Map<string, Deployment>;
  /** Slots that changed recently (for a brief highlight). */
  changed: Map<string, number>;
  loaded: boolean;
}

export const slotKey = (env: string, lenv: string, name: string, kind: ArtifactKind) => `${env}/${lenv}/${name}/${ArtifactKind[kind]}`;
export const keyOf = (d: Deployment) => slotKey(d.environment, d.logicalEnvironment, d.deploymentName, d.kind);
export const rowKey = (name: string, kind: ArtifactKind) => `${name}/${ArtifactKind[kind]}`;

/** WatchDeployments, re-watched with backoff when the stream ends for a reason a new watch fixes. */
export function useLiveDeployments(api: Api | null): LiveState {
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
