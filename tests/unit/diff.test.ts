// DiffDeployments' rules without a database (DiffUseCase over in-memory fakes): the per-place
// record cap (lowered here; 10,000 in the server), the clock-skew allowance of as_of, the entry
// keys and order, a place's two records for one key, and that nothing is read when a request is
// refused. Also the CLI's place syntax (ENV/LENV@TIME) and parseInstant. The RPC over real
// databases is in tests/integration/diff.test.ts.
import { parsePlace, placeLabel } from "../../cli/commands/deployment-diff.js";
import { parseInstant } from "../../server/shared/durations.js";
import { AS_OF_CLOCK_SKEW_MS, type ArtifactKind, type Deployment } from "../../server/domain/deployments.js";
import {
  DiffUseCase,
  MAX_RECORDS_PER_PLACE,
  type DiffInput,
  type PlaceInput,
  type ResolvedPlace,
} from "../../server/domain/diff.js";
import { NotFound } from "../../server/domain/errors.js";
import { domainFailure } from "../helpers/facts.js";

const NOW = new Date("2026-12-04T12:00:00Z");
const ENVS: Record<string, string> = { "k8s-east": "env-east", "k8s-west": "env-west" };
const LENVS: Record<string, string> = { staging: "lenv-staging", production: "lenv-production" };

let seq = 0n;
function record(environment: string, logicalEnvironment: string, name: string, digest: string, kind: ArtifactKind = "CONTAINER_IMAGE"): Deployment {
  seq += 1n;
  return {
    id: `id-${seq}`,
    environment,
    logicalEnvironment,
    name,
    kind,
    digest,
    artifactName: "",
    artifactVersion: "",
    artifactReference: "",
    status: "deployed",
    createdAt: NOW,
    lastSeenAt: NOW,
    supersededAt: undefined,
    supersededById: undefined,
    decommissionedAt: undefined,
    recordedBy: undefined,
    decommissionedBy: undefined,
    decommissionedBySnapshot: false,
    rollbackOfId: undefined,
    seq,
  };
}

/** The fakes: what each place runs (by its resolved ids), the reads made, and list's NotFound. */
function setup(records: Deployment[], opts: { max?: number } = {}) {
  const reads: Array<{ places: readonly [ResolvedPlace, ResolvedPlace]; limit: number }> = [];
  const resolves: Array<[string, string]> = [];
  const matches = (p: ResolvedPlace, d: Deployment) =>
    (!p.environmentId || ENVS[d.environment] === p.environmentId) && (!p.logicalEnvironmentId || LENVS[d.logicalEnvironment] === p.logicalEnvironmentId);
  const uc = new DiffUseCase(
    {
      async readPlaces(_orgId, places, limit) {
        reads.push({ places, limit });
        const [a, b] = places.map((p) => records.filter((d) => matches(p, d)).slice(0, limit));
        return [a!, b!];
      },
    },
    {
      // DeploymentUseCase.resolvePlace: ids, or the NotFound every read taking names gives.
      async resolvePlace(_orgId: string, environment: string | undefined, logicalEnvironment: string | undefined) {
        resolves.push([environment ?? "", logicalEnvironment ?? ""]);
        const environmentId = environment === undefined ? undefined : ENVS[environment];
        const logicalEnvironmentId = logicalEnvironment === undefined ? undefined : LENVS[logicalEnvironment];
        if ((environment !== undefined && !environmentId) || (logicalEnvironment !== undefined && !logicalEnvironmentId)) {
          throw new NotFound(`resolvePlace says: ${environment ?? ""}/${logicalEnvironment ?? ""} not found`);
        }
        return { ...(environmentId ? { environmentId } : {}), ...(logicalEnvironmentId ? { logicalEnvironmentId } : {}) };
      },
    },
    { maxRecordsPerPlace: opts.max, now: () => NOW },
  );
  return { uc, reads, resolves };
}

const place = (environment: string, logicalEnvironment: string, asOf?: Date): PlaceInput => ({ environment, logicalEnvironment, ...(asOf ? { asOf } : {}) });
const input = (from: PlaceInput, to: PlaceInput, differencesOnly = false): DiffInput => ({ from, to, differencesOnly });

describe("DiffUseCase", () => {
  it("caps each place at the limit: one more record than it is FAILED_PRECONDITION, naming the place", async () => {
    const staging = [1, 2, 3].map((i) => record("k8s-east", "staging", `app-${i}`, `sha256:${i}`));
    const { uc, reads } = setup([...staging, record("k8s-east", "production", "app-1", "sha256:1")], { max: 3 });
    const ok = await uc.diff("org", input(place("k8s-east", "staging"), place("k8s-east", "production")));
    expect(ok.counts).toEqual({ same: 1, different: 0, "only-in-from": 2, "only-in-to": 0 });
    expect(reads[0]!.limit).toBe(4); // the cap + 1: enough to tell "too many" from "exactly the cap"

    const { uc: over } = setup([...staging, record("k8s-east", "staging", "app-4", "sha256:4")], { max: 3 });
    expect(await domainFailure(over.diff("org", input(place("k8s-east", "production"), place("k8s-east", "staging"))))).toEqual({
      kind: "FailedPrecondition",
      message: "to_place (k8s-east/staging) holds more than 3 records, too many to compare at once: compare narrower places",
    });
    const { uc: wide } = setup([...staging, record("k8s-east", "staging", "app-4", "sha256:4")], { max: 3 });
    expect((await domainFailure(wide.diff("org", input(place("", "staging", new Date("2026-12-04T11:00:00Z")), place("", "production"))))).message).toBe(
      "from_place (logical environment staging, every environment as of 2026-12-04T11:00:00.000Z) holds more than 3 records, " +
        "too many to compare at once: compare narrower places (name both an environment and a logical environment)",
    );
    expect(MAX_RECORDS_PER_PLACE).toBe(10_000);
  });

  it("allows an as_of up to the clock-skew allowance ahead of the server's clock, and refuses one beyond it before reading", async () => {
    const { uc, reads } = setup([]);
    const ahead = new Date(NOW.getTime() + AS_OF_CLOCK_SKEW_MS);
    expect((await uc.diff("org", input(place("k8s-east", "staging", ahead), place("k8s-east", "production")))).identical).toBe(true);
    expect(reads[0]!.places[0]).toEqual({ environmentId: "env-east", logicalEnvironmentId: "lenv-staging", asOf: ahead });
    expect(reads[0]!.places[1]).toEqual({ environmentId: "env-east", logicalEnvironmentId: "lenv-production", asOf: undefined });

    const beyond = new Date(NOW.getTime() + AS_OF_CLOCK_SKEW_MS + 1);
    expect(await domainFailure(uc.diff("org", input(place("k8s-east", "staging"), place("k8s-east", "production", beyond))))).toEqual({
      kind: "InvalidArgument",
      message:
        "to_place.as_of 2026-12-04T12:01:00.001Z is in the future (the server's time is 2026-12-04T12:00:00.000Z): " +
        "what runs there later is not known yet; leave to_place.as_of unset for now",
    });
    expect(AS_OF_CLOCK_SKEW_MS).toBe(60_000);
    for (const never of [new Date(Number.NaN), new Date("-000100-01-01T00:00:00Z")]) {
      expect(await domainFailure(uc.diff("org", input(place("k8s-east", "staging", never), place("k8s-east", "production"))))).toEqual({
        kind: "InvalidArgument",
        message: "from_place.as_of is not a time a Timestamp can hold (0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z)",
      });
    }
    expect(reads).toHaveLength(1);
  });

  it("keys entries by what neither place names, orders them, and counts every state", async () => {
    const { uc } = setup([
      record("k8s-west", "staging", "web", "sha256:w1"),
      record("k8s-east", "staging", "api", "sha256:a2"),
      record("k8s-east", "staging", "api", "sha256:c1", "HELM_CHART"),
      record("k8s-east", "production", "api", "sha256:a1"),
      record("k8s-east", "production", "api", "sha256:c1", "HELM_CHART"),
      record("k8s-west", "production", "web", "sha256:w1"),
      record("k8s-west", "production", "db", "sha256:d1"),
    ]);
    const res = await uc.diff("org", input(place("", "staging"), place("", "production")));
    expect(res.entries.map((e) => [e.environment, e.logicalEnvironment, e.name, e.kind, e.state, e.from?.digest, e.to?.digest])).toEqual([
      ["k8s-east", "", "api", "CONTAINER_IMAGE", "different", "sha256:a2", "sha256:a1"],
      ["k8s-east", "", "api", "HELM_CHART", "same", "sha256:c1", "sha256:c1"],
      ["k8s-west", "", "db", "CONTAINER_IMAGE", "only-in-to", undefined, "sha256:d1"],
      ["k8s-west", "", "web", "CONTAINER_IMAGE", "same", "sha256:w1", "sha256:w1"],
    ]);
    expect(res.counts).toEqual({ same: 2, different: 1, "only-in-from": 0, "only-in-to": 1 });
    expect(res.identical).toBe(false);

    const diffOnly = await uc.diff("org", input(place("", "staging"), place("", "production"), true));
    expect(diffOnly.entries.map((e) => e.state)).toEqual(["different", "only-in-to"]);
    expect(diffOnly.counts).toEqual(res.counts);
  });

  it("counts a place's newest record when it holds two for one key", async () => {
    const older = record("k8s-east", "staging", "api", "sha256:old");
    const newer = record("k8s-east", "staging", "api", "sha256:new");
    const production = record("k8s-east", "production", "api", "sha256:new");
    // In either order the rows come in.
    for (const records of [[newer, older, production], [older, newer, production]]) {
      const res = await setup(records).uc.diff("org", input(place("k8s-east", "staging"), place("k8s-east", "production")));
      expect(res.entries.map((e) => [e.state, e.from?.id])).toEqual([["same", newer.id]]);
    }
  });

  it("refuses bad places before reading anything, and lets resolvePlace word an unknown name", async () => {
    const { uc, reads, resolves } = setup([]);
    expect((await domainFailure(uc.diff("org", input(place("", ""), place("k8s-east", ""))))).message).toMatch(/^from_place names neither/);
    expect((await domainFailure(uc.diff("org", input(place("k8s-east", ""), place("", "staging"))))).message).toMatch(
      /^from_place names an environment only \(environment k8s-east, every logical environment\) but to_place names a logical environment only/,
    );
    expect((await domainFailure(uc.diff("org", input(place("k8s-east", "Staging"), place("k8s-east", "production"))))).message).toMatch(
      /^from_place\.logical_environment "Staging" is not a valid name/,
    );
    expect(reads).toEqual([]);
    expect(resolves).toEqual([]);

    expect(await domainFailure(uc.diff("org", input(place("k8s-east", "staging"), place("k8s-north", "staging"))))).toEqual({
      kind: "NotFound",
      message: "resolvePlace says: k8s-north/staging not found",
    });
    expect(resolves).toEqual([["k8s-east", "staging"], ["k8s-north", "staging"]]);
    // Both unknown: from_place's is the error, whichever lookup ends first.
    expect((await domainFailure(uc.diff("org", input(place("", "qa"), place("", "uat"))))).message).toBe("resolvePlace says: /qa not found");
    expect(reads).toEqual([]);
  });
});

describe("the CLI's places and instants", () => {
  it.each([
    ["k8s-east/staging", { environment: "k8s-east", logicalEnvironment: "staging", at: undefined }],
    ["k8s-east", { environment: "k8s-east", logicalEnvironment: "", at: undefined }],
    ["k8s-east/", { environment: "k8s-east", logicalEnvironment: "", at: undefined }],
    ["/production", { environment: "", logicalEnvironment: "production", at: undefined }],
    ["/production@3h", { environment: "", logicalEnvironment: "production", at: "3h" }],
    ["k8s-east/staging@2026-12-01T10:00:00Z", { environment: "k8s-east", logicalEnvironment: "staging", at: "2026-12-01T10:00:00Z" }],
  ])("%s", (text, expected) => {
    expect(parsePlace(text, "--from")).toEqual(expected);
  });

  it.each(["", "/", "@3h", "a/b/c", "k8s-east/staging@yesterday"])("refuses %j", (text) => {
    expect(() => parsePlace(text, "--to")).toThrow(/^--to/);
  });

  it("labels a place as it was given, with its instant", () => {
    expect(placeLabel(parsePlace("/production@3h", "--from"), new Date("2026-12-04T09:00:00Z"))).toBe("/production@2026-12-04T09:00:00Z");
    expect(placeLabel(parsePlace("k8s-east", "--from"), undefined)).toBe("k8s-east");
  });

  it("parseInstant takes RFC 3339 times with an offset and durations ago", () => {
    expect(parseInstant("2026-12-01T11:00:00+01:00", "--at")).toEqual(new Date("2026-12-01T10:00:00Z"));
    expect(parseInstant("2026-12-01T10:00:00.250Z", "--at")).toEqual(new Date("2026-12-01T10:00:00.250Z"));
    expect(parseInstant("1h30m", "--at", NOW)).toEqual(new Date("2026-12-04T10:30:00Z"));
    for (const bad of ["2026-12-01", "2026-12-01T10:00:00", "2026-02-30T10:00:00Z", "2026-13-01T10:00:00Z", "3", "yesterday"]) {
      expect(() => parseInstant(bad, "--at")).toThrow(
        `--at must be an RFC 3339 time such as 2026-12-01T10:00:00Z, or a duration ago such as 30m, 3h or 2d, got ${JSON.stringify(bad)}`,
      );
    }
  });
});
