// Quick start from TypeScript or JavaScript: an environment, evidence for two versions, a
// record, the running set, and a change seen through a watch while it happens.
//   CHAINLOOP_SERVER=http://127.0.0.1:8080 CHAINLOOP_TOKEN=clp_… node examples/quickstart.mjs
import { createHash } from "node:crypto";
import { ArtifactKind, RecordOutcome, WatchEventType, createChainloopClient } from "@chainloop-deployments/client";

const api = createChainloopClient({
  baseUrl: process.env.CHAINLOOP_SERVER ?? "http://127.0.0.1:8080",
  token: process.env.CHAINLOOP_TOKEN,
  protocol: process.env.CHAINLOOP_PROTOCOL ?? "connect", // or "grpc", "grpc-web"
});
const environment = process.env.CHAINLOOP_EXAMPLE_ENV ?? "ts-east";
await api.environments.createEnvironment({ name: environment, description: "from TypeScript" });

// A digest must be attested before it can be recorded as deployed.
const [v1, v2] = ["v1", "v2"].map((v) => `sha256:${createHash("sha256").update(`api-server ${v}`).digest("hex")}`);
const statement = {
  _type: "https://in-toto.io/Statement/v1",
  subject: [v1, v2].map((d) => ({ name: "api-server", digest: { sha256: d.slice("sha256:".length) } })),
  predicateType: "https://chainloop.dev/attestation/minimal/v1",
  predicate: {},
};
await api.attestations.pushAttestation({ content: new TextEncoder().encode(JSON.stringify(statement)), workflow: "build", project: "api-server" });

const record = (digest) =>
  api.deployments.recordDeployment({ environment, logicalEnvironment: "production", deploymentName: "api-server", kind: ArtifactKind.CONTAINER_IMAGE, digest });

console.log(JSON.stringify({ recorded: RecordOutcome[(await record(v1)).outcome] }));
const page = await api.deployments.listDeployments({ environment });
console.log(JSON.stringify({ running: page.deployments.map((d) => [d.deploymentName, d.digest]) }));

// The running set first, then every change as it commits: record v2 once the snapshot is in.
const stop = new AbortController();
for await (const event of api.deployments.watchDeployments({ environment }, { signal: stop.signal })) {
  if (event.type === WatchEventType.SNAPSHOT_END) void record(v2);
  if (event.type === WatchEventType.CREATED) {
    console.log(JSON.stringify({ watched: WatchEventType[event.type], digest: event.deployment?.digest }));
    stop.abort();
    break;
  }
}
