// One JSON log line per call: method, protocol, code and duration. A server stream
// (WatchDeployments, reflection) is logged when it ends, with the code it ended with (Canceled
// when the client went away) and how long it ran.
import { Code, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../log.js";
import { callerKey } from "./caller.js";
import { codeOf, onStreamEnd } from "./stream-end.js";

export function loggingInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const log = (code: number) =>
      logger.info(
        {
          method: `${req.service.typeName}/${req.method.name}`,
          protocol: protocolOf(req.header.get("content-type")),
          code: code === 0 ? "ok" : toSnake(Code[code] ?? "unknown"),
          ms: round(performance.now() - started),
          tokenId: req.contextValues.get(callerKey)?.tokenId,
        },
        "call",
      );
    let res;
    try {
      res = await next(req);
    } catch (e) {
      log(codeOf(e));
      throw e;
    }
    if (!res.stream) {
      log(0);
      return res;
    }
    return { ...res, message: onStreamEnd(res.message, req.signal, log) };
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
const toSnake = (s: string) => s.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();

export function protocolOf(contentType: string | null): string {
  if (!contentType) return "unknown";
  if (contentType.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType.startsWith("application/grpc")) return "grpc";
  return "connect";
}
