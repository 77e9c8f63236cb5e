// The Node request handler for every RPC: connect-node's adapter (connectNodeAdapter), with
// three differences found by tests/faults/hostile-input.test.ts:
//
// 1. A request message that cannot be decoded (malformed protobuf, a compressed gRPC message
//    without grpc-encoding) is the caller's error: connect-es answers Internal, before any
//    interceptor runs, so server/interceptors/errors.ts never sees it. Here it becomes
//    InvalidArgument, in whichever protocol the call spoke (Connect unary and streaming, gRPC
//    trailers, gRPC-Web trailer frames).
// 2. Refusals connect-es answers with an empty body (415 unsupported content type, 405 wrong
//    HTTP method) carry a Connect error body with a message.
// 3. An unknown path is answered Unimplemented with a message: gRPC and gRPC-Web callers get a
//    gRPC status, everyone else a Connect error (404).
// 4. Error messages are cut to MESSAGE_MAX characters: some quote the request (a 300 KB
//    string in a decode error, an unknown health service name), and a gRPC status message that
//    large travels in a trailer no client accepts (the stream, then the connection, failed).
// 5. The request's abort signal fires only when the client goes away before the answer is
//    complete (universalRequest below).
import { Code, ConnectError, createConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalResponseToNodeResponse,
  type ConnectNodeAdapterOptions,
} from "@connectrpc/connect-node";
import type { ContextValues } from "@connectrpc/connect";
import type http from "node:http";
import http2 from "node:http2";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** What connect-es raises as Internal while reading a request: the input's fault, not ours. */
const INPUT_ERROR = /^(parse binary: |received compressed envelope, but do not know how to decompress)/;
const inputMessage = (m: string) => `the request message could not be decoded: ${m}`;

/** Longest error message sent (characters); gRPC clients cap metadata at a few KiB. */
export const MESSAGE_MAX = 1024;
const bound = (m: string) => (m.length <= MESSAGE_MAX ? m : `${m.slice(0, MESSAGE_MAX)}… (${m.length - MESSAGE_MAX} more characters)`);

const CONNECT_CODE_NAMES: Record<number, string> = {
  [Code.InvalidArgument]: "invalid_argument",
  [Code.Unimplemented]: "unimplemented",
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function jsonError(status: number, code: Code, message: string): UniversalServerResponse {
  return {
    status,
    header: new Headers({ "content-type": "application/json" }),
    body: single(encoder.encode(JSON.stringify({ code: CONNECT_CODE_NAMES[code], message }))),
  };
}

async function* single(chunk: Uint8Array): AsyncIterable<Uint8Array> {
  yield chunk;
}

/** Reads gRPC-Web / Connect-streaming envelopes in a chunk; undefined unless it splits exactly. */
function splitEnvelopes(chunk: Uint8Array): Array<{ flags: number; data: Uint8Array }> | undefined {
  const out: Array<{ flags: number; data: Uint8Array }> = [];
  let off = 0;
  while (off < chunk.length) {
    if (off + 5 > chunk.length) return undefined;
    const len = new DataView(chunk.buffer, chunk.byteOffset + off + 1, 4).getUint32(0);
    if (off + 5 + len > chunk.length) return undefined;
    out.push({ flags: chunk[off], data: chunk.subarray(off + 5, off + 5 + len) });
    off += 5 + len;
  }
  return out;
}

function joinEnvelopes(envs: Array<{ flags: number; data: Uint8Array }>): Uint8Array {
  const out = new Uint8Array(envs.reduce((n, e) => n + 5 + e.data.length, 0));
  let off = 0;
  for (const e of envs) {
    out[off] = e.flags;
    new DataView(out.buffer, off + 1, 4).setUint32(0, e.data.length);
    out.set(e.data, off + 5);
    off += 5 + e.data.length;
  }
  return out;
}

const grpcMessageDecode = (m: string) => {
  try {
    return decodeURIComponent(m);
  } catch {
    return m;
  }
};

/** grpc-status 13 for an undecodable request → 3, in a Headers object (gRPC trailers). */
function fixGrpcTrailer(trailer: Headers): void {
  const raw = trailer.get("grpc-message");
  if (raw === null) return;
  const message = grpcMessageDecode(raw);
  if (trailer.get("grpc-status") === String(Code.Internal) && INPUT_ERROR.test(message)) {
    trailer.set("grpc-status", String(Code.InvalidArgument));
    trailer.set("grpc-message", encodeURIComponent(bound(inputMessage(message))));
  } else if (message.length > MESSAGE_MAX) {
    trailer.set("grpc-message", encodeURIComponent(bound(message)));
  }
}

/** Applies `fix` to the data of the envelopes flagged `flag` in a chunk that splits exactly into envelopes; anything else passes unchanged. */
function mapFlaggedEnvelopes(chunk: Uint8Array, flag: number, fix: (data: Uint8Array) => Uint8Array): Uint8Array {
  const envs = splitEnvelopes(chunk);
  if (!envs?.some((e) => e.flags & flag)) return chunk;
  return joinEnvelopes(envs.map((e) => (e.flags & flag ? { flags: e.flags, data: fix(e.data) } : e)));
}

/** The same inside gRPC-Web trailer frames (flag 0x80: "name: value\r\n" lines). */
function fixGrpcWebChunk(chunk: Uint8Array): Uint8Array {
  return mapFlaggedEnvelopes(chunk, 0x80, (data) => {
    const trailer = new Headers();
    for (const line of decoder.decode(data).split("\r\n")) {
      const i = line.indexOf(":");
      if (i > 0) trailer.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    fixGrpcTrailer(trailer);
    let text = "";
    trailer.forEach((value, name) => (text += `${name}: ${value}\r\n`));
    return encoder.encode(text);
  });
}

/** The same in a Connect streaming end-stream message (flag 0x02: {"error": {code, message}}). */
function fixConnectStreamChunk(chunk: Uint8Array): Uint8Array {
  return mapFlaggedEnvelopes(chunk, 0x02, (data) => {
    try {
      const end = JSON.parse(decoder.decode(data)) as { error?: { code?: string; message?: string } };
      if (end.error?.code === "internal" && INPUT_ERROR.test(end.error.message ?? "")) {
        end.error = { ...end.error, code: "invalid_argument", message: bound(inputMessage(end.error.message ?? "")) };
        return encoder.encode(JSON.stringify(end));
      }
      if (end.error && (end.error.message ?? "").length > MESSAGE_MAX) {
        end.error = { ...end.error, message: bound(end.error.message ?? "") };
        return encoder.encode(JSON.stringify(end));
      }
    } catch {
      /* not ours to fix */
    }
    return data;
  });
}

async function* mapChunks(body: AsyncIterable<Uint8Array>, fix: (c: Uint8Array) => Uint8Array, after?: () => void) {
  for await (const chunk of body) yield fix(chunk);
  after?.();
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

async function mapResponse(res: UniversalServerResponse, httpMethod: string): Promise<UniversalServerResponse> {
  const contentType = res.header?.get("content-type") ?? "";
  if (!res.body) {
    if (res.status === 415 && httpMethod === "GET") {
      return jsonError(415, Code.Unimplemented, "a GET call needs the Connect query parameters: ?encoding=json|proto&message=<the request, URL-encoded> (base64=1 for binary), and connect=v1");
    }
    if (res.status === 415) {
      return jsonError(415, Code.Unimplemented, "unsupported content-type: use application/json or application/proto (Connect), application/grpc[+proto|+json] (gRPC) or application/grpc-web[+proto|+json] (gRPC-Web)");
    }
    if (res.status === 405) {
      return jsonError(405, Code.Unimplemented, "HTTP method not allowed: RPCs are called with POST; side-effect-free ones (Get*, List*, DescribeArtifact, DiffDeployments) also with GET (Connect protocol)");
    }
    return res;
  }
  if (contentType.startsWith("application/grpc-web")) return { ...res, body: mapChunks(res.body, fixGrpcWebChunk) };
  if (contentType.startsWith("application/grpc")) {
    const trailer = res.trailer;
    return trailer ? { ...res, body: mapChunks(res.body, (c) => c, () => fixGrpcTrailer(trailer)) } : res;
  }
  if (contentType.startsWith("application/connect+")) return { ...res, body: mapChunks(res.body, fixConnectStreamChunk) };
  if (res.status !== 200 && contentType.startsWith("application/json")) {
    // A Connect unary error: small, read it whole.
    const bytes = await readAll(res.body);
    try {
      const err = JSON.parse(decoder.decode(bytes)) as { code?: string; message?: string };
      if (err.code === "internal" && INPUT_ERROR.test(err.message ?? "")) {
        const header = new Headers(res.header);
        header.delete("content-length");
        return { ...jsonError(400, Code.InvalidArgument, bound(inputMessage(err.message ?? ""))), header };
      }
      if ((err.message ?? "").length > MESSAGE_MAX) {
        const header = new Headers(res.header);
        header.delete("content-length");
        return { ...res, header, body: single(encoder.encode(JSON.stringify({ ...err, message: bound(err.message ?? "") }))) };
      }
    } catch {
      /* not a Connect error body */
    }
    return { ...res, body: single(bytes) };
  }
  return res;
}

function wrap(h: UniversalHandler): UniversalHandler {
  const wrapped = async (req: UniversalServerRequest) => mapResponse(await h(req), req.method);
  return Object.assign(wrapped, {
    protocolNames: h.protocolNames,
    service: h.service,
    method: h.method,
    requestPath: h.requestPath,
    allowedMethods: h.allowedMethods,
    supportedContentType: h.supportedContentType,
  }) as UniversalHandler;
}

/** An unknown path: Unimplemented with a message, in the caller's protocol. */
function notFound(req: NodeRequest, res: NodeResponse): void {
  const path = (req.url ?? "").split("?", 1)[0].slice(0, 200);
  const message = `no such method: ${path} (this server serves the chainloop.v1 services of proto/, grpc.health.v1.Health and grpc.reflection.v1(alpha).ServerReflection)`;
  const contentType = String(req.headers["content-type"] ?? "");
  req.resume(); // discard the body
  if (contentType.startsWith("application/grpc")) {
    // Trailers-only gRPC (and gRPC-Web) answer: status in the headers.
    res.writeHead(200, {
      "content-type": contentType.startsWith("application/grpc-web") ? "application/grpc-web+proto" : "application/grpc",
      "grpc-status": String(Code.Unimplemented),
      "grpc-message": encodeURIComponent(message),
    });
    res.end();
    return;
  }
  const body = JSON.stringify({ code: "unimplemented", message });
  res.writeHead(404, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}

/** The client went away before the answer was complete (the request's abort reason). */
const clientGone = () => new ConnectError("the client went away before the answer was complete", Code.Canceled);

/**
 * The request connect's handlers read: what connect-node's universalRequestFromNodeRequest
 * builds, but for two things.
 * - Its signal aborts only when the client goes away before the answer is complete (the
 *   request errors, or the response closes unfinished: a reset HTTP/2 stream, a dropped
 *   connection), with a reason. connect-node's aborts when any response closes, finished or not,
 *   and without a reason, so Node built a DOMException, stack trace and all, for every call:
 *   with connect's own end-of-call abort, stack traces cost the record path ~12 % of its CPU
 *   (benchmark, --stack-trace-limit=0 against the default). A WatchDeployments stream still ends
 *   when its client goes.
 * - HTTP/1.1 bodies are read without destroying the request when connect stops reading early
 *   (over the size limit): destroying it took the socket down before the answer was written;
 *   now the answer goes out and server/app.ts closes the connection after it.
 */
function universalRequest(req: NodeRequest, res: NodeResponse, contextValues: ContextValues | undefined): UniversalServerRequest {
  const controller = new AbortController();
  const settle = () => {
    req.off("error", onError);
    res.off("close", onClose);
  };
  const onError = () => {
    settle();
    controller.abort(clientGone());
  };
  const onClose = () => {
    settle();
    // Over HTTP/2, Node's compatibility layer finishes the response when the client resets the
    // stream, so writableFinished is true either way; the reset code tells them apart (NO_ERROR:
    // the answer ended normally). Without this a cancelled WatchDeployments stream over HTTP/2
    // (gRPC, Connect h2) kept its watcher (tests/integration/metrics.test.ts).
    const reset = "stream" in res && res.stream.rstCode !== undefined && res.stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR;
    if (!res.writableFinished || reset) controller.abort(clientGone());
  };
  req.once("error", onError);
  res.once("close", onClose);
  const h2 = "stream" in req;
  const authority = h2 ? req.authority : req.headers.host;
  if (authority === undefined) throw new ConnectError("unable to determine request authority from Node.js server request", Code.Internal);
  const header = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.startsWith(":") || v === undefined) continue;
    if (Array.isArray(v)) for (const e of v) header.append(k, e);
    else header.append(k, String(v));
  }
  return {
    httpVersion: req.httpVersion,
    method: req.method ?? "",
    url: new URL(req.url ?? "", `http://${authority}`).toString(),
    header,
    body: req.iterator({ destroyOnReturn: h2 }) as AsyncIterable<Uint8Array>,
    signal: controller.signal,
    contextValues,
  };
}

/** connectNodeAdapter (connect-node), with the mapping above. */
export function rpcNodeAdapter(options: ConnectNodeAdapterOptions): (req: NodeRequest, res: NodeResponse) => void {
  if (options.acceptCompression === undefined) options.acceptCompression = [compressionGzip, compressionBrotli];
  const router = createConnectRouter(options);
  options.routes(router);
  const paths = new Map<string, UniversalHandler>();
  for (const h of router.handlers) paths.set((options.requestPathPrefix ?? "") + h.requestPath, wrap(h));
  return (req, res) => {
    const h = paths.get((req.url ?? "").split("?", 2)[0]);
    if (!h) {
      notFound(req, res);
      return;
    }
    const uReq = universalRequest(req, res, options.contextValues?.(req as never));
    h(uReq)
      .then((uRes) => universalResponseToNodeResponse(uRes, res as http.ServerResponse))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        // connect-node logs these with console.error; they are the client going away mid-answer.
      });
  };
}
