// Clients for tests: Connect (our generated types over connect-node) and plain gRPC through
// @grpc/grpc-js with the .proto files, an implementation independent of ours.
import path from "node:path";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ROOT, TEST_ADMIN_TOKEN } from "./server.js";

/** Sends `Authorization: Bearer <token>`; `null` sends no header. */
export function bearer(token: string | null): Interceptor[] {
  if (token === null) return [];
  return [
    (next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    },
  ];
}

/** A Connect client; authenticates with the test admin token unless `token` says otherwise. */
export function connectClient<T extends DescService>(
  service: T,
  baseUrl: string,
  httpVersion: "1.1" | "2" = "1.1",
  token: string | null = TEST_ADMIN_TOKEN,
): Client<T> {
  return createClient(service, createConnectTransport({ baseUrl, httpVersion, interceptors: bearer(token) }));
}

/** gRPC over h2c through connect-node's gRPC transport. */
export function grpcTransportClient<T extends DescService>(
  service: T,
  baseUrl: string,
  token: string | null = TEST_ADMIN_TOKEN,
): Client<T> {
  return createClient(service, createGrpcTransport({ baseUrl, interceptors: bearer(token) }));
}

/** gRPC metadata carrying a bearer token (the test admin token by default). */
export function authMetadata(token: string | null = TEST_ADMIN_TOKEN): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token !== null) md.set("authorization", `Bearer ${token}`);
  return md;
}

export type GrpcJsClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** A @grpc/grpc-js client for `chainloop.v1.<serviceName>`, loaded from proto/<file>. */
export function grpcJsClient(protoFile: string, fullServiceName: string, port: number): GrpcJsClient {
  const def = protoLoader.loadSync(protoFile, {
    includeDirs: [path.join(ROOT, "proto")],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def);
  const Ctor = fullServiceName.split(".").reduce<any>((o, k) => o[k], pkg) as typeof grpc.Client;
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as GrpcJsClient;
}

/** Calls a unary grpc-js method as a promise; rejects with the ServiceError (code, details). */
export function grpcCall<T = any>(client: GrpcJsClient, method: string, req: unknown, metadata = authMetadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    (client[method] as Function).call(client, req, metadata, (err: grpc.ServiceError | null, res: T) =>
      err ? reject(err) : resolve(res),
    );
  });
}

export { grpc };
