// The one place that talks to the server: a Connect transport (HTTP/1.1, binary protobuf) for
// a server URL, carrying the API token as a bearer token when there is one.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";

export interface Connection {
  server: string;
  token?: string;
}

export function createTransport({ server, token }: Connection): Transport {
  const interceptors: Interceptor[] = token ? [bearerToken(token)] : [];
  return createConnectTransport({ baseUrl: server, httpVersion: "1.1", useBinaryFormat: true, interceptors });
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
