// Calling the API from @grpc/grpc-js with the .proto files (no generated code): list environments.
//   CHAINLOOP_TARGET=127.0.0.1:8080 CHAINLOOP_TOKEN=clp_… PROTO_DIR=path/to/proto node grpc-js.mjs
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const definition = protoLoader.loadSync("chainloop/v1/environment.proto", { includeDirs: [process.env.PROTO_DIR ?? "proto"] });
const { chainloop } = grpc.loadPackageDefinition(definition);
const environments = new chainloop.v1.EnvironmentService(process.env.CHAINLOOP_TARGET ?? "127.0.0.1:8080", grpc.credentials.createInsecure());
const metadata = new grpc.Metadata();
metadata.set("authorization", `Bearer ${process.env.CHAINLOOP_TOKEN}`);
environments.ListEnvironments({ query: "k8s" }, metadata, (err, res) => {
  if (err) throw err;
  console.log(JSON.stringify(res.environments.map((e) => e.name)));
  environments.close();
});
