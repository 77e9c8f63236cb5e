// One HTTP attempt of one delivery: POST the body with its headers, and say how it went.
//
// node:http / node:https on a fresh connection each time (no pool: a hanging receiver keeps
// nothing else waiting, and every connection is checked by guardedLookup). Redirects are never
// followed (3xx is a failure naming where it pointed). One timer covers the whole attempt:
// lookup, connect, TLS, sending and the answer's status line and headers, and the few KB of
// the response body that are read (and thrown away) before the connection is closed. Results
// and errors never carry the response body, nor more of the URL than scheme://host:port.
import http from "node:http";
import https from "node:https";
import { originOf } from "../domain/webhooks.js";
import { guardedLookup, literalRefusal, TargetRefused } from "./target.js";

/** How much of a response body is read (and discarded) before the connection is closed. */
const RESPONSE_READ_BYTES = 4096;
export const ERROR_MAX = 500;

export interface SendOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  /** Aborts the attempt (the server is stopping). */
  signal?: AbortSignal;
}

export interface SendResult {
  /** 2xx. */
  ok: boolean;
  /** The answer's status; 0 when there was none. */
  status: number;
  /** Why it failed; "" when ok. */
  error: string;
}

class AttemptAborted extends Error {}

export function send(url: URL, headers: Record<string, string>, body: string, opts: SendOptions): Promise<SendResult> {
  const refused = literalRefusal(url, opts.allowPrivate);
  if (refused) return Promise.resolve({ ok: false, status: 0, error: `refused: ${refused}` });
  if (opts.signal?.aborted) return Promise.resolve({ ok: false, status: 0, error: "not attempted: the server is stopping" });
  const payload = Buffer.from(body, "utf8");
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    let status = 0;
    const finish = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      resolve({ ...r, error: r.error.slice(0, ERROR_MAX) });
    };
    const client = url.protocol === "https:" ? https : http;
    const req = client.request(url, {
      method: "POST",
      agent: false,
      lookup: guardedLookup(opts.allowPrivate),
      headers: { ...headers, "content-length": String(payload.length), connection: "close" },
    });
    const timer = setTimeout(() => req.destroy(new AttemptAborted(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const onAbort = () => req.destroy(new AttemptAborted("interrupted: the server stopped during the attempt"));
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      const outcome = judge(url, status, res.headers.location);
      let read = 0;
      res.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read >= RESPONSE_READ_BYTES) {
          res.destroy();
          finish(outcome);
        }
      });
      res.on("end", () => finish(outcome));
      // A body cut short (or the timer, while reading it): the status was received, and decides.
      res.on("error", () => finish(outcome));
      res.on("close", () => finish(outcome));
    });
    req.on("error", (e) => {
      if (status !== 0) return; // the answer's status is in; its body's end is handled above
      finish({ ok: false, status: 0, error: describeError(e) });
    });
    req.end(payload);
  });
}

function judge(url: URL, status: number, location: string | undefined): SendResult {
  if (status >= 200 && status < 300) return { ok: true, status, error: "" };
  if (status >= 300 && status < 400) {
    let where = "elsewhere";
    if (location) {
      try {
        where = originOf(new URL(location, url));
      } catch {
        where = "an unparseable location";
      }
    }
    return { ok: false, status, error: `redirect (HTTP ${status}) to ${where} not followed` };
  }
  return { ok: false, status, error: `the receiver answered HTTP ${status}` };
}

const NET_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "the receiver closed the connection without an answer",
  EPIPE: "connection closed by the receiver",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host lookup failed (temporary DNS failure)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
};

function describeError(e: Error): string {
  if (e instanceof AttemptAborted) return e.message;
  if (e instanceof TargetRefused) return `refused: ${e.message}`;
  const code = (e as NodeJS.ErrnoException).code;
  if (code && NET_ERRORS[code]) return `${NET_ERRORS[code]} (${code})`;
  // TLS and the rest: Node's messages name the problem, never the body or the URL's path.
  return code ? `${e.message} (${code})` : e.message;
}
