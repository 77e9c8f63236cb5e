// @chainloop-deployments/client for browsers (and any runtime with fetch): Connect and gRPC-Web
// through connect-web. In Node, the "node" export condition selects src/node.ts instead, which
// adds gRPC.
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { clientsOver, interceptorsOf, type ChainloopClient, type ChainloopClientOptions } from "./client.js";

export * from "./client.js";
export * from "./messages.js";

export function createChainloopClient(opts: ChainloopClientOptions): ChainloopClient {
  const interceptors = interceptorsOf(opts);
  switch (opts.protocol ?? "connect") {
    case "connect":
      return clientsOver(createConnectTransport({ baseUrl: opts.baseUrl, interceptors, useHttpGet: opts.useHttpGet }));
    case "grpc-web":
      return clientsOver(createGrpcWebTransport({ baseUrl: opts.baseUrl, interceptors }));
    case "grpc":
      throw new Error('protocol "grpc" needs HTTP/2 trailers, which browsers do not expose: use "connect" or "grpc-web" here (gRPC works in Node)');
    default:
      throw new Error(`unknown protocol ${JSON.stringify(opts.protocol)}: use "connect", "grpc" or "grpc-web"`);
  }
}
