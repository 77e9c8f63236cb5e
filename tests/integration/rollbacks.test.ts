// Rollbacks and provenance through a real server, on both database backends: recording a digest
// that a slot ran before and superseded is a rollback (outcome, the record's rollback_of_id,
// watchers, the list filter, snapshots), and records read back carry the project and version of
// their evidence. The concurrent case (rollbacks decided along the slot's chain whichever
// process records) is checked by deployments.test.ts's slot invariants.
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import {
  ArtifactKind,
  DeploymentService,
  DeploymentStatus,
  RecordOutcome,
  WatchEventType,
} from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { backends } from "../helpers/backends.js";
import { connectClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { serveFor } from "../helpers/served.js";
import { Watch } from "../helpers/watch.js";
import { digest, listAll } from "../helpers/facts.js";

const A = digest("api 1.0");
const B = digest("api 1.1");
const C = digest("api 1.2");

describe.each(backends())("rollbacks on %s", (backend) => {
  const served = serveFor(backend);
  let deployments: Client<typeof DeploymentService>;

  beforeAll(async () => {
    deployments = connectClient(DeploymentService, served.url);
    await connectClient(EnvironmentService, served.url).createEnvironment({ name: "k8s-east" });
    await attest(served.url, [A], { project: "api", version: "1.0" });
    await attest(served.url, [B], { project: "api", version: "1.1" });
    await attest(served.url, [C], { project: "api", version: "1.2" });
  });

  const record = (deploymentName: string, d: string, status?: DeploymentStatus, logicalEnvironment = "production") =>
    deployments.recordDeployment({
      environment: "k8s-east",
      logicalEnvironment,
      deploymentName,
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest: d,
      ...(status ? { status } : {}),
    });

  it("marks a return to a superseded digest as a rollback, and watchers see it", async () => {
    const watch = new Watch(deployments, { deploymentName: "api" });
    await watch.ready();
    const a1 = await record("api", A);
    const b1 = await record("api", B);
    expect([a1.outcome, b1.outcome]).toEqual([RecordOutcome.CREATED, RecordOutcome.SUPERSEDED]);
    expect(b1.deployment?.rollbackOfId).toBe("");

    const a2 = await record("api", A);
    expect(a2.outcome).toBe(RecordOutcome.ROLLED_BACK);
    expect(a2.supersededDeploymentId).toBe(b1.deployment!.id);
    expect(a2.deployment).toMatchObject({ digest: A, status: DeploymentStatus.DEPLOYED, rollbackOfId: a1.deployment!.id });
    expect(a2.deployment!.id).not.toBe(a1.deployment!.id);

    // The rolled-back record heartbeats like any other.
    const beat = await record("api", A);
    expect(beat.outcome).toBe(RecordOutcome.HEARTBEAT);
    expect(beat.deployment).toMatchObject({ id: a2.deployment!.id, rollbackOfId: a1.deployment!.id });

    // Forward again to B: B ran here before and was superseded (by the rollback), so this is one
    // too, of B's earlier record; then C, which never ran here, is a plain supersede.
    const b2 = await record("api", B);
    expect([b2.outcome, b2.deployment?.rollbackOfId]).toEqual([RecordOutcome.ROLLED_BACK, b1.deployment!.id]);
    const c1 = await record("api", C);
    expect([c1.outcome, c1.deployment?.rollbackOfId]).toEqual([RecordOutcome.SUPERSEDED, ""]);
    // A third time A: the newest earlier record of A is named, not the first.
    const a3 = await record("api", A);
    expect([a3.outcome, a3.deployment?.rollbackOfId]).toEqual([RecordOutcome.ROLLED_BACK, a2.deployment!.id]);

    // Watchers get the new record as CREATED (the event they already handle), marked as a rollback.
    const created = await watch.waitFor((e) => e.type === WatchEventType.CREATED && e.deployment?.id === a2.deployment!.id);
    expect(created.event.deployment?.rollbackOfId).toBe(a1.deployment!.id);
    const superseded = await watch.waitFor((e) => e.type === WatchEventType.SUPERSEDED && e.deployment?.id === b1.deployment!.id);
    expect(superseded.event.deployment?.supersededById).toBe(a2.deployment!.id);
    await watch.close();

    // Read back, the record says it is a rollback, and what produced it.
    const got = await deployments.getDeployment({ id: a2.deployment!.id });
    expect(got.deployment).toMatchObject({ rollbackOfId: a1.deployment!.id, project: "api", projectVersion: "1.0" });
  });

  it("is a rollback into an empty slot too, but not a return after a decommission alone", async () => {
    // x: A, then B superseding it, B decommissioned, A again: A was superseded here → rollback.
    const a1 = await record("x", A);
    const b1 = await record("x", B);
    await record("x", B, DeploymentStatus.DECOMMISSIONED);
    const a2 = await record("x", A);
    expect(a2.outcome).toBe(RecordOutcome.ROLLED_BACK);
    expect(a2.supersededDeploymentId).toBe("");
    expect(a2.deployment?.rollbackOfId).toBe(a1.deployment!.id);
    expect(b1.deployment?.rollbackOfId).toBe("");

    // y: A decommissioned, then A again: it never was superseded here → a new deployment.
    await record("y", A);
    await record("y", A, DeploymentStatus.DECOMMISSIONED);
    const again = await record("y", A);
    expect([again.outcome, again.deployment?.rollbackOfId]).toEqual([RecordOutcome.CREATED, ""]);

    // Another slot's history does not count: A superseded in staging is new in canary.
    await record("z", A, undefined, "staging");
    await record("z", B, undefined, "staging");
    const elsewhere = await record("z", A, undefined, "development");
    expect(elsewhere.outcome).toBe(RecordOutcome.CREATED);
  });

  it("lists rollbacks only, now and in history, with paging", async () => {
    const active = await deployments.listDeployments({ rollbacksOnly: true });
    expect(active.deployments.map((d) => [d.deploymentName, d.digest, d.status])).toEqual([
      ["x", A, DeploymentStatus.DEPLOYED],
      ["api", A, DeploymentStatus.DEPLOYED],
    ]);
    const all = await listAll(async (pageToken) => {
      const page = await deployments.listDeployments({ rollbacksOnly: true, history: true, pageSize: 1, pageToken });
      return { items: page.deployments.map((d) => `${d.deploymentName} ${d.digest === A ? "A" : "B"} ${d.rollbackOfId !== ""}`), next: page.nextPageToken };
    });
    expect(all).toEqual(["x A true", "api A true", "api B true", "api A true"]);

    // A page token belongs to its filter: reusing it without rollbacks_only is refused.
    const first = await deployments.listDeployments({ rollbacksOnly: true, history: true, pageSize: 1 });
    const err = await deployments.listDeployments({ history: true, pageToken: first.nextPageToken }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.InvalidArgument);
  });

  it("carries the newest subject attestation's project and version on records read back", async () => {
    const listed = await deployments.listDeployments({ deploymentName: "api" });
    expect(listed.deployments.map((d) => [d.project, d.projectVersion])).toEqual([["api", "1.0"]]);
    // A newer attestation naming A (a re-release) is what the records say from now on.
    await attest(served.url, [A], { project: "api", version: "1.0-hotfix" });
    const again = await deployments.listDeployments({ deploymentName: "api" });
    expect(again.deployments[0]).toMatchObject({ project: "api", projectVersion: "1.0-hotfix" });
  });

  it("marks rollbacks made by a snapshot", async () => {
    const entry = (d: string) => ({ deploymentName: "snap", kind: ArtifactKind.CONTAINER_IMAGE, digest: d });
    const report = (d: string) =>
      deployments.reportSnapshot({ environment: "k8s-east", logicalEnvironment: "staging", entries: [entry(d)], decommissionMissing: false });
    const first = await report(B);
    await report(C);
    const back = await report(B);
    expect(RecordOutcome[back.results[0]!.outcome]).toBe("ROLLED_BACK");
    const got = await deployments.getDeployment({ id: back.results[0]!.deploymentId });
    expect(got.deployment?.rollbackOfId).toBe(first.results[0]!.deploymentId);
  });
});
