// Per-call Prometheus series (server/metrics.ts): started, handled by code, handling time.
// A stream is counted when it ends: its code is the error it ended with, Canceled when the
// client went away, else OK. Installed outside error mapping, so every error is a ConnectError
// with its final code by then.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { MethodSeries, Metrics } from "../metrics.js";

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
    return { ...res, message: observed(res.message, series, t0, req.signal) };
  };
}

const codeOf = (e: unknown): number => (e instanceof ConnectError ? e.code : Code.Unknown);

async function* observed<T>(messages: AsyncIterable<T>, series: MethodSeries, t0: number, signal: AbortSignal): AsyncGenerator<T> {
  let code = 0;
  try {
    yield* messages;
  } catch (e) {
    code = codeOf(e);
    throw e;
  } finally {
    if (code === 0 && signal.aborted) code = Code.Canceled;
    series.handled(code, (performance.now() - t0) / 1000);
  }
}
