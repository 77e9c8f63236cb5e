// A webhook receiver for tests: a real HTTP server on 127.0.0.1 (a free port) that keeps every
// request it gets (headers, raw body, when it came and how it was answered) and checks each
// signature twice, independently: with the Standard Webhooks specification's own library
// (`standardwebhooks`) and by hand, as the specification defines it (HMAC-SHA256 over
// `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the base64-decoded part after `whsec_`,
// against every `v1,` signature of the header). How it answers can be switched at any time:
// a status (2xx, 500, a 302 with a Location), after an optional delay; hang (read the request,
// never answer, until the receiver closes); or drop the connection. The receiver also tracks
// requests in flight per `webhook-id`, so a test can see one delivery attempted twice at once.
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { fromJsonString } from "@bufbuild/protobuf";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { WebhookEventSchema, type WebhookEvent } from "../../gen/proto/chainloop/v1/webhook_pb.js";

/** How the receiver answers a request. */
export type ReceiverMode =
  /** Answer `status` (with `headers`), after `delayMs` when given. */
  | { kind: "status"; status: number; headers?: Record<string, string>; delayMs?: number }
  /** Read the request and never answer, until close() (or the sender gives up). */
  | { kind: "hang" }
  /** Read the request, then destroy the connection without an answer. */
  | { kind: "close" };

export const ok = (delayMs = 0): ReceiverMode => ({ kind: "status", status: 204, delayMs });
export const status = (code: number, headers?: Record<string, string>): ReceiverMode => ({ kind: "status", status: code, headers });
export const hang = (): ReceiverMode => ({ kind: "hang" });
export const dropConnection = (): ReceiverMode => ({ kind: "close" });

/** The outcome of checking one request's signature. */
export interface Verification {
  /** `standardwebhooks`' Webhook.verify accepted it. */
  library: boolean;
  /** The hand-made HMAC matched one of the header's `v1,` signatures. */
  manual: boolean;
  /** Why either failed (empty when both passed). */
  error: string;
}

export interface ReceivedRequest {
  /** Order of arrival, from 0. */
  seq: number;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The `webhook-id`, `webhook-timestamp` and `webhook-signature` headers ("" when absent). */
  id: string;
  timestamp: string;
  signature: string;
  /** The body exactly as received. */
  raw: Buffer;
  body: string;
  /** Date.now() when the request was complete, and when it was answered (or dropped). */
  receivedAt: number;
  answeredAt?: number;
  /**
   * What the receiver did: the status sent, "hang", "close" (dropped), or "aborted" (the sender
   * went away before the answer, e.g. its timeout during a delay); undefined while deciding.
   */
  answer?: number | "hang" | "close" | "aborted";
  /** Requests with the same `webhook-id` in flight at the moment this one arrived (this one excluded). */
  concurrentSameId: number;
  /** Set once the secret is known (at arrival, or when setSecret() is called later). */
  verification?: Verification;
  /** The body parsed as chainloop.v1.WebhookEvent protobuf JSON (strict: unknown fields fail). */
  event?: WebhookEvent;
  parseError?: string;
}

/** Signature check by hand, per the specification; independent of `standardwebhooks`. */
export function verifyByHand(secret: string, id: string, timestamp: string, signatureHeader: string, raw: Buffer): boolean {
  if (!secret.startsWith("whsec_") || id === "" || timestamp === "") return false;
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), raw])).digest();
  return signatureHeader
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .some((s) => {
      const got = Buffer.from(s.slice(3), "base64");
      return got.length === expected.length && timingSafeEqual(got, expected);
    });
}

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Requests that arrived while another with the same `webhook-id` was still in flight. */
  readonly overlaps: ReceivedRequest[] = [];
  /** The most requests in flight at once, over all ids. */
  maxInFlight = 0;
  private inFlight = new Map<string, number>();
  private inFlightTotal = 0;
  private mode: ReceiverMode | ((req: ReceivedRequest) => ReceiverMode);
  private secret: string | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<http.ServerResponse>();
  private waiters: Array<() => void> = [];
  private closed = false;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    mode: ReceiverMode | ((req: ReceivedRequest) => ReceiverMode),
  ) {
    this.mode = mode;
  }

  /** Starts a receiver on 127.0.0.1 (port 0); `url` is where to point a subscription. */
  static async start(opts: { mode?: ReceiverMode | ((req: ReceivedRequest) => ReceiverMode); secret?: string; path?: string } = {}): Promise<WebhookReceiver> {
    const server = http.createServer();
    // Never let Node's own timeouts answer or drop a hanging request: only the mode decides.
    server.requestTimeout = 0;
    server.headersTimeout = 0;
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}${opts.path ?? "/hooks/chainloop"}`, opts.mode ?? ok());
    if (opts.secret) receiver.setSecret(opts.secret);
    server.on("connection", (socket) => {
      receiver.sockets.add(socket);
      socket.once("close", () => receiver.sockets.delete(socket));
    });
    server.on("request", (req, res) => receiver.handle(req, res));
    return receiver;
  }

  /**
   * The subscription's `whsec_` secret (CreateWebhook answers it once). Requests that arrived
   * before it was known are verified now.
   */
  setSecret(secret: string): void {
    this.secret = secret;
    for (const r of this.requests) if (!r.verification) r.verification = this.verify(r);
  }

  /** How the following requests are answered; a function decides per request. */
  setMode(mode: ReceiverMode | ((req: ReceivedRequest) => ReceiverMode)): void {
    this.mode = mode;
  }

  private verify(r: ReceivedRequest): Verification {
    const secret = this.secret!;
    let library = false;
    const errors: string[] = [];
    try {
      new StandardWebhook(secret).verify(r.raw, {
        "webhook-id": r.id,
        "webhook-timestamp": r.timestamp,
        "webhook-signature": r.signature,
      });
      library = true;
    } catch (e) {
      errors.push(`standardwebhooks: ${(e as Error).message}`);
    }
    const manual = verifyByHand(secret, r.id, r.timestamp, r.signature, r.raw);
    if (!manual) errors.push("by hand: no v1 signature matches HMAC-SHA256(id.timestamp.body)");
    return { library, manual, error: errors.join("; ") };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const header = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v.join(" ") : (v ?? "");
      };
      const id = header("webhook-id");
      const r: ReceivedRequest = {
        seq: this.requests.length,
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        id,
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        raw,
        body: raw.toString("utf8"),
        receivedAt: Date.now(),
        concurrentSameId: this.inFlight.get(id) ?? 0,
      };
      try {
        r.event = fromJsonString(WebhookEventSchema, r.body);
      } catch (e) {
        r.parseError = (e as Error).message;
      }
      if (this.secret) r.verification = this.verify(r);
      if (r.concurrentSameId > 0) this.overlaps.push(r);
      this.inFlight.set(id, r.concurrentSameId + 1);
      this.inFlightTotal++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlightTotal);
      let finished = false;
      const finish = (answer: ReceivedRequest["answer"]) => {
        if (finished) return;
        finished = true;
        r.answer = answer;
        r.answeredAt = Date.now();
        const n = (this.inFlight.get(id) ?? 1) - 1;
        if (n === 0) this.inFlight.delete(id);
        else this.inFlight.set(id, n);
        this.inFlightTotal--;
        this.notify();
      };
      // The sender gave up (its timeout) or the receiver closed: no longer in flight. A status
      // whose sending had not finished by then was not received.
      res.once("close", () => finish(r.answer === undefined || (typeof r.answer === "number" && !res.writableFinished) ? "aborted" : r.answer));
      this.requests.push(r);
      this.notify();
      const mode = typeof this.mode === "function" ? this.mode(r) : this.mode;
      if (mode.kind === "hang") {
        r.answer = "hang";
        this.hanging.add(res);
        res.once("close", () => this.hanging.delete(res));
        return;
      }
      if (mode.kind === "close") {
        r.answer = "close";
        req.socket.destroy();
        return;
      }
      const send = () => {
        if (finished) return; // the sender went away during the delay
        r.answer = mode.status;
        res.writeHead(mode.status, { "content-type": "text/plain", ...(mode.headers ?? {}) });
        res.end(`${mode.status}\n`, () => finish(mode.status));
      };
      if (mode.delayMs) setTimeout(send, mode.delayMs);
      else send();
    });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with `check()`'s first truthy value, re-checked on every request and answer; rejects after timeoutMs. */
  async until<T>(what: string, check: () => T | undefined | false, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: not within ${timeoutMs} ms (${this.summary()})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The first request matching `pred` (searching from the start). */
  waitFor(pred: (r: ReceivedRequest) => boolean, timeoutMs = 10_000, what = "a matching webhook request"): Promise<ReceivedRequest> {
    return this.until(what, () => this.requests.find(pred), timeoutMs);
  }

  /** Waits until `n` requests (matching `pred`, when given) arrived; resolves with them. */
  waitForCount(n: number, timeoutMs = 10_000, pred: (r: ReceivedRequest) => boolean = () => true): Promise<ReceivedRequest[]> {
    return this.until(`${n} webhook requests`, () => {
      const got = this.requests.filter(pred);
      return got.length >= n ? got : undefined;
    }, timeoutMs);
  }

  /** Waits until `n` distinct ids (of requests matching `pred`) were answered 2xx; resolves with those requests. */
  waitForDelivered(n: number, timeoutMs = 10_000, pred: (r: ReceivedRequest) => boolean = () => true): Promise<ReceivedRequest[]> {
    return this.until(`${n} delivered webhook ids`, () => {
      const got = this.delivered(pred);
      return got.length >= n ? got : undefined;
    }, timeoutMs);
  }

  /** One request per id answered 2xx (the first such), in order of arrival. */
  delivered(pred: (r: ReceivedRequest) => boolean = () => true): ReceivedRequest[] {
    const seen = new Set<string>();
    const out: ReceivedRequest[] = [];
    for (const r of this.requests) {
      if (typeof r.answer === "number" && r.answer >= 200 && r.answer < 300 && r.answeredAt !== undefined && pred(r) && !seen.has(r.id)) {
        seen.add(r.id);
        out.push(r);
      }
    }
    return out;
  }

  /** The distinct `webhook-id`s received (of requests matching `pred`). */
  distinctIds(pred: (r: ReceivedRequest) => boolean = () => true): string[] {
    return [...new Set(this.requests.filter(pred).map((r) => r.id))];
  }

  /** Every request grouped by `webhook-id`. */
  byId(): Map<string, ReceivedRequest[]> {
    const out = new Map<string, ReceivedRequest[]>();
    for (const r of this.requests) out.set(r.id, [...(out.get(r.id) ?? []), r]);
    return out;
  }

  /** Requests whose signature failed either check, or whose body is not a WebhookEvent. */
  invalid(): ReceivedRequest[] {
    return this.requests.filter((r) => r.parseError !== undefined || !r.verification || !r.verification.library || !r.verification.manual);
  }

  /** Requests hanging now. */
  get hangingCount(): number {
    return this.hanging.size;
  }

  summary(): string {
    const answers: Record<string, number> = {};
    for (const r of this.requests) answers[String(r.answer)] = (answers[String(r.answer)] ?? 0) + 1;
    return `${this.requests.length} requests, ${this.distinctIds().length} ids, answers ${JSON.stringify(answers)}, hanging ${this.hanging.size}`;
  }

  /** Stops listening and destroys every connection, hanging ones included. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await closed;
    this.notify();
  }
}
