// Small hooks shared by the views: a ticking clock, the view named by the URL's hash, and the
// organization's environments and logical environments (for the pickers).
import { useCallback, useEffect, useState } from "react";
import type { Api } from "./api.js";
import { describeError, lifecycleCompare } from "./format.js";

export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

export type ViewName = "live" | "compare" | "metrics";

export interface Route {
  view: ViewName;
  params: URLSearchParams;
}

/** `#/compare?from=k8s-east/staging&to=k8s-east/production` → { view: "compare", params }. */
function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const name = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
  const view: ViewName = name === "compare" || name === "metrics" ? name : "live";
  return { view, params };
}

export function routeHref(view: ViewName, params: Record<string, string> = {}): string {
  const kept = Object.entries(params).filter(([, v]) => v !== "");
  const query = kept.length ? `?${new URLSearchParams(kept).toString()}` : "";
  return view === "live" ? `#/${query}` : `#/${view}${query}`;
}

/** The view in the URL's hash (links and the back button work; the server only serves `/`). */
export function useRoute(): [Route, (view: ViewName, params?: Record<string, string>, replace?: boolean) => void] {
  const [route, setRoute] = useState<Route>(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  const go = useCallback((view: ViewName, params: Record<string, string> = {}, replace = false) => {
    const href = routeHref(view, params);
    if (replace) {
      window.history.replaceState(null, "", href);
      setRoute(parseHash(href));
    } else {
      window.location.hash = href.slice(1);
    }
  }, []);
  return [route, go];
}

export interface Places {
  environments: string[];
  logicalEnvironments: string[];
  error: string | null;
  loaded: boolean;
}

/** Every environment and logical environment of the organization, for the pickers (fetched once `enabled`). */
export function usePlaces(api: Api, enabled = true): Places {
  const [places, setPlaces] = useState<Places>({ environments: [], logicalEnvironments: [], error: null, loaded: false });
  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    (async () => {
      const environments: string[] = [];
      let pageToken = "";
      do {
        const res = await api.environments.listEnvironments({ pageSize: 1000, pageToken });
        environments.push(...res.environments.map((e) => e.name));
        pageToken = res.nextPageToken;
      } while (pageToken && !cancelled);
      const lenvs = await api.environments.listLogicalEnvironments({});
      return {
        environments: environments.sort(),
        logicalEnvironments: lenvs.logicalEnvironments.map((l) => l.name).sort(lifecycleCompare),
      };
    })()
      .then((p) => !cancelled && setPlaces({ ...p, error: null, loaded: true }))
      .catch((e) => !cancelled && setPlaces((s) => ({ ...s, error: describeError(e), loaded: true })));
    return () => {
      cancelled = true;
    };
  }, [api, enabled]);
  return places;
}
