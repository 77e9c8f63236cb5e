// Profiling aid (not part of the suite): N sequential and N concurrent RecordDeployment calls
// against a server at $URL with token $TOKEN, printing mean latency. Used to find where the
// record path spends its time (run the server with node --cpu-prof).
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createHash } from "node:crypto";
import { ArtifactKind, DeploymentService } from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { AttestationService } from "../../gen/proto/chainloop/v1/attestation_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";

const url = process.env.URL!;
const token = process.env.TOKEN!;
const n = Number(process.env.N ?? 200);
const transport = createGrpcTransport({ baseUrl: url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))] });
const deployments = createClient(DeploymentService, transport);
const digests = Array.from({ length: 100 }, (_, i) => `sha256:${createHash("sha256").update(`p${i}`).digest("hex")}`);
await createClient(EnvironmentService, transport).createEnvironment({ name: "prof" }).catch(() => undefined);
await createClient(AttestationService, transport).pushAttestation({
  content: Buffer.from(JSON.stringify({ _type: "https://in-toto.io/Statement/v1", subject: digests.map((d, i) => ({ name: `a${i}`, digest: { sha256: d.slice(7) } })), predicateType: "x", predicate: {} })),
  workflow: "w",
  project: "p",
}).catch(() => undefined);
const rec = (i: number) => deployments.recordDeployment({ environment: "prof", logicalEnvironment: "production", deploymentName: `s${i % 50}`, kind: ArtifactKind.CONTAINER_IMAGE, digest: digests[i % 100] });
let t = performance.now();
for (let i = 0; i < n; i++) await rec(i);
console.log(`sequential: ${((performance.now() - t) / n).toFixed(2)} ms/call`);
t = performance.now();
let next = 0;
await Promise.all(Array.from({ length: 32 }, async () => { while (next < n) await rec(next++); }));
console.log(`32 concurrent: ${(n / ((performance.now() - t) / 1000)).toFixed(0)} calls/s`);
