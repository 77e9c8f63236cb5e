// DeploymentRepository and SnapshotRepository: raw SQL on the pool, as every statement on
// deployment records (README: "One way to the database"); rows mapped by
// server/data/deployment-rows.ts. Records are group-committed (server/data/group-commit.ts): concurrent calls share one statement (RECORD_STATEMENT below),
// which resolves each item's names, checks its evidence, then
//   locks the slots' active rows (SELECT … FOR UPDATE) →
//     same digest:  UPDATE last_seen_at                         (heartbeat)
//     other digest: UPDATE status = superseded; INSERT; link     (supersede)
//     no row:       INSERT                                       (create)
// and commits once for all of them; each caller is answered after that commit.
// Two recorders inserting into an empty slot at once (two server processes) collide on the
// partial unique index "deployments_active_slot_key"; the losing statement rolls back. A batch
// that fails that way (or with any other error of the database's about its data) is run again
// item by item, so only the item that lost the race surfaces as SlotConflict, which the use case
// retries (it then sees the winner's row); the others succeed.
import {
  SlotConflict,
  type ArtifactInput,
  type AttestedFor,
  type DecommissionResult,
  type Deployment,
  type DeploymentFilters,
  type DeploymentRepository,
  type NamedSlot,
  type PolicyHold,
  type PolicyPass,
  type RecordPreview,
  type RecordRefusal,
  type RecordResult,
  type Slot,
  type SlotNames,
} from "../domain/deployments.js";
import type { SnapshotItem, SnapshotPlan, SnapshotRepository, SnapshotScope, SnapshotWrite } from "../domain/snapshots.js";
import type { DeployOutcome } from "../shared/names.js";
import { randomUUID } from "node:crypto";
import type { Actor } from "../domain/caller.js";
import {
  attestedForCondition,
  deploymentPage,
  sqlParams,
  WITH_NAMES_JOIN,
  WITH_NAMES_SELECT,
  type RawPageRow,
} from "./deployment-pages.js";
import { deploymentColumns, fromRaw, toDeployment, type RawDeploymentRow } from "./deployment-rows.js";
import type { SqlPool } from "./client.js";
import { isRetryableConflict, sqlStateOf } from "./errors.js";
import { GroupCommit, type GroupCommitOptions } from "./group-commit.js";


export interface DeploymentRepositoryOptions {
  /** Group commit of records (default: batches of up to 256, one at a time). */
  recordBatches?: GroupCommitOptions;
  /** Called after a commit that changed deployment records (the change feed's wake-up). */
  onCommitted?: () => void;
}

/**
 * One statement at a time: on the benchmark's 2-core machine a second one in flight halved the
 * batches and cost Postgres and the server more per record than it saved in waiting (2,428 against
 * 2,566 records/s; 4 and 8 in flight: 1,695 and 1,331). More may pay where the database has cores
 * to spare (CHAINLOOP_RECORD_BATCHES_IN_FLIGHT).
 */
export const DEFAULT_RECORD_BATCHES: GroupCommitOptions = { maxBatch: 256, maxInFlight: 1 };

export class SqlDeploymentRepository implements DeploymentRepository, SnapshotRepository {
  private readonly records: GroupCommit<RecordItem, RawRecordRow>;
  private readonly onCommitted: () => void;

  constructor(
    private readonly sql: SqlPool,
    opts: DeploymentRepositoryOptions = {},
  ) {
    this.records = new GroupCommit((items) => this.recordBatch(items), recordKey, opts.recordBatches ?? DEFAULT_RECORD_BATCHES);
    this.onCommitted = opts.onCommitted ?? (() => {});
  }

  /** Both ids in one round trip (decommissioning, and naming what a refused record lacks). */
  async resolveSlotNames(orgId: string, environment: string, logicalEnvironment: string | undefined) {
    const rows = await this.sql.query<{ env: string | null; lenv: string | null }>(
      `SELECT (SELECT id::text FROM environments WHERE organization_id = $1::uuid AND name = $2) AS env,
              (SELECT id::text FROM logical_environments WHERE organization_id = $1::uuid AND name = $3) AS lenv`,
      [orgId, environment, logicalEnvironment ?? ""],
      "slot_names_v1",
    );
    return {
      environmentId: environment === "" ? undefined : (rows[0]?.env ?? undefined),
      logicalEnvironmentId: logicalEnvironment === undefined ? undefined : (rows[0]?.lenv ?? undefined),
    };
  }

  /**
   * One record, group-committed with whatever other records are waiting (RECORD_STATEMENT): it
   * resolves the environment and logical environment by name and probes the evidence
   * (attested_artifacts, indexed by organization + digest); if all three are there it
   * heartbeats, supersedes and inserts, or inserts. Answers after the commit.
   */
  async recordDeployed(
    slot: NamedSlot,
    artifact: ArtifactInput,
    actor: Actor | undefined,
    policy?: PolicyPass,
  ): Promise<RecordResult | RecordRefusal | PolicyHold> {
    let row: RawRecordRow;
    try {
      row = await this.records.submit({ slot, artifact, actor, policy });
    } catch (e) {
      if (isRetryableConflict(e)) throw new SlotConflict("concurrent record on the same slot", { cause: e });
      throw e;
    }
    if (!row.env_found) return { missing: "environment" };
    if (!row.lenv_found) return { missing: "logical-environment" };
    if (!row.attested) return { missing: "evidence" };
    if (row.guarded) return policyHold(row);
    if (!row.outcome) throw new Error("record statement wrote nothing");
    return {
      outcome: row.outcome,
      deployment: toDeployment(fromRaw(row), slot),
      ...(row.superseded_id ? { supersededId: row.superseded_id } : {}),
    };
  }

  /**
   * Runs one batch. When the statement fails for a reason of the database's about the data (a
   * lost race on a slot, a deadlock with another process, a value it refuses), nothing of the
   * batch was written: each item is run again alone, so one item's failure is its own. When the
   * database cannot be reached, every item fails with that error at once.
   */
  private async recordBatch(items: RecordItem[]): Promise<Array<PromiseSettledResult<RawRecordRow>>> {
    try {
      const rows = await this.runRecordStatement(items);
      return rows.map((value) => ({ status: "fulfilled", value }));
    } catch (e) {
      if (items.length === 1 || !isAboutTheData(e)) throw e;
    }
    return Promise.all(
      items.map((item) =>
        this.runRecordStatement([item]).then(
          ([value]) => ({ status: "fulfilled", value }) as const,
          (reason: unknown) => ({ status: "rejected", reason }) as const,
        ),
      ),
    );
  }

  private async runRecordStatement(items: RecordItem[]): Promise<RawRecordRow[]> {
    const rows = await this.sql.query<RawRecordRow>(RECORD_STATEMENT, recordParams(items), RECORD_STATEMENT_NAME);
    if (rows.length !== items.length) throw new Error(`record statement returned ${rows.length} rows for ${items.length} items`);
    if (rows.some((r) => r.outcome)) this.onCommitted();
    return rows;
  }

  /**
   * An environment snapshot (server/domain/snapshots.ts), in one transaction: a transaction-level
   * advisory lock on the scope (snapshots of one scope run one at a time, whichever process
   * takes them), then the scope's active rows locked in id order (the order the record statement
   * locks in, so a concurrent record batch waits rather than deadlocks), the record statement
   * for the entries, and, when the plan says so, one UPDATE decommissioning the scope's other
   * active records. Records racing in from RecordDeployment are either seen (their rows are
   * locked and decided on) or commit after: none is lost or left half done. A lost race on an
   * empty slot fails the transaction (SlotConflict) and the use case runs it again.
   */
  async applySnapshot(
    scope: SnapshotScope,
    items: SnapshotItem[],
    actor: Actor | undefined,
    plan: (refused: number) => SnapshotPlan,
  ): Promise<SnapshotWrite> {
    const now = new Date();
    const slot = (i: SnapshotItem): NamedSlot => ({ organizationId: scope.organizationId, ...scope.names, name: i.name, kind: i.kind });
    const scopeParams = [scope.organizationId, scope.environmentId, scope.logicalEnvironmentId];
    let changed = false;
    let write: SnapshotWrite;
    try {
      write = await this.sql.transaction(async (tx) => {
        await tx.query(
          `SELECT pg_advisory_xact_lock(hashtextextended('chainloop.snapshot:' || $1 || ':' || $2 || ':' || $3, 0))`,
          scopeParams,
        );
        await tx.query(
          `SELECT id FROM deployments
           WHERE organization_id = $1::uuid AND environment_id = $2::uuid AND logical_environment_id = $3::uuid
             AND status = 'deployed'
           ORDER BY id FOR UPDATE`,
          scopeParams,
        );
        const rows =
          items.length === 0
            ? []
            : // Unnamed: planned for this snapshot's size. The named statement of the record path
              // may run a generic plan, made for batches of a few hundred, whose nested loops
              // over 10,000 entries outlasted the statement timeout.
              await tx.query<RawRecordRow>(
                RECORD_STATEMENT,
                recordParams(items.map((i) => ({ slot: slot(i), artifact: i.artifact, actor, policy: i.policy })), now),
              );
        if (rows.length !== items.length) throw new Error(`record statement returned ${rows.length} rows for ${items.length} items`);
        const records = rows.map((row, i): RecordResult | { missing: "evidence" } | PolicyHold => {
          if (!row.env_found || !row.lenv_found) throw new SlotConflict("the environment changed while the snapshot was applied");
          if (!row.attested) return { missing: "evidence" };
          if (row.guarded) {
            // Judged at another version of the policy than the one there now: judge again.
            if (items[i]!.policy) throw new SlotConflict("the promotion policy changed while the snapshot was applied");
            return policyHold(row);
          }
          if (!row.outcome) throw new Error("record statement wrote nothing");
          return {
            outcome: row.outcome,
            deployment: toDeployment(fromRaw(row), scope.names),
            ...(row.superseded_id ? { supersededId: row.superseded_id } : {}),
          };
        });
        const decision = plan(records.filter((r) => !("outcome" in r)).length);
        const decommissioned = decision.decommission
          ? (
              await tx.query<RawDeploymentRow>(DECOMMISSION_MISSING_STATEMENT, [
                ...scopeParams,
                records.flatMap((r) => ("outcome" in r ? [r.deployment.id] : [])),
                actor?.tokenId ?? null,
                actor?.tokenName ?? "",
                now.toISOString(),
              ])
            ).map((r) => toDeployment(fromRaw(r), scope.names))
          : [];
        changed = decision.commit && (records.some((r) => "outcome" in r) || decommissioned.length > 0);
        return { commit: decision.commit, value: { records, decommissioned } };
      }, { timeoutMs: SNAPSHOT_STATEMENT_TIMEOUT_MS });
    } catch (e) {
      if (isRetryableConflict(e)) throw new SlotConflict("concurrent record on a slot of the snapshot", { cause: e });
      throw e;
    }
    if (changed) this.onCommitted();
    return write;
  }

  async decommission(
    slot: Slot,
    digest: string,
    names: SlotNames,
    actor: Actor | undefined,
    opts: { dryRun?: boolean } = {},
  ): Promise<DecommissionResult> {
    const slotParams = [slot.organizationId, slot.environmentId, slot.logicalEnvironmentId, slot.name, slot.kind];
    let res: DecommissionResult;
    try {
      res = await this.sql.transaction<DecommissionResult>(async (tx) => {
        const [active] = await tx.query<RawDeploymentRow>(`${SLOT_ROWS} AND d.status = 'deployed' FOR UPDATE`, slotParams, "slot_active_v1");
        if (active && active.digest === digest) {
          if (opts.dryRun) {
            const deployment = toDeployment(fromRaw(active), names);
            return {
              commit: false,
              value: {
                outcome: "decommissioned" as const,
                deployment: { ...deployment, status: "decommissioned" as const, decommissionedAt: new Date(), decommissionedBy: actor ? { tokenId: actor.tokenId, tokenName: actor.tokenName } : undefined },
                dryRun: true as const,
              },
            };
          }
          const [row] = await tx.query<RawDeploymentRow>(
            // The server's clock, to the millisecond, as every record time (the record statement's
            // $13): a time the API returns is the one stored, so "as of" that instant is exact.
            `UPDATE deployments d SET status = 'decommissioned', decommissioned_at = $4::timestamptz,
               decommissioned_by_token_id = $2::uuid, decommissioned_by_name = $3
             WHERE d.id = $1::uuid RETURNING ${deploymentColumns("d")}`,
            [active.id, actor?.tokenId ?? null, actor?.tokenName ?? "", new Date().toISOString()],
            "decommission_v1",
          );
          return { commit: true, value: { outcome: "decommissioned" as const, deployment: toDeployment(fromRaw(row!), names) } };
        }
        const [latest] = await tx.query<RawDeploymentRow>(
          `${SLOT_ROWS} AND d.digest = $6 ORDER BY d.seq DESC LIMIT 1`,
          [...slotParams, digest],
          "slot_latest_of_digest_v1",
        );
        const value: DecommissionResult = !latest
          ? { outcome: "never-ran" }
          : active
            ? { outcome: "other-active", activeDigest: active.digest }
            : latest.status === "decommissioned"
              ? { outcome: "already-decommissioned", deployment: toDeployment(fromRaw(latest), names) }
              : { outcome: "not-running", deployment: toDeployment(fromRaw(latest), names) };
        return { commit: false, value };
      });
    } catch (e) {
      if (isRetryableConflict(e)) throw new SlotConflict("concurrent record on the same slot", { cause: e });
      throw e;
    }
    if (res.outcome === "decommissioned" && !("dryRun" in res)) this.onCommitted();
    return res;
  }

  /**
   * What recording the digest in the slot would find, read in one statement and writing
   * nothing (RecordDeployment's validate_only): the ids of the names, whether evidence exists,
   * the slot's running record, and the newest earlier record of the digest superseded there (a
   * rollback's target).
   */
  async previewRecord(slot: NamedSlot, digest: string): Promise<RecordPreview> {
    const rows = await this.sql.query<RawDeploymentRow & { env_id: string | null; lenv_id: string | null; attested: boolean; rollback_target: string | null; has_active: boolean }>(
      `WITH names AS (
         SELECT (SELECT id FROM environments WHERE organization_id = $1::uuid AND name = $2) AS env_id,
                (SELECT id FROM logical_environments WHERE organization_id = $1::uuid AND name = $3) AS lenv_id
       )
       SELECT n.env_id::text AS env_id, n.lenv_id::text AS lenv_id,
              EXISTS (SELECT 1 FROM attested_artifacts aa WHERE aa.organization_id = $1::uuid AND aa.digest = $6) AS attested,
              (SELECT p.id::text FROM deployments p
               WHERE p.environment_id = n.env_id AND p.logical_environment_id = n.lenv_id AND p.name = $4
                 AND p.kind = $5::artifact_kind AND p.digest = $6 AND p.status = 'superseded'
               ORDER BY p.seq DESC LIMIT 1) AS rollback_target,
              a.id IS NOT NULL AS has_active, ${deploymentColumns("a")}
       FROM names n
       LEFT JOIN deployments a ON a.environment_id = n.env_id AND a.logical_environment_id = n.lenv_id
         AND a.organization_id = $1::uuid AND a.name = $4 AND a.kind = $5::artifact_kind AND a.status = 'deployed'`,
      [slot.organizationId, slot.environment, slot.logicalEnvironment, slot.name, slot.kind, digest],
    );
    const r = rows[0]!;
    return {
      environmentId: r.env_id ?? undefined,
      logicalEnvironmentId: r.lenv_id ?? undefined,
      attested: r.attested,
      active: r.has_active ? toDeployment(fromRaw(r), slot) : undefined,
      rollbackOfId: r.rollback_target ?? undefined,
    };
  }

  async get(orgId: string, id: string): Promise<Deployment | undefined> {
    return (await this.getMany(orgId, [id]))[0];
  }

  /**
   * Records by id, in the organization only (the live view reads what change notices name, for
   * every batch of notices: one statement on the pool, as the list pages read).
   */
  async getMany(orgId: string, ids: string[]): Promise<Deployment[]> {
    if (ids.length === 0) return [];
    const rows = await this.sql.query<RawPageRow>(
      `SELECT ${WITH_NAMES_SELECT}
       FROM deployments d
       ${WITH_NAMES_JOIN}
       WHERE d.organization_id = $1::uuid AND d.id = ANY($2::uuid[])`,
      [orgId, ids],
      "deployments_by_id_v3",
    );
    return rows.map(fromPageRow);
  }

  async attestedSubjects(orgId: string, digests: string[], attestedFor: AttestedFor): Promise<Set<string>> {
    if (digests.length === 0) return new Set();
    const { params, param } = sqlParams();
    const org = `${param(orgId)}::uuid`;
    const rows = await this.sql.query<{ digest: string }>(
      `SELECT x.digest FROM unnest(${param(digests)}::text[]) AS x(digest)
       WHERE ${attestedForCondition(org, "x.digest", attestedFor, param)}`,
      params,
    );
    return new Set(rows.map((r) => r.digest));
  }

  async list(orgId: string, f: DeploymentFilters, afterSeq: bigint | undefined, limit: number): Promise<Deployment[]> {
    const rows = await deploymentPage(this.sql, orgId, f, afterSeq, limit);
    return rows.map(fromPageRow);
  }

}

/** A row read with its environment's and logical environment's names (list pages, records by id). */
export const fromPageRow = (r: RawPageRow): Deployment => ({
  ...toDeployment(fromRaw(r), { environment: r.environment_name, logicalEnvironment: r.logical_environment_name }, r.heartbeat_interval_ms ?? undefined),
  ...(r.project !== null ? { provenance: { project: r.project, projectVersion: r.project_version ?? "" } } : {}),
});

/** A row the record statement held back for its logical environment's promotion policy. */
const policyHold = (row: RawRecordRow): PolicyHold => ({ guarded: { logicalEnvironmentId: row.guarded_lenv_id! } });

/** The group-commit key: one item per slot in a batch, one batch per slot at a time. */
const recordKey = (i: RecordItem) =>
  `${i.slot.organizationId}\u0000${i.slot.environment}\u0000${i.slot.logicalEnvironment}\u0000${i.slot.name}\u0000${i.slot.kind}`;

/**
 * An error the database raised about what a statement did (a SQLSTATE outside the classes that
 * mean the connection or the server is gone), as opposed to not being reachable.
 */
function isAboutTheData(e: unknown): boolean {
  const state = sqlStateOf(e);
  return state !== undefined && !/^(08|53|57|58|XX)/.test(state);
}


/** A slot's rows ($1 organization, $2 environment, $3 logical environment, $4 name, $5 kind); callers add conditions. */
const SLOT_ROWS = `SELECT ${deploymentColumns("d")} FROM deployments d
  WHERE d.organization_id = $1::uuid AND d.environment_id = $2::uuid AND d.logical_environment_id = $3::uuid
    AND d.name = $4 AND d.kind = $5::artifact_kind`;

/** One record of a batch: the slot by its names, the artifact, who records it. */
export interface RecordItem {
  slot: NamedSlot;
  artifact: ArtifactInput;
  actor: Actor | undefined;
  /** The promotion policy judged (and, when it was overridden, why): see RECORD_STATEMENT. */
  policy?: PolicyPass;
}

/**
 * The record statement's parameters for a batch of items with distinct slots (exported for the
 * benchmark's floor of the server's own statement): one array per column, then the time.
 */
export function recordParams(items: RecordItem[], now = new Date()): unknown[] {
  const col = <T>(f: (i: RecordItem) => T) => items.map(f);
  return [
    col((i) => i.slot.organizationId),
    col((i) => i.slot.environment),
    col((i) => i.slot.logicalEnvironment),
    col((i) => i.slot.name),
    col((i) => i.slot.kind),
    col((i) => i.artifact.digest),
    col(() => randomUUID()),
    col((i) => i.artifact.artifactName),
    col((i) => i.artifact.artifactVersion),
    col((i) => i.artifact.artifactReference),
    col((i) => i.actor?.tokenId ?? null),
    col((i) => i.actor?.tokenName ?? ""),
    now.toISOString(),
    col((i) => (i.policy ? `${i.policy.policyId}:${i.policy.version}` : null)),
    col((i) => i.policy?.overrideReason ?? null),
  ];
}

/** Prepared-statement name (pg prepares it once per pooled connection; one process only ever has one text for it). */
export const RECORD_STATEMENT_NAME = "record_deployed_v6";

// One statement records a whole batch (group commit, server/data/group-commit.ts); a single
// record is a batch of one. The items' slots are distinct. Per item, by its ordinal n:
// $1 organization, $2 environment name, $3 logical environment name, $4 deployment name,
// $5 kind, $6 digest, $7 the new record's id, $8–$10 artifact name/version/reference,
// $11–$12 recording token id/name (arrays, one element per item); $13 the batch's time;
// $14 the promotion policy the caller judged the item against, as `<policy id>:<version>` (null:
// not judged), $15
// the override reason when the caller overrode that policy (null otherwise).
//
// Promotion policies (server/domain/policies.ts): an item that would put a new record into a
// logical environment with a policy (anything but a heartbeat of the slot's running digest) is
// written only when $14 names the policy and version there now; otherwise it is returned unwritten
// with "guarded" set, and the use case judges the policy and submits it again. So the common
// cases cost one index probe: no policy, or a heartbeat. A record made past an unmet policy
// ($15) stores the reason and appends its audit event in this same statement.
//
// Rows are locked in id order and new records inserted in slot order, so two batches (of two
// server processes) meeting on the same slots wait for each other rather than deadlock.
// The INSERT reads the `old` CTE, which makes Postgres finish superseding before inserting, so
// the partial unique index sees those slots free; successor links are checked at the end of the
// statement, when the new rows exist. It returns one row per item: the `found` flags, and the
// record when one was written.
export const RECORD_STATEMENT = `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]::artifact_kind[], $6::text[], $7::uuid[],
                         $8::text[], $9::text[], $10::text[], $11::uuid[], $12::text[], $14::text[], $15::text[])
      WITH ORDINALITY AS i(org, env_name, lenv_name, name, kind, digest, new_id,
                           artifact_name, artifact_version, artifact_reference, token_id, token_name,
                           policy_judged, override_reason, n)
  ), resolved AS (
    SELECT i.*, e.id AS env_id, l.id AS lenv_id, p.id::text || ':' || p.version::text AS policy_version,
           EXISTS (SELECT 1 FROM attested_artifacts aa WHERE aa.organization_id = i.org AND aa.digest = i.digest) AS attested
    FROM input i
    LEFT JOIN environments e ON e.organization_id = i.org AND e.name = i.env_name
    LEFT JOIN logical_environments l ON l.organization_id = i.org AND l.name = i.lenv_name
    LEFT JOIN promotion_policies p ON p.logical_environment_id = l.id
  ), target AS (
    -- AND evaluates left to right here (a select-list expression): the running-digest probe is
    -- made only for items of a guarded logical environment that were not judged at its version.
    SELECT r.*,
           (r.policy_version IS NOT NULL AND r.policy_judged IS DISTINCT FROM r.policy_version
            AND NOT EXISTS (SELECT 1 FROM deployments d
                            WHERE d.environment_id = r.env_id AND d.logical_environment_id = r.lenv_id AND d.name = r.name
                              AND d.kind = r.kind AND d.digest = r.digest AND d.status = 'deployed')) AS guarded
    FROM resolved r
  ), slot AS (
    SELECT * FROM target WHERE env_id IS NOT NULL AND lenv_id IS NOT NULL AND attested AND NOT guarded
  ), active AS (
    SELECT d.id, d.digest, s.n FROM deployments d
    JOIN slot s ON d.organization_id = s.org AND d.environment_id = s.env_id AND d.logical_environment_id = s.lenv_id
               AND d.name = s.name AND d.kind = s.kind
    WHERE d.status = 'deployed'
    ORDER BY d.id
    FOR UPDATE OF d
  ), upd AS (
    -- One UPDATE for the slots' active rows: the same digest moves last_seen_at (a heartbeat;
    -- GREATEST: two heartbeats racing commit in either order, last_seen_at never moves back),
    -- another supersedes the row, linking the new record. A heartbeat changes no indexed column
    -- (status is assigned its own value), so Postgres can keep it on its page (HOT).
    UPDATE deployments d SET
      last_seen_at = CASE WHEN a.digest = s.digest THEN GREATEST(d.last_seen_at, $13::timestamptz) ELSE d.last_seen_at END,
      status = CASE WHEN a.digest = s.digest THEN d.status ELSE 'superseded' END,
      superseded_at = CASE WHEN a.digest = s.digest THEN d.superseded_at ELSE $13::timestamptz END,
      superseded_by_id = CASE WHEN a.digest = s.digest THEN d.superseded_by_id ELSE s.new_id END
    FROM active a JOIN slot s ON s.n = a.n
    WHERE d.id = a.id
    RETURNING a.n, a.digest = s.digest AS beat, ${deploymentColumns("d")}
  ), ins AS (
    INSERT INTO deployments (id, organization_id, environment_id, logical_environment_id, name, kind, digest,
      artifact_name, artifact_version, artifact_reference, status, created_at, last_seen_at,
      recorded_by_token_id, recorded_by_name, override_reason, rollback_of_id)
    SELECT s.new_id, s.org, s.env_id, s.lenv_id, s.name, s.kind, s.digest, s.artifact_name, s.artifact_version,
      s.artifact_reference, 'deployed', $13::timestamptz, $13::timestamptz, s.token_id, s.token_name, s.override_reason,
      -- A rollback: the slot ran this digest before and it was superseded there (the newest such
      -- record; the statement's snapshot does not see the row upd superseded, another digest).
      (SELECT p.id FROM deployments p
       WHERE p.environment_id = s.env_id AND p.logical_environment_id = s.lenv_id AND p.name = s.name
         AND p.kind = s.kind AND p.digest = s.digest AND p.status = 'superseded'
       ORDER BY p.seq DESC LIMIT 1)
    FROM slot s LEFT JOIN upd u ON u.n = s.n
    WHERE u.beat IS NOT TRUE AND (SELECT count(*) FROM upd) >= 0
    ORDER BY s.org, s.env_id, s.lenv_id, s.name, s.kind
    RETURNING ${deploymentColumns("deployments")}
  ), overridden AS (
    -- The break-glass audit event, committed with the record it explains.
    INSERT INTO audit_events (id, organization_id, actor_token_id, actor_name, action, resource_type, resource_name, detail, created_at)
    SELECT gen_random_uuid(), s.org, s.token_id, s.token_name, 'deployment.policy_override', 'deployment',
      left(s.env_name || '/' || s.lenv_name || '/' || s.name || '@' || s.digest, 255), s.override_reason, $13::timestamptz
    FROM ins i JOIN slot s ON s.new_id = i.id
    WHERE s.override_reason IS NOT NULL
  )
  SELECT t.n, t.env_id IS NOT NULL AS env_found, t.lenv_id IS NOT NULL AS lenv_found, t.attested,
    t.guarded, t.lenv_id::text AS guarded_lenv_id,
    r.outcome, r.superseded_id, ${deploymentColumns("r")}
  FROM target t LEFT JOIN (
    SELECT u.n, 'heartbeat' AS outcome, NULL::text AS superseded_id, ${deploymentColumns("u")} FROM upd u WHERE u.beat
    UNION ALL
    SELECT s.n, CASE WHEN i.rollback_of_id IS NOT NULL THEN 'rolled-back' WHEN u.n IS NULL THEN 'created' ELSE 'superseded' END,
      u.id::text, ${deploymentColumns("i")}
    FROM ins i JOIN slot s ON s.new_id = i.id LEFT JOIN upd u ON u.n = s.n
  ) r ON r.n = t.n
  ORDER BY t.n`;

/**
 * How long one statement of a snapshot may run (the pool's is 5 s): a snapshot of 10,000 new
 * records is one statement writing 10,000 rows.
 */
const SNAPSHOT_STATEMENT_TIMEOUT_MS = 60_000;

// The scope's ($1 organization, $2 environment, $3 logical environment) active records other
// than the ones the snapshot's entries now have ($4: their ids, from the record statement),
// decommissioned by the snapshot ($5–$6 token id and name, $7 time). The rows are already locked
// by the snapshot's transaction. NOT IN over a subquery is a hashed lookup; the first version
// (NOT EXISTS over the entries' names, and then an anti-join) was planned as a nested loop when
// the table's statistics lagged behind a large snapshot: 10,000 × 10,000 comparisons, over 5 s.
const DECOMMISSION_MISSING_STATEMENT = `
  UPDATE deployments d SET
    status = 'decommissioned', decommissioned_at = $7::timestamptz,
    decommissioned_by_token_id = $5::uuid, decommissioned_by_name = $6, decommissioned_by_snapshot = true
  WHERE d.organization_id = $1::uuid AND d.environment_id = $2::uuid AND d.logical_environment_id = $3::uuid
    AND d.status = 'deployed'
    AND d.id NOT IN (SELECT unnest($4::uuid[]))
  RETURNING ${deploymentColumns("d")}`;

/** What the record statement returns per item: its flags, and the written deployments row (all null when refused). */
type RawRecordRow = RawDeploymentRow & {
  n: number | string;
  env_found: boolean;
  lenv_found: boolean;
  attested: boolean;
  /** Unwritten: a new record in a guarded logical environment, not judged at the policy's version. */
  guarded: boolean;
  guarded_lenv_id: string | null;
  outcome: DeployOutcome | null;
  superseded_id: string | null;
};
