// build(deps) → an unstarted server. One port serves Connect, gRPC and gRPC-Web over HTTP/2
// (h2c, prior knowledge) and HTTP/1.1. main.ts starts it; tests build it around their own
// database.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo, type Socket } from "node:net";
import type { Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Database } from "./data/client.js";
import { apiTokenHandlers } from "./handlers/api-token.js";
import { artifactHandlers } from "./handlers/artifact.js";
import { attestationHandlers } from "./handlers/attestation.js";
import { deliveryMetricsHandlers } from "./handlers/delivery-metrics.js";
import { deploymentHandlers } from "./handlers/deployment.js";
import { environmentHandlers } from "./handlers/environment.js";
import { healthHandlers } from "./handlers/health.js";
import { keyHandlers } from "./handlers/key.js";
import { policyHandlers } from "./handlers/policy.js";
import { serverInfoHandlers } from "./handlers/server-info.js";
import { webhookHandlers } from "./handlers/webhook.js";
import { ServerInfoService } from "../gen/proto/chainloop/v1/server_info_pb.js";
import { drainingInterceptor } from "./interceptors/draining.js";
import { errorInterceptor } from "./interceptors/errors.js";
import { loggingInterceptor } from "./interceptors/logging.js";
import { metricsInterceptor } from "./interceptors/metrics.js";
import { createMetrics, isMetricsPath, metricsHandler, type Metrics } from "./metrics.js";
import type { Logger } from "./log.js";
import { PROTECTED_SERVICES, routes } from "./routes.js";
import { unknownPath, withRefusalMessages, type NodeHandler } from "./http/refusals.js";
import { serveUi } from "./ui-static.js";
import type { UseCases } from "./wiring.js";

export interface AppDeps {
  db: Database;
  logger: Logger;
  /** The use cases served (createUseCases(db) in server/wiring.ts). */
  useCases: UseCases;
  maxRequestBytes?: number;
  /**
   * How long a client may take to send a request's headers: from connecting (the bytes that
   * tell HTTP/2 from HTTP/1.1 included) and, over HTTP/1.1, from the start of each request.
   * A slower connection is closed. Defaults to 60 s (Node's own default for HTTP/1.1).
   */
  headersTimeoutMs?: number;
  /** Prometheus metrics (server/metrics.ts); defaults to a registry of this app's own, without process metrics. */
  metrics?: Metrics;
  /**
   * Serve GET /metrics on this server's port (default true). False when main.ts serves it on
   * CHAINLOOP_METRICS_PORT: then /metrics here is an unknown path (404), like any other.
   */
  metricsOnApiPort?: boolean;
  /**
   * False (CHAINLOOP_METRICS=off): calls are not counted and /metrics is not served here (an
   * unknown path). Default true.
   */
  metricsEnabled?: boolean;
  /** CHAINLOOP_METRICS_TOKEN: /metrics needs `Authorization: Bearer <it>`. */
  metricsToken?: string;
  /** Interceptors every call runs behind first, outermost first (main.ts: tracing, when on). */
  interceptors?: Interceptor[];
}

export interface App {
  readonly server: net.Server;
  readonly metrics: Metrics;
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops accepting, lets in-flight calls finish (up to timeoutMs), then closes every connection. */
  shutdown(timeoutMs: number): Promise<void>;
}

type AnyRequest = IncomingMessage | http2.Http2ServerRequest;
type AnyResponse = ServerResponse | http2.Http2ServerResponse;

export function build(deps: AppDeps): App {
  const { db, logger } = deps;
  const maxRequestBytes = deps.maxRequestBytes ?? 4 * 1024 * 1024;
  const headersTimeoutMs = deps.headersTimeoutMs ?? 60_000;
  let draining = false;
  /** Requests (any protocol, any path) whose response has not closed yet. */
  let inFlight = 0;


  const { environments, deployments, snapshots, diff, deliveryMetrics, tokens, evidence, keys, artifacts, policies, live, webhooks } =
    deps.useCases;
  const metrics = deps.metrics ?? createMetrics();
  metrics.observeDatabase(db);
  metrics.observeLive(live);
  const metricsEnabled = deps.metricsEnabled !== false;
  const serveMetrics = deps.metricsOnApiPort === false || !metricsEnabled ? undefined : metricsHandler(metrics, deps.metricsToken);
  const probe = {
    // Health answers for every service a caller may name (server info is served too).
    services: [...PROTECTED_SERVICES, ServerInfoService].map((s) => s.typeName),
    async check() {
      if (draining) return false;
      try {
        await db.ping();
        return true;
      } catch {
        return false;
      }
    },
  };

  // Paths that are no RPC: Prometheus (server/metrics.ts), the web page (server/ui-static.ts:
  // GET/HEAD of / and /assets/…), /healthz, and anything else: Unimplemented with a message.
  const notRpc: NodeHandler = (req, res) => {
    const anyRes = res as AnyResponse;
    if (serveMetrics && isMetricsPath(req.url)) return serveMetrics(req, anyRes);
    if (serveUi(req, anyRes)) return;
    if (req.url === "/healthz" || req.url?.startsWith("/healthz?")) {
      void probe.check().then((ok) => {
        res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: ok ? "SERVING" : "NOT_SERVING" }));
      });
      return;
    }
    unknownPath(req, res);
  };
  // connect-node's adapter (patched: patches/@connectrpc+*.patch); refused calls carry a message
  // (server/http/refusals.ts).
  const rpc = connectNodeAdapter({
    routes: withRefusalMessages(routes(
      {
        environments: environmentHandlers(environments),
        deployments: deploymentHandlers(deployments, snapshots, live, diff),
        deliveryMetrics: deliveryMetricsHandlers(deliveryMetrics),
        apiTokens: apiTokenHandlers(tokens),
        attestations: attestationHandlers(evidence),
        keys: keyHandlers(keys),
        artifacts: artifactHandlers(artifacts),
        policies: policyHandlers(policies),
        webhooks: webhookHandlers(webhooks),
        health: healthHandlers(probe),
        serverInfo: serverInfoHandlers(),
      },
      [...(deps.interceptors ?? []), ...(metricsEnabled ? [metricsInterceptor(metrics)] : []), loggingInterceptor(logger), errorInterceptor(logger), drainingInterceptor(() => draining)],
      tokens,
    )),
    readMaxBytes: maxRequestBytes,
    fallback: notRpc,
  });

  const handler = (req: AnyRequest, res: AnyResponse) => {
    inFlight++;
    res.once("close", () => inFlight--);
    if (req.httpVersionMajor === 1) {
      // A request refused while its body was being read (a chunked body over the size limit)
      // leaves the HTTP/1.1 connection unusable for another request: tell the client not to
      // reuse it. One refused before any of its body was read (over the limit by its
      // content-length, a wrong content type) keeps the connection: Node reads and discards the
      // body after the answer (req._dump). Closing it instead resets it under the unread bytes,
      // and the client could lose the answer (tests/faults/hostile-input.test.ts saw a
      // ResourceExhausted lost that way). While draining, no connection is reused.
      const req1 = req as IncomingMessage;
      const res1 = res as ServerResponse;
      // HTTP/1.0 allows a request without Host (Node refuses that only in HTTP/1.1); connect-node
      // builds the request's URL from it and threw outside any handler, which ended the process
      // ("unable to determine request authority"). The authority means nothing here: this one.
      if (req1.headers.host === undefined) req1.headers.host = "localhost";
      const writeHead = res1.writeHead;
      res1.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse["writeHead"]>) {
        if (draining || (!req1.complete && req1.readableDidRead)) {
          this.setHeader("connection", "close");
          if (!req1.complete) lingerOnClose(req1);
        }
        return writeHead.apply(this, args);
      } as ServerResponse["writeHead"];
    }
    rpc(req, res as Parameters<NodeHandler>[1]);
  };

  // Node's cleartext HTTP/2 server does not accept HTTP/1.1, so one TCP listener sniffs each
  // connection: the HTTP/2 preface ("PRI * HTTP/2.0") goes to the h2c server, anything else
  // to the HTTP/1.1 server.
  const h1 = http.createServer(
    {
      keepAlive: true,
      headersTimeout: headersTimeoutMs,
      // Node checks the timeout on this interval (30 s by default): a short timeout would be
      // enforced late.
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(headersTimeoutMs / 4))),
    },
    handler,
  );
  // Idle keep-alive connections stay open longer than clients keep them (Node's agent: 5 s), so
  // the client closes first; otherwise a request sent as the server closes is reset.
  h1.keepAliveTimeout = 65_000;
  const h2 = http2.createServer({}, handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  const sockets = new Set<Socket>();
  // noDelay: small HTTP/2 frames (headers, data, trailers) must not wait for Nagle.
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    routeByPreface(socket, headersTimeoutMs, (isH2) => (isH2 ? h2 : h1).emit("connection", socket));
  });

  return {
    server,
    metrics,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          // The HTTP/1.1 server never listens itself (connections are handed to it), and Node
          // starts the timer that enforces its headersTimeout and requestTimeout on its
          // 'listening' event: without this, headers that never end held a connection forever.
          h1.emit("listening");
          resolve(server.address() as AddressInfo);
        });
      });
    },
    async shutdown(timeoutMs) {
      draining = true;
      await live.close(); // open WatchDeployments streams end (UNAVAILABLE: re-watch elsewhere) instead of holding the drain
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.close(); // GOAWAY: open streams finish, no new ones
      // HTTP/1.1 has no GOAWAY: busy connections close after their response ("connection:
      // close"), and new calls on them are refused (server/interceptors/draining.ts). Idle ones are closed
      // only while nothing is in flight, and after the event loop's poll phase has read what
      // arrived (setImmediate): a request may sit unread in an "idle" socket while the event
      // loop is busy, and closing it then resets the caller's call.
      const closeIdle = () =>
        setImmediate(() => {
          if (inFlight === 0) h1.closeIdleConnections();
        });
      closeIdle();
      const idleTimer = setInterval(closeIdle, 50);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      if ((await Promise.race([closed, timedOut])) === "timeout") {
        logger.warn({ timeoutMs }, "shutdown timed out; closing remaining connections");
        for (const s of sessions) s.destroy();
        for (const socket of sockets) socket.destroy();
        await closed;
      }
      clearTimeout(timer);
      clearInterval(idleTimer);
    },
  };
}

/** How long a closing HTTP/1.1 connection keeps reading (and discarding) an unread request body. */
const LINGER_MS = 2_000;

/**
 * Lingering close (RFC 9112 §9.6) for an HTTP/1.1 connection closed after answering a request
 * whose body was not read to the end. Node would close the socket as soon as the answer is
 * written; the kernel then answers the client's next bytes with a reset, and a client still
 * sending its body loses the answer (tests/faults/hostile-input.test.ts saw oversized uploads
 * end that way under load). Instead: answer, send FIN, and discard what the client still sends
 * until it closes, for at most LINGER_MS.
 */
function lingerOnClose(req: IncomingMessage): void {
  const socket = req.socket;
  socket.destroySoon = function (this: Socket) {
    this.end();
    req.resume();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once("close", () => clearTimeout(timer));
  };
}

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n");

/**
 * Reads just enough of a new connection to tell HTTP/2 from HTTP/1.x, then puts it back. A
 * connection that has not said which within timeoutMs is closed: neither server has it yet,
 * so neither would time it out, and idle connections would pile up.
 */
function routeByPreface(socket: Socket, timeoutMs: number, route: (isH2: boolean) => void): void {
  let buffered = Buffer.alloc(0);
  const onTimeout = () => socket.destroy();
  socket.setTimeout(timeoutMs, onTimeout);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const n = Math.min(buffered.length, H2_PREFACE.length);
    const isH2 = buffered.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (isH2 && n < H2_PREFACE.length) return; // could still be either: wait for more
    socket.off("data", onData);
    socket.setTimeout(0);
    socket.off("timeout", onTimeout);
    socket.pause();
    socket.unshift(buffered);
    route(isH2);
    if (isH2) return; // the HTTP/2 session drains the unshifted bytes itself and must not see them twice
    // Node's HTTP/1.1 server hands a new socket's reads to its native parser, which would parse
    // bytes arriving from now on before the unshifted ones (still in the stream's buffer): a
    // large upload arriving fast was parsed out of order and the connection reset without an
    // answer (tests/faults/hostile-input.test.ts, under load). A 'data' listener makes the
    // server parse through the stream instead (it "unconsumes" the socket), in order.
    socket.on("data", () => undefined);
    socket.resume();
  };
  socket.on("data", onData);
}
