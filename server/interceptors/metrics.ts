// Per-call Prometheus series (server/metrics.ts): started, handled by code, handling time.
// A stream is counted when it ends: its code is the error it ended with, Canceled when the
// client went away, else OK. Installed outside error mapping, so every error is a ConnectError
// with its final code by then.
import type { Interceptor } from "@connectrpc/connect";
import type { Metrics } from "../metrics.js";
import { codeOf, onStreamEnd } from "./stream-end.js";

export function metricsInterceptor(metrics: Metrics): Interceptor {
  return (next) => async (req) => {
    const series = metrics.method(req.method);
    series.started.inc();
    const t0 = performance.now();
    let res;
    try {
      res = await next(req);
    } catch (e) {
      series.handled(codeOf(e), (performance.now() - t0) / 1000);
      throw e;
    }
    if (!res.stream) {
      series.handled(0, (performance.now() - t0) / 1000);
      metrics.answered(req.method, res.message);
      return res;
    }
    return { ...res, message: onStreamEnd(res.message, req.signal, (code) => series.handled(code, (performance.now() - t0) / 1000)) };
  };
}
