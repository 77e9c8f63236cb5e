// The page: the token prompt, then one of three views (named by the URL's hash) over one live
// connection (WatchDeployments):
//   #/         the live view: what runs where, each slot's history and evidence (LiveView.tsx);
//              `#/?at=2026-12-04T10:00:00Z`: what was deployed at that instant, not live
//   #/compare  two places compared slot by slot (CompareView.tsx)
//   #/metrics  delivery metrics per logical environment (MetricsView.tsx)
import { useCallback, useEffect, useMemo, useState } from "react";
import { createApi, savedToken, saveToken } from "./api.js";
import { CompareView } from "./CompareView.js";
import { useRoute } from "./hooks.js";
import { useLiveDeployments } from "./live.js";
import { LiveView } from "./LiveView.js";
import { MetricsView } from "./MetricsView.js";
import { TokenForm } from "./TokenForm.js";

export function App() {
  const [token, setToken] = useState<string | null>(() => savedToken());
  const api = useMemo(() => (token ? createApi(token) : null), [token]);
  const live = useLiveDeployments(api);
  const [route, go] = useRoute();
  const [rejected, setRejected] = useState<string | null>(null);
  const signOut = useCallback((reason?: string) => {
    saveToken(null);
    setToken(null);
    setRejected(reason ?? null);
  }, []);

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
  const common = { api, live, go, onSignOut: () => signOut() };
  if (route.view === "compare") return <CompareView {...common} route={route} />;
  if (route.view === "metrics") return <MetricsView {...common} route={route} />;
  return <LiveView {...common} route={route} />;
}
