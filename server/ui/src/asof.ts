// "What ran at a time": the matrix as of an instant (`#/?at=2026-12-04T10:00:00Z`), from
// ListDeployments with `as_of` (every page), instead of the live watch.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useEffect, useState } from "react";
import type { Deployment } from "../../../gen/proto/chainloop/v1/deployment_pb.js";
import type { Api } from "./api.js";
import { describeError } from "./format.js";
import { keyOf } from "./live.js";

export interface AsOfState {
  /** The instant asked about (ms), or null when the URL's `at` is not a time. */
  at: number | null;
  loading: boolean;
  error: string | null;
  /** The records that were DEPLOYED at that instant, by slot. */
  slots: Map<string, Deployment>;
  loaded: boolean;
  /** Which question this answers (`at|environment|logicalEnvironment`): an answer to another is not shown. */
  query: string;
}

export const asOfQuery = (at: string, environment: string, logicalEnvironment: string) => `${at}|${environment}|${logicalEnvironment}`;

/** The URL's `at` (an RFC 3339 time) as ms, or null when it is not one. */
export function parseAt(raw: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw)) return null;
  const t = Date.parse(raw);
  return Number.isNaN(t) ? null : t;
}

/** `2026-12-04T10:00:00Z`: whole seconds, UTC (the URL's form). */
export const atParam = (t: number) => new Date(Math.floor(t / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");

/** `2026-12-04T10:00:00` in UTC, as the datetime-local input shows it. */
export const toUtcInput = (t: number | null) => (t === null ? "" : new Date(t).toISOString().slice(0, 19));

/** The datetime-local input's value read as UTC; null when empty or not a time. */
export function fromUtcInput(value: string): number | null {
  if (!value) return null;
  const t = Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
  return Number.isNaN(t) ? null : t;
}

/** `2026-12-04 10:00:00 UTC`. */
export const utcText = (t: number) => `${new Date(t).toISOString().slice(0, 19).replace("T", " ")} UTC`;

/**
 * The records deployed at `at` (ListDeployments `as_of`, every page of 1000) in the environment
 * and logical environment asked for ("" = every one); nothing is fetched when `at` is "".
 */
export function useAsOfDeployments(api: Api, at: string, environment: string, logicalEnvironment: string): AsOfState {
  const [state, setState] = useState<AsOfState>({ at: null, loading: false, error: null, slots: new Map(), loaded: false, query: "" });
  useEffect(() => {
    if (!at) return;
    const query = asOfQuery(at, environment, logicalEnvironment);
    const t = parseAt(at);
    if (t === null) {
      setState({ at: null, loading: false, error: `"${at}" is not a time (expected e.g. 2026-12-04T10:00:00Z)`, slots: new Map(), loaded: false, query });
      return;
    }
    const stop = new AbortController();
    setState({ at: t, loading: true, error: null, slots: new Map(), loaded: false, query });
    (async () => {
      const slots = new Map<string, Deployment>();
      let pageToken = "";
      do {
        const res = await api.deployments.listDeployments(
          { asOf: timestampFromDate(new Date(t)), environment, logicalEnvironment, pageSize: 1000, pageToken },
          { signal: stop.signal },
        );
        for (const d of res.deployments) slots.set(keyOf(d), d);
        pageToken = res.nextPageToken;
      } while (pageToken && !stop.signal.aborted);
      return slots;
    })()
      .then((slots) => !stop.signal.aborted && setState({ at: t, loading: false, error: null, slots, loaded: true, query }))
      .catch((e) => !stop.signal.aborted && setState({ at: t, loading: false, error: describeError(e), slots: new Map(), loaded: false, query }));
    return () => stop.abort();
  }, [api, at, environment, logicalEnvironment]);
  return state;
}
