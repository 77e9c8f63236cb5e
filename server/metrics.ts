// Prometheus metrics, served as text at GET /metrics (prom-client). One Registry per app (not
// prom-client's global one), so that tests building several apps in one process do not collide.
//
// Naming: go-grpc-prometheus's, for every protocol (Connect, gRPC, gRPC-Web alike), so the
// usual gRPC dashboards and alerts work as they are:
//   grpc_server_started_total{grpc_type,grpc_service,grpc_method}
//   grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
//   grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method,grpc_code}   (histogram)
// grpc_code is the status name as Go spells it (OK, NotFound, InvalidArgument, …). The
// histogram also carries grpc_code (go-grpc-prometheus's has no code): a superset, so queries
// written for theirs still work, and OK and failed calls' latencies can be told apart.
// Everything of this service's own is chainloop_*. Labels are only ever service, method, code
// and fixed enumerations: nothing per organization, token, environment or record.
//
// Counted here: calls that reach the interceptor chain (interceptors/metrics.ts). Requests
// refused before it (an unknown path, an undecodable or oversized unary body) are not calls of
// a method and are not counted; the access log has them neither.
import { createHash, timingSafeEqual } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import {
  DeploymentService,
  RecordOutcome as OutcomePb,
  SnapshotRefusal as RefusalPb,
  type RecordDeploymentResponse,
  type ReportSnapshotResponse,
} from "../gen/proto/chainloop/v1/deployment_pb.js";
import type { Database } from "./data/client.js";
import type { LiveDeployments } from "./domain/live.js";
import { RECORD_OUTCOME_PB } from "./shared/proto.js";

/** Latency buckets, in seconds: a heartbeat takes ~1–20 ms, a large snapshot seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const GRPC_TYPE: Record<DescMethod["methodKind"], string> = {
  unary: "unary",
  server_streaming: "server_stream",
  client_streaming: "client_stream",
  bidi_streaming: "bidi_stream",
};

/** Go's names of the status codes (codes.Code.String()), as go-grpc-prometheus labels them. */
const CODE_NAMES: string[] = ["OK"];
for (let c = 1; c <= 16; c++) CODE_NAMES[c] = Code[c] ?? String(c);

/** Outcome labels: the outcome names in snake case (`rolled_back`), by enum value. */
const RECORD_OUTCOMES: Record<number, string> = Object.fromEntries(
  RECORD_OUTCOME_PB.names.map((o) => [RECORD_OUTCOME_PB.toPb[o], o.replace(/-/g, "_")]),
);
const SNAPSHOT_OUTCOMES = ["created", "heartbeat", "superseded", "rolled_back", "decommissioned", "refused"];

const RECORD_DEPLOYMENT = DeploymentService.method.recordDeployment;
const REPORT_SNAPSHOT = DeploymentService.method.reportSnapshot;

type Inc = { inc(n?: number): void };
type Observe = { observe(v: number): void };

/** One method's series, created on its first call and kept (no label hashing per call). */
export interface MethodSeries {
  started: Inc;
  /** Counts the call as ended with `code` (0 = OK) after `seconds`. */
  handled(code: number, seconds: number): void;
}

export interface Metrics {
  readonly registry: Registry;
  /** The series of one RPC method (interceptors/metrics.ts). */
  method(method: DescMethod): MethodSeries;
  /** A unary call answered `message`: counts the outcomes it reports (RecordDeployment, ReportSnapshot). */
  answered(method: DescMethod, message: unknown): void;
  /** Reports the pool of `db` (Postgres) and how far its change feed is behind. */
  observeDatabase(db: Database): void;
  /** Reports how many WatchDeployments streams `live` serves. */
  observeLive(live: LiveDeployments): void;
}

export interface MetricsOptions {
  /** prom-client's default process and Node.js metrics (process_*, nodejs_*). The server turns them on. */
  processMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry });

  const methodLabels = ["grpc_type", "grpc_service", "grpc_method"] as const;
  const started = new Counter({
    name: "grpc_server_started_total",
    help: "RPCs started on the server, per method (every protocol: Connect, gRPC, gRPC-Web).",
    labelNames: methodLabels,
    registers: [registry],
  });
  const handled = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, per method and status code (every protocol).",
    labelNames: [...methodLabels, "grpc_code"],
    registers: [registry],
  });
  const handling = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time from a call reaching the server's interceptors to its answer (streams: to their end), per method and status code.",
    labelNames: [...methodLabels, "grpc_code"],
    buckets: BUCKETS,
    registers: [registry],
  });
  const recordOutcomes = new Counter({
    name: "chainloop_record_outcomes_total",
    help: "RecordDeployment answers by outcome: created, heartbeat, superseded (a new record replaced the slot's active one), rolled_back (a new record brought back a digest the slot ran before), decommissioned, already_decommissioned.",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const snapshotOutcomes = new Counter({
    name: "chainloop_snapshot_outcomes_total",
    help: "What committed ReportSnapshot calls did: entries created, heartbeat, superseded, rolled back or refused, and records decommissioned because no entry named them. Validate-only and refused (nothing committed) snapshots count nothing.",
    labelNames: ["outcome"],
    registers: [registry],
  });
  // Known from the start: a rate() over a counter that appears with its first increment misses it.
  for (const o of Object.values(RECORD_OUTCOMES)) recordOutcomes.labels(o).inc(0);
  for (const o of SNAPSHOT_OUTCOMES) snapshotOutcomes.labels(o).inc(0);
  const recordCounters = new Map<number, Inc>(Object.entries(RECORD_OUTCOMES).map(([k, o]) => [Number(k), recordOutcomes.labels(o)]));
  const snapshotCounters = new Map<string, Inc>(SNAPSHOT_OUTCOMES.map((o) => [o, snapshotOutcomes.labels(o)]));

  const series = new Map<DescMethod, MethodSeries>();

  return {
    registry,
    method(method) {
      let s = series.get(method);
      if (s) return s;
      const labels = [GRPC_TYPE[method.methodKind], method.parent.typeName, method.name] as const;
      const byCode: Array<{ handled: Inc; handling: Observe } | undefined> = [];
      s = {
        started: started.labels(...labels),
        handled(code, seconds) {
          let c = byCode[code];
          if (!c) {
            const name = CODE_NAMES[code] ?? String(code);
            byCode[code] = c = { handled: handled.labels(...labels, name), handling: handling.labels(...labels, name) };
          }
          c.handled.inc();
          c.handling.observe(seconds);
        },
      };
      series.set(method, s);
      return s;
    },
    answered(method, message) {
      if (method === RECORD_DEPLOYMENT) {
        recordCounters.get((message as RecordDeploymentResponse).outcome)?.inc();
      } else if (method === REPORT_SNAPSHOT) {
        const res = message as ReportSnapshotResponse;
        if (!res.applied) return;
        const counts = new Map<string, number>();
        for (const r of res.results) {
          const o = r.outcome !== OutcomePb.UNSPECIFIED ? RECORD_OUTCOMES[r.outcome] : r.refusal !== RefusalPb.UNSPECIFIED ? "refused" : undefined;
          if (o) counts.set(o, (counts.get(o) ?? 0) + 1);
        }
        if (res.decommissioned.length > 0) counts.set("decommissioned", (counts.get("decommissioned") ?? 0) + res.decommissioned.length);
        for (const [o, n] of counts) snapshotCounters.get(o)?.inc(n);
      }
    },
    observeDatabase(db) {
      new Gauge({
        name: "chainloop_change_feed_reading",
        help: "1 while this process reads the change log (it has had watchers and its reader is up), else 0.",
        registers: [registry],
        collect() {
          this.set(db.changes.lagMs() === undefined ? 0 : 1);
        },
      });
      new Gauge({
        name: "chainloop_change_feed_lag_seconds",
        help: "How far this process's change-feed reader may be behind: seconds since the change-log read that gave its position was issued; every change committed before then has been delivered to its watchers. 0 while not reading (see chainloop_change_feed_reading).",
        registers: [registry],
        collect() {
          this.set((db.changes.lagMs() ?? 0) / 1000);
        },
      });
      const stats = db.poolStats?.bind(db);
      if (!stats) return; // PGlite: one in-process session, no pool
      new Gauge({
        name: "chainloop_db_pool_connections",
        help: "Postgres pool connections by state: in_use (running a query or held by a transaction), idle.",
        labelNames: ["state"],
        registers: [registry],
        collect() {
          const s = stats();
          this.labels("in_use").set(s.total - s.idle);
          this.labels("idle").set(s.idle);
        },
      });
      new Gauge({
        name: "chainloop_db_pool_waiting",
        help: "Queries waiting for a Postgres pool connection (all connections in use).",
        registers: [registry],
        collect() {
          this.set(stats().waiting);
        },
      });
      new Gauge({
        name: "chainloop_db_pool_max_connections",
        help: "The most connections the Postgres pool opens (CHAINLOOP_DB_POOL_SIZE).",
        registers: [registry],
        collect() {
          this.set(stats().max);
        },
      });
    },
    observeLive(live) {
      new Gauge({
        name: "chainloop_watchers_active",
        help: "WatchDeployments streams this process serves right now.",
        registers: [registry],
        collect() {
          this.set(live.watcherCount);
        },
      });
    },
  };
}

type AnyRequest = IncomingMessage | http2.Http2ServerRequest;
type AnyResponse = ServerResponse | http2.Http2ServerResponse;

export function isMetricsPath(url: string | undefined): boolean {
  return url === "/metrics" || (url?.startsWith("/metrics?") ?? false);
}

const sha256 = (s: string) => createHash("sha256").update(s).digest();

/**
 * GET (or HEAD) /metrics: the registry in Prometheus's text format. With `token`, only for
 * `Authorization: Bearer <token>` (compared in constant time, as hashes of equal length);
 * otherwise 401. Never an API token: scrapers get their own.
 */
export function metricsHandler(metrics: Metrics, token: string | undefined): (req: AnyRequest, res: AnyResponse) => void {
  const expected = token === undefined ? undefined : sha256(token);
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      res.end("method not allowed\n");
      return;
    }
    if (expected) {
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? "");
      if (!m || !timingSafeEqual(sha256(m[1]), expected)) {
        res.writeHead(401, { "www-authenticate": 'Bearer realm="metrics"', "content-type": "text/plain; charset=utf-8" });
        res.end("unauthenticated: /metrics needs Authorization: Bearer <CHAINLOOP_METRICS_TOKEN>\n");
        return;
      }
    }
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": metrics.registry.contentType, "cache-control": "no-store" });
        if (req.method === "HEAD") res.end();
        else res.end(text);
      },
      (e: Error) => {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end(`collecting metrics failed: ${e.message}\n`);
      },
    );
  };
}

export interface MetricsServer {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/**
 * CHAINLOOP_METRICS_PORT: /metrics on a port of its own (plain HTTP/1.1; everything else 404),
 * so that it can be reachable to the scraper only.
 */
export function listenMetrics(port: number, host: string, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<MetricsServer> {
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    if (isMetricsPath(req.url)) return handle(req, res);
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end("not found: this port serves /metrics only\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve({
        address: server.address() as AddressInfo,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
