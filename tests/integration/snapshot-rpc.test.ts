// ReportSnapshot through a real server, on both database backends: the wire mapping (outcomes,
// refusals, decommissioned records), a kind no server knows refusing one entry only, gRPC as well
// as Connect, and watchers seeing every change a snapshot makes. The snapshot rules themselves
// are in snapshots.test.ts; the scopes (write) in auth.test.ts, which covers every method.
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import {
  ArtifactKind,
  DeploymentService,
  DeploymentStatus,
  RecordOutcome,
  SnapshotRefusal,
  WatchEventType,
} from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { backends } from "../helpers/backends.js";
import { connectClient, grpcTransportClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { Watch } from "../helpers/watch.js";
import { digest } from "../helpers/facts.js";

const image = (deploymentName: string, d: string) => ({ deploymentName, kind: ArtifactKind.CONTAINER_IMAGE, digest: d });

describe.each(backends())("ReportSnapshot on %s", (backend) => {
  const served = serveFor(backend);
  let deployments: Client<typeof DeploymentService>;

  beforeAll(async () => {
    deployments = connectClient(DeploymentService, served.url);
    await connectClient(EnvironmentService, served.url).createEnvironment({ name: "prod-cluster" });
    await attest(served.url, ["api 1", "api 2", "web 1", "job 1"].map(digest));
  });

  it("records, supersedes and decommissions in one call, and watchers see each change", async () => {
    const watch = new Watch(deployments, { environment: "prod-cluster", logicalEnvironment: "production" });
    await watch.ready();

    const first = await deployments.reportSnapshot({
      environment: "prod-cluster",
      logicalEnvironment: "production",
      entries: [
        { ...image("payments/api", digest("api 1")), artifactName: "ghcr.io/acme/api", artifactVersion: "1.0", artifactReference: "ghcr.io/acme/api:1.0" },
        image("web", digest("web 1")),
      ],
    });
    expect(first.applied).toBe(true);
    expect(first.results.map((r) => [r.index, r.deploymentName, RecordOutcome[r.outcome], r.deploymentId !== ""])).toEqual([
      [0, "payments/api", "CREATED", true],
      [1, "web", "CREATED", true],
    ]);

    // Over gRPC this time: api moves to v2, web vanished, a job appeared.
    const grpc = grpcTransportClient(DeploymentService, served.url);
    const second = await grpc.reportSnapshot({
      environment: "prod-cluster",
      logicalEnvironment: "production",
      entries: [image("payments/api", digest("api 2")), image("job", digest("job 1"))],
    });
    expect(second.results.map((r) => [r.deploymentName, RecordOutcome[r.outcome]])).toEqual([
      ["payments/api", "SUPERSEDED"],
      ["job", "CREATED"],
    ]);
    expect(second.results[0]!.supersededDeploymentId).toBe(first.results[0]!.deploymentId);
    expect(second.decommissioned).toHaveLength(1);
    expect(second.decommissioned[0]).toMatchObject({
      id: first.results[1]!.deploymentId,
      deploymentName: "web",
      status: DeploymentStatus.DECOMMISSIONED,
      decommissionedBySnapshot: true,
      decommissionedBy: { tokenName: "bootstrap-admin" },
    });
    const described = await deployments.getDeployment({ id: first.results[1]!.deploymentId });
    expect(described.deployment?.decommissionedBySnapshot).toBe(true);

    const sawIt = (type: WatchEventType, name: string) =>
      watch.waitFor((e) => e.type === type && e.deployment?.deploymentName === name, 5_000, `${WatchEventType[type]} ${name}`);
    await sawIt(WatchEventType.CREATED, "web");
    await sawIt(WatchEventType.SUPERSEDED, "payments/api");
    await sawIt(WatchEventType.CREATED, "job");
    const gone = await sawIt(WatchEventType.DECOMMISSIONED, "web");
    expect(gone.event.deployment?.decommissionedBySnapshot).toBe(true);
    await watch.close();
  });

  it("refuses one entry for a kind it does not know, records the rest, and decommissions nothing", async () => {
    const res = await deployments.reportSnapshot({
      environment: "prod-cluster",
      logicalEnvironment: "production",
      entries: [image("payments/api", digest("api 2")), { ...image("job", digest("job 1")), kind: 42 as ArtifactKind }, image("x", "sha256:nope")],
    });
    expect(res.applied).toBe(true);
    expect(res.results.map((r) => [RecordOutcome[r.outcome], SnapshotRefusal[r.refusal]])).toEqual([
      ["HEARTBEAT", "UNSPECIFIED"],
      ["UNSPECIFIED", "INVALID_ENTRY"],
      ["UNSPECIFIED", "INVALID_ENTRY"],
    ]);
    expect(res.results[1]!.message).toMatch(/entries\[1\]: kind 42 is not a known artifact kind/);
    expect(res.decommissioned).toEqual([]);
    expect(res.decommissionSkippedReason).toMatch(/2 of 3 entries were refused/);
    const active = await deployments.listDeployments({ environment: "prod-cluster", logicalEnvironment: "production" });
    expect(active.deployments.map((d) => d.deploymentName).sort()).toEqual(["job", "payments/api"]);
  });

  it("answers the usual codes for a malformed snapshot", async () => {
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return ConnectError.from(e).code;
      }
      return undefined;
    };
    expect(await code(deployments.reportSnapshot({ environment: "nowhere", logicalEnvironment: "production" }))).toBe(Code.NotFound);
    expect(
      await code(
        deployments.reportSnapshot({
          environment: "prod-cluster",
          logicalEnvironment: "production",
          entries: [image("a", digest("api 1")), image("a", digest("api 2"))],
        }),
      ),
    ).toBe(Code.InvalidArgument);
    const readOnly = connectClient(DeploymentService, served.url, "1.1", null);
    expect(await code(readOnly.reportSnapshot({ environment: "prod-cluster", logicalEnvironment: "production" }))).toBe(Code.Unauthenticated);
  });
});
