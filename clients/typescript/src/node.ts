// @chainloop-deployments/client in Node: Connect, gRPC (HTTP/2) and gRPC-Web through
// connect-node. Connect and gRPC-Web use HTTP/1.1 unless told otherwise; gRPC needs HTTP/2.
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { clientsOver, interceptorsOf, type ChainloopClient, type ChainloopClientOptions } from "./client.js";

export * from "./client.js";
export * from "./messages.js";

export interface NodeClientOptions extends ChainloopClientOptions {
  /** HTTP version for Connect and gRPC-Web ("1.1" by default); gRPC always uses "2". */
  httpVersion?: "1.1" | "2";
}

export function createChainloopClient(opts: NodeClientOptions): ChainloopClient {
  const interceptors = interceptorsOf(opts);
  const httpVersion = opts.httpVersion ?? "1.1";
  switch (opts.protocol ?? "connect") {
    case "connect":
      return clientsOver(createConnectTransport({ baseUrl: opts.baseUrl, httpVersion, interceptors, useHttpGet: opts.useHttpGet }));
    case "grpc":
      return clientsOver(createGrpcTransport({ baseUrl: opts.baseUrl, interceptors }));
    case "grpc-web":
      return clientsOver(createGrpcWebTransport({ baseUrl: opts.baseUrl, httpVersion, interceptors }));
    default:
      throw new Error(`unknown protocol ${JSON.stringify(opts.protocol)}: use "connect", "grpc" or "grpc-web"`);
  }
}
