// What connect-node answers without a message, answered with one: a path that is no RPC
// (connectNodeAdapter's `fallback`), and a known RPC called with the wrong HTTP method (405) or
// content type (415), which connect answers with an empty body before any interceptor runs.
// Everything else about errors is server/interceptors/errors.ts's (codes, message length) and
// patches/@connectrpc+*.patch's (undecodable requests are InvalidArgument).
import { Code, type ConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";

/** A Node request handler, as connectNodeAdapter's `fallback` takes it. */
export type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;

const encoder = new TextEncoder();

const UNSUPPORTED_GET =
  "a GET call needs the Connect query parameters: ?encoding=json|proto&message=<the request, URL-encoded> (base64=1 for binary), and connect=v1";
const UNSUPPORTED_CONTENT_TYPE =
  "unsupported content-type: use application/json or application/proto (Connect), application/grpc[+proto|+json] (gRPC) or application/grpc-web[+proto|+json] (gRPC-Web)";
const METHOD_NOT_ALLOWED =
  "HTTP method not allowed: RPCs are called with POST; side-effect-free ones (Get*, List*, DescribeArtifact, DiffDeployments) also with GET (Connect protocol)";

/** A Connect error body: {"code": "unimplemented", "message": …}. */
function unimplemented(status: number, message: string): UniversalServerResponse {
  const body = encoder.encode(JSON.stringify({ code: "unimplemented", message }));
  return {
    status,
    header: new Headers({ "content-type": "application/json", "content-length": String(body.byteLength) }),
    body: (async function* () {
      yield body;
    })(),
  };
}

/** The empty 415 and 405 answers of connect's protocol negotiation, with a Connect error body. */
async function withMessage(res: UniversalServerResponse, req: UniversalServerRequest): Promise<UniversalServerResponse> {
  if (res.body !== undefined) return res;
  if (res.status === 415) return unimplemented(415, req.method === "GET" ? UNSUPPORTED_GET : UNSUPPORTED_CONTENT_TYPE);
  if (res.status === 405) return unimplemented(405, METHOD_NOT_ALLOWED);
  return res;
}

/**
 * `routes` (connectNodeAdapter's option), with the refusal messages above on every handler it
 * registers: connectNodeAdapter serves `router.handlers` as they are once `routes` returns.
 */
export function withRefusalMessages(routes: (router: ConnectRouter) => void): (router: ConnectRouter) => void {
  return (router) => {
    routes(router);
    router.handlers.forEach((h, i) => {
      const wrapped = async (req: UniversalServerRequest) => withMessage(await h(req), req);
      router.handlers[i] = Object.assign(wrapped, {
        protocolNames: h.protocolNames,
        service: h.service,
        method: h.method,
        requestPath: h.requestPath,
        allowedMethods: h.allowedMethods,
        supportedContentType: h.supportedContentType,
      }) satisfies UniversalHandler;
    });
  };
}

/**
 * A path that is no RPC (connectNodeAdapter's `fallback`, after the web page, /healthz and
 * /metrics had their turn): Unimplemented with a message, in the caller's protocol. gRPC and
 * gRPC-Web callers get a trailers-only gRPC status, everyone else a Connect error (404).
 */
export const unknownPath: NodeHandler = (req, res) => {
  const path = (req.url ?? "").split("?", 1)[0].slice(0, 200);
  const message = `no such method: ${path} (this server serves the chainloop.v1 services of proto/, grpc.health.v1.Health and grpc.reflection.v1(alpha).ServerReflection)`;
  const contentType = String(req.headers["content-type"] ?? "");
  req.resume(); // discard the body
  if (contentType.startsWith("application/grpc")) {
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
};
