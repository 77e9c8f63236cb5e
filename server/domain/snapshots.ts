// Environment snapshots: an agent that watches a cluster reports everything that runs in one
// environment and logical environment at once. Each entry is recorded as RecordDeployment records
// it (created / heartbeat / superseded, evidence required); the scope's active records that no
// entry names are decommissioned, marked as decommissioned by the snapshot. All of it in one
// transaction (server/data/deployments.ts: applySnapshot).
//
// The rules that keep a partial report from wiping an environment live here:
//   - an entry that cannot be recorded (malformed, its digest has no evidence, or the logical
//     environment's promotion policy refuses a new digest) is refused on its own and reported
//     with the reason;
//   - while any entry is refused nothing is decommissioned (by default the valid entries are
//     still recorded; with all_or_nothing nothing is written at all);
//   - two entries for one slot make the whole snapshot invalid (which would be running?).
import type { Actor } from "./caller.js";
import {
  ARTIFACT_KINDS,
  describeSlot,
  noEvidenceMessage,
  policyRefusalMessage,
  requireArtifact,
  requireDeploymentName,
  retryOnConflict,
  type ArtifactInput,
  type ArtifactKind,
  type Deployment,
  type DeploymentUseCase,
  type PolicyHold,
  type PolicyPass,
  type RecordGuards,
  type RecordResult,
  type SlotNames,
} from "./deployments.js";
import type { DeployOutcome } from "../shared/names.js";
import type { PolicyJudgement } from "./policies.js";
import { InvalidArgument } from "./errors.js";
import { requireName } from "./validation.js";

/** Most entries in one snapshot. */
export const SNAPSHOT_MAX_ENTRIES = 10_000;

export interface SnapshotEntryInput extends ArtifactInput {
  name: string;
  kind: ArtifactKind | undefined;
  /** Set by the handler when the entry could not even be decoded (say, an unknown kind number). */
  invalid?: string;
}

export interface SnapshotInput {
  environment: string;
  logicalEnvironment: string;
  entries: SnapshotEntryInput[];
  /** Decommission the scope's active records that no entry names. */
  decommissionMissing: boolean;
  /** When an entry is refused, write nothing (instead of recording the valid ones). */
  allOrNothing: boolean;
  /** Work out what would change and change nothing. */
  validateOnly: boolean;
}

export type SnapshotRefusal = "invalid-entry" | "no-evidence" | "policy";

export interface SnapshotEntryResult {
  index: number;
  name: string;
  kind: ArtifactKind | undefined;
  digest: string;
  /** What recording the entry did (or would do); unset when refused or not written. */
  outcome?: DeployOutcome;
  /** The slot's record for the entry; unset for a record a validate-only snapshot would create. */
  deploymentId?: string;
  supersededId?: string;
  refusal?: SnapshotRefusal;
  message?: string;
}

export interface SnapshotResult {
  results: SnapshotEntryResult[];
  /** The records decommissioned (or that would be) because no entry named them. */
  decommissioned: Deployment[];
  /** Whether anything was committed. */
  applied: boolean;
  /** Why nothing was decommissioned although that was asked for. */
  decommissionSkippedReason?: string;
}

/** The environment and logical environment a snapshot covers. */
export interface SnapshotScope {
  organizationId: string;
  environmentId: string;
  logicalEnvironmentId: string;
  names: SlotNames;
}

export interface SnapshotItem {
  name: string;
  kind: ArtifactKind;
  artifact: ArtifactInput;
  /** The promotion policy version the item's digest was judged to meet (see RECORD_STATEMENT). */
  policy?: PolicyPass;
}

/** What to do once the entries' evidence is known (decided here, applied by the repository). */
export interface SnapshotPlan {
  decommission: boolean;
  commit: boolean;
}

export interface SnapshotWrite {
  /** Per item, in order: what recording it did, that its digest has no evidence, or that a promotion policy held it. */
  records: Array<RecordResult | { missing: "evidence" } | PolicyHold>;
  decommissioned: Deployment[];
}

/** Implemented by server/data/deployments.ts. */
export interface SnapshotRepository {
  /**
   * One transaction, holding the scope against other snapshots: records the items (the record
   * statement's rules), asks `plan` what to do given how many items were refused (no evidence,
   * or held by a promotion policy; an item judged at a policy version that changed meanwhile
   * throws SlotConflict, so it is judged again), then
   * decommissions the scope's other active records when the plan says so, and commits or rolls
   * back as it says. Throws SlotConflict when it lost a race with a concurrent recorder.
   */
  applySnapshot(
    scope: SnapshotScope,
    items: SnapshotItem[],
    actor: Actor | undefined,
    plan: (refused: number) => SnapshotPlan,
  ): Promise<SnapshotWrite>;
}

export class SnapshotUseCase {
  constructor(
    private readonly repo: SnapshotRepository,
    private readonly deployments: DeploymentUseCase,
    private readonly guards: RecordGuards = {},
  ) {}

  async report(orgId: string, input: SnapshotInput, actor?: Actor): Promise<SnapshotResult> {
    const environment = requireName("environment", input.environment);
    const logicalEnvironment = requireName("logical_environment", input.logicalEnvironment);
    if (input.entries.length > SNAPSHOT_MAX_ENTRIES) {
      throw new InvalidArgument(
        `a snapshot holds at most ${SNAPSHOT_MAX_ENTRIES} entries; this one has ${input.entries.length}: split the environment ` +
          `into several logical environments or environments`,
      );
    }
    const names = { environment, logicalEnvironment };

    const results: SnapshotEntryResult[] = [];
    const valid: Array<{ index: number; item: SnapshotItem }> = [];
    for (const [index, entry] of input.entries.entries()) {
      const result: SnapshotEntryResult = { index, name: entry.name, kind: entry.kind, digest: entry.digest };
      results.push(result);
      try {
        valid.push({ index, item: validEntry(entry) });
      } catch (e) {
        if (!(e instanceof InvalidArgument)) throw e;
        Object.assign(result, { refusal: "invalid-entry", message: e.message });
      }
    }
    refuseDuplicateSlots(valid, names);
    const invalid = input.entries.length - valid.length;

    const ids = await this.deployments.resolveSlot(orgId, environment, logicalEnvironment);
    const scope: SnapshotScope = { organizationId: orgId, ...ids, names };
    let plan: SnapshotPlan = { decommission: false, commit: false };
    const decide = (refusedHere: number): SnapshotPlan => {
      const refused = invalid + refusedHere;
      plan = {
        decommission: input.decommissionMissing && refused === 0,
        commit: !input.validateOnly && !(input.allOrNothing && refused > 0),
      };
      return plan;
    };
    // The promotion policy, judged for every digest at once (and again if it changes while the
    // snapshot is applied): digests that meet it carry the version judged; the others are
    // written only when they are already running in their slot (a heartbeat).
    let judgement: PolicyJudgement | undefined;
    const write = await retryOnConflict(async () => {
      judgement = this.guards.policies
        ? await this.guards.policies.evaluate(orgId, scope.logicalEnvironmentId, [...new Set(valid.map((v) => v.item.artifact.digest))])
        : undefined;
      const items = valid.map(({ item }): SnapshotItem => {
        const unmet = judgement?.violations.get(item.artifact.digest);
        return judgement && unmet?.length === 0 ? { ...item, policy: { policyId: judgement.policyId, version: judgement.version } } : item;
      });
      return this.repo.applySnapshot(scope, items, actor, decide);
    });

    for (const [i, record] of write.records.entries()) {
      const result = results[valid[i]!.index]!;
      if ("missing" in record) Object.assign(result, { refusal: "no-evidence", message: noEvidenceMessage(result.digest) });
      if ("guarded" in record) {
        const violations = judgement?.violations.get(result.digest) ?? [];
        Object.assign(result, { refusal: "policy", message: policyRefusalMessage(result.digest, names, violations) });
        if (plan.commit && this.guards.events) {
          const item = valid[i]!.item;
          await this.guards.events.policyRefused({
            organizationId: orgId,
            ...names,
            name: item.name,
            kind: item.kind,
            artifact: item.artifact,
            violations,
            actor: actor ? { tokenId: actor.tokenId, tokenName: actor.tokenName } : undefined,
            at: new Date(),
          });
        }
      }
    }
    // With all_or_nothing and a refusal nothing is (or, validating, would be) written.
    const written = !(input.allOrNothing && results.some((r) => r.refusal));
    for (const [i, record] of write.records.entries()) {
      const result = results[valid[i]!.index]!;
      if (!("outcome" in record) || !written) continue;
      result.outcome = record.outcome as DeployOutcome;
      if (!(input.validateOnly && record.outcome === "created")) result.deploymentId = record.deployment.id;
      if (record.supersededId) result.supersededId = record.supersededId;
    }
    const refused = results.filter((r) => r.refusal).length;
    return {
      results,
      decommissioned: write.decommissioned,
      applied: plan.commit,
      ...(input.decommissionMissing && refused > 0
        ? {
            decommissionSkippedReason:
              `nothing was decommissioned: ${refused} of ${results.length} entries ${refused === 1 ? "was" : "were"} refused, ` +
              `and a partial snapshot must not remove what it failed to report`,
          }
        : {}),
    };
  }
}

function validEntry(entry: SnapshotEntryInput): SnapshotItem {
  if (entry.invalid) throw new InvalidArgument(entry.invalid);
  const name = requireDeploymentName(entry.name);
  if (!entry.kind) throw new InvalidArgument(`kind is required: one of ${ARTIFACT_KINDS.join(", ")}`);
  return { name, kind: entry.kind, artifact: requireArtifact(entry) };
}

/** Two entries for one slot: the snapshot cannot say which runs. InvalidArgument naming the first few. */
function refuseDuplicateSlots(valid: Array<{ index: number; item: SnapshotItem }>, names: SlotNames): void {
  const first = new Map<string, number>();
  const duplicates: string[] = [];
  for (const { index, item } of valid) {
    const key = `${item.name}\u0000${item.kind}`;
    const seen = first.get(key);
    if (seen === undefined) first.set(key, index);
    else duplicates.push(`entries ${seen} and ${index} are both ${describeSlot(item, names)}`);
  }
  if (duplicates.length === 0) return;
  const shown = duplicates.slice(0, 5).join("; ");
  throw new InvalidArgument(
    `a snapshot names each slot (deployment name and kind) once: ${shown}` +
      (duplicates.length > 5 ? ` (and ${duplicates.length - 5} more)` : ""),
  );
}
