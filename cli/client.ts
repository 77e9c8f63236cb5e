// The one place that talks to the server: a Connect transport (HTTP/1.1, binary protobuf) for
// a server URL, carrying the API token as a bearer token when there is one.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";

export interface Connection {
  server: string;
  token?: string;
  /**
   * Bound on each unary call (ms; 0 or unset: none), so a server that accepts the connection
   * but never answers cannot hang a pipeline. Streams (`deployment watch`) are not bounded;
   * a call can still pass its own `timeoutMs`.
   */
  timeoutMs?: number;
}

export function createTransport({ server, token, timeoutMs }: Connection): Transport {
  const interceptors: Interceptor[] = token ? [bearerToken(token)] : [];
  const transport = createConnectTransport({ baseUrl: server, httpVersion: "1.1", useBinaryFormat: true, interceptors });
  if (!timeoutMs) return transport;
  return {
    unary: (method, signal, callTimeoutMs, ...rest) => transport.unary(method, signal, callTimeoutMs ?? timeoutMs, ...rest),
    stream: (...args) => transport.stream(...args),
  };
}

/** Clients for any service, sharing one transport. */
export function connect(connection: Connection): <S extends DescService>(service: S) => Client<S> {
  const transport = createTransport(connection);
  return (service) => createClient(service, transport);
}

function bearerToken(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("Authorization", `Bearer ${token}`);
    return next(req);
  };
}
