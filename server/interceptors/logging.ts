// One JSON log line per call: method, protocol, code and duration.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../log.js";
import { callerKey } from "./caller.js";

export function loggingInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const method = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      logger.info(
        { method, protocol: protocolOf(req.header.get("content-type")), code: "ok", ms: round(performance.now() - started), tokenId: req.contextValues.get(callerKey)?.tokenId },
        "call",
      );
      return res;
    } catch (e) {
      const code = e instanceof ConnectError ? Code[e.code] : "unknown";
      logger.info(
        {
          method,
          protocol: protocolOf(req.header.get("content-type")),
          code: toSnake(code),
          ms: round(performance.now() - started),
          tokenId: req.contextValues.get(callerKey)?.tokenId,
        },
        "call",
      );
      throw e;
    }
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
