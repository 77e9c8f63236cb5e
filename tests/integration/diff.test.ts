// DiffDeployments through a real server, on both database backends: histories recorded through
// the API, then exact entries, states, counts and records for places that name an environment
// and a logical environment, an environment only, a logical environment only; a place as of a
// past time (a superseded and a decommissioned record still count there); differences_only;
// provenance on the records; another organization's records never showing; and the errors with
// their codes and messages. The rules without a database (keys, the 10,000 cap, the clock) are
// in tests/unit/diff.test.ts; the CLI in tests/cli/diff.test.ts.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import {
  ArtifactKind,
  DeploymentService,
  DeploymentStatus,
  DiffState,
  type DiffDeploymentsResponse,
} from "../../gen/proto/chainloop/v1/deployment_pb.js";
import { EnvironmentService } from "../../gen/proto/chainloop/v1/environment_pb.js";
import { createOrganization } from "../helpers/admin.js";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/backends.js";
import { connectClient, grpcTransportClient } from "../helpers/clients.js";
import { attest } from "../helpers/evidence.js";
import { startServer, type ServerProcess } from "../helpers/server.js";
import { digest, failure } from "../helpers/facts.js";

const API1 = digest("diff api 1");
const API2 = digest("diff api 2");
const WEB1 = digest("diff web 1");
const JOB1 = digest("diff job 1");
const OLD1 = digest("diff old 1");
const WORKER1 = digest("diff worker 1");
const CHART1 = digest("diff chart 1");
const OTHER1 = digest("diff other org 1");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Entries as [state, environment, logical environment, name, kind, from digest, to digest] rows. */
const rows = (res: DiffDeploymentsResponse) =>
  res.entries.map((e) => [
    DiffState[e.state],
    e.environment,
    e.logicalEnvironment,
    e.deploymentName,
    ArtifactKind[e.kind],
    e.fromDeployment?.digest ?? "-",
    e.toDeployment?.digest ?? "-",
  ]);
const counts = (res: DiffDeploymentsResponse) => ({
  same: res.sameCount,
  different: res.differentCount,
  onlyInFrom: res.onlyInFromCount,
  onlyInTo: res.onlyInToCount,
  identical: res.identical,
});

describe.each(backends())("DiffDeployments on %s", (backend) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let deployments: Client<typeof DeploymentService>;
  let otherOrg: Client<typeof DeploymentService>;
  /** An instant between the two histories of k8s-east/staging. */
  let before: Date;
  /** The records of k8s-east/staging that no longer run: api's first and old. */
  let stagingApi1Id: string;
  let oldId: string;

  const place = (environment: string, logicalEnvironment: string, asOf?: Date) => ({
    environment,
    logicalEnvironment,
    asOf: asOf ? timestampFromDate(asOf) : undefined,
  });
  const diff = (from: ReturnType<typeof place>, to: ReturnType<typeof place>, differencesOnly = false) =>
    deployments.diffDeployments({ fromPlace: from, toPlace: to, differencesOnly });

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    // A second organization (made before the server holds the database) with the same names.
    const otherToken = await createOrganization(db.env, "other");
    server = await startServer(db.env);
    deployments = connectClient(DeploymentService, server.url);
    otherOrg = connectClient(DeploymentService, server.url, "1.1", otherToken);
    const envs = connectClient(EnvironmentService, server.url);
    for (const name of ["k8s-east", "k8s-west"]) await envs.createEnvironment({ name });
    await connectClient(EnvironmentService, server.url, "1.1", otherToken).createEnvironment({ name: "k8s-east" });
    await attest(server.url, [API1], { project: "api", version: "v1" });
    await attest(server.url, [API2], { project: "api", version: "v2" });
    await attest(server.url, [WEB1], { project: "web", version: "1.0" });
    await attest(server.url, [JOB1, OLD1, WORKER1, CHART1], { project: "misc" });
    await attest(server.url, [OTHER1], { project: "other", token: otherToken });

    const record = (environment: string, logicalEnvironment: string, deploymentName: string, d: string, kind = ArtifactKind.CONTAINER_IMAGE) =>
      deployments.recordDeployment({ environment, logicalEnvironment, deploymentName, kind, digest: d });
    // k8s-east/staging, first history.
    stagingApi1Id = (await record("k8s-east", "staging", "api", API1)).deployment!.id;
    await record("k8s-east", "staging", "api", CHART1, ArtifactKind.HELM_CHART);
    await record("k8s-east", "staging", "web", WEB1);
    await record("k8s-east", "staging", "job", JOB1);
    oldId = (await record("k8s-east", "staging", "old", OLD1)).deployment!.id;
    // k8s-east/production.
    await record("k8s-east", "production", "api", API1);
    await record("k8s-east", "production", "api", CHART1, ArtifactKind.HELM_CHART);
    await record("k8s-east", "production", "web", WEB1);
    await record("k8s-east", "production", "worker", WORKER1);
    // k8s-west: production and development run the same; staging runs nothing.
    for (const lenv of ["production", "development"]) {
      await record("k8s-west", lenv, "api", API1);
      await record("k8s-west", lenv, "web", WEB1);
    }
    // The other organization's k8s-east/production.
    await otherOrg.recordDeployment({ environment: "k8s-east", logicalEnvironment: "production", deploymentName: "api", kind: ArtifactKind.CONTAINER_IMAGE, digest: OTHER1 });

    // k8s-east/staging, second history: api moves to v2, old is decommissioned.
    await sleep(30);
    before = new Date();
    await sleep(30);
    await record("k8s-east", "staging", "api", API2);
    await deployments.recordDeployment({
      environment: "k8s-east",
      logicalEnvironment: "staging",
      deploymentName: "old",
      kind: ArtifactKind.CONTAINER_IMAGE,
      digest: OLD1,
      status: DeploymentStatus.DECOMMISSIONED,
    });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it("compares an environment's two stages by deployment name and kind, with each place's record and its provenance", async () => {
    const res = await diff(place("k8s-east", "staging"), place("k8s-east", "production"));
    expect(rows(res)).toEqual([
      ["DIFFERENT", "", "", "api", "CONTAINER_IMAGE", API2, API1],
      ["SAME", "", "", "api", "HELM_CHART", CHART1, CHART1],
      ["ONLY_IN_FROM", "", "", "job", "CONTAINER_IMAGE", JOB1, "-"],
      ["SAME", "", "", "web", "CONTAINER_IMAGE", WEB1, WEB1],
      ["ONLY_IN_TO", "", "", "worker", "CONTAINER_IMAGE", "-", WORKER1],
    ]);
    expect(counts(res)).toEqual({ same: 2, different: 1, onlyInFrom: 1, onlyInTo: 1, identical: false });
    const api = res.entries[0]!;
    expect(api.fromDeployment).toMatchObject({
      environment: "k8s-east",
      logicalEnvironment: "staging",
      deploymentName: "api",
      status: DeploymentStatus.DEPLOYED,
      project: "api",
      projectVersion: "v2",
    });
    expect(api.toDeployment).toMatchObject({ environment: "k8s-east", logicalEnvironment: "production", project: "api", projectVersion: "v1" });
    expect(res.entries[2]!.fromDeployment).toMatchObject({ project: "misc", projectVersion: "" });
  });

  it("differences_only leaves out the same entries and still counts them", async () => {
    const res = await diff(place("k8s-east", "staging"), place("k8s-east", "production"), true);
    expect(rows(res).map((r) => [r[0], r[3], r[4]])).toEqual([
      ["DIFFERENT", "api", "CONTAINER_IMAGE"],
      ["ONLY_IN_FROM", "job", "CONTAINER_IMAGE"],
      ["ONLY_IN_TO", "worker", "CONTAINER_IMAGE"],
    ]);
    expect(counts(res)).toEqual({ same: 2, different: 1, onlyInFrom: 1, onlyInTo: 1, identical: false });
  });

  it("compares two environments (every stage): the logical environment is part of the key", async () => {
    const res = await diff(place("k8s-east", ""), place("k8s-west", ""));
    expect(rows(res)).toEqual([
      ["ONLY_IN_TO", "", "development", "api", "CONTAINER_IMAGE", "-", API1],
      ["ONLY_IN_TO", "", "development", "web", "CONTAINER_IMAGE", "-", WEB1],
      ["SAME", "", "production", "api", "CONTAINER_IMAGE", API1, API1],
      ["ONLY_IN_FROM", "", "production", "api", "HELM_CHART", CHART1, "-"],
      ["SAME", "", "production", "web", "CONTAINER_IMAGE", WEB1, WEB1],
      ["ONLY_IN_FROM", "", "production", "worker", "CONTAINER_IMAGE", WORKER1, "-"],
      ["ONLY_IN_FROM", "", "staging", "api", "CONTAINER_IMAGE", API2, "-"],
      ["ONLY_IN_FROM", "", "staging", "api", "HELM_CHART", CHART1, "-"],
      ["ONLY_IN_FROM", "", "staging", "job", "CONTAINER_IMAGE", JOB1, "-"],
      ["ONLY_IN_FROM", "", "staging", "web", "CONTAINER_IMAGE", WEB1, "-"],
    ]);
    expect(counts(res)).toEqual({ same: 2, different: 0, onlyInFrom: 6, onlyInTo: 2, identical: false });
  });

  it("compares two stages across every environment (over gRPC too): the environment is part of the key", async () => {
    const grpc = grpcTransportClient(DeploymentService, server.url);
    const res = await grpc.diffDeployments({ fromPlace: place("", "staging"), toPlace: place("", "production") });
    expect(rows(res)).toEqual([
      ["DIFFERENT", "k8s-east", "", "api", "CONTAINER_IMAGE", API2, API1],
      ["SAME", "k8s-east", "", "api", "HELM_CHART", CHART1, CHART1],
      ["ONLY_IN_FROM", "k8s-east", "", "job", "CONTAINER_IMAGE", JOB1, "-"],
      ["SAME", "k8s-east", "", "web", "CONTAINER_IMAGE", WEB1, WEB1],
      ["ONLY_IN_TO", "k8s-east", "", "worker", "CONTAINER_IMAGE", "-", WORKER1],
      ["ONLY_IN_TO", "k8s-west", "", "api", "CONTAINER_IMAGE", "-", API1],
      ["ONLY_IN_TO", "k8s-west", "", "web", "CONTAINER_IMAGE", "-", WEB1],
    ]);
    expect(counts(res)).toEqual({ same: 2, different: 1, onlyInFrom: 1, onlyInTo: 3, identical: false });
  });

  it("says identical when every entry is the same, and for two empty places", async () => {
    const res = await diff(place("k8s-west", "production"), place("k8s-west", "development"));
    expect(rows(res)).toEqual([
      ["SAME", "", "", "api", "CONTAINER_IMAGE", API1, API1],
      ["SAME", "", "", "web", "CONTAINER_IMAGE", WEB1, WEB1],
    ]);
    expect(counts(res)).toEqual({ same: 2, different: 0, onlyInFrom: 0, onlyInTo: 0, identical: true });
    expect((await diff(place("k8s-west", "production"), place("k8s-west", "development"), true)).entries).toEqual([]);

    const empty = await diff(place("k8s-west", "staging"), place("k8s-west", "staging"));
    expect(rows(empty)).toEqual([]);
    expect(counts(empty)).toEqual({ same: 0, different: 0, onlyInFrom: 0, onlyInTo: 0, identical: true });
  });

  it("compares a place as of a past time: what ran then, whatever the records' status now", async () => {
    const res = await diff(place("k8s-east", "staging", before), place("k8s-east", "production"));
    expect(rows(res)).toEqual([
      ["SAME", "", "", "api", "CONTAINER_IMAGE", API1, API1],
      ["SAME", "", "", "api", "HELM_CHART", CHART1, CHART1],
      ["ONLY_IN_FROM", "", "", "job", "CONTAINER_IMAGE", JOB1, "-"],
      ["ONLY_IN_FROM", "", "", "old", "CONTAINER_IMAGE", OLD1, "-"],
      ["SAME", "", "", "web", "CONTAINER_IMAGE", WEB1, WEB1],
      ["ONLY_IN_TO", "", "", "worker", "CONTAINER_IMAGE", "-", WORKER1],
    ]);
    expect(res.entries[0]!.fromDeployment).toMatchObject({ id: stagingApi1Id, status: DeploymentStatus.SUPERSEDED, project: "api", projectVersion: "v1" });
    expect(res.entries[3]!.fromDeployment).toMatchObject({ id: oldId, status: DeploymentStatus.DECOMMISSIONED });

    // The same place then and now: what changed since.
    const since = await diff(place("k8s-east", "staging", before), place("k8s-east", "staging"), true);
    expect(rows(since)).toEqual([
      ["DIFFERENT", "", "", "api", "CONTAINER_IMAGE", API1, API2],
      ["ONLY_IN_FROM", "", "", "old", "CONTAINER_IMAGE", OLD1, "-"],
    ]);
    expect(counts(since)).toEqual({ same: 3, different: 1, onlyInFrom: 1, onlyInTo: 0, identical: false });

    // Before anything was recorded, a place ran nothing.
    const dawn = await diff(place("k8s-east", "staging", new Date(Date.now() - 86_400_000)), place("k8s-east", "staging"));
    expect(counts(dawn)).toEqual({ same: 0, different: 0, onlyInFrom: 0, onlyInTo: 4, identical: false });
  });

  it("reads only the caller's organization", async () => {
    const res = await otherOrg.diffDeployments({ fromPlace: place("k8s-east", "staging"), toPlace: place("k8s-east", "production") });
    expect(rows(res)).toEqual([["ONLY_IN_TO", "", "", "api", "CONTAINER_IMAGE", "-", OTHER1]]);
    expect((await failure(otherOrg.diffDeployments({ fromPlace: place("k8s-west", ""), toPlace: place("k8s-east", "") }))).code).toBe(Code.NotFound);
  });

  it("refuses a place naming nothing, places naming different parts, a future as_of and bad names: INVALID_ARGUMENT", async () => {
    expect(await failure(deployments.diffDeployments({ toPlace: place("k8s-east", "staging") }))).toEqual({
      code: Code.InvalidArgument,
      message:
        "from_place names neither an environment nor a logical environment: name one or both (for example environment k8s-east and logical environment staging)",
    });
    expect(await failure(diff(place("k8s-east", "staging"), place("", "")))).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringMatching(/^to_place names neither/),
    });
    expect(await failure(diff(place("k8s-east", "staging"), place("k8s-east", "")))).toEqual({
      code: Code.InvalidArgument,
      message:
        "from_place names an environment and a logical environment (k8s-east/staging) but to_place names an environment only " +
        "(environment k8s-east, every logical environment): both places must name the same parts, for example " +
        "k8s-east/staging with k8s-east/production, k8s-east with k8s-west, or staging with production (every environment)",
    });
    expect((await failure(diff(place("", "staging"), place("k8s-east", "")))).message).toMatch(
      /^from_place names a logical environment only \(logical environment staging, every environment\) but to_place names an environment only/,
    );

    const future = new Date(Date.now() + 10 * 60_000);
    const late = await failure(diff(place("k8s-east", "staging"), place("k8s-east", "production", future)));
    expect(late.code).toBe(Code.InvalidArgument);
    expect(late.message).toMatch(new RegExp(`^to_place\\.as_of ${future.toISOString().replace(/\./g, "\\.")} is in the future \\(the server's time is `));
    // A few seconds ahead is the caller's clock running ahead, not a question about the future.
    expect((await diff(place("k8s-east", "staging", new Date(Date.now() + 5_000)), place("k8s-east", "staging"))).identical).toBe(true);

    // A Timestamp no Date can hold is refused, not an internal error.
    expect(
      await failure(
        deployments.diffDeployments({
          fromPlace: { environment: "k8s-east", logicalEnvironment: "staging", asOf: { seconds: 10n ** 15n } },
          toPlace: place("k8s-east", "production"),
        }),
      ),
    ).toEqual({
      code: Code.InvalidArgument,
      message: "from_place.as_of is not a time a Timestamp can hold (0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z)",
    });

    expect(await failure(diff(place("K8s East", "staging"), place("k8s-east", "production")))).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringMatching(/^from_place\.environment "K8s East" is not a valid name/),
    });
  });

  it("answers NOT_FOUND for an unknown environment or logical environment, in ListDeployments' words", async () => {
    const listError = (environment: string, logicalEnvironment: string) => failure(deployments.listDeployments({ environment, logicalEnvironment }));
    const cases: Array<[from: ReturnType<typeof place>, to: ReturnType<typeof place>, list: [string, string]]> = [
      [place("nowhere", "staging"), place("k8s-east", "production"), ["nowhere", "staging"]],
      [place("k8s-east", "staging"), place("k8s-east", "prod"), ["k8s-east", "prod"]],
      [place("k8s-east", ""), place("nowhere", ""), ["nowhere", ""]],
      [place("", "qa"), place("", "production"), ["", "qa"]],
    ];
    for (const [from, to, [env, lenv]] of cases) {
      const expected = await listError(env, lenv);
      expect(expected.code).toBe(Code.NotFound);
      expect(await failure(diff(from, to))).toEqual(expected);
    }
    expect((await listError("nowhere", "")).message).toMatch(/chainloop environment create --name nowhere/);
    expect((await listError("", "qa")).message).toMatch(/valid ones: development, staging, production/);
  });
});
