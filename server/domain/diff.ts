// DiffDeployments: two places compared slot by slot.
//
// A place is an environment, a logical environment, or both, now or as of a time. Both places
// name the same parts, so the part(s) they name are what is compared and the rest is the key:
// with `k8s-east/staging` vs `k8s-east/production` an entry is a deployment name and kind; with
// `k8s-east` vs `k8s-west` it is a logical environment, name and kind; with `staging` vs
// `production` (every environment) an environment, name and kind. Each place's records are read
// by the repository (server/data/diff.ts); the rules, keys, states and counts are here.
import { requireAsOf, type ArtifactKind, type Deployment, type DeploymentUseCase } from "./deployments.js";
import { FailedPrecondition, InvalidArgument } from "./errors.js";
import { requireName } from "./validation.js";

/** The most records one place may hold (FAILED_PRECONDITION beyond: compare narrower places). */
export const MAX_RECORDS_PER_PLACE = 10_000;

export interface PlaceInput {
  /** Environment name; empty: every environment. */
  environment: string;
  /** Logical environment name; empty: every logical environment. */
  logicalEnvironment: string;
  /** What was deployed there at this instant; undefined: now. */
  asOf?: Date;
}

export interface DiffInput {
  from: PlaceInput;
  to: PlaceInput;
  /** Only entries that are not "same" (the counts cover every entry). */
  differencesOnly: boolean;
}

export type DiffState = "same" | "different" | "only-in-from" | "only-in-to";

export interface DiffEntry {
  /** The environment, when neither place names one; else empty. */
  environment: string;
  /** The logical environment, when neither place names one; else empty. */
  logicalEnvironment: string;
  name: string;
  kind: ArtifactKind;
  state: DiffState;
  /** The record in each place; undefined where the place does not run the deployment. */
  from: Deployment | undefined;
  to: Deployment | undefined;
}

export interface DiffResult {
  entries: DiffEntry[];
  /** Over every entry, whatever `differencesOnly` says. */
  counts: Record<DiffState, number>;
  /** Every entry is "same" (two empty places are identical). */
  identical: boolean;
}

/** A place with its names resolved to ids in the organization. */
export interface ResolvedPlace {
  environmentId?: string;
  logicalEnvironmentId?: string;
  asOf?: Date;
}

/** Implemented by server/data/diff.ts. */
export interface DiffRepository {
  /**
   * The records each place ran (status deployed now, or deployed at its `asOf`), with names and
   * provenance, at most `limit` per place (any `limit` of them when there are more), read at one
   * moment.
   */
  readPlaces(orgId: string, places: readonly [ResolvedPlace, ResolvedPlace], limit: number): Promise<[Deployment[], Deployment[]]>;
}

export interface DiffOptions {
  /** MAX_RECORDS_PER_PLACE unless a test lowers it. */
  maxRecordsPerPlace?: number;
  now?: () => Date;
}

type Side = "from_place" | "to_place";
interface CheckedPlace {
  environment: string | undefined;
  logicalEnvironment: string | undefined;
  asOf: Date | undefined;
}

export class DiffUseCase {
  private readonly max: number;
  private readonly now: () => Date;

  constructor(
    private readonly repo: DiffRepository,
    /** Names to ids, with the NotFound every read taking them gives. */
    private readonly places: Pick<DeploymentUseCase, "resolvePlace">,
    opts: DiffOptions = {},
  ) {
    this.max = opts.maxRecordsPerPlace ?? MAX_RECORDS_PER_PLACE;
    this.now = opts.now ?? (() => new Date());
  }

  async diff(orgId: string, input: DiffInput): Promise<DiffResult> {
    const now = this.now();
    const from = checkPlace("from_place", input.from, now);
    const to = checkPlace("to_place", input.to, now);
    requireSameParts(from, to);
    // Both at once; when both are unknown, from_place's error is the one shown.
    const [fromIds, toIds] = await Promise.allSettled([this.resolve(orgId, from), this.resolve(orgId, to)]);
    if (fromIds.status === "rejected") throw fromIds.reason;
    if (toIds.status === "rejected") throw toIds.reason;
    const resolved = [fromIds.value, toIds.value] as const;
    const [fromRecords, toRecords] = await this.repo.readPlaces(orgId, resolved, this.max + 1);
    for (const [side, place, records] of [["from_place", from, fromRecords], ["to_place", to, toRecords]] as const) {
      if (records.length > this.max) {
        throw new FailedPrecondition(
          `${side} (${describePlace(place)}) holds more than ${this.max} records, too many to compare at once: ` +
            `compare narrower places${place.environment === undefined || place.logicalEnvironment === undefined ? " (name both an environment and a logical environment)" : ""}`,
        );
      }
    }
    return compare(fromRecords, toRecords, { environment: from.environment !== undefined, logicalEnvironment: from.logicalEnvironment !== undefined }, input.differencesOnly);
  }

  /** Ids of the place's names; NotFound, as ListDeployments words it, when one is unknown. */
  private async resolve(orgId: string, place: CheckedPlace): Promise<ResolvedPlace> {
    return { ...(await this.places.resolvePlace(orgId, place.environment, place.logicalEnvironment)), asOf: place.asOf };
  }
}

function checkPlace(side: Side, place: PlaceInput, now: Date): CheckedPlace {
  if (place.environment === "" && place.logicalEnvironment === "") {
    throw new InvalidArgument(
      `${side} names neither an environment nor a logical environment: name one or both ` +
        `(for example environment k8s-east and logical environment staging)`,
    );
  }
  const environment = place.environment === "" ? undefined : requireName(`${side}.environment`, place.environment);
  const logicalEnvironment = place.logicalEnvironment === "" ? undefined : requireName(`${side}.logical_environment`, place.logicalEnvironment);
  return { environment, logicalEnvironment, asOf: place.asOf && requireAsOf(`${side}.as_of`, place.asOf, now) };
}

const partsOf = (p: CheckedPlace) =>
  p.environment !== undefined && p.logicalEnvironment !== undefined
    ? "an environment and a logical environment"
    : p.environment !== undefined
      ? "an environment only"
      : "a logical environment only";

function requireSameParts(from: CheckedPlace, to: CheckedPlace): void {
  if ((from.environment === undefined) !== (to.environment === undefined) || (from.logicalEnvironment === undefined) !== (to.logicalEnvironment === undefined)) {
    throw new InvalidArgument(
      `from_place names ${partsOf(from)} (${describePlace(from)}) but to_place names ${partsOf(to)} (${describePlace(to)}): ` +
        `both places must name the same parts, for example k8s-east/staging with k8s-east/production, ` +
        `k8s-east with k8s-west, or staging with production (every environment)`,
    );
  }
}

/** `k8s-east/staging`, `environment k8s-east, every logical environment`, `logical environment staging, every environment`; then ` as of <time>`. */
export function describePlace(p: { environment?: string; logicalEnvironment?: string; asOf?: Date }): string {
  const where =
    p.environment && p.logicalEnvironment
      ? `${p.environment}/${p.logicalEnvironment}`
      : p.environment
        ? `environment ${p.environment}, every logical environment`
        : `logical environment ${p.logicalEnvironment}, every environment`;
  return p.asOf ? `${where} as of ${p.asOf.toISOString()}` : where;
}

/** Which parts both places name: those are left out of the key (and empty in entries). */
export interface NamedParts {
  environment: boolean;
  logicalEnvironment: boolean;
}

/** The entry key of a record: what neither place names, then deployment name and kind. */
export function entryKey(d: Deployment, named: NamedParts): { environment: string; logicalEnvironment: string; name: string; kind: ArtifactKind } {
  return {
    environment: named.environment ? "" : d.environment,
    logicalEnvironment: named.logicalEnvironment ? "" : d.logicalEnvironment,
    name: d.name,
    kind: d.kind,
  };
}

/**
 * The key as one string, joined by NUL (which no name contains and which sorts before every
 * character they may hold), so ordering by it orders by environment, logical environment, name
 * and kind.
 */
const keyString = (k: ReturnType<typeof entryKey>) => `${k.environment}\u0000${k.logicalEnvironment}\u0000${k.name}\u0000${k.kind}`;

/** By key; should a place hold two records for one key, the newest (highest seq) counts. */
function byKey(records: Deployment[], named: NamedParts): Map<string, Deployment> {
  const out = new Map<string, Deployment>();
  for (const d of records) {
    const k = keyString(entryKey(d, named));
    const seen = out.get(k);
    if (!seen || seen.seq < d.seq) out.set(k, d);
  }
  return out;
}

/** The entries, ordered by environment, logical environment, deployment name and kind, and the counts. */
export function compare(fromRecords: Deployment[], toRecords: Deployment[], named: NamedParts, differencesOnly: boolean): DiffResult {
  const from = byKey(fromRecords, named);
  const to = byKey(toRecords, named);
  const keys = [...new Set([...from.keys(), ...to.keys()])].sort();
  const entries = keys.map((k): DiffEntry => {
    const f = from.get(k);
    const t = to.get(k);
    const state: DiffState = f && t ? (f.digest === t.digest ? "same" : "different") : f ? "only-in-from" : "only-in-to";
    return { ...entryKey((f ?? t)!, named), state, from: f, to: t };
  });
  const counts: Record<DiffState, number> = { same: 0, different: 0, "only-in-from": 0, "only-in-to": 0 };
  for (const e of entries) counts[e.state]++;
  return {
    entries: differencesOnly ? entries.filter((e) => e.state !== "same") : entries,
    counts,
    identical: counts.same === entries.length,
  };
}
