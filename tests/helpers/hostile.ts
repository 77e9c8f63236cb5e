// Raw transports for hostile-input tests: requests the generated clients would never send
// (wrong types, broken envelopes, bad headers, oversized bodies) over HTTP/1.1, h2c and bare
// TCP, and a parser that reads whatever comes back as Connect, gRPC or gRPC-Web. Nothing here
// retries or validates: every answer, or the lack of one, is reported as it was.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

export type Protocol = "connect" | "grpc" | "grpc-web" | "raw";

export interface RawRequest {
  transport: "h1" | "h2" | "tcp";
  protocol: Protocol;
  path: string;
  method?: string;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** HTTP/1.1: send the body chunked, without content-length. */
  chunked?: boolean;
}

export interface Answer {
  /** "ok": the call succeeded; "rpc-error": a Connect/gRPC error with code and message;
   * "http-error": an HTTP status without an RPC error; "transport": no answer (reset, closed, timeout). */
  kind: "ok" | "rpc-error" | "http-error" | "transport";
  status: number;
  /** Connect code name ("invalid_argument") or gRPC code name, for rpc-error. */
  code?: string;
  message?: string;
  /** The response message bytes (unary, binary) or JSON text, when kind is ok. */
  payload?: Buffer;
  contentType?: string;
  transportError?: string;
  ms: number;
}

const GRPC_CODES = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];

export const grpcCodeName = (n: number) => GRPC_CODES[n] ?? `code_${n}`;

/** A gRPC length-prefixed message: flags byte, big-endian length, payload. */
export function envelope(payload: Buffer, flags = 0, declaredLength = payload.length): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(declaredLength >>> 0, 1);
  return Buffer.concat([head, payload]);
}

function decodeGrpcMessage(raw: string | undefined): string {
  if (!raw) return "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Interprets a complete response (headers, body, trailers) by the protocol the request spoke. */
export function interpret(
  protocol: Protocol,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
  trailers: Record<string, string | string[] | undefined>,
  ms: number,
): Answer {
  const h = (name: string, from: Record<string, string | string[] | undefined> = headers) => {
    const v = from[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const contentType = h("content-type") ?? "";
  if (protocol === "grpc" || protocol === "grpc-web") {
    let gs = h("grpc-status", trailers) ?? h("grpc-status");
    let gm = h("grpc-message", trailers) ?? h("grpc-message");
    let payload: Buffer | undefined;
    if (protocol === "grpc-web" && gs === undefined) {
      // Trailers travel in the body: a frame with flag 0x80 holding "name: value\r\n" lines.
      let off = 0;
      while (off + 5 <= body.length) {
        const flags = body[off];
        const len = body.readUInt32BE(off + 1);
        const frame = body.subarray(off + 5, off + 5 + len);
        if (flags & 0x80) {
          for (const line of frame.toString("utf8").split("\r\n")) {
            const i = line.indexOf(":");
            if (i < 0) continue;
            const k = line.slice(0, i).trim().toLowerCase();
            const v = line.slice(i + 1).trim();
            if (k === "grpc-status") gs = v;
            if (k === "grpc-message") gm = v;
          }
        } else payload = frame;
        off += 5 + len;
      }
    } else if (body.length >= 5) {
      payload = body.subarray(5, 5 + body.readUInt32BE(1));
    }
    if (gs === undefined) return { kind: "http-error", status, message: body.toString("utf8"), contentType, ms };
    const code = Number(gs);
    if (code === 0) return { kind: "ok", status, payload, contentType, ms };
    return { kind: "rpc-error", status, code: grpcCodeName(code), message: decodeGrpcMessage(gm), contentType, ms };
  }
  if (status === 200) return { kind: "ok", status, payload: body, contentType, ms };
  if (contentType.startsWith("application/json")) {
    try {
      const err = JSON.parse(body.toString("utf8")) as { code?: unknown; message?: unknown };
      if (typeof err.code === "string") {
        return { kind: "rpc-error", status, code: err.code, message: typeof err.message === "string" ? err.message : "", contentType, ms };
      }
    } catch {
      /* not a Connect error body */
    }
  }
  return { kind: "http-error", status, message: body.toString("utf8"), contentType, ms };
}

const transportAnswer = (e: unknown, ms: number): Answer => ({
  kind: "transport",
  status: 0,
  transportError: (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? String(e),
  ms,
});

/** HTTP/1.1 through one keep-alive agent. */
export class H1Client {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  constructor(private readonly port: number) {}

  send(req: RawRequest, timeoutMs: number): Promise<Answer> {
    const started = performance.now();
    return new Promise((resolve) => {
      let done = false;
      const finish = (a: Answer) => {
        if (!done) {
          done = true;
          resolve(a);
        }
      };
      let r: http.ClientRequest;
      try {
        r = http.request(
        {
          host: "127.0.0.1",
          port: this.port,
          method: req.method ?? "POST",
          path: req.path,
          headers: req.chunked ? req.headers : { ...req.headers, "content-length": String(req.body.length) },
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            finish(interpret(req.protocol, res.statusCode ?? 0, res.headers, Buffer.concat(chunks), res.trailers, performance.now() - started)),
          );
          res.on("error", (e) => finish(transportAnswer(e, performance.now() - started)));
        },
        );
      } catch (e) {
        throw new Error(`the test built a request Node refuses to send (${(e as Error).message}); fix the generator`);
      }
      r.setTimeout(timeoutMs, () => r.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      // Writing a body the server refused early may fail (EPIPE) after its answer arrived: the
      // answer, if any, decides.
      r.on("error", (e) => setTimeout(() => finish(transportAnswer(e, performance.now() - started)), 50));
      r.end(req.body);
    });
  }

  close() {
    this.agent.destroy();
  }
}

/** h2c with prior knowledge, one session reopened whenever the server ends it. */
export class H2Client {
  private session: http2.ClientHttp2Session | undefined;
  sessionsOpened = 0;
  constructor(private readonly url: string) {}

  private get(): http2.ClientHttp2Session {
    if (!this.session || this.session.closed || this.session.destroyed) {
      // Bodies over the server limit (4+ MiB each, several at once) are buffered here: the default
      // 10 MB of session memory would make this client refuse its own streams (ENHANCE_YOUR_CALM).
      const s = http2.connect(this.url, { maxSessionMemory: 1024 });
      s.on("error", () => undefined); // reported per stream
      s.on("goaway", () => {
        if (this.session === s) this.session = undefined;
      });
      s.on("close", () => {
        if (this.session === s) this.session = undefined;
      });
      this.session = s;
      this.sessionsOpened++;
    }
    return this.session;
  }

  send(req: RawRequest, timeoutMs: number): Promise<Answer> {
    const started = performance.now();
    return new Promise((resolve) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (a: Answer) => {
        if (!done) {
          done = true;
          clearTimeout(timer);
          resolve(a);
        }
      };
      let stream: http2.ClientHttp2Stream;
      try {
        // endStream false: Node would otherwise end GET and DELETE streams before their body.
        stream = this.get().request({ ":method": req.method ?? "POST", ":path": req.path, ...req.headers }, { endStream: false });
      } catch (e) {
        finish(transportAnswer(e, performance.now() - started));
        return;
      }
      timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        finish({ kind: "transport", status: 0, transportError: `timeout after ${timeoutMs} ms`, ms: performance.now() - started });
      }, timeoutMs);
      let status = 0;
      let headers: Record<string, string | string[] | undefined> = {};
      let trailers: Record<string, string | string[] | undefined> = {};
      const chunks: Buffer[] = [];
      stream.on("response", (h) => {
        status = Number(h[":status"]);
        headers = h as Record<string, string | string[] | undefined>;
      });
      stream.on("trailers", (t) => {
        trailers = t as Record<string, string | string[] | undefined>;
      });
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => finish(interpret(req.protocol, status, headers, Buffer.concat(chunks), trailers, performance.now() - started)));
      stream.on("close", () => {
        // Closed with a reset but after a complete answer (headers + trailers): that answer counts.
        if (status !== 0 && (stream.rstCode === http2.constants.NGHTTP2_NO_ERROR || trailers["grpc-status"] !== undefined || headers["grpc-status"] !== undefined)) {
          finish(interpret(req.protocol, status, headers, Buffer.concat(chunks), trailers, performance.now() - started));
        }
        finish({ kind: "transport", status, transportError: `stream closed (rst ${stream.rstCode})`, ms: performance.now() - started });
      });
      stream.on("error", () => undefined); // the close handler reports it
      stream.end(req.body);
    });
  }

  close() {
    this.session?.destroy();
  }
}

/** Bytes on a bare TCP connection; resolves with whatever came back before it closed (or the timeout). */
export function sendTcp(port: number, bytes: Buffer, timeoutMs: number): Promise<{ received: Buffer; error?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const socket = net.connect(port, "127.0.0.1", () => socket.end(bytes));
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on("close", () => resolve({ received: Buffer.concat(chunks), error }));
  });
}

/**
 * HTTP/1.1 on a bare socket, reading the answer while the body is still being written (as curl
 * does): a server may answer a body over its limit before reading it and close, and Node's own
 * client then reports the write error (EPIPE) instead of the answer that arrived.
 */
export function sendH1Raw(port: number, req: RawRequest, timeoutMs: number): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const chunks: Buffer[] = [];
    let writeError: string | undefined;
    const socket = net.connect(port, "127.0.0.1");
    const finish = (a: Answer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(a);
    };
    const timer = setTimeout(
      () => finish({ kind: "transport", status: 0, transportError: `timeout after ${timeoutMs} ms`, ms: performance.now() - started }),
      timeoutMs,
    );
    const tryParse = (final: boolean) => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf("\r\n\r\n");
      if (end < 0) return final ? finish(transportAnswer(new Error(writeError ?? "closed without an answer"), performance.now() - started)) : undefined;
      const lines = all.subarray(0, end).toString("latin1").split("\r\n");
      const status = Number(lines[0].split(" ")[1]);
      if (status === 100) {
        chunks.splice(0, chunks.length, all.subarray(end + 4));
        return tryParse(final);
      }
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(":");
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let rest = all.subarray(end + 4);
      let body: Buffer | undefined;
      if (headers["content-length"] !== undefined) {
        const n = Number(headers["content-length"]);
        if (rest.length >= n) body = rest.subarray(0, n);
      } else if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
        const parts: Buffer[] = [];
        for (;;) {
          const nl = rest.indexOf("\r\n");
          if (nl < 0) break;
          const size = parseInt(rest.subarray(0, nl).toString("latin1"), 16);
          if (Number.isNaN(size) || rest.length < nl + 2 + size + 2) break;
          if (size === 0) {
            body = Buffer.concat(parts);
            break;
          }
          parts.push(rest.subarray(nl + 2, nl + 2 + size));
          rest = rest.subarray(nl + 2 + size + 2);
        }
      } else if (final) body = rest;
      if (body) finish(interpret(req.protocol, status, headers, body, {}, performance.now() - started));
      else if (final) finish(transportAnswer(new Error(`answer cut short (${writeError ?? "closed"})`), performance.now() - started));
    };
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      tryParse(false);
    });
    socket.on("error", (e: NodeJS.ErrnoException) => (writeError = e.code ?? e.message));
    socket.on("close", () => tryParse(true));
    socket.on("connect", async () => {
      const head = [`${req.method ?? "POST"} ${req.path} HTTP/1.1`, "host: 127.0.0.1"];
      for (const [k, v] of Object.entries(req.headers)) for (const one of Array.isArray(v) ? v : [v]) head.push(`${k}: ${one}`);
      head.push(req.chunked ? "transfer-encoding: chunked" : `content-length: ${req.body.length}`);
      socket.write(head.join("\r\n") + "\r\n\r\n");
      const step = 64 * 1024;
      for (let off = 0; off < req.body.length && !done && !socket.destroyed && !writeError; off += step) {
        const piece = req.body.subarray(off, off + step);
        const ok = socket.write(req.chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]) : piece);
        if (!ok) await new Promise((r) => socket.once("drain", r).once("close", r));
      }
      if (req.chunked && !done && !socket.destroyed) socket.write("0\r\n\r\n");
    });
  });
}
