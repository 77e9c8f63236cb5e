// Deployment records: the rules of recording, superseding, heartbeats and decommissioning.
//
// Slot = (organization, environment, logical environment, deployment name, kind). At most one
// `deployed` record per slot, enforced by the database (partial unique index). Races between
// recorders surface from the repository as SlotConflict and are retried here, so callers
// never see them.
import { DigestError, parseDigest } from "../shared/digest.js";
import { ARTIFACT_KINDS, type ArtifactKind, type DeploymentStatus, type RecordOutcome } from "../shared/names.js";
import { hasScope, type Actor, type Scope } from "./caller.js";
import { environmentNotFound, type EnvironmentUseCase } from "./environments.js";
import type { Evidence } from "./evidence.js";
import { FailedPrecondition, InvalidArgument, NotFound, PermissionDenied } from "./errors.js";
import type { PolicyViolation, PromotionGuard } from "./policies.js";
import type { WebhookEvents } from "./webhooks.js";
import { parsePageRequest, toPage, type Page, type PageRequest } from "./pagination.js";
import { requireName, requireUuid } from "./validation.js";

export { ARTIFACT_KINDS, type ArtifactKind, type DeploymentStatus, type RecordOutcome } from "../shared/names.js";

export const DEPLOYMENT_NAME_MAX = 128;
const ARTIFACT_LIMITS = { artifactName: 512, artifactVersion: 256, artifactReference: 1024 } as const;
/** Segments of lowercase letters, digits, '-', '.' and '_', joined by single '/' (`payments/api-server`). */
const DEPLOYMENT_NAME = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$/;
/** Attempts per call when concurrent recorders collide on a slot. */
const MAX_ATTEMPTS = 25;

export interface Deployment {
  id: string;
  environment: string;
  logicalEnvironment: string;
  name: string;
  kind: ArtifactKind;
  digest: string;
  artifactName: string;
  artifactVersion: string;
  artifactReference: string;
  status: DeploymentStatus;
  createdAt: Date;
  lastSeenAt: Date;
  supersededAt: Date | undefined;
  supersededById: string | undefined;
  decommissionedAt: Date | undefined;
  recordedBy: Actor | undefined;
  decommissionedBy: Actor | undefined;
  /** Decommissioned because an environment snapshot did not name it (server/domain/snapshots.ts). */
  decommissionedBySnapshot: boolean;
  /** Set when the record is a rollback: the slot's earlier, superseded record of the same digest. */
  rollbackOfId: string | undefined;
  /** Break glass: why it was recorded although its logical environment's promotion policy refused it. */
  overrideReason?: string;
  /**
   * What produced the artifact: the project and version of the newest attestation naming the
   * digest as a subject. Read with lists and single records; absent where the repository did not
   * read it (the record path's answers).
   */
  provenance?: Provenance;
  /** Insertion order (newest first, paging keyset). */
  seq: bigint;
  /** The environment's heartbeat interval, when it has one and the repository read it (staleness.ts). */
  heartbeatIntervalMs?: number;
}

export interface Provenance {
  project: string;
  projectVersion: string;
}

export interface Slot {
  organizationId: string;
  environmentId: string;
  logicalEnvironmentId: string;
  name: string;
  kind: ArtifactKind;
}

/** A slot as the caller names it; the record statement resolves the names itself. */
export interface NamedSlot extends SlotNames {
  organizationId: string;
  name: string;
  kind: ArtifactKind;
}

/** Why recording wrote nothing. */
export interface RecordRefusal {
  missing: "environment" | "logical-environment" | "evidence";
}

/**
 * A new record for a guarded logical environment, not written because the caller had not judged
 * its promotion policy at the version it has now (server/domain/policies.ts).
 */
export interface PolicyHold {
  guarded: { logicalEnvironmentId: string };
}

/** The promotion policy (and its version) a record was judged against, and the reason when it was overridden. */
export interface PolicyPass {
  policyId: string;
  version: bigint;
  overrideReason?: string;
}

/** What recording a digest in a slot would find (validate_only), read without writing. */
export interface RecordPreview {
  environmentId: string | undefined;
  logicalEnvironmentId: string | undefined;
  attested: boolean;
  /** The slot's running record. */
  active: Deployment | undefined;
  /** The newest earlier record of the digest superseded in the slot: recording it is a rollback of that. */
  rollbackOfId: string | undefined;
}

export interface ArtifactInput {
  digest: string;
  artifactName: string;
  artifactVersion: string;
  artifactReference: string;
}

export interface RecordInput extends ArtifactInput {
  environment: string;
  logicalEnvironment: string;
  name: string;
  kind: ArtifactKind | undefined;
  status: "deployed" | "decommissioned" | undefined;
  /** Break glass past an unmet promotion policy (admin scope). */
  overrideReason?: string;
  /** Answer with what recording would do, writing nothing. */
  validateOnly?: boolean;
}

export interface RecordResult {
  outcome: RecordOutcome;
  deployment: Deployment;
  supersededId?: string;
  /** The promotion rules the record did not meet, when it was made past them (override). */
  policyViolations?: PolicyViolation[];
  policyOverridden?: boolean;
}

export type DecommissionResult =
  | { outcome: "decommissioned"; deployment: Deployment; dryRun?: true }
  | { outcome: "already-decommissioned"; deployment: Deployment }
  | { outcome: "other-active"; activeDigest: string }
  | { outcome: "not-running"; deployment: Deployment }
  | { outcome: "never-ran" };

/** The project filter: an attestation of this project (and version, when given) names the digest as a subject. */
export interface AttestedFor {
  project: string;
  projectVersion: string | undefined;
}

export interface DeploymentFilters {
  environmentId?: string;
  logicalEnvironmentId?: string;
  name?: string;
  kind?: ArtifactKind;
  digest?: string;
  statuses?: DeploymentStatus[];
  /** Only digests an attestation of this project (and version) names as a subject. */
  attestedFor?: AttestedFor;
  /** Point in time: records that were deployed at this instant (then `statuses` is unset). */
  asOf?: Date;
  /** Only rollbacks (records with a rollbackOfId). */
  rollbacksOnly?: boolean;
}

/** What describing a record needs from the evidence store (implemented by EvidenceUseCase, server/domain/evidence.ts). */
export interface DeploymentEvidence {
  /** Up to `limit` mentions of the digest, newest first. */
  evidenceFor(orgId: string, digest: string, limit: number): Promise<Evidence[]>;
}

/** Evidence shown with one deployment record (GetDeployment). */
export const DEPLOYMENT_EVIDENCE_LIMIT = 100;

/** Two recorders raced on one slot; the attempt was rolled back and may be retried. */
export class SlotConflict extends Error {}

/** Implemented by server/data/deployments.ts. */
export interface DeploymentRepository {
  resolveSlotNames(
    orgId: string,
    environment: string,
    logicalEnvironment: string | undefined,
  ): Promise<{ environmentId: string | undefined; logicalEnvironmentId: string | undefined }>;
  /**
   * One atomic step, by names: resolve the environment and logical environment, check that an
   * attestation of the organization names the digest, then heartbeat, supersede + insert, or
   * insert. When a name or the evidence is missing nothing is written and the answer says
   * which (environment first, then logical environment, then evidence). Throws SlotConflict on a race.
   */
  recordDeployed(
    slot: NamedSlot,
    artifact: ArtifactInput,
    actor: Actor | undefined,
    policy?: PolicyPass,
  ): Promise<RecordResult | RecordRefusal | PolicyHold>;
  /** One transaction (none is written with dryRun). Throws SlotConflict on a race. */
  decommission(slot: Slot, digest: string, names: SlotNames, actor: Actor | undefined, opts?: { dryRun?: boolean }): Promise<DecommissionResult>;
  /** What recording would find, writing nothing. */
  previewRecord(slot: NamedSlot, digest: string): Promise<RecordPreview>;
  get(orgId: string, id: string): Promise<Deployment | undefined>;
  list(orgId: string, filters: DeploymentFilters, afterSeq: bigint | undefined, limit: number): Promise<Deployment[]>;
}

export interface SlotNames {
  environment: string;
  logicalEnvironment: string;
}

export interface ListInput extends PageRequest {
  environment: string;
  logicalEnvironment: string;
  name: string;
  kind: ArtifactKind | undefined;
  digest: string;
  status: DeploymentStatus | undefined;
  history: boolean;
  /** Only records whose digest an attestation of this project (and version) names as a subject. */
  project?: string;
  projectVersion?: string;
  /** Point in time (ListDeployments `as_of`): what was deployed at this instant. */
  asOf?: Date;
  /** Only rollbacks. */
  rollbacksOnly?: boolean;
}

/**
 * Runs tasks keyed by slot one after another, in arrival order: the retries of records that lost
 * a race on their slot. Without it, N concurrent records on one slot all wait on the active
 * row's lock; each time one commits (superseding that row) the others find no active row,
 * collide on the insert and all retry at once: N²/2 statements, each holding a pooled connection
 * while it waits (120 at once on one slot, through two processes with 10 connections each,
 * outlasted the pool's 5 s timeout). Queued here, losers wait without a connection and each
 * finds the slot as the previous one left it: about 2N statements. First attempts are not
 * queued, so an unreachable database still fails every call within its own timeout.
 */
class SlotQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

type SlotIdentity = Pick<Slot, "organizationId" | "name" | "kind">;
const slotKey = (slot: SlotIdentity, names: SlotNames) =>
  JSON.stringify([slot.organizationId, names.environment, names.logicalEnvironment, slot.name, slot.kind]);

/** What guards recording, when wired: promotion policies, and who hears of their refusals. */
export interface RecordGuards {
  policies?: PromotionGuard;
  events?: WebhookEvents;
}

/** The longest override reason (RecordDeployment `override_reason`). */
export const OVERRIDE_REASON_MAX = 1024;

/** A caller as the record path sees it: the token, and its scope when known (an override needs admin). */
export type Recorder = Actor & { scope?: Scope };

export class DeploymentUseCase {
  private readonly slots = new SlotQueue();

  constructor(
    private readonly repo: DeploymentRepository,
    private readonly environments: EnvironmentUseCase,
    private readonly evidence: DeploymentEvidence,
    private readonly guards: RecordGuards = {},
  ) {}

  async record(orgId: string, input: RecordInput, actor?: Recorder): Promise<RecordResult> {
    const environment = requireName("environment", input.environment);
    const logicalEnvironment = requireName("logical_environment", input.logicalEnvironment);
    const name = requireDeploymentName(input.name);
    if (!input.kind) {
      throw new InvalidArgument(`kind is required: one of ${ARTIFACT_KINDS.join(", ")}`);
    }
    const artifact = requireArtifact(input);
    const overrideReason = requireOverrideReason(input.overrideReason, actor);
    const digest = artifact.digest;
    const names = { environment, logicalEnvironment };
    const slot: NamedSlot = { organizationId: orgId, ...names, name, kind: input.kind };
    if (input.status === "decommissioned") {
      return this.decommission(orgId, names, name, input.kind, digest, actor, input.validateOnly ?? false);
    }
    return input.validateOnly
      ? this.previewDeployed(slot, artifact, actor, overrideReason)
      : this.recordDeployed(slot, artifact, actor, overrideReason);
  }

  /**
   * One attempt at once; when it loses a race on its slot (SlotConflict), the retries go through
   * the slot's queue (SlotQueue), one at a time with this process's other losers, each still
   * retried against other processes (retryOnConflict).
   */
  private async onSlot<T>(slot: SlotIdentity, names: SlotNames, attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof SlotConflict)) throw e;
    }
    return this.slots.run(slotKey(slot, names), () => retryOnConflict(attempt));
  }

  private async recordDeployed(
    slot: NamedSlot,
    artifact: ArtifactInput,
    actor: Recorder | undefined,
    overrideReason: string | undefined,
  ): Promise<RecordResult> {
    const digest = artifact.digest;
    const names = { environment: slot.environment, logicalEnvironment: slot.logicalEnvironment };

    // Deployed: one statement resolves the names, checks the evidence and the promotion policy's
    // presence, and records (the hot path). When it refuses, the names are resolved again here
    // to say exactly what is missing; when it holds the record for a policy, the policy is judged
    // here and the record submitted again with the version judged.
    let pass: PolicyPass | undefined;
    let overridden: PolicyViolation[] | undefined;
    for (let attempt = 1; ; attempt++) {
      const res = await this.onSlot(slot, names, () => this.repo.recordDeployed(slot, artifact, actor, pass));
      if ("outcome" in res) return overridden ? { ...res, policyViolations: overridden, policyOverridden: true } : res;
      // Names created, or a policy changed, after the statement ran: try again, a bounded number of times.
      if (attempt >= 4) throw new FailedPrecondition(`${describeSlot(slot, slot)} changed while recording; retry`);
      if ("guarded" in res) {
        const verdict = await this.judge(slot, artifact, res.guarded.logicalEnvironmentId, actor, overrideReason, true);
        pass = verdict.pass;
        overridden = verdict.overridden;
        continue;
      }
      if (res.missing === "evidence") throw noEvidence(digest);
      await this.resolveSlot(slot.organizationId, slot.environment, slot.logicalEnvironment); // throws NotFound naming it
    }
  }

  /**
   * The promotion policy of a guarded logical environment judged for a new record: the version
   * to record at (none when the policy is gone), and the rules overridden. Refuses
   * (FailedPrecondition listing every unmet rule) unless an override reason was given; a real
   * refusal (`announce`) is also sent to webhooks.
   */
  private async judge(
    slot: NamedSlot,
    artifact: ArtifactInput,
    logicalEnvironmentId: string,
    actor: Recorder | undefined,
    overrideReason: string | undefined,
    announce: boolean,
  ): Promise<{ pass: PolicyPass | undefined; overridden?: PolicyViolation[] }> {
    if (!this.guards.policies) throw new Error("a promotion policy guards the slot but no policy evaluator is wired");
    const judgement = await this.guards.policies.evaluate(slot.organizationId, logicalEnvironmentId, [artifact.digest]);
    if (!judgement) return { pass: undefined }; // deleted meanwhile: nothing to judge
    const violations = judgement.violations.get(artifact.digest) ?? [];
    const judged = { policyId: judgement.policyId, version: judgement.version };
    if (violations.length === 0) return { pass: judged };
    if (overrideReason !== undefined) return { pass: { ...judged, overrideReason }, overridden: violations };
    if (announce && this.guards.events) {
      await this.guards.events.policyRefused({
        organizationId: slot.organizationId,
        environment: slot.environment,
        logicalEnvironment: slot.logicalEnvironment,
        name: slot.name,
        kind: slot.kind,
        artifact,
        violations,
        actor: actor ? { tokenId: actor.tokenId, tokenName: actor.tokenName } : undefined,
        at: new Date(),
      });
    }
    throw policyRefusal(artifact.digest, slot, violations);
  }

  /**
   * validate_only: what recording would do now, by the same rules, writing nothing and sending
   * no event. A new record's `id` is empty.
   */
  private async previewDeployed(
    slot: NamedSlot,
    artifact: ArtifactInput,
    actor: Recorder | undefined,
    overrideReason: string | undefined,
  ): Promise<RecordResult> {
    const p = await this.repo.previewRecord(slot, artifact.digest);
    if (!p.environmentId || !p.logicalEnvironmentId) {
      await this.resolveSlot(slot.organizationId, slot.environment, slot.logicalEnvironment); // throws NotFound naming it
      throw new FailedPrecondition(`${describeSlot(slot, slot)} changed while checking; retry`);
    }
    if (!p.attested) throw noEvidence(artifact.digest);
    const now = new Date();
    if (p.active && p.active.digest === artifact.digest) {
      return { outcome: "heartbeat", deployment: { ...p.active, lastSeenAt: now } };
    }
    const verdict = await this.judge(slot, artifact, p.logicalEnvironmentId, actor, overrideReason, false);
    const deployment: Deployment = {
      id: "",
      environment: slot.environment,
      logicalEnvironment: slot.logicalEnvironment,
      name: slot.name,
      kind: slot.kind,
      ...artifact,
      status: "deployed",
      createdAt: now,
      lastSeenAt: now,
      supersededAt: undefined,
      supersededById: undefined,
      decommissionedAt: undefined,
      recordedBy: actor ? { tokenId: actor.tokenId, tokenName: actor.tokenName } : undefined,
      decommissionedBy: undefined,
      decommissionedBySnapshot: false,
      rollbackOfId: p.rollbackOfId,
      ...(verdict.overridden ? { overrideReason } : {}),
      seq: 0n,
    };
    return {
      outcome: p.rollbackOfId ? "rolled-back" : p.active ? "superseded" : "created",
      deployment,
      ...(p.active ? { supersededId: p.active.id } : {}),
      ...(verdict.overridden ? { policyViolations: verdict.overridden, policyOverridden: true } : {}),
    };
  }

  private async decommission(
    orgId: string,
    names: SlotNames,
    name: string,
    kind: ArtifactKind,
    digest: string,
    actor: Actor | undefined,
    dryRun: boolean,
  ): Promise<RecordResult> {
    const ids = await this.resolveSlot(orgId, names.environment, names.logicalEnvironment);
    const slot: Slot = { organizationId: orgId, ...ids, name, kind };
    const res = await this.onSlot(slot, names, () => this.repo.decommission(slot, digest, names, actor, { dryRun }));
    switch (res.outcome) {
      case "decommissioned":
      case "already-decommissioned":
        return { outcome: res.outcome, deployment: res.deployment };
      case "other-active":
        throw new FailedPrecondition(
          `cannot decommission ${digest} from ${describeSlot(slot, names)}: the active record there is ${res.activeDigest}`,
        );
      case "not-running":
        throw new FailedPrecondition(
          `cannot decommission ${digest} from ${describeSlot(slot, names)}: it is not running there ` +
            `(it was ${res.deployment.status}${res.deployment.supersededById ? ` by record ${res.deployment.supersededById}` : ""}) ` +
            `and nothing is deployed in that slot now`,
        );
      case "never-ran":
        throw new NotFound(`${digest} was never recorded in ${describeSlot(slot, names)}; nothing to decommission`);
    }
  }

  async get(orgId: string, id: string): Promise<Deployment> {
    const d = await this.repo.get(orgId, requireUuid(id, "a deployment id"));
    if (!d) throw new NotFound(`deployment ${id} not found`);
    return d;
  }

  /** One record and the evidence for its digest. */
  async describe(orgId: string, id: string): Promise<{ deployment: Deployment; evidence: Evidence[] }> {
    const deployment = await this.get(orgId, id);
    return { deployment, evidence: await this.evidence.evidenceFor(orgId, deployment.digest, DEPLOYMENT_EVIDENCE_LIMIT) };
  }

  async list(orgId: string, input: ListInput): Promise<Page<Deployment>> {
    const filters: DeploymentFilters = {};
    if (input.asOf !== undefined) filters.asOf = checkListAsOf(input, new Date());
    const shape = {
      environment: input.environment,
      logicalEnvironment: input.logicalEnvironment,
      name: input.name,
      kind: input.kind ?? "",
      digest: input.digest,
      status: input.status ?? "",
      history: input.history,
      ...(input.rollbacksOnly ? { rollbacksOnly: true } : {}),
      ...(input.project || input.projectVersion ? { project: input.project ?? "", projectVersion: input.projectVersion ?? "" } : {}),
      // A token from a list as of another instant (or of now) is refused: its position means
      // nothing in this one (as of a time, pages are ordered by created_at, then seq).
      ...(filters.asOf ? { asOf: filters.asOf.toISOString() } : {}),
    };
    if (input.environment !== "" || input.logicalEnvironment !== "") {
      const env = input.environment !== "" ? requireName("environment", input.environment) : undefined;
      const lenv = input.logicalEnvironment !== "" ? requireName("logical_environment", input.logicalEnvironment) : undefined;
      Object.assign(filters, await this.resolvePlace(orgId, env, lenv));
    }
    if (input.name !== "") filters.name = requireDeploymentName(input.name);
    if (input.kind) filters.kind = input.kind;
    if (input.digest !== "") filters.digest = requireDigest("digest", input.digest);
    // As of a time: the records deployed then, whatever their status now (no status filter).
    if (!filters.asOf) filters.statuses = input.status ? [input.status] : input.history ? undefined : ["deployed"];
    if (input.rollbacksOnly) filters.rollbacksOnly = true;
    if (input.projectVersion && !input.project) throw new InvalidArgument("project_version needs project");
    if (input.project) {
      filters.attestedFor = {
        project: requireName("project", input.project),
        projectVersion: input.projectVersion ? bounded("project_version", input.projectVersion, 128) : undefined,
      };
    }

    const page = parsePageRequest(input, shape, ["digits"]);
    const after = page.after ? BigInt(page.after[0] as string) : undefined;
    const rows = await this.repo.list(orgId, filters, after, page.limit + 1);
    return toPage(rows, page, (d) => [d.seq.toString()]);
  }

  /**
   * The ids of an environment and/or a logical environment (each optional), by name, in one read;
   * NotFound naming what is missing (the environment first), as every read that takes them says
   * it: lists, diffs, delivery metrics.
   */
  async resolvePlace(
    orgId: string,
    environment: string | undefined,
    logicalEnvironment: string | undefined,
  ): Promise<{ environmentId?: string; logicalEnvironmentId?: string }> {
    const ids = await this.repo.resolveSlotNames(orgId, environment ?? "", logicalEnvironment);
    if (environment !== undefined && !ids.environmentId) throw environmentNotFound(environment);
    if (logicalEnvironment !== undefined && !ids.logicalEnvironmentId) throw await this.logicalNotFound(orgId, logicalEnvironment);
    return {
      ...(ids.environmentId ? { environmentId: ids.environmentId } : {}),
      ...(ids.logicalEnvironmentId ? { logicalEnvironmentId: ids.logicalEnvironmentId } : {}),
    };
  }

  /** The ids of an environment and a logical environment, by name; NotFound naming what is missing. */
  async resolveSlot(orgId: string, environment: string, logicalEnvironment: string) {
    const ids = await this.repo.resolveSlotNames(orgId, environment, logicalEnvironment);
    if (!ids.environmentId) throw environmentNotFound(environment);
    if (!ids.logicalEnvironmentId) throw await this.logicalNotFound(orgId, logicalEnvironment);
    return { environmentId: ids.environmentId, logicalEnvironmentId: ids.logicalEnvironmentId };
  }

  private async logicalNotFound(orgId: string, name: string): Promise<NotFound> {
    const valid = (await this.environments.listLogical(orgId)).map((l) => l.name);
    return new NotFound(
      `logical environment "${name}" not found; valid ones: ${valid.join(", ")} ` +
        `(create more with: chainloop logical-environment create --name ${name})`,
    );
  }
}

/** The earliest instant a google.protobuf.Timestamp can hold (0001-01-01T00:00:00Z). */
const EARLIEST_INSTANT_MS = Date.parse("0001-01-01T00:00:00Z");

/**
 * ListDeployments' `as_of`: what was deployed at that instant, so neither `history` nor `status`
 * (they select by status now) may come with it, and it may not be in the future, give or take
 * AS_OF_CLOCK_SKEW_MS (one minute: the caller's clock may run a little ahead of the server's;
 * records get the server's time). Returns the instant.
 */
function checkListAsOf(input: ListInput, now: Date): Date {
  const at = input.asOf!;
  if (input.history) {
    throw new InvalidArgument(
      "as_of cannot be combined with history: as of a time the list holds the records deployed then, whatever their status now",
    );
  }
  if (input.status) {
    throw new InvalidArgument(
      `as_of cannot be combined with status (${input.status.toUpperCase()}): as of a time the list holds the records DEPLOYED then, whatever their status now`,
    );
  }
  return requireAsOf("as_of", at, now);
}

/** How far in the future an `as_of` may be: the caller's clock may run ahead of the server's by this much. */
export const AS_OF_CLOCK_SKEW_MS = 60_000;

/**
 * A point in time to look back at (ListDeployments, DiffDeployments): one a Timestamp can hold,
 * and not in the future, give or take AS_OF_CLOCK_SKEW_MS (the caller's clock may run a little
 * ahead of the server's, and records get the server's time).
 */
export function requireAsOf(field: string, at: Date, now: Date): Date {
  if (Number.isNaN(at.getTime()) || at.getTime() < EARLIEST_INSTANT_MS) {
    throw new InvalidArgument(`${field} is not a time a Timestamp can hold (0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z)`);
  }
  if (at.getTime() > now.getTime() + AS_OF_CLOCK_SKEW_MS) {
    throw new InvalidArgument(
      `${field} ${at.toISOString()} is in the future (the server's time is ${now.toISOString()}): ` +
        `what runs there later is not known yet; leave ${field} unset for now`,
    );
  }
  return at;
}

export async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof SlotConflict) || i >= MAX_ATTEMPTS) throw e;
      // Back off a little, with jitter, so a crowd of recorders does not collide in lockstep.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(2 ** i, 50)));
    }
  }
}

export function describeSlot(slot: Pick<Slot, "name" | "kind">, names: SlotNames): string {
  return `${names.environment}/${names.logicalEnvironment} ${slot.name} (${slot.kind})`;
}

/** Why a digest without evidence cannot be recorded, and how to fix it. */
export function noEvidenceMessage(digest: string): string {
  return (
    `${digest} has no evidence: no attestation of this organization mentions it, so it cannot be recorded as deployed. ` +
      `Push one first, for example: chainloop attestation push --subject ${digest} --workflow <workflow> --project <project> ` +
      `[--version <version>] (or --file <attestation.json> for an in-toto statement or DSSE envelope)`
  );
}

function noEvidence(digest: string): FailedPrecondition {
  return new FailedPrecondition(noEvidenceMessage(digest));
}

/** Why a promotion policy refuses a digest: every unmet rule, in the message and as violations. */
export function policyRefusalMessage(digest: string, names: SlotNames, violations: PolicyViolation[]): string {
  const rules = violations.map((v, i) => `(${i + 1}) ${v.rule}${v.subject ? ` ${v.subject}` : ""}: ${v.description}`).join("; ");
  return (
    `the promotion policy of ${names.logicalEnvironment} refuses ${digest} in ${names.environment}/${names.logicalEnvironment}: ` +
    `${violations.length} unmet rule${violations.length === 1 ? "" : "s"}: ${rules}. ` +
    `An admin token may record it anyway with an override reason (chainloop deployment record … --override-reason "…")`
  );
}

function policyRefusal(digest: string, names: SlotNames, violations: PolicyViolation[]): FailedPrecondition {
  return new FailedPrecondition(policyRefusalMessage(digest, names, violations), {
    violations: violations.map((v) => ({ type: v.rule, subject: v.subject, description: v.description })),
  });
}

/** RecordDeployment's override_reason: admin scope only; trimmed, bounded, printable. Undefined when not given. */
function requireOverrideReason(value: string | undefined, actor: Recorder | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (actor?.scope !== undefined && !hasScope(actor.scope, "admin")) {
    throw new PermissionDenied(
      `override_reason (recording past a promotion policy) needs a token with the admin scope; token "${actor.tokenName}" has ${actor.scope}`,
    );
  }
  const reason = value.trim();
  if (reason === "") throw new InvalidArgument("override_reason must say why the policy is overridden; it is blank");
  if (reason.length > OVERRIDE_REASON_MAX) {
    throw new InvalidArgument(`override_reason is ${reason.length} characters long; the limit is ${OVERRIDE_REASON_MAX}`);
  }
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(reason)) throw new InvalidArgument("override_reason must not contain control characters");
  return reason;
}

export function requireDeploymentName(value: string): string {
  if (value === "") throw new InvalidArgument("deployment_name is required");
  if (value.length > DEPLOYMENT_NAME_MAX) {
    throw new InvalidArgument(`deployment_name is ${value.length} characters long; the limit is ${DEPLOYMENT_NAME_MAX}`);
  }
  if (!DEPLOYMENT_NAME.test(value)) {
    throw new InvalidArgument(
      `deployment_name ${JSON.stringify(value)} is not valid: use lowercase letters, digits, '-', '.' and '_', ` +
        `starting and ending with a letter or digit, and '/' between such segments (for example "api-server" or "payments/api-server")`,
    );
  }
  return value;
}

export function requireDigest(field: string, value: string): string {
  try {
    return parseDigest(value).value;
  } catch (e) {
    if (e instanceof DigestError) throw new InvalidArgument(e.message.replace(/^digest/, field));
    throw e;
  }
}

/** The digest (parsed) and what it was resolved from (bounded), as RecordDeployment and snapshots take them. */
export function requireArtifact(input: ArtifactInput): ArtifactInput {
  return {
    digest: requireDigest("digest", input.digest),
    artifactName: bounded("artifact_name", input.artifactName, ARTIFACT_LIMITS.artifactName),
    artifactVersion: bounded("artifact_version", input.artifactVersion, ARTIFACT_LIMITS.artifactVersion),
    artifactReference: bounded("artifact_reference", input.artifactReference, ARTIFACT_LIMITS.artifactReference),
  };
}

function bounded(field: string, value: string, max: number): string {
  if (value.length > max) throw new InvalidArgument(`${field} is ${value.length} characters long; the limit is ${max}`);
  if (value.includes("\u0000")) throw new InvalidArgument(`${field} must not contain NUL characters`);
  return value;
}
